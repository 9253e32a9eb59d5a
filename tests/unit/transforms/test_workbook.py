"""The public XLSX: typed cells read back with openpyxl, and opened by headless LibreOffice under an
Indonesian locale, whose values must be the Parquet file's and whose display uses 1.234,5."""

from __future__ import annotations

import csv
import math
import shutil
import subprocess
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.adversarial import CELL, CELLS
from transforms.tables import write_parquet
from transforms.workbook import CellTooLong, data_sheet_names, decimal_format, write_workbook


@dataclass(frozen=True)
class Col:
    name: str
    type: str
    description: str = ""
    unit: str | None = None


COLUMNS = [Col("tanggal", "date"), Col("wilayah", "string"), Col("jumlah", "int64"), Col("rata_rata", "float64"),
           Col("memadai", "bool"), Col("nilai", "float64")]


def _table() -> pa.Table:
    return pa.table({
        "tanggal": pa.array([date(2024, 3, 7), date(2026, 10, 31), None, date(1899, 12, 31)], pa.date32()),
        "wilayah": ["Kota Samarinda", "=1+1", "#N/A", " +62 811"],
        "jumlah": pa.array([1234, -5, None, 10**16], pa.int64()),
        "rata_rata": [1234.5, 0.25, None, 3.0],
        "memadai": [True, False, None, True],
        "nilai": [1 / 3, 2.0, float("nan"), -7.125],
    })


def _read(path: Path, sheet: str = "Data", data_only: bool = False) -> list[list[openpyxl.cell.Cell]]:
    return [list(r) for r in openpyxl.load_workbook(path, data_only=data_only)[sheet].iter_rows()]


def test_cells_are_typed_and_formatted(tmp_path):
    path = write_workbook(_table(), COLUMNS, tmp_path / "x.xlsx",
                          {"Kamus Data": [["Nama kolom", "Tipe"], ["jumlah", "bilangan bulat"]],
                           "Metadata": [["Elemen", "Isi"], ["Judul", "=uji"], ["Jumlah baris", 4]]})
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames == ["Data", "Kamus Data", "Metadata"]
    ws = wb["Data"]
    assert ws.freeze_panes == "A2"
    rows = _read(path)
    assert [c.value for c in rows[0]] == [c.name for c in COLUMNS] and all(c.font.b for c in rows[0])
    first, formula, empty, odd = rows[1:]
    assert first[0].value == datetime(2024, 3, 7) and first[0].is_date and first[0].number_format == "yyyy-mm-dd"
    assert first[2].value == 1234 and first[2].data_type == "n" and first[2].number_format == "#,##0"
    # The column's values need two decimals (0.25): one format for the column.
    assert first[3].value == 1234.5 and first[3].number_format == "#,##0.00"
    assert first[4].value is True and first[4].data_type == "b"
    # 1/3 needs more decimals than are shown: the cell keeps the full value.
    assert first[5].value == 1 / 3 and first[5].number_format == "#,##0.0###"
    # Text stays text: no formula, no error value; a formula-like one is quote-prefixed.
    assert (formula[1].value, formula[1].data_type, formula[1].quotePrefix) == ("=1+1", "s", True)
    assert (empty[1].value, empty[1].data_type, empty[1].quotePrefix) == ("#N/A", "s", False)
    assert (odd[1].value, odd[1].quotePrefix) == (" +62 811", True)
    assert [c.value for c in empty[2:]] == [None, None, None, None]  # NaN is an empty cell
    # Beyond what a spreadsheet holds exactly: a date before 1900-03-01 and a 17-digit integer, as text.
    assert (odd[0].value, odd[2].value) == ("1899-12-31", "10000000000000000")
    assert not [c.coordinate for r in rows for c in r if c.data_type == "f"]
    meta = [[c.value for c in r] for r in _read(path, "Metadata")]
    assert meta == [["Elemen", "Isi"], ["Judul", "=uji"], ["Jumlah baris", 4]]
    assert _read(path, "Metadata")[1][1].data_type == "s"


def test_same_table_gives_the_same_bytes(tmp_path):
    first = write_workbook(_table(), COLUMNS, tmp_path / "a.xlsx").read_bytes()
    time.sleep(2.1)  # zip times have a 2-second resolution
    assert write_workbook(_table(), COLUMNS, tmp_path / "b.xlsx").read_bytes() == first


