"""Readers for agency exports and API records: bytes or records -> typed DataFrame.

Agency exports come from spreadsheets: UTF-8 with or without BOM or Windows-1252, `,` `;` or
tab separated, Indonesian numbers ("1.234,5") and dates ("7 Maret 2024"), and XLSX files with
title rows above the header. Every reader keeps only the declared fields (so personal columns
such as NIK stop here) and fails with a SourceParseError naming the file, row and column.
CSV exports are read in blocks by pyarrow and converted a column at a time; the cell-by-cell
reader (``typed_frame``) serves records, XLSX sheets, and locating a CSV error on its line.
Every file reader takes ``InputLimits``: rows, columns and cell size, and for XLSX the declared
sheet size and the zip's uncompressed size, are checked before anything grows with them.
Messages name the file, row, column and the kind of problem, never a cell's value.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import sys
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol, cast

import pandas as pd

from transforms.cells import convert_cell, has_default
from transforms.limits import InputLimits, over_limit


class FieldSpec(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def required(self) -> bool: ...


class SourceParseError(ValueError):
    """Input that cannot be read as declared; names the file, row and column where it broke."""

    def __init__(self, file: str, message: str, row: int | None = None, column: str | None = None) -> None:
        self.file, self.row, self.column, self.detail = file, row, column, message
        where = "".join([f", row {row}" if row is not None else "", f", column '{column}'" if column else ""])
        super().__init__(f"{file}{where}: {message}")


def detect_encoding(data: bytes, file: str = "input") -> str:
    """UTF-8 with BOM, UTF-16 with BOM (Excel's "Unicode text"), UTF-8 or Windows-1252, in that
    order; undecodable bytes are an error."""
    if data.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data.decode("utf-16")
            return "utf-16"
        except UnicodeDecodeError:
            raise SourceParseError(file, "starts as UTF-16 text but is not UTF-16 throughout", row=1) from None
    try:
        data.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        data.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SourceParseError(
            file, f"byte 0x{data[exc.start]:02x} at offset {exc.start} is neither UTF-8 nor Windows-1252", row=line
        ) from None


@contextlib.contextmanager
def any_field_size() -> Iterator[None]:
    """Python's csv refuses fields over 128 KiB with a bare csv.Error; cell size is judged by the
    reader's own limit instead, which names the row and column."""
    before = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)
    try:
        yield
    finally:
        csv.field_size_limit(before)


def detect_delimiter(text: str) -> str:
    """The separator of a CSV text: `;`, `,` or tab, whichever splits the header consistently."""
    lines = [line for line in text.splitlines()[:20] if line.strip()]
    if not lines:
        return ","
    best, best_score = ",", -1
    for sep in (";", ",", "\t"):
        with any_field_size():
            counts = [len(next(csv.reader([line], delimiter=sep))) for line in lines]
        if counts[0] < 2:
            continue
        score = sum(1 for c in counts if c == counts[0]) * 100 + counts[0]
        if score > best_score:
            best, best_score = sep, score
    return best


