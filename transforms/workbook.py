"""The public XLSX: the table as typed cells (numbers, dates, text), plus text sheets beside it.

openpyxl (write-only mode) writes the workbook: styles, number formats, frozen header rows,
column widths and the text sheets. The data rows are read batch by batch (a table, or a Parquet
file) and their XML is built in Arrow a column at a time, as the CSV writer builds its lines,
then joined after the header row while the zip is written; memory follows the batch, not the
table. Past Excel's 1,048,576 rows a sheet the rows go on in ``Data (2)``, ….

Number formats are neutral codes (``#,##0.0``): the spreadsheet's locale supplies the
separators, so an Indonesian one shows ``1.234,5``. Text is always a text
cell: a value starting with ``=`` never becomes a formula, nor ``#N/A`` an error, and one that
a spreadsheet would run as a formula once edited (``tables._FORMULA_START``) gets the
quote-prefix style, XLSX's own form of the CSV's leading apostrophe. The same bytes come out
for the same table: fixed document times and zip entry times.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
import zipfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from transforms.tables import _CONTROL, _FORMULA_START, _LINE_BREAK, ColumnSpec
from transforms.writing import replacing

# Excel's sheet: 1,048,576 rows (the header takes one) and 32,767 characters in a cell.
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_CELL_CHARS = 32_767
DATA_SHEET = "Data"
INTEGER_FORMAT = "#,##0"
PLAIN_INTEGER_FORMAT = "0"
DATE_FORMAT = "yyyy-mm-dd"
# A decimal column shows the fewest decimals that show every value exactly, up to this many;
# past it, one to this many (the cell keeps the full value).
MAX_SHOWN_DECIMALS = 4
_BATCH_ROWS = 65_536
# Rows whose XML is built at a time (Arrow strings of some 50 bytes a cell).
_XML_ROWS = 16_384
# The zip entries' time, and the document's: a rewrite of the same table gives the same bytes.
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


class CellTooLong(ValueError):
    """A text cell is longer than a spreadsheet cell holds: the XLSX would not show the value."""


def decimal_format(decimals: int | None) -> str:
    """``#,##0`` for 0 decimals, ``#,##0.00`` for 2; None (too many to show): ``#,##0.0###``."""
    if decimals is None:
        return "#,##0.0" + "#" * (MAX_SHOWN_DECIMALS - 1)
    return INTEGER_FORMAT + ("." + "0" * decimals if decimals else "")


def data_sheet_names(rows: int, rows_per_sheet: int = EXCEL_MAX_ROWS - 1) -> list[str]:
    """``Data``, then ``Data (2)``, ``Data (3)``, … for a table longer than one sheet holds."""
    count = max(1, math.ceil(rows / rows_per_sheet))
    return [DATA_SHEET] + [f"{DATA_SHEET} ({n})" for n in range(2, count + 1)]


