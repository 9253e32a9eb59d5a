"""Output safety: what the public CSV (and the DataStore) hands to a spreadsheet.

Adversarial text cells (row splitters, quotes, controls, formula starts behind blanks and
look-alikes, non-ASCII) are written by both CSV writers and read back by Python's csv, pandas,
pyarrow and headless LibreOffice: the rows and columns must come back as written, with no
control character left and no cell a spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
import unicodedata

import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.adversarial import CELL, CELLS, has_controls, runs_as_formula
from transforms.tables import spreadsheet_safe, write_csv

FRAMES = st.lists(st.tuples(CELL, CELL, st.integers(-10**6, 10**6)), min_size=1, max_size=30)


def _frame(rows: list[tuple[str | None, str | None, int]]) -> pd.DataFrame:
    return pd.DataFrame({
        "teks": pd.array([r[0] for r in rows], dtype="string"),
        "objek": pd.Series([r[1] for r in rows], dtype=object),
        "angka": pd.array([r[2] for r in rows], dtype="Int64"),
    })


def _expected(frame: pd.DataFrame) -> list[list[str]]:
    """The rows a reader should get back: the safe text (missing as empty) and the numbers."""
    safe = spreadsheet_safe(frame)
    return [["" if pd.isna(v) else str(v) for v in row] for row in safe.astype(object).itertuples(index=False)]


def _check_cells(rows: list[list[str]]) -> None:
    for number, row in enumerate(rows, start=2):
        for column, cell in zip(("teks", "objek"), row, strict=False):
            assert not runs_as_formula(cell), f"row {number}, column {column}: a formula"
            assert not has_controls(cell), f"row {number}, column {column}: a control character"


def _read_back(data: bytes) -> dict[str, list[list[str]]]:
    """The CSV's data rows as each reader sees them, every value as text."""
    import pyarrow.csv as pacsv

    text = data.decode("utf-8")
    by_csv = list(csv.reader(io.StringIO(text, newline="")))
    assert by_csv[0] == ["teks", "objek", "angka"]
    by_pandas = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False).to_numpy().tolist()
    table = pacsv.read_csv(io.BytesIO(data), parse_options=pacsv.ParseOptions(newlines_in_values=True),
                           convert_options=pacsv.ConvertOptions(
                               column_types={"teks": pa.string(), "objek": pa.string(), "angka": pa.int64()},
                               strings_can_be_null=False))
    by_arrow = [[t, o, str(n)] for t, o, n in zip(*table.to_pydict().values(), strict=True)]
    return {"csv": by_csv[1:], "pandas": by_pandas, "pyarrow": by_arrow}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=FRAMES)
def test_adversarial_cells_round_trip_through_csv_pandas_and_pyarrow(rows, tmp_path):
    frame = _frame(rows)
    data = write_csv(frame, tmp_path / "x.csv").read_bytes()
    # The Arrow writer (taken for a frame of these types) and pandas write the same bytes.
    assert data == spreadsheet_safe(frame).to_csv(index=False, lineterminator="\n").encode("utf-8")
    assert write_csv(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "y.csv").read_bytes() == data
    expected = _expected(frame)
    for reader, got in _read_back(data).items():
        assert got == expected, reader
        _check_cells(got)
    # Numbers stay numbers, minus sign and all.
    assert [int(r[2]) for r in expected] == [r[2] for r in rows]


def test_fixed_adversarial_cells_round_trip(tmp_path):
    rows = [(cell, CELLS[-1 - i], -i) for i, cell in enumerate(CELLS)]
    frame = _frame(rows)
    data = write_csv(frame, tmp_path / "x.csv").read_bytes()
    for reader, got in _read_back(data).items():
        assert len(got) == len(CELLS) and all(len(r) == 3 for r in got), reader
        assert got == _expected(frame), reader
        _check_cells(got)


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(CELL, min_size=1, max_size=20))
def test_safe_text_keeps_everything_but_controls_and_is_stable(cells):
    frame = pd.DataFrame({"teks": pd.array(cells, dtype="string")})
    safe = spreadsheet_safe(frame)["teks"].tolist()
    for before, after in zip(cells, safe, strict=True):
        assert not runs_as_formula(after) and not has_controls(after)
        # Only the apostrophe is added; only controls are removed (line breaks become LF).
        kept = "".join("\n" if c in "\r\x0b\x0c\x85\u2028\u2029" else c for c in before.replace("\r\n", "\n"))
        cleaned = "".join(c for c in kept if not has_controls(c))
        assert after in (cleaned, "'" + cleaned)
        # The apostrophe is added exactly when the cleaned text would run as a formula.
        assert (after != cleaned) == runs_as_formula(cleaned)
    assert spreadsheet_safe(spreadsheet_safe(frame))["teks"].tolist() == safe