def typed_frame(
    rows: Sequence[Sequence[Any]] | Iterable[dict[str, Any]],
    header: Sequence[str] | None,
    fields: Sequence[FieldSpec],
    file: str,
    first_row_number: int,
    number_format: str = "plain",
    row_numbers: Sequence[int] | None = None,
) -> pd.DataFrame:
    """Keep the declared fields of ``rows`` and convert them; errors name file, row and column.

    ``rows`` are sequences matching ``header``, or mappings (JSON records) when ``header`` is
    None. ``first_row_number`` is how the source numbers the first row (line, sheet row, record).
    """
    if header is not None:
        present = [h.strip() if isinstance(h, str) else h for h in header]
        _no_field_twice(file, present, fields, first_row_number - 1)
        missing = [f.name for f in fields if f.name not in present and not has_default(f)]
        if missing:
            raise SourceParseError(
                file, f"missing column(s) {missing}; the header has {header_names(present)}",
                row=first_row_number - 1, column=missing[0],
            )
        # A field with a default may be absent: every row then takes the default.
        index = {f.name: present.index(f.name) if f.name in present else len(present) for f in fields}
    columns: dict[str, list[Any]] = {f.name: [] for f in fields}
    for offset, row in enumerate(rows):
        number = row_numbers[offset] if row_numbers is not None else first_row_number + offset
        if header is None:
            if not isinstance(row, dict):
                raise SourceParseError(file, f"record is a {type(row).__name__}, not an object", row=number)
            missing = [f.name for f in fields if f.required and f.name not in row and not has_default(f)]
            if missing:
                raise SourceParseError(file, f"record lacks field(s) {missing}", row=number, column=missing[0])
        for f in fields:
            if header is None:
                raw = cast(dict[str, Any], row).get(f.name)
            else:
                i = index[f.name]
                raw = cast(Sequence[Any], row)[i] if i < len(row) else None
            try:
                value = convert_cell(raw, f, number_format)
            except ValueError as exc:
                raise SourceParseError(file, str(exc), row=number, column=f.name) from None
            if value is None and f.required:
                raise SourceParseError(file, "required value is empty", row=number, column=f.name)
            columns[f.name].append(value)
    return pd.DataFrame({name: pd.Series(values, dtype="object") for name, values in columns.items()})


def _no_field_twice(file: str, present: Sequence[Any], fields: Sequence[FieldSpec], row: int) -> None:
    """A declared field named twice in the header is refused: which column holds it is not known."""
    for f in fields:
        if present.count(f.name) > 1:
            raise SourceParseError(file, f"the header names this column {present.count(f.name)} times; "
                                   "keep one (which one holds the data cannot be told)", row=row, column=f.name)


def header_names(header: Sequence[Any]) -> list[str]:
    """A header's names for a message; a cell that reads as data rather than a name is not shown
    (a file without a header row has a data row there)."""
    shown = []
    for name in header:
        if not isinstance(name, str) or not name:
            continue
        looks_like_data = len(name) > 60 or "@" in name or re.search(r"\d{5}", name)
        shown.append("<a cell that is not a column name>" if looks_like_data else name)
    return shown


def check_row(file: str, row: Sequence[Any], number: int, header: Sequence[Any], limits: InputLimits) -> None:
    """A row within the column and cell-size limits; otherwise a SourceParseError naming the limit."""
    if len(row) > limits.max_columns:
        raise SourceParseError(file, over_limit(f"a row of {len(row):,} columns", limits, "max_columns"),
                               row=number)
    for i, cell in enumerate(row):
        if isinstance(cell, str) and len(cell) > limits.max_cell_chars:
            name = header[i] if i < len(header) and isinstance(header[i], str) and header[i] else f"#{i + 1}"
            raise SourceParseError(file, over_limit(f"a cell of {len(cell):,} characters", limits,
                                                    "max_cell_chars"), row=number, column=name)


def read_csv_bytes(data: bytes, fields: Sequence[FieldSpec], file: str,
                   number_format: str = "indonesian", limits: InputLimits | None = None) -> pd.DataFrame:
    """Read an agency CSV export (encoding and separator detected) into the declared fields."""
    import pyarrow as pa

    tables = list(iter_csv_tables(data, fields, file, number_format, limits=limits))
    table = pa.concat_tables(tables) if tables else arrow_schema(fields).empty_table()
    # Python values in object columns, as the cell-by-cell reader gives them.
    return pd.DataFrame({f.name: pd.Series(table.column(f.name).to_pylist(), dtype="object") for f in fields})


