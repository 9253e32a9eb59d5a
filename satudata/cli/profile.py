"""A sample export, profiled: how it is written (encoding, separator, numbers, header row) and each column's guess.

Used by ``python -m satudata new`` to draft a catalog entry and a suite. Every guess here is a
guess: the draft marks each one for review.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from satudata import settings
from satudata.periods import Period, PeriodKeyError
from transforms.cells import PERIOD_FORMATS, parse_id_date, parse_id_number, parse_period_cell
from transforms.limits import InputLimits, over_limit
from transforms.readers import (
    SourceParseError,
    any_field_size,
    check_row,
    check_xlsx_zip,
    detect_delimiter,
    detect_encoding,
    sheet_rows,
    table_end,
)

# Text columns with at most this many distinct values get a value set in the suite.
VALUE_SET_MAX = 12
_PLAIN_DECIMAL = re.compile(r"^-?\d+\.\d{1,2}$|^-?\d+\.\d{4,}$")
_ID_DECIMAL = re.compile(r"^-?[\d.]*\d,\d+$")
# Month cells first: a bare year is a period only where the header says so.
_MONTH_FORMATS = [f for f in PERIOD_FORMATS if f != "2024"]
_YEAR_HEADER = re.compile(r"tahun|year|periode", re.IGNORECASE)
_REGION_HEADER = re.compile(r"kab|kota|wilayah|daerah|region", re.IGNORECASE)
_CODE_HEADER = re.compile(r"^(kode|kd|code|id)\b", re.IGNORECASE)
_RUNNING_NUMBER = re.compile(r"^(no|nomor|nomor urut|no urut)\.?$", re.IGNORECASE)


@dataclass
class ColumnGuess:
    """What one column of the sample seems to be."""

    header: str
    column: str
    type: str = "string"
    format: str | None = None
    complete: bool = True
    distinct: list[str] = field(default_factory=list)
    low: float | None = None
    high: float | None = None
    region: bool = False
    running_number: bool = False  # a row counter ("No."): not published


@dataclass
class SampleProfile:
    """The sample as read: how it is written, its columns and its rows."""

    path: Path
    kind: str  # csv or xlsx
    encoding: str | None
    delimiter: str | None
    number_format: str
    header_row: int  # 1-based, as a spreadsheet shows it
    sheet: str | None
    rows: list[list[Any]]
    columns: list[ColumnGuess]

    @property
    def published(self) -> list[ColumnGuess]:
        """The columns to publish: all but the period cell (the run gives the period columns) and row counters."""
        return [c for c in self.columns if c is not self.period and not c.running_number]

    def period_in_name(self, schedule: str | None = None) -> Period | None:
        """The period a key in the file's name names (``imunisasi_2026-Q3.csv``: 2026-Q3), of ``schedule`` if given."""
        for token in reversed(re.split(r"[_\s]+", self.path.stem)):
            try:
                return Period.from_key(token, schedule)
            except PeriodKeyError:
                continue
        return None

    @property
    def period(self) -> ColumnGuess | None:
        """The column holding each row's period, if one looks like it."""
        return next((c for c in self.columns if c.format is not None), None)


def snake_case(header: str) -> str:
    """A published column name from a header as people write it.

    ``Rasio per 1.000 Penduduk`` -> ``rasio_per_1000_penduduk``; accents dropped, never empty.
    """
    text = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    text = re.sub(r"(?<=\d)[.,](?=\d{3}\b)", "", text)  # 1.000 -> 1000
    text = re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower()
    if not text or text[0].isdigit():
        text = f"kolom_{text}" if text else "kolom"
    return text


def _csv_rows(data: bytes, file: str, limits: InputLimits) -> tuple[str, str, list[list[str]]]:
    """The sample's non-blank rows, within the same input limits as the pipeline's readers."""
    encoding = detect_encoding(data, file)
    text = data.decode(encoding)
    delimiter = detect_delimiter(text)
    rows: list[list[str]] = []
    with any_field_size():
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        for row in reader:
            check_row(file, row, reader.line_num, rows[0] if rows else [], limits)
            if any(c.strip() for c in row):
                if len(rows) > limits.max_rows:
                    raise SourceParseError(file, over_limit(f"more than {limits.max_rows:,} data rows", limits,
                                                            "max_rows"), row=reader.line_num)
                rows.append(row)
    return encoding, delimiter, rows


def _xlsx_rows(data: bytes, file: str, limits: InputLimits) -> tuple[str | None, list[list[Any]]]:
    from openpyxl import load_workbook

    check_xlsx_zip(data, file, limits)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises zipfile/KeyError/InvalidFileException for broken files
        raise SourceParseError(file, f"not a readable XLSX workbook: {exc}") from None
    try:
        sheet = book.worksheets[0]
        return sheet.title, sheet_rows(sheet, file, limits)
    finally:
        book.close()


