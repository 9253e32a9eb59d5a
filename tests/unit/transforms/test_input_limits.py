"""Input limits of the readers, and reading time that grows in step with a hostile cell's size."""

from __future__ import annotations

import io
import re
import time
import zipfile
from dataclasses import dataclass
from typing import Any

import pytest

from transforms import reference
from transforms.cells import PERIOD_FORMATS, convert_cell, parse_period_cell
from transforms.limits import InputLimits, masked
from transforms.readers import SourceParseError, iter_csv_tables, read_csv_bytes, read_xlsx_bytes


@dataclass(frozen=True)
class F:
    name: str
    type: str
    required: bool = True


FIELDS = [F("Nama", "string"), F("Jumlah", "float64")]


def _csv(cell: str, column: int = 0, rows: int = 3) -> bytes:
    lines = ["Nama;Jumlah;Catatan"] + [f"Unit {i};1,5;-" for i in range(rows)]
    cells = lines[2].split(";")
    cells[column] = cell
    lines[2] = ";".join(cells)
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def _xlsx(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.mark.parametrize("column, name", [(0, "Nama"), (2, "Catatan")])
@pytest.mark.parametrize("block_bytes", [8 << 20, 4096])
def test_a_cell_over_the_limit_is_named_in_either_reader(column, name, block_bytes):
    body = _csv("x" * 200_000, column)  # over Python csv's own 131,072, which raised a bare csv.Error
    with pytest.raises(SourceParseError) as err:
        list(iter_csv_tables(body, FIELDS, "x.csv", block_bytes=block_bytes))
    assert (err.value.row, err.value.column) == (3, name)
    assert "a cell of 200,000 characters (input limit max_cell_chars = 32,767, " \
           "setting SATUDATA_INPUT_MAX_CELL_CHARS)" in str(err.value)


def test_rows_and_columns_over_their_limits_are_refused():
    limits = InputLimits(max_rows=10, max_columns=2)
    with pytest.raises(SourceParseError, match=r"a header of 3 columns \(input limit max_columns = 2"):
        read_csv_bytes(_csv("a"), FIELDS, "x.csv", limits=limits)
    with pytest.raises(SourceParseError, match=r"more than 10 data rows \(input limit max_rows = 10"):
        read_csv_bytes(_csv("a", rows=11), FIELDS, "x.csv", limits=InputLimits(max_rows=10))
    assert len(read_csv_bytes(_csv("a", rows=10), FIELDS, "x.csv", limits=InputLimits(max_rows=10))) == 10


def test_a_sheet_declaring_a_cell_at_its_last_row_and_column_is_refused_unread():
    book = _xlsx([["Nama", "Jumlah"], ["Unit", 1]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = re.sub(rb'<dimension ref="A1:B2"\s*/>', b'<dimension ref="A1:XFD1048576"/>', body)
            dst.writestr(info, body)
    assert len(out.getvalue()) < 10_000
    started = time.perf_counter()
    with pytest.raises(SourceParseError, match=r"declares 16,384 columns \(up to XFD\) \(input limit max_columns"):
        read_xlsx_bytes(out.getvalue(), FIELDS, "x.xlsx")
    assert time.perf_counter() - started < 5


def test_a_sheet_without_a_dimension_is_bounded_while_read():
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Nama", "Jumlah"])
    book.active.append(["Unit", 1])
    book.active.cell(row=200_000, column=2_000, value=1)
    raw = io.BytesIO()
    book.save(raw)
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            body = src.read(info.filename)
            dst.writestr(info, re.sub(rb'<dimension ref="A1:BXX200000"\s*/>', b"", body))
    with pytest.raises(SourceParseError) as err:
        read_xlsx_bytes(out.getvalue(), FIELDS, "x.xlsx")
    assert err.value.row == 200_000 and "a cell in column BXX (input limit max_columns = 500" in str(err.value)


def test_a_zip_bomb_is_refused_before_it_is_inflated():
    book = _xlsx([["Nama", "Jumlah"], ["Unit", 1]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(book)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info.filename))
        dst.writestr("xl/media/image1.png", b"\0" * 20_000_000)
    with pytest.raises(SourceParseError, match=r"part xl/media/image1\.png inflates [\d,]+ times \(input limit "
                                               r"xlsx_max_compression_ratio = 200"):
        read_xlsx_bytes(out.getvalue(), FIELDS, "x.xlsx")
    with pytest.raises(SourceParseError, match=r"the workbook inflates to 19 MB \(input limit "
                                               r"xlsx_max_uncompressed_mb = 10"):
        read_xlsx_bytes(out.getvalue(), FIELDS, "x.xlsx", limits=InputLimits(xlsx_max_uncompressed_mb=10))


def test_limits_are_read_from_the_environment(monkeypatch):
    from satudata import settings

    assert settings.input_limits() == InputLimits()
    monkeypatch.setenv("SATUDATA_INPUT_MAX_ROWS", "7")
    monkeypatch.setenv("SATUDATA_INPUT_XLSX_MAX_COMPRESSION_RATIO", "50")
    assert settings.input_limits() == InputLimits(max_rows=7, xlsx_max_compression_ratio=50.0)


def test_a_masked_cell_shows_its_shape_only():
    assert masked("6472015203850012") == "text of 16 characters (digits)"
    assert masked("Budi, 0812") == "text of 10 characters (digits, letters, spaces, symbols)"
    assert masked("x" * 1_000_000) == "text of 1,000,000 characters (letters)"
    assert masked(None) == "an empty cell" and masked(3.5) == "a number"


# Cells people (or attackers) fill with one character repeated, or a pair of them.
HOSTILE = ["1", " ", ".", ",", ";", '"', "1.", "1,", "1 ", "a ", "\t", "1-", "a@"]


def _seconds(work: Any, cell: str) -> float:
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        try:
            work(cell)
        except (ValueError, SourceParseError):
            pass
        best = min(best, time.perf_counter() - started)
    return best


def _read_cell(cell: str) -> None:
    wide = InputLimits(max_cell_chars=4 << 20)
    quoted = '"' + cell.replace('"', '""') + '"'
    for column in (0, 1):
        list(iter_csv_tables(_csv(quoted, column), FIELDS, "x.csv", limits=wide))


def _convert_cell(cell: str) -> None:
    for kind in ("int64", "float64", "date"):
        for number_format in ("indonesian", "plain"):
            try:
                convert_cell(cell, F("x", kind), number_format)
            except ValueError:
                pass
    for fmt in PERIOD_FORMATS:
        try:
            parse_period_cell(cell, fmt)
        except ValueError:
            pass
    for look_up in (reference.region_by_name, reference.region_by_code):
        try:
            look_up(cell)
        except ValueError:
            pass


@pytest.mark.parametrize("work", [_read_cell, _convert_cell], ids=["reader", "cell"])
@pytest.mark.parametrize("unit", HOSTILE, ids=repr)
def test_a_one_megabyte_hostile_cell_costs_in_step_with_its_size(work, unit):
    small, big = unit * (256 * 1024 // len(unit)) + "x", unit * (1024 * 1024 // len(unit)) + "x"
    baseline, hostile = _seconds(work, small), _seconds(work, big)
    # Four times the text: linear work takes about four times as long, quadratic sixteen times.
    # (Generous margins: the machine running the tests may be busy.)
    assert hostile < 10 * baseline + 0.1, (baseline, hostile)
    assert hostile < 2.0, hostile