def _read_csv_python(data: bytes, fields: Sequence[FieldSpec], file: str, number_format: str,
                     limits: InputLimits | None = None) -> pd.DataFrame:
    """The cell-by-cell reader: slow, but it knows every row's line for an error message."""
    limits = limits or InputLimits()
    if not data.strip():
        raise SourceParseError(file, "the file is empty")
    text = data.decode(detect_encoding(data, file))
    sep = detect_delimiter(text)
    rows: list[list[str]] = []
    numbers: list[int] = []
    with any_field_size():
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
        header = next(reader)
        check_row(file, header, 1, [], limits)
        starts = reader.line_num + 1
        for row in reader:
            # A row too wide or a cell too long is named by the line it starts on (an unclosed quote
            # runs on to the end of the file).
            check_row(file, row, starts, header, limits)
            starts = reader.line_num + 1
            if any(cell.strip() for cell in row):
                if len(rows) == limits.max_rows:
                    raise SourceParseError(file, over_limit(f"more than {limits.max_rows:,} data rows", limits,
                                                            "max_rows"), row=reader.line_num)
                rows.append(row)
                numbers.append(reader.line_num)  # the file's line, as an editor shows it
    if not rows:
        raise SourceParseError(file, "the file has a header but no data rows", row=1)
    return typed_frame(rows, header, fields, file, 2, number_format, row_numbers=numbers)


_ARROW_TYPES = {"string": "string", "int64": "int64", "float64": "float64", "date": "date32"}


def arrow_schema(fields: Sequence[FieldSpec]) -> Any:
    """The Arrow schema of the declared source fields (how staged source rows are stored)."""
    import pyarrow as pa

    return pa.schema([pa.field(f.name, pa.type_for_alias(_ARROW_TYPES[f.type])) for f in fields])


class _Fallback(Exception):
    """The vectorized reader met something only the cell-by-cell reader can judge or locate."""


def iter_csv_tables(data: bytes, fields: Sequence[FieldSpec], file: str, number_format: str = "indonesian",
                    block_bytes: int = 8 << 20, limits: InputLimits | None = None) -> Iterator[Any]:
    """Read an agency CSV export block by block: Arrow tables of the declared fields, typed.

    Cells are read as text by pyarrow's streaming CSV reader and converted a column at a time
    (each distinct value once, by the same rules as the cell-by-cell reader). Anything that
    does not convert cleanly (a bad cell, an empty required cell, a ragged row) sends the
    file through the cell-by-cell reader, whose error names the file, line and column; if it
    reads the file after all, the rows not yet yielded come from it. A file beyond ``limits``
    (rows, columns, cell size) is refused with a SourceParseError naming the limit.
    """
    import pyarrow as pa

    limits = limits or InputLimits()
    yielded = 0
    try:
        for table in _vectorized_csv(data, fields, file, number_format, block_bytes, limits):
            if table.num_rows:
                yielded += table.num_rows
                yield table
        if yielded == 0:
            raise _Fallback("no rows")
    except SourceParseError:
        raise
    except (_Fallback, pa.ArrowException, ValueError, UnicodeDecodeError):
        frame = _read_csv_python(data, fields, file, number_format, limits)
        yield pa.Table.from_pandas(frame.iloc[yielded:], schema=arrow_schema(fields), preserve_index=False)


def _vectorized_csv(data: bytes, fields: Sequence[FieldSpec], file: str, number_format: str,
                    block_bytes: int, limits: InputLimits) -> Iterator[Any]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    if not data.strip():
        raise _Fallback("empty")
    encoding = detect_encoding(data, file)
    if encoding == "utf-8-sig":
        data, encoding = data[3:], "utf-8"
    lines = data[: 1 << 20].decode(encoding, errors="ignore").splitlines()
    if len(lines) <= 20:
        lines = data.decode(encoding).splitlines()
    sep = detect_delimiter("\n".join(lines[:21]))
    with any_field_size():
        header = next(csv.reader([lines[0]], delimiter=sep)) if lines else []
    if len(header) > limits.max_columns:
        raise SourceParseError(file, over_limit(f"a header of {len(header):,} columns", limits, "max_columns"), row=1)
    check_row(file, header, 1, [], limits)
    present = [h.strip() for h in header]
    _no_field_twice(file, present, fields, 1)
    if any(f.name not in present for f in fields):
        raise _Fallback("header")  # a missing field, or one left to its default
    names = [f"c{i}" for i in range(len(header))]
    reader = pacsv.open_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=block_bytes,
                                       encoding="utf8" if encoding == "utf-8" else encoding),
        parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                             strings_can_be_null=False, quoted_strings_can_be_null=False),
    )
    schema = arrow_schema(fields)
    rows = 0
    for batch in reader:
        if any((pc.max(pc.utf8_length(column)).as_py() or 0) > limits.max_cell_chars for column in batch.columns):
            raise _Fallback("cell size")  # the cell-by-cell reader names its line and column
        stripped = [pc.utf8_trim_whitespace(batch.column(i)) for i in range(len(names))]
        # Rows with no text in any cell are skipped, as blank lines are.
        filled = stripped[0] != ""
        for column in stripped[1:]:
            filled = pc.or_(filled, pc.not_equal(column, ""))
        rows += pc.sum(filled).as_py() or 0
        if rows > limits.max_rows:
            # Lines are not known here; reading the file cell by cell to name one would cost more.
            raise SourceParseError(file, over_limit(f"more than {limits.max_rows:,} data rows", limits, "max_rows"))
        columns = []
        for f in fields:
            cells = pc.filter(stripped[present.index(f.name)], filled)
            blank = pc.equal(cells, "")
            if f.required and not has_default(f) and pc.any(blank).as_py():
                raise _Fallback("required")
            default = str(f.default) if has_default(f) else None  # type: ignore[attr-defined]
            cells = pc.if_else(blank, pa.scalar(default, pa.string()), cells)
            columns.append(_convert_column(cells, f, number_format, schema.field(f.name).type))
        yield pa.Table.from_arrays(columns, schema=schema)