def _header_index(rows: list[list[Any]]) -> int:
    """The header: among the first 30 rows, the first with the most text cells and a row below it.

    Title rows above the table have one text cell; the header names every column.
    """
    best, best_count = 0, -1
    for i, row in enumerate(rows[:30]):
        count = sum(1 for c in row if isinstance(c, str) and c.strip())
        if count > best_count and i + 1 < len(rows):
            best, best_count = i, count
    return best


def _number_format(cells: list[str]) -> str:
    """indonesian (1.234,5) unless the cells look like plain decimals (1234.5)."""
    if any(_ID_DECIMAL.match(c) for c in cells):
        return "indonesian"
    if any(_PLAIN_DECIMAL.match(c) for c in cells):
        return "plain"
    return "indonesian"


def _parses(cells: list[Any], parse: Any) -> bool:
    try:
        for cell in cells:
            parse(cell)
    except (ValueError, TypeError):
        return False
    return True


def _numbers(cells: list[Any], number_format: str) -> list[float] | None:
    out = []
    for cell in cells:
        if isinstance(cell, int | float) and not isinstance(cell, bool):
            out.append(float(cell))
            continue
        text = str(cell).strip()
        try:
            out.append(parse_id_number(text) if number_format == "indonesian" else float(text))
        except ValueError:
            return None
    return out


def guess_column(header: str, cells: list[Any], number_format: str) -> ColumnGuess:
    """The column's type, period format, completeness, values and range, from its cells."""
    guess = ColumnGuess(header=header, column=snake_case(header), region=bool(_REGION_HEADER.search(header)))
    filled = [c for c in cells if c is not None and str(c).strip() != ""]
    guess.complete = len(filled) == len(cells) and bool(cells)
    if not filled:
        return guess
    # Nothing of a column holding personal data is copied into the draft (value sets, ranges).
    from satudata.gate.privacy import kinds_in_text

    personal = any(kinds_in_text(str(c)) for c in filled)
    formats = _MONTH_FORMATS + (["2024"] if _YEAR_HEADER.search(header) else [])
    for fmt in formats:
        if _parses(filled, lambda c, f=fmt: parse_period_cell(c, f)):
            guess.type, guess.format = "date", fmt
            return guess
    if all(isinstance(c, date) for c in filled) or _parses(
            [c for c in filled if not isinstance(c, date)], lambda c: parse_id_date(str(c))):
        guess.type = "date"
        return guess
    numbers = _numbers(filled, number_format)
    if numbers is not None and not _CODE_HEADER.search(header):  # codes are text, even when all digits
        guess.type = "int64" if all(n.is_integer() for n in numbers) else "float64"
        if not personal:
            guess.low, guess.high = min(numbers), max(numbers)
        guess.running_number = bool(_RUNNING_NUMBER.match(header)) and numbers == list(range(1, len(numbers) + 1))
        return guess
    distinct = sorted({str(c).strip() for c in filled})
    if not personal and guess.complete and 2 <= len(distinct) <= VALUE_SET_MAX and len(distinct) < len(filled):
        guess.distinct = distinct
    return guess


def profile_sample(path: Path, progress: Any = None) -> SampleProfile:
    """Read ``path`` (CSV or XLSX) and guess what each column is."""
    data = path.read_bytes()
    limits = settings.input_limits()
    if path.suffix.lower() == ".xlsx":
        sheet, rows = _xlsx_rows(data, str(path), limits)
        encoding = delimiter = None
        kind = "xlsx"
    else:
        encoding, delimiter, rows = _csv_rows(data, str(path), limits)
        sheet, kind = None, "csv"
    if not rows:
        raise ValueError(f"{path}: no rows to learn from")
    at = _header_index(rows) if kind == "xlsx" else 0
    header = [str(c).strip() if c is not None else "" for c in rows[at]]
    end = table_end(rows, at) if kind == "xlsx" else len(rows)  # notes under the table are not rows
    body = [r for r in rows[at + 1:end] if any(c is not None and str(c).strip() for c in r)]
    if not body:
        raise ValueError(f"{path}: a header row but no data rows to learn from")
    text_cells = [str(c).strip() for r in body for c in r if isinstance(c, str)]
    number_format = _number_format(text_cells)
    columns = []
    for i, name in enumerate(header):
        if not name:
            continue
        if progress is not None:
            progress(i + 1, len(header), name)
        columns.append(guess_column(name, [r[i] if i < len(r) else None for r in body], number_format))
    return SampleProfile(path, kind, encoding, delimiter, number_format, at + 1, sheet, body, columns)