def write_workbook(source: pa.Table | Path, columns: Sequence[ColumnSpec], path: Path,
                   text_sheets: Mapping[str, Sequence[Sequence[Any]]] | None = None,
                   rows_per_sheet: int = EXCEL_MAX_ROWS - 1, source_name: str = "the table",
                   ungrouped: Collection[str] = ()) -> Path:
    """Write ``source`` (a table, or a Parquet file read by batches) as the XLSX at ``path``.

    The data sheet(s) come first, header frozen; then ``text_sheets``, each a list of rows whose
    first row is its header. Integer columns named in ``ungrouped`` (a year, a month number) show
    no thousands separator: 2026, not 2.026. Raises CellTooLong (naming the column and row) for text a
    spreadsheet cannot hold.
    """
    from openpyxl import Workbook
    from openpyxl.writer.excel import ExcelWriter

    shape = _survey(source, columns, source_name)
    wb = Workbook(write_only=True)
    wb.properties.creator = "satudata"
    wb.properties.created = wb.properties.modified = datetime(*_FIXED_TIME)
    cells = _CellMaker(wb)
    formats = {c.name: PLAIN_INTEGER_FORMAT if c.type == "int64" and c.name in ungrouped
               else _number_format(c.type, shape.decimals.get(c.name)) for c in columns}
    sheets = data_sheet_names(shape.rows, rows_per_sheet)
    batches = _batches(source, [c.name for c in columns])
    pending: pa.RecordBatch | None = None
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".xlsx-rows-") as rows_dir:
        sheet_rows: dict[str, Path] = {}
        for number, title in enumerate(sheets, 1):
            ws = wb.create_sheet(title)
            for i, column in enumerate(columns):
                ws.column_dimensions[_letter(i)].width = _width(column, shape.text_chars.get(column.name, 0))
            ws.freeze_panes = "A2"
            ws.append([cells.header(ws, c.name) for c in columns])
            styles = {c.name: cells.style_id(ws, formats[c.name]) for c in columns}
            quoted = cells.style_id(ws, None, quoted=True)
            # The data sheets are the workbook's first: openpyxl names sheet n's part sheet<n>.xml.
            rows_file = sheet_rows[f"xl/worksheets/sheet{number}.xml"] = Path(rows_dir) / f"{number}.xml"
            with rows_file.open("wb") as out:
                room, next_row = rows_per_sheet, 2
                while room:
                    if pending is None or pending.num_rows == 0:
                        pending = next(batches, None)
                        if pending is None:
                            break
                    part, pending = pending.slice(0, room), pending.slice(room)
                    room -= part.num_rows
                    for start in range(0, part.num_rows, _XML_ROWS):
                        chunk = part.slice(start, _XML_ROWS)
                        out.write(_rows_xml(chunk, columns, styles, quoted, next_row))
                        next_row += chunk.num_rows
        for title, rows in (text_sheets or {}).items():
            ws = wb.create_sheet(title)
            widths = [max((len(str(r[i])) for r in rows if i < len(r) and r[i] is not None), default=8)
                      for i in range(max(len(r) for r in rows))]
            for i, chars in enumerate(widths):
                ws.column_dimensions[_letter(i)].width = min(max(chars, 8), 80) + 2
            ws.freeze_panes = "A2"
            ws.append([cells.header(ws, v) for v in rows[0]])
            for line in rows[1:]:
                ws.append([cells.plain(ws, v) for v in line])
        with replacing(path) as tmp:
            archive = _FixedTimeZip(tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
            archive.sheet_rows = sheet_rows
            ExcelWriter(wb, archive).save()
    return path


class _Shape:
    """What a first pass over the table says: rows, each decimal column's decimals, longest texts."""

    def __init__(self) -> None:
        self.rows = 0
        self.decimals: dict[str, int | None] = {}
        self.text_chars: dict[str, int] = {}


def _survey(source: pa.Table | Path, columns: Sequence[ColumnSpec], source_name: str) -> _Shape:
    shape = _Shape()
    floats = [c.name for c in columns if c.type == "float64"]
    texts = [c.name for c in columns if c.type == "string"]
    shape.decimals = dict.fromkeys(floats, 0)
    first_row = 1
    for batch in _batches(source, [c.name for c in columns]):
        shape.rows += batch.num_rows
        for name in floats:
            values = batch.column(name)
            decimals = shape.decimals[name]
            while decimals is not None and not _shown_exactly(values, decimals):
                decimals = decimals + 1 if decimals < MAX_SHOWN_DECIMALS else None
            shape.decimals[name] = decimals
        for name in texts:
            lengths = pc.utf8_length(batch.column(name).cast(pa.string()))
            longest = pc.max(lengths).as_py() or 0
            if longest > EXCEL_MAX_CELL_CHARS:
                at = pc.index(pc.greater(lengths, EXCEL_MAX_CELL_CHARS), True).as_py()
                raise CellTooLong(f"{source_name}, row {first_row + at}, column {name!r}: text of {longest} "
                                  f"characters, more than a spreadsheet cell holds ({EXCEL_MAX_CELL_CHARS})")
            shape.text_chars[name] = max(shape.text_chars.get(name, 0), longest)
        first_row += batch.num_rows
    return shape


def _shown_exactly(values: pa.Array, decimals: int) -> bool:
    # From 2**52 on a double has no fraction (and rounding it could overflow).
    finite = pc.filter(values, pc.and_(pc.is_finite(values), pc.less(pc.abs(values), 2.0**52)))
    if len(finite) == 0:
        return True
    off = pc.abs(pc.subtract(pc.round(finite, decimals), finite))
    tolerance = pc.multiply(pc.max_element_wise(pc.abs(finite), 1.0), 1e-9)
    return not pc.any(pc.greater(off, tolerance)).as_py()


def _batches(source: pa.Table | Path, names: list[str]) -> Iterator[pa.RecordBatch]:
    if isinstance(source, pa.Table):
        yield from source.select(names).to_batches(max_chunksize=_BATCH_ROWS)
    else:
        yield from pq.ParquetFile(source).iter_batches(batch_size=_BATCH_ROWS, columns=names)


def _number_format(kind: str, decimals: int | None) -> str | None:
    return {"int64": INTEGER_FORMAT, "float64": decimal_format(decimals), "date": DATE_FORMAT}.get(kind)


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index + 1))


def _width(column: ColumnSpec, text_chars: int) -> float:
    shown = {"int64": 14, "float64": 16, "date": 12, "bool": 8}.get(column.type, min(max(text_chars, 8), 50))
    return max(len(column.name), shown) + 2