def test_every_blank_and_look_alike_before_a_formula_is_neutralised():
    # Built from Unicode, not from the writer's patterns: every whitespace and format character
    # in front of every character that NFKC folds to = + - @.
    blanks = [chr(c) for c in range(sys.maxunicode + 1)
              if chr(c).isspace() or unicodedata.category(chr(c)) == "Cf"]
    starts = [chr(c) for c in range(sys.maxunicode + 1)
              if not 0xD800 <= c < 0xE000 and unicodedata.normalize("NFKC", chr(c))[:1] in ("=", "+", "-", "@")]
    cells = [b + s + "1" for b in blanks for s in starts[:4]] + [" " + s + "1" for s in starts]
    safe = spreadsheet_safe(pd.DataFrame({"teks": pd.array(cells, dtype="string")}))["teks"].tolist()
    assert all(s.startswith("'") and not runs_as_formula(s) for s in safe)
    assert len(starts) >= 15 and len(blanks) >= 60


def test_numbers_and_plain_text_are_left_alone():
    frame = pd.DataFrame({"teks": pd.array(["Kota Samarinda", "a - b", "5-6", "x=1", "'=1", None], dtype="string"),
                          "angka": [-5, 2, -3, 4, 5, 6], "pecahan": [-1.5, 0.0, -0.0, 2.5, 3.0, -7.25]})
    safe = spreadsheet_safe(frame)
    assert safe["teks"].tolist()[:5] == frame["teks"].tolist()[:5] and pd.isna(safe["teks"].iloc[5])
    assert safe["angka"].tolist() == [-5, 2, -3, 4, 5, 6] and safe["angka"].dtype == frame["angka"].dtype
    assert safe["pecahan"].tolist() == frame["pecahan"].tolist()


SOFFICE = shutil.which("soffice")


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice is not installed (no soffice on PATH): "
                    "apt-get install -y --no-install-recommends libreoffice-calc-nogui")
@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.tuples(CELL, CELL, st.integers(-10**6, 10**6)), min_size=20, max_size=40))
def test_libreoffice_opens_the_csv_without_a_formula_or_a_split_row(rows, tmp_path):
    import openpyxl

    rows = rows + [(cell, CELLS[-1 - i], -i) for i, cell in enumerate(CELLS)]
    frame = _frame(rows)
    path = write_csv(frame, tmp_path / "x.csv")
    # Comma-separated, '"' quoted, UTF-8 (76), data from line 1: how a reader opens the file.
    run = subprocess.run([SOFFICE, "--headless", "--norestore", f"-env:UserInstallation=file://{tmp_path}/lo",
                          "--infilter=CSV:44,34,76,1", "--convert-to", "xlsx", "--outdir", str(tmp_path / "out"),
                          str(path)], capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    sheet = openpyxl.load_workbook(tmp_path / "out" / "x.xlsx").active
    cells = list(sheet.iter_rows())
    formulas = [c.coordinate for row in cells for c in row if c.data_type == "f"]
    assert not formulas
    assert sheet.max_row == len(rows) + 1 and sheet.max_column == 3
    expected = _expected(frame)
    # Row for row, the numbers come back where they were written: no row split or shifted.
    assert [r[2].value for r in cells[1:]] == [int(r[2]) for r in expected]
    # The text too, but for what LibreOffice reads as a number or a date on its own.
    texts = [[c.value for c in r[:2]] for r in cells[1:]]
    for got, want in zip(texts, expected, strict=True):
        for g, w in zip(got, want[:2], strict=True):
            assert g == (w or None) or not isinstance(g, str), (g, w)