def _convert_column(cells: Any, field: FieldSpec, number_format: str, arrow_type: Any) -> Any:
    """Stripped text cells (null for blank) -> the declared field; each distinct value converted once."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if field.type == "string" and not any(getattr(field, k, None) for k in ("values", "format", "within")):
        return cells
    distinct = pc.unique(cells).drop_null()
    # convert_cell raises ValueError on a bad value; the caller then locates it cell by cell.
    converted = pa.array([convert_cell(v, field, number_format) for v in distinct.to_pylist()], type=arrow_type)
    return pc.take(converted, pc.index_in(cells, value_set=distinct))


# A note under a table starts with one of these words ("Catatan: data per 31 Desember").
_FOOTNOTE = re.compile(r"^\s*(catatan|keterangan|sumber|note|source|\*)", re.IGNORECASE)


def table_end(rows: Sequence[Sequence[Any]], header_at: int) -> int:
    """Where a sheet's table ends: at the blank row before the notes under it, else after the last row.

    Only a blank row followed by a row whose one filled cell reads as a note (``Catatan: ...``,
    ``Sumber: ...``) ends the table; any other row after a blank row is still data, so nothing
    is dropped silently.
    """
    for i in range(header_at + 2, len(rows)):
        if any(c not in (None, "") for c in rows[i - 1]):
            continue
        filled = [c for c in rows[i] if c not in (None, "")]
        if len(filled) == 1 and isinstance(filled[0], str) and _FOOTNOTE.match(filled[0]):
            return i - 1
    return len(rows)


def check_xlsx_zip(data: bytes, file: str, limits: InputLimits) -> None:
    """Refuse an XLSX whose zip would inflate beyond the limits, before anything is inflated.

    Python's zipfile never reads a member past its declared size, so the declared sizes bound
    what opening the workbook can cost.
    """
    try:
        members = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise SourceParseError(file, f"not a readable XLSX workbook: {exc}") from None
    total = sum(m.file_size for m in members)
    if total > limits.xlsx_max_uncompressed_mb * 2**20:
        raise SourceParseError(file, over_limit(f"the workbook inflates to {total / 2**20:,.0f} MB",
                                                limits, "xlsx_max_uncompressed_mb"))
    for m in members:
        ratio = m.file_size / max(m.compress_size, 1)
        if m.file_size > 2**20 and ratio > limits.xlsx_max_compression_ratio:
            raise SourceParseError(file, over_limit(f"part {m.filename} inflates {ratio:,.0f} times",
                                                    limits, "xlsx_max_compression_ratio"))


def sheet_rows(ws: Any, file: str, limits: InputLimits) -> list[list[Any]]:
    """The sheet's rows as values, within the limits whatever its declared dimension says."""
    from openpyxl.utils import get_column_letter

    declared_rows, declared_columns = ws.max_row, ws.max_column
    if declared_rows and declared_columns:
        if declared_columns > limits.max_columns:
            raise SourceParseError(file, over_limit(f"the sheet declares {declared_columns:,} columns (up to "
                                                    f"{get_column_letter(declared_columns)})", limits, "max_columns"))
        if declared_rows * declared_columns > limits.xlsx_max_cells:
            raise SourceParseError(file, over_limit(f"the sheet declares {declared_rows:,} rows x "
                                                    f"{declared_columns:,} columns", limits, "xlsx_max_cells"))
    # A sheet without a dimension (or one that lies) is bounded while it is read.
    ws.reset_dimensions()
    values: list[list[Any]] = []
    cells = 0
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        width = len(row)
        while width and row[width - 1] is None:  # styled but empty cells at the end of a row
            width -= 1
        row = row[:width]
        if width > limits.max_columns:
            raise SourceParseError(file, over_limit(f"a cell in column {get_column_letter(len(row))}", limits,
                                                    "max_columns"), row=number)
        cells += max(len(row), 1)
        if number > limits.max_rows or cells > limits.xlsx_max_cells:
            name = "max_rows" if number > limits.max_rows else "xlsx_max_cells"
            raise SourceParseError(file, over_limit(f"the sheet goes on past row {number - 1:,}", limits, name),
                                   row=number)
        for i, cell in enumerate(row):
            if isinstance(cell, str) and len(cell) > limits.max_cell_chars:
                raise SourceParseError(file, over_limit(f"a cell of {len(cell):,} characters", limits,
                                                        "max_cell_chars"), row=number, column=get_column_letter(i + 1))
        values.append(list(row))
    return values