def _clean_text(values: pa.Array) -> pa.Array:
    """Text as the CSV has it before its apostrophe: line breaks as LF, other controls removed;
    and without U+FFFE and U+FFFF, which XML cannot hold."""
    values = values.cast(pa.string())
    unclean = pc.match_substring_regex(values, _LINE_BREAK + "|" + _CONTROL + "|" + _NOT_XML)
    if pc.any(unclean).as_py():
        clean = pc.replace_substring_regex(pc.replace_substring_regex(values, _LINE_BREAK, "\n"), _CONTROL, "")
        values = pc.if_else(unclean, pc.replace_substring_regex(clean, _NOT_XML, ""), values)
    return values


def _rows_xml(batch: pa.RecordBatch, columns: Sequence[ColumnSpec], styles: Mapping[str, int | None],
              quoted: int | None, first_row: int) -> memoryview:
    """The ``<row>`` elements of ``batch`` as sheet rows ``first_row``, … (UTF-8 XML).

    Built a column at a time in Arrow: openpyxl makes a Python object and an XML element per
    cell, some 90,000 cells a second, two minutes for a million rows of 11 columns. Every cell
    is as openpyxl would write it; an empty value is no cell.
    """
    numbers = pa.array(np.arange(first_row, first_row + batch.num_rows)).cast(pa.string())
    cells = []
    for k, column in enumerate(columns):
        ref = pc.binary_join_element_wise(f'<c r="{_letter(k)}', numbers, '"', "")
        cells.append(_cells_xml(batch.column(column.name), column.type, ref, styles[column.name], quoted))
    row = pc.binary_join_element_wise(*cells, "", null_handling="replace", null_replacement="")
    lines = pc.binary_join_element_wise('<row r="', numbers, '">', row, "</row>", "")
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset:lines.offset + len(lines) + 1]
    return memoryview(lines.buffers()[2])[offsets[0]:offsets[-1]]


def _text_cell(ref: pa.Array, text: pa.Array, style: pa.Array | str = "") -> pa.Array:
    return pc.binary_join_element_wise(ref, style, ' t="inlineStr"><is><t xml:space="preserve">', text,
                                       "</t></is></c>", "")


def _number_cell(ref: pa.Array, text: pa.Array, style: int | None) -> pa.Array:
    attribute = f' s="{style}"' if style else ""
    return pc.binary_join_element_wise(ref, f'{attribute} t="n"><v>', text, "</v></c>", "")


def _cells_xml(values: pa.Array, kind: str, ref: pa.Array, style: int | None, quoted: int | None) -> pa.Array:
    """One column's cells as XML; null where the cell is empty."""
    if kind == "string":
        text = _clean_text(values)
        text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
        risky = pc.match_substring_regex(text, _FORMULA_START)
        escaped = pc.replace_substring(pc.replace_substring(pc.replace_substring(text, "&", "&amp;"), "<", "&lt;"),
                                       ">", "&gt;")
        return _text_cell(ref, escaped, pc.if_else(risky, f' s="{quoted}"', ""))
    if kind == "bool":
        return pc.binary_join_element_wise(ref, ' t="b"><v>', pc.if_else(values, "1", "0"), "</v></c>", "")
    if kind == "int64":
        digits = pc.cast(values, pa.string())
        # Excel keeps 15 significant digits: a longer integer is written as its digits, as text.
        limit = 10**EXCEL_EXACT_DIGITS
        long = pc.or_(pc.greater_equal(values, limit), pc.less_equal(values, -limit))
        return pc.if_else(long, _text_cell(ref, digits), _number_cell(ref, digits, style))
    if kind == "float64":
        floats = values.to_numpy(zero_copy_only=False)
        # numpy's shortest repr reads back to the same double (openpyxl's own %.16g may not).
        # A spreadsheet has no NaN (an empty cell) nor infinity (its CSV text, inf or -inf).
        empty = np.isnan(floats)
        text = pa.array(floats.astype(str), pa.string(), mask=empty)
        infinite = pc.is_inf(values)
        return pc.if_else(infinite, _text_cell(ref, text), _number_cell(ref, text, style))
    if kind == "date":
        serial = pc.add(pc.cast(values, pa.int32()), _EXCEL_EPOCH_DAYS)
        # Excel's serial: days since 1899-12-30, true from 1900-03-01 (serial 61) on; before it
        # Excel's serials disagree with every other program, so an earlier date is its ISO text.
        early = pc.less(serial, _EXCEL_SERIAL_OF_FIRST_DATE)
        return pc.if_else(early, _text_cell(ref, pc.cast(values, pa.string())),
                          _number_cell(ref, pc.cast(serial, pa.string()), style))
    raise ValueError(f"column type {kind!r} has no spreadsheet cell")


