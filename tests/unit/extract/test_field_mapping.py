"""Field mapping in the catalog: published names, code lists, month cells, defaults, the run's period, history files.

An agency export as people write it (Windows-1252, `;`, decimal commas, headers with spaces,
`/` and `.`, the period as a month name and year) is read into clean published columns with
no Python, and a row of another period is refused, or, from a history file, left to its run.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from satudata.catalog import CatalogError, load_entry
from satudata.extract import SourceError
from satudata.extract.files import LandingFolder, extract_file
from satudata.periods import Period
from satudata.run import RunContext
from satudata.steps import with_period_columns
from transforms.cells import BULAN, parse_period_cell

HEADER = "Kabupaten/Kota;Periode;Jenis Kelamin;Jml. Pasien;Rasio per 1.000 Penduduk;Keterangan"
ROWS = [
    "64.72;Januari 2024;L;1.234;2,5;Data sementara – revisi",
    "64.72;Januari 2024;P;987;1,75;",
    "64.71;Januari 2024;P;12;0,3;“catatan”",
]


def entry_yaml(**source_extra) -> dict:
    return {
        "id": "dinkes_pasien_bulanan",
        "schedule": "monthly",
        "source": {
            "kind": "file",
            "system": "Aplikasi puskesmas (ekspor CSV)",
            "format": "csv",
            "path": "dinkes/pasien_{period}.csv",
            "fields": [
                {"name": "Kabupaten/Kota", "type": "string", "column": "kode_kabupaten_kota"},
                {"name": "Periode", "type": "date", "format": "Januari 2024", "column": "periode"},
                {"name": "Jenis Kelamin", "type": "string", "column": "jenis_kelamin",
                 "values": {"L": "Laki-laki", "P": "Perempuan"}},
                {"name": "Jml. Pasien", "type": "int64", "column": "jumlah_pasien"},
                {"name": "Rasio per 1.000 Penduduk", "type": "float64", "column": "rasio_per_1000_penduduk"},
                {"name": "Keterangan", "type": "string", "column": "keterangan", "default": "-"},
            ],
            **source_extra,
        },
        "transform": "passthrough",
        "period_columns": {"year": "tahun", "month": "bulan"},
        "schema": {
            "primary_key": ["tahun", "bulan", "kode_kabupaten_kota", "jenis_kelamin"],
            "columns": [
                {"name": "tahun", "type": "int64", "description": "Tahun"},
                {"name": "bulan", "type": "int64", "description": "Bulan"},
                {"name": "kode_kabupaten_kota", "type": "string", "description": "Kode kabupaten/kota"},
                {"name": "jenis_kelamin", "type": "string", "description": "Jenis kelamin"},
                {"name": "jumlah_pasien", "type": "int64", "description": "Jumlah pasien", "unit": "orang"},
                {"name": "rasio_per_1000_penduduk", "type": "float64", "description": "Rasio",
                 "unit": "per 1.000 penduduk"},
                {"name": "keterangan", "type": "string", "description": "Keterangan"},
            ],
        },
        "ckan": {"name": "dinkes-pasien-bulanan", "title": "Pasien", "notes": "Pasien per bulan",
                 "organization": {"name": "dinkes", "title": "Dinas Kesehatan"}, "maintainer": "Dinkes"},
    }


def write_entry(tmp_path: Path, data: dict):
    path = tmp_path / "catalog" / f"{data['id']}.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_entry(path)


def land(tmp_path: Path, relative: str, lines: list[str]) -> LandingFolder:
    landing = tmp_path / "landing"
    target = landing / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return LandingFolder(landing)


JANUARY = Period("monthly", date(2024, 1, 1), date(2024, 2, 1))


def run_for(entry, tmp_path: Path, period: Period = JANUARY) -> RunContext:
    return RunContext(entry, period, "t", data_root=tmp_path / "data")


def test_messy_export_is_published_under_clean_names(tmp_path):
    entry = write_entry(tmp_path, entry_yaml())
    run = run_for(entry, tmp_path)
    extracted = extract_file(run, land(tmp_path, "dinkes/pasien_2024-01.csv", [HEADER, *ROWS]))
    rows = pq.read_table(extracted.path).to_pandas()
    assert list(rows.columns) == ["kode_kabupaten_kota", "periode", "jenis_kelamin", "jumlah_pasien",
                                  "rasio_per_1000_penduduk", "keterangan"]
    assert rows["jenis_kelamin"].tolist() == ["Laki-laki", "Perempuan", "Perempuan"]
    assert rows["jumlah_pasien"].tolist() == [1234, 987, 12]
    assert rows["rasio_per_1000_penduduk"].tolist() == [2.5, 1.75, 0.3]
    assert rows["periode"].tolist() == [date(2024, 1, 1)] * 3
    assert rows["keterangan"].tolist() == ["Data sementara – revisi", "-", "“catatan”"]
    filled = with_period_columns(rows, run)
    assert filled["tahun"].tolist() == [2024] * 3 and filled["bulan"].tolist() == [1] * 3


def test_a_value_outside_the_code_list_names_file_row_and_column_not_the_value(tmp_path):
    entry = write_entry(tmp_path, entry_yaml())
    bad = ROWS[:1] + ["64.72;Januari 2024;X-RAHASIA;5;1,0;"] + ROWS[2:]
    with pytest.raises(SourceError) as err:
        extract_file(run_for(entry, tmp_path), land(tmp_path, "dinkes/pasien_2024-01.csv", [HEADER, *bad]))
    message = str(err.value)
    assert "dinkes/pasien_2024-01.csv, row 3, column 'Jenis Kelamin'" in message
    assert "code list (L, P)" in message and "X-RAHASIA" not in message


def test_a_row_of_another_period_is_refused_naming_row_not_value(tmp_path):
    entry = write_entry(tmp_path, entry_yaml(period_field="Periode"))
    lines = [HEADER, *ROWS[:2], ROWS[2].replace("Januari 2024", "Februari 2024")]
    with pytest.raises(SourceError) as err:
        extract_file(run_for(entry, tmp_path), land(tmp_path, "dinkes/pasien_2024-01.csv", lines))
    message = str(err.value)
    assert "row 4, column 'Periode': a period outside the run's period 2024-01" in message
    assert "Februari" not in message and "2024-02" not in message
    assert list((tmp_path / "data" / "quarantine").rglob("*.error.json")), "the input is quarantined"
    assert list((tmp_path / "data" / "raw").rglob("pasien_2024-01.csv")), "the raw input is kept"


def test_a_history_file_gives_each_run_its_own_rows(tmp_path):
    data = entry_yaml(period_field="Periode", history=True)
    data["source"]["path"] = "dinkes/pasien_2015-2024.csv"
    entry = write_entry(tmp_path, data)
    months = ["Januari 2024", "Februari 2024", "Maret 2024"]
    lines = [HEADER] + [row.replace("Januari 2024", m) for m in months for row in ROWS]
    files = land(tmp_path, "dinkes/pasien_2015-2024.csv", lines)
    staged = {}
    for month in (1, 2, 3):
        period = Period.from_key(f"2024-{month:02d}", "monthly")
        extracted = extract_file(run_for(entry, tmp_path, period), files)
        staged[month] = pq.read_table(extracted.path).to_pandas()
    for month, rows in staged.items():
        assert rows["periode"].tolist() == [date(2024, month, 1)] * 3
        assert rows["jumlah_pasien"].tolist() == [1234, 987, 12]


def test_catalog_refuses_what_cannot_work(tmp_path):
    data = entry_yaml()
    data["source"]["fields"][1]["type"] = "string"  # a month format on a text field
    with pytest.raises(CatalogError, match="a format reads months and years"):
        write_entry(tmp_path, data)
    data = entry_yaml(history=True)
    with pytest.raises(CatalogError, match="history file needs period_field"):
        write_entry(tmp_path, data)
    data = entry_yaml()
    data["source"]["path"] = "dinkes/pasien.csv"
    with pytest.raises(CatalogError, match=r"needs \{period\}"):
        write_entry(tmp_path, data)
    data = entry_yaml()
    data["source"]["fields"][0]["format"] = "Jan 2024"
    with pytest.raises(CatalogError, match="format"):
        write_entry(tmp_path, data)


@given(st.integers(1990, 2099), st.integers(1, 12), st.sampled_from(["lower", "upper", "title"]))
def test_month_cells_in_every_format_name_the_same_month(year, month, case):
    name = list(BULAN)[month - 1]  # the full names come first, in calendar order
    short = name[:3] if month != 8 else "agu"
    name, short = (getattr(name, case)(), getattr(short, case)())
    expected = date(year, month, 1)
    assert parse_period_cell(f"{name} {year}", "Januari 2024") == expected
    assert parse_period_cell(f"{short}-{year % 100:02d}", "Jan-24") == (
        expected if year >= 2000 else date(2000 + year % 100, month, 1))
    assert parse_period_cell(f"{year}-{month:02d}", "2024-01") == expected
    assert parse_period_cell(f"{month:02d}/{year}", "03/2024") == expected
    assert parse_period_cell(str(year), "2024") == date(year, 1, 1)


@pytest.mark.parametrize(("cell", "fmt"), [("Jan 2024", "2024-01"), ("13/2024", "03/2024"),
                                           ("Foo 2024", "Januari 2024"), ("2024", "Januari 2024"), ("24", "2024")])
def test_cells_not_in_their_format_are_errors(cell, fmt):
    with pytest.raises(ValueError):
        parse_period_cell(cell, fmt)


def test_a_symbolic_link_in_the_landing_folder_is_refused_not_followed(tmp_path):
    entry = write_entry(tmp_path, entry_yaml())
    secret = tmp_path / "elsewhere" / "rahasia.csv"
    secret.parent.mkdir()
    secret.write_text("NIK;Nama\n6472015203850012;Budi\n", encoding="utf-8")
    landing = tmp_path / "landing"
    (landing / "dinkes").mkdir(parents=True)
    (landing / "dinkes" / "pasien_2024-01.csv").symlink_to(secret)
    with pytest.raises(SourceError) as err:
        extract_file(run_for(entry, tmp_path), LandingFolder(landing))
    message = str(err.value)
    assert "symbolic link" in message and "6472015203850012" not in message and "Budi" not in message
    assert not list((tmp_path / "data" / "raw").rglob("*.csv")), "nothing was read through the link"
    (landing / "dinkes" / "pasien_2024-01.csv").unlink()
    (landing / "dinkes").rmdir()
    (landing / "dinkes").symlink_to(secret.parent, target_is_directory=True)
    with pytest.raises(SourceError, match="symbolic link"):
        extract_file(run_for(entry, tmp_path), LandingFolder(landing))