def read_xlsx_bytes(data: bytes, fields: Sequence[FieldSpec], file: str, sheet: str | None = None,
                    number_format: str = "indonesian", limits: InputLimits | None = None) -> pd.DataFrame:
    """Read an XLSX export whose header may sit below title rows; rows are numbered as in Excel."""
    from openpyxl import load_workbook

    limits = limits or InputLimits()
    if not data:
        raise SourceParseError(file, "the file is empty")
    check_xlsx_zip(data, file, limits)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException for broken files
        raise SourceParseError(file, f"not a readable XLSX workbook: {exc}") from None
    try:
        if sheet is not None and sheet not in book.sheetnames:
            raise SourceParseError(file, f"no sheet {sheet!r}; sheets: {book.sheetnames}")
        ws = book[sheet] if sheet else book.worksheets[0]
        values = sheet_rows(ws, file, limits)
    finally:
        book.close()
    wanted = {f.name for f in fields}
    header_at = None
    best = 0
    # The header is the first row naming the most declared fields (title rows name none).
    for i, row in enumerate(values[:30]):
        names = {c.strip() for c in row if isinstance(c, str)}
        hits = len(wanted & names)
        if hits > best:
            header_at, best = i, hits
    if header_at is None:
        raise SourceParseError(file, f"no header row naming any of {sorted(wanted)} in the first 30 rows")
    header = [c.strip() if isinstance(c, str) else "" for c in values[header_at]]
    # Excel numbers rows from 1; blank rows are skipped but errors keep the sheet's row number.
    numbered = [(i + 1, r) for i, r in enumerate(values[:table_end(values, header_at)])
                if i > header_at and any(c not in (None, "") for c in r)]
    if not numbered:
        raise SourceParseError(file, "the sheet has a header but no data rows", row=header_at + 1)
    frame = typed_frame([r for _, r in numbered], header, fields, file, header_at + 2, number_format,
                        row_numbers=[n for n, _ in numbered])
    return frame


def read_records(records: Any, fields: Sequence[FieldSpec], file: str, first_record: int = 1) -> pd.DataFrame:
    """Keep and type the declared fields of JSON records (ISO dates, `.` decimals)."""
    if not isinstance(records, list):
        raise SourceParseError(file, f"expected a list of records, got {type(records).__name__}")
    return typed_frame(records, None, fields, file, first_row_number=first_record, number_format="plain")