class _CellMaker:
    """openpyxl cells of one workbook; a style is built once per number format and shared."""

    def __init__(self, wb: Any) -> None:
        from openpyxl.cell import Cell, WriteOnlyCell
        from openpyxl.styles import Font

        self._wb = wb
        self._styles: dict[str, Any] = {}
        self._proto = WriteOnlyCell
        self._cell = Cell
        self._bold = Font(bold=True)

    def _style(self, ws: Any, number_format: str | None, quoted: bool = False) -> Any:
        key = f"{number_format}|{quoted}"
        if key not in self._styles:
            proto = self._proto(ws)
            if number_format:
                proto.number_format = number_format
            if quoted:
                proto.quotePrefix = True
            self._styles[key] = proto._style
        return self._styles[key]

    def style_id(self, ws: Any, number_format: str | None, quoted: bool = False) -> int | None:
        """The workbook's index of a style (None: the default one)."""
        if number_format is None and not quoted:
            return None
        return int(self._wb._cell_styles.add(self._style(ws, number_format, quoted)))

    def header(self, ws: Any, name: str) -> Any:
        cell = self._typed(ws, str(name), "s", None)
        cell.font = self._bold
        return cell

    def _typed(self, ws: Any, value: str, data_type: str, style: Any) -> Any:
        # Written as given: openpyxl would make "=..." a formula, "#N/A" an error, and print
        # numbers with 16 digits only.
        cell = self._cell(ws, row=1, column=1, style_array=style)
        cell._value, cell.data_type = value, data_type
        return cell

    def text(self, ws: Any, value: str | None) -> Any:
        """A text cell (quote-prefixed when a spreadsheet would run it as a formula once edited)."""
        if value is None or value == "":
            return None
        if _RISKY.match(value):
            return self._typed(ws, value, "s", self._style(ws, None, quoted=True))
        if value[0] in "=#":
            return self._typed(ws, value, "s", None)
        return value

    def integer(self, ws: Any, digits: str | None, number_format: str | None) -> Any:
        if digits is None:
            return None
        if len(digits.lstrip("-")) > EXCEL_EXACT_DIGITS:
            return self._typed(ws, digits, "s", None)  # a spreadsheet would round it: kept as its digits
        return self._typed(ws, digits, "n", self._style(ws, number_format))

    def plain(self, ws: Any, value: Any) -> Any:
        """A cell of a text sheet: text as text, an int as a number."""
        if isinstance(value, str):
            return self.text(ws, value)
        if isinstance(value, int) and not isinstance(value, bool):
            return self.integer(ws, str(value), INTEGER_FORMAT)
        return value


_RISKY = re.compile(_FORMULA_START)
_NOT_XML = "[\ufffe\uffff]"  # noncharacters XML 1.0 does not allow
_EXCEL_EPOCH_DAYS = 25_569  # 1970-01-01 as an Excel serial
_EXCEL_SERIAL_OF_FIRST_DATE = 61  # 1900-03-01
# Excel keeps 15 significant digits; a longer integer is written as text.
EXCEL_EXACT_DIGITS = 15
class _FixedTimeZip(zipfile.ZipFile):
    """A zip whose entries all carry one fixed time, so the same content gives the same bytes."""

    def writestr(self, zinfo_or_arcname: Any, data: Any, compress_type: int | None = None,
                 compresslevel: int | None = None) -> None:
        if not isinstance(zinfo_or_arcname, zipfile.ZipInfo):
            zinfo_or_arcname = self._entry(str(zinfo_or_arcname))
        super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    # The data rows of a sheet part (its name: the rows' XML), written after openpyxl's header row.
    sheet_rows: Mapping[str, Path] = {}

    def write(self, filename: Any, arcname: Any = None, compress_type: int | None = None,
              compresslevel: int | None = None) -> None:
        # openpyxl's write-only sheets come as temporary files: copied in, never read whole.
        name = str(arcname or filename)
        rows = self.sheet_rows.get(name)
        with open(filename, "rb") as src, self.open(self._entry(name), "w", force_zip64=True) as dst:
            if rows is None:
                shutil.copyfileobj(src, dst, 1 << 20)
                return
            head, end, tail = src.read().partition(b"</sheetData>")  # the header row only: small
            assert end, f"{name}: openpyxl wrote no sheetData"
            dst.write(head)
            with rows.open("rb") as data:
                shutil.copyfileobj(data, dst, 1 << 20)
            dst.write(end + tail)

    def _entry(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
        info.compress_type = self.compression
        info.external_attr = 0o600 << 16
        return info
