"""The project's own table CSV format (what the pipeline publishes), read strictly.

UTF-8, comma separated, one header row naming exactly the declared columns. Agency exports are
read leniently by ``transforms.readers``; this reader serves the steward's check of a published
table and of a CSV extract of an SQL source's rows, where anything else is a mistake to report.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import pandas as pd

from transforms.limits import InputLimits, over_limit
from transforms.readers import SourceParseError, any_field_size, header_names

_TABLE_CHUNK_ROWS = 50_000


class TableFormatError(SourceParseError):
    """A table CSV that is not in the project's own format; the message says where and why."""

    def __init__(self, file: str, text: str) -> None:
        super().__init__(file, text)
        self.args = (f"{file}: {text}",)


def _undecodable(file: str, data: bytes, exc: UnicodeDecodeError, header: list[str]) -> TableFormatError:
    line_start = data.rfind(b"\n", 0, exc.start) + 1
    line = data.count(b"\n", 0, exc.start) + 1
    field = data[line_start:exc.start].count(b",")
    column = f", column '{header[field]}'" if header and field < len(header) else ""
    return TableFormatError(file, f"row {line - 1} (line {line}){column}: byte 0x{data[exc.start]:02x} is not UTF-8; "
                            "save the file as CSV UTF-8")


def _table_header(file: str, data: bytes, types: dict[str, str] | None, limits: InputLimits) -> list[str]:
    """The header row, checked: UTF-8, comma separated, exactly the declared columns, no duplicates."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        first = data.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
        raise _undecodable(file, data, exc, first.split(",")) from None
    header_line = text.split("\n", 1)[0].strip("\r")
    with any_field_size():
        header = next(csv.reader([header_line]))
    if len(header) > limits.max_columns:
        raise TableFormatError(file, "row 0 (header): " + over_limit(f"{len(header):,} columns", limits, "max_columns"))
    if len(header) == 1 and types and len(types) > 1:
        sep = next((s for s in (";", "\t", "|") if s in header_line), None)
        hint = f"; it seems to be separated by {sep!r}" if sep else ""
        raise TableFormatError(file, f"row 0 (header): one column, expected ',' separated{hint}")
    if types:
        missing = [c for c in types if c not in header]
        extra = [c for c in header if c not in types]
        if missing or extra:
            raise TableFormatError(file, f"row 0 (header): columns differ: missing {missing}, "
                                   f"unexpected {header_names(extra)}")
    if len(set(header)) != len(header):
        twice = sorted({c for c in header if header.count(c) > 1})
        raise TableFormatError(file, f"row 0 (header): duplicate column names {twice}")
    return header


def _check_cells(file: str, frame: pd.DataFrame, types: dict[str, str] | None, required: bool,
                 limits: InputLimits) -> None:
    for name in frame.columns:
        lengths = frame[name].str.len()
        if (lengths > limits.max_cell_chars).any():
            row = int((lengths > limits.max_cell_chars).to_numpy().nonzero()[0][0])
            what = f"a cell of {int(lengths.iloc[row]):,} characters"
            raise TableFormatError(file, f"row {row + 1}, column '{name}': "
                                   + over_limit(what, limits, "max_cell_chars"))
    for name in (types or {}) if required else ():
        empty = frame[name].isna() | (frame[name].str.strip() == "")
        if empty.any():
            row = int(empty.to_numpy().nonzero()[0][0])
            raise TableFormatError(file, f"row {row + 1}, column '{name}': empty cell")


def read_table_csv(data: bytes, file: str, types: dict[str, str] | None, required: bool = True,
                   progress: Any = None, limits: InputLimits | None = None) -> pd.DataFrame:
    """A table in the project's own CSV format (what the pipeline publishes): UTF-8, comma, one header row.

    Strict where agency exports are lenient: the columns must be exactly ``types`` (name -> type)
    and every cell of its type, present when ``required``. Rows are counted from 1 after the
    header. ``progress(bytes_read)`` is called as the file is read. Values stay text; the caller
    conforms them (``transforms.tables.conform``). A table beyond ``limits`` (rows, columns, cell
    size) is refused naming the limit.
    """
    limits = limits or InputLimits()
    if not data.strip():
        raise TableFormatError(file, "the file is empty (no header row)")
    header = _table_header(file, data, types, limits)
    chunks = []
    rows = 0
    buffer = io.BytesIO(data)
    try:
        with io.TextIOWrapper(buffer, encoding="utf-8-sig", newline="") as fh:
            for chunk in pd.read_csv(fh, dtype=str, keep_default_na=False, na_values=[""],
                                     chunksize=_TABLE_CHUNK_ROWS):
                chunks.append(chunk)
                rows += len(chunk)
                if rows > limits.max_rows:
                    raise TableFormatError(file, over_limit(f"more than {limits.max_rows:,} rows", limits, "max_rows"))
                if progress is not None:
                    progress(buffer.tell())
    except pd.errors.ParserError as exc:
        raise TableFormatError(file, str(exc).replace("Error tokenizing data. C error: ", "")) from None
    if progress is not None:
        progress(len(data))
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=header)
    if frame.empty:
        raise TableFormatError(file, "only a header row, no data rows")
    _check_cells(file, frame, types, required, limits)
    return frame[list(types)] if types else frame