def test_rows_past_a_sheet_go_on_in_the_next(tmp_path):
    table = pa.table({"n": pa.array(range(7), pa.int64()), "t": [str(i) for i in range(7)]})
    cols = [Col("n", "int64"), Col("t", "string")]
    path = write_workbook(table, cols, tmp_path / "x.xlsx", rows_per_sheet=3)
    assert openpyxl.load_workbook(path).sheetnames == ["Data", "Data (2)", "Data (3)"]
    assert data_sheet_names(7, 3) == ["Data", "Data (2)", "Data (3)"] and data_sheet_names(0) == ["Data"]
    empty = write_workbook(table.slice(0, 0), cols, tmp_path / "empty.xlsx")
    assert [[c.value for c in r] for r in _read(empty)] == [["n", "t"]]
    back = [[c.value for c in r] for s in ("Data", "Data (2)", "Data (3)") for r in _read(path, s)]
    assert back == [["n", "t"], [0, "0"], [1, "1"], [2, "2"], ["n", "t"], [3, "3"], [4, "4"], [5, "5"],
                    ["n", "t"], [6, "6"]]


def test_text_longer_than_a_cell_is_refused_with_its_place_not_its_value(tmp_path):
    table = pa.table({"t": ["a", "rahasia" * 5000]})
    with pytest.raises(CellTooLong) as caught:
        write_workbook(table, [Col("t", "string")], tmp_path / "x.xlsx", source_name="data.parquet")
    assert "data.parquet, row 2, column 't'" in str(caught.value) and "rahasia" not in str(caught.value)


def test_period_columns_show_no_thousands_separator(tmp_path):
    table = pa.table({"tahun": pa.array([2026], pa.int64()), "jumlah": pa.array([2026], pa.int64())})
    cols = [Col("tahun", "int64"), Col("jumlah", "int64")]
    row = _read(write_workbook(table, cols, tmp_path / "x.xlsx", ungrouped={"tahun"}))[1]
    assert [(c.value, c.number_format) for c in row] == [(2026, "0"), (2026, "#,##0")]


def test_decimal_formats():
    assert [decimal_format(d) for d in (0, 1, 3, None)] == ["#,##0", "#,##0.0", "#,##0.000", "#,##0.0###"]


def _expected_text(cell: str | None) -> str | None:
    """What the XLSX holds for a Parquet text cell: line breaks as LF, other controls and
    U+FFFE/U+FFFF removed (as the CSV, without its apostrophe); empty text is an empty cell."""
    if cell is None:
        return None
    import re

    from transforms.tables import _CONTROL, _LINE_BREAK

    text = re.sub("[\ufffe\uffff]", "", re.sub(_CONTROL, "", re.sub(_LINE_BREAK, "\n", cell)))
    return text or None


EXCEL_DATES = st.dates(min_value=date(1900, 3, 1), max_value=date(9999, 12, 31))
FLOATS = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(st.none() | CELL, st.none() | st.integers(-(2**63), 2**63 - 1),
                               st.none() | FLOATS, st.none() | EXCEL_DATES, st.none() | st.booleans()),
                     min_size=1, max_size=25))
def test_values_read_back_as_written(rows, tmp_path):
    cols = [Col("t", "string"), Col("i", "int64"), Col("f", "float64"), Col("d", "date"), Col("b", "bool")]
    table = pa.table({c.name: pa.array([r[k] for r in rows], pa.string() if c.type == "string" else None)
                      for k, c in enumerate(cols)})
    table = table.cast(pa.schema([("t", pa.string()), ("i", pa.int64()), ("f", pa.float64()),
                                  ("d", pa.date32()), ("b", pa.bool_())]))
    path = write_workbook(table, cols, tmp_path / "x.xlsx")
    back = [[c.value for c in r] for r in _read(path)[1:]]
    # openpyxl leaves out trailing empty rows; the rows that are there must be the table's.
    # An integer of more than 15 digits, which a spreadsheet would round, is kept as its digits.
    expected = [[_expected_text(t), str(i) if i is not None and abs(i) >= 10**15 else i, f,
                 datetime(d.year, d.month, d.day) if d else None, b] for t, i, f, d, b in rows]
    while expected and expected[-1] == [None] * 5:
        expected.pop()
    assert [r + [None] * (5 - len(r)) for r in back] == expected


# LibreOffice ----------------------------------------------------------------------------------

SOFFICE = shutil.which("soffice")
needs_soffice = pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed (no soffice on PATH): "
                                   "apt-get install -y --no-install-recommends libreoffice-calc-nogui")
CSV_AS_SHOWN = "csv:Text - txt - csv (StarCalc):9,34,76,1,,0,false,true,true,false,false,-1"


def _libreoffice(xlsx: Path, locale: str, out: Path, to: str) -> subprocess.CompletedProcess[str]:
    """Open ``xlsx`` in a fresh LibreOffice profile whose locale setting is ``locale`` (e.g. id-ID)
    and convert it. LibreOffice brings its own locale data, so this needs no system locale: the
    profile's Tools > Options > Language Settings > Locale setting, and the environment an
    Indonesian desktop has (LANG), both say ``locale``."""
    profile = out / f"profile-{locale}"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<oor:items xmlns:oor="http://openoffice.org/2001/registry" '
        'xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
        '<item oor:path="/org.openoffice.Setup/L10N"><prop oor:name="ooSetupSystemLocale" oor:op="fuse">'
        f"<value>{locale}</value></prop></item></oor:items>\n", encoding="utf-8")
    posix = locale.replace("-", "_") + ".UTF-8"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(out), "LANG": posix, "LC_ALL": posix}
    assert SOFFICE is not None
    return subprocess.run([SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{profile}",
                           "--convert-to", to, "--outdir", str(out / locale), str(xlsx)],
                          capture_output=True, text=True, timeout=180, env=env)


