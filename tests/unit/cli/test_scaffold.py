"""``python -m satudata new``: a draft catalog entry and suite from a sample export, which passes ``check`` on it."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from satudata.__main__ import main
from satudata.catalog import load_entry
from satudata.cli.profile import snake_case

REPO = Path(__file__).resolve().parents[3]
SAMPLE = REPO / "tests" / "data" / "dinkes_kunjungan_puskesmas_2024-01.csv"


@pytest.fixture
def dirs(tmp_path, monkeypatch):
    monkeypatch.setenv("SATUDATA_CATALOG_DIR", str(tmp_path / "catalog"))
    monkeypatch.setenv("SATUDATA_EXPECTATIONS_DIR", str(tmp_path / "expectations"))
    monkeypatch.setenv("SATUDATA_DATA_DIR", str(tmp_path / "data"))
    return tmp_path


def test_draft_from_a_messy_csv_passes_check_on_its_sample(dirs, capsys):
    assert main(["new", "dinkes_kunjungan_puskesmas", str(SAMPLE)]) == 0
    out = capsys.readouterr().out
    assert "CSV, cp1252, separator ';', numbers indonesian, 8 rows" in out
    assert "column 'Bulan' as 'Januari 2024'; schedule monthly" in out
    assert "Result    PUBLISHABLE" in out
    text = (dirs / "catalog" / "dinkes_kunjungan_puskesmas.yaml").read_text(encoding="utf-8")
    assert text.count("# PERIKSA") >= 8  # every guess is marked for review
    entry = load_entry(dirs / "catalog" / "dinkes_kunjungan_puskesmas.yaml")
    fields = {f.name: f for f in entry.source.fields}
    assert fields["Rasio per 1.000 Penduduk"].column == "rasio_per_1000_penduduk"
    assert fields["Bulan"].format == "Januari 2024" and entry.source.period_field == "Bulan"
    assert entry.table.primary_key == ["tahun", "bulan", "kabupaten_kota", "jenis_kelamin"]
    suite = json.loads((dirs / "expectations" / "dinkes_kunjungan_puskesmas.json").read_text())
    kinds = {e["type"] for e in suite["expectations"]}
    assert {"expect_column_values_to_be_in_set", "expect_column_values_to_be_between",
            "expect_compound_columns_to_be_unique", "expect_column_values_to_not_be_null"} <= kinds
    assert all(e["meta"]["draft"] for e in suite["expectations"])


def test_an_existing_entry_is_not_replaced_without_force(dirs, capsys):
    assert main(["new", "dinkes_kunjungan_puskesmas", str(SAMPLE)]) == 0
    assert main(["new", "dinkes_kunjungan_puskesmas", str(SAMPLE)]) == 2
    assert "give --force" in capsys.readouterr().err
    assert main(["new", "dinkes_kunjungan_puskesmas", str(SAMPLE), "--force"]) == 0


def test_xlsx_header_under_title_rows_and_a_yearly_history(dirs, capsys):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "Tabel"
    sheet.append(["Jumlah Sekolah menurut Kabupaten/Kota, 2022-2024"])
    sheet.append(["Sumber: Dinas Pendidikan"])
    sheet.append([])
    sheet.append(["Tahun", "Kabupaten/Kota", "Jenjang", "Jumlah Sekolah"])
    for year in (2022, 2023, 2024):
        for region in ("Kota Samarinda", "Kota Bontang"):
            for level, count in (("SD", 120), ("SMP", 45)):
                sheet.append([year, region, level, count + year - 2022])
    path = dirs / "sekolah.xlsx"
    buffer = io.BytesIO()
    book.save(buffer)
    path.write_bytes(buffer.getvalue())
    code = main(["new", "disdik_sekolah_tahunan", str(path)])
    out = capsys.readouterr().out
    assert "XLSX, sheet 'Tabel', header on row 4" in out
    assert "column 'Tahun' as '2024'; schedule annual" in out
    draft = yaml.safe_load((dirs / "catalog" / "disdik_sekolah_tahunan.yaml").read_text(encoding="utf-8"))
    assert draft["source"]["history"] is True and draft["source"]["period_field"] == "Tahun"
    assert draft["schedule"] == "annual" and draft["period_columns"] == {"year": "tahun"}
    assert draft["schema"]["primary_key"] == ["tahun", "kabupaten_kota", "jenjang"]
    assert code == 0, out  # checked for the latest year of the history, 2024


@given(st.text(min_size=0, max_size=40))
def test_snake_case_always_gives_a_valid_column_name(header):
    name = snake_case(header)
    assert name and name[0].isalpha() and all(ch.islower() or ch.isdigit() or ch == "_" for ch in name)
    assert name.isascii()


@pytest.mark.parametrize(("header", "column"), [("Rasio per 1.000 Penduduk", "rasio_per_1000_penduduk"),
                                                ("Kabupaten/Kota", "kabupaten_kota"), ("Jml. Pasien", "jml_pasien"),
                                                ("  Tahun ", "tahun"), ("Persentase (%)", "persentase"),
                                                ("Jumlah Penduduk (jiwa) 2024", "jumlah_penduduk_jiwa_2024")])
def test_snake_case_examples(header, column):
    assert snake_case(header) == column


def test_a_sample_beyond_the_input_limits_is_refused_naming_the_limit(dirs, capsys):
    import re
    import zipfile

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Kabupaten/Kota", "Jumlah"])
    book.active.append(["Kota Samarinda", 1])
    book.active.cell(row=1_048_576, column=16_384, value=1)
    raw, out = io.BytesIO(), io.BytesIO()
    book.save(raw)
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():  # without its dimension the sheet's size is learnt only by reading it
            dst.writestr(info, re.sub(rb'<dimension ref="[^"]*"\s*/>', b"", src.read(info.filename)))
    xlsx = dirs / "far.xlsx"
    xlsx.write_bytes(out.getvalue())
    assert main(["new", "disdik_sekolah_tahunan", str(xlsx)]) == 2
    assert "row 1048576: a cell in column XFD (input limit max_columns = 500" in capsys.readouterr().err
    big = dirs / "big.csv"
    big.write_text("Kabupaten/Kota;Jumlah\nKota Samarinda;" + "9" * 200_000 + "\n", encoding="utf-8")
    assert main(["new", "disdik_sekolah_tahunan", str(big)]) == 2
    assert "row 2, column 'Jumlah': a cell of 200,000 characters" in capsys.readouterr().err