def _shown(xlsx: Path, locale: str, out: Path) -> dict[str, list[list[str]]]:
    """Each sheet as LibreOffice shows it (tab-separated, cells as displayed)."""
    run = _libreoffice(xlsx, locale, out, CSV_AS_SHOWN)
    assert run.returncode == 0, run.stderr
    sheets = {}
    for sheet in ("Data", "Kamus Data", "Metadata"):
        text = (out / locale / f"{xlsx.stem}-{sheet}.csv").read_text(encoding="utf-8")
        sheets[sheet] = list(csv.reader(text.splitlines(), delimiter="\t"))
    return sheets


@needs_soffice
def test_libreoffice_in_indonesian_reads_the_parquet_values_and_shows_indonesian_numbers(tmp_path):
    parquet = write_parquet(_table(), COLUMNS, tmp_path / "data.parquet")
    xlsx = write_workbook(parquet, COLUMNS, tmp_path / "data.xlsx",
                          {"Kamus Data": [["Nama kolom", "Tipe"], ["jumlah", "bilangan bulat"]],
                           "Metadata": [["Elemen", "Isi"], ["Jumlah baris", 4]]})
    # Values: LibreOffice opens the file and saves it again; every cell must be the Parquet's value.
    run = _libreoffice(xlsx, "id-ID", tmp_path, "xlsx")
    assert run.returncode == 0, run.stderr
    saved = tmp_path / "id-ID" / "data.xlsx"
    # "=1+1" stayed text. (LibreOffice saves a boolean as the formula TRUE() with its value.)
    assert not [c.coordinate for r in _read(saved) for c in r if c.data_type == "f" and c.column != 5]
    back = _read(saved, data_only=True)
    expected = pq.read_table(parquet).to_pylist()
    for row, want in zip(back[1:], expected, strict=True):
        got = dict(zip([c.name for c in COLUMNS], [c.value for c in row], strict=False))
        for name, value in want.items():
            if isinstance(value, date) and value >= date(1900, 3, 1):
                value = datetime(value.year, value.month, value.day)
            elif isinstance(value, date) or (isinstance(value, int) and abs(value) >= 10**15):
                value = str(value)  # kept as text: a spreadsheet cannot hold it exactly
            elif isinstance(value, float) and math.isnan(value):
                value = None
            if isinstance(value, float):
                # LibreOffice holds the double but writes (XLSX and ODS alike) 15 significant
                # digits, the precision spreadsheets show: 1/3 comes back as 0.333333333333333.
                assert math.isclose(got[name], value, rel_tol=1e-14), (name, got[name], value)
            else:
                assert got.get(name) == value, (name, got.get(name), value)
    # Display: the locale's separators (dot groups, comma decimals) and its words for true/false.
    shown = _shown(xlsx, "id-ID", tmp_path)
    data = shown["Data"]
    assert data[0] == [c.name for c in COLUMNS]
    assert data[1] == ["2024-03-07", "Kota Samarinda", "1.234", "1.234,50", "BENAR", "0,3333"]
    assert data[2][1:4] == ["=1+1", "-5", "0,25"]
    assert shown["Metadata"][1] == ["Jumlah baris", "4"]
    # The same file under US English shows 1,234.50: the display is the locale's, not the file's.
    assert _shown(xlsx, "en-US", tmp_path)["Data"][1][2:5] == ["1,234", "1,234.50", "TRUE"]


@needs_soffice
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(texts=st.lists(CELL, min_size=5, max_size=20))
def test_libreoffice_keeps_adversarial_text_as_text(texts, tmp_path):
    cells = texts + CELLS
    table = pa.table({"teks": cells, "n": pa.array(range(len(cells)), pa.int64())})
    xlsx = write_workbook(table, [Col("teks", "string"), Col("n", "int64")], tmp_path / "t.xlsx")
    run = _libreoffice(xlsx, "id-ID", tmp_path, "xlsx")
    assert run.returncode == 0, run.stderr
    back = _read(tmp_path / "id-ID" / "t.xlsx")
    assert not [c.coordinate for r in back for c in r if c.data_type == "f"]
    got = {r[1].value: r[0].value for r in back[1:]}
    assert [got.get(i) for i in range(len(cells))] == [_expected_text(c) for c in cells]
