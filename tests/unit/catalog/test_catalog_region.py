"""The catalog's ``region`` key: strict, and applied by the transform step to the source rows."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pandas as pd
import pytest
import yaml

from satudata import steps
from satudata.__main__ import main
from satudata.catalog import CatalogError, load_entry
from satudata.extract import SourceError
from satudata.extract.files import GivenFile
from satudata.periods import Period
from satudata.run import RunContext

DATASET = "dinsos_bantuan_bulanan"

ENTRY = {
    "id": DATASET,
    "schedule": "monthly",
    "source": {
        "kind": "file", "system": "Ekspor Dinas Sosial", "format": "csv", "path": "dinsos/{period}.csv",
        "number_format": "plain",
        "fields": [{"name": "Kabupaten/Kota", "type": "string"}, {"name": "kode_bps", "type": "int64"},
                   {"name": "tahun", "type": "int64"}, {"name": "bulan", "type": "int64"},
                   {"name": "jumlah", "type": "int64"}],
    },
    "transform": "passthrough",
    "period_columns": {"year": "tahun", "month": "bulan"},
    "schema": {
        "primary_key": ["tahun", "bulan", "kode_kabupaten_kota"],
        "columns": [
            {"name": "kode_kabupaten_kota", "type": "string", "description": "Kode kabupaten/kota (Kemendagri)"},
            {"name": "nama_kabupaten_kota", "type": "string", "description": "Nama kabupaten/kota"},
            {"name": "tahun", "type": "int64", "description": "Tahun"},
            {"name": "bulan", "type": "int64", "description": "Bulan"},
            {"name": "jumlah", "type": "int64", "description": "Jumlah penerima", "unit": "orang"},
        ],
    },
    "ckan": {
        "name": "dinsos-bantuan-bulanan", "title": "Penerima Bantuan per Bulan", "notes": "Contoh.",
        "organization": {"name": "dinsos-kaltim", "title": "Dinas Sosial"}, "maintainer": "Walidata",
    },
    "region": {"source": "Kabupaten/Kota", "match": "name"},
}

CSV = """Kabupaten/Kota,kode_bps,tahun,bulan,jumlah
Kab. Kutai Kartanegara,6403,2026,10,12
KOTA SAMARINDA,6472,2026,10,30
Kukar ,6403,2026,10,5
PPU,6409,2026,10,7
"""


def _write(directory: Path, data: dict) -> Path:
    path = directory / f"{DATASET}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _entry(**region: object) -> dict:
    data = copy.deepcopy(ENTRY)
    data["region"] = {**data["region"], **region}
    return data


def test_region_key_loads_with_its_defaults(tmp_path):
    entry = load_entry(_write(tmp_path, ENTRY))
    assert entry.region is not None
    assert (entry.region.source, entry.region.match) == ("Kabupaten/Kota", "name")
    assert (entry.region.code_column, entry.region.name_column) == ("kode_kabupaten_kota", "nama_kabupaten_kota")


def test_bps_codes_may_come_from_an_integer_field(tmp_path):
    entry = load_entry(_write(tmp_path, _entry(source="kode_bps", match="bps")))
    assert entry.region is not None and entry.region.match == "bps"


@pytest.mark.parametrize("region, message", [
    ({"sorce": "Kabupaten/Kota"}, "unknown key 'region.sorce'"),
    ({"match": "nama"}, "key 'region.match'"),
    ({"source": "Kab/Kota"}, "region.source 'Kab/Kota' is not a declared source field of type string"),
    ({"source": "kode_bps", "match": "kemendagri"}, "region.source 'kode_bps' is not a declared source field"),
    ({"code_column": "kode_wilayah"}, "region.code_column 'kode_wilayah' is not a string column of the schema"),
    ({"name_column": "jumlah"}, "region.name_column 'jumlah' is not a string column of the schema"),
    ({"name_column": "kode_kabupaten_kota"}, "must differ"),
])
def test_region_key_is_strict(tmp_path, region, message):
    with pytest.raises(CatalogError, match=message):
        load_entry(_write(tmp_path, _entry(**region)))


def test_region_match_is_required(tmp_path):
    data = copy.deepcopy(ENTRY)
    del data["region"]["match"]
    with pytest.raises(CatalogError, match="missing key 'region.match'"):
        load_entry(_write(tmp_path, data))


def test_region_columns_do_not_overwrite_other_source_fields(tmp_path):
    data = _entry(source="kode_bps", match="bps")
    data["source"]["fields"].append({"name": "kode_kabupaten_kota", "type": "string"})
    with pytest.raises(CatalogError, match="would overwrite the source field"):
        load_entry(_write(tmp_path, data))


def _run(tmp_path: Path, data: dict, text: str) -> tuple[RunContext, str]:
    entry = load_entry(_write(tmp_path, data))
    run = RunContext(entry, Period.from_key("2026-10", "monthly"), "test-run", data_root=tmp_path / "data")
    export = tmp_path / "dinsos-2026-10.csv"
    export.write_text(text, encoding="utf-8")
    return run, steps.extract(run, GivenFile(export))


def test_the_transform_step_adds_code_and_name_before_the_schema_is_applied(tmp_path):
    run, staged = _run(tmp_path, ENTRY, CSV)
    out = pd.read_parquet(steps.transform(run, staged))
    assert list(out.columns) == ["kode_kabupaten_kota", "nama_kabupaten_kota", "tahun", "bulan", "jumlah"]
    assert out["kode_kabupaten_kota"].tolist() == ["64.02", "64.72", "64.02", "64.09"]
    assert out["nama_kabupaten_kota"].tolist() == ["Kabupaten Kutai Kartanegara", "Kota Samarinda",
                                                   "Kabupaten Kutai Kartanegara", "Kabupaten Penajam Paser Utara"]


def test_bps_codes_are_published_as_kemendagri(tmp_path):
    run, staged = _run(tmp_path, _entry(source="kode_bps", match="bps"), CSV)
    out = pd.read_parquet(steps.transform(run, staged))
    assert out["kode_kabupaten_kota"].tolist() == ["64.02", "64.72", "64.02", "64.09"]


def test_an_ambiguous_region_quarantines_the_input_naming_file_row_and_column(tmp_path):
    bad = CSV.replace("Kukar ,", "Kutai,")  # line 4 of the file
    run, staged = _run(tmp_path, ENTRY, bad)
    with pytest.raises(SourceError) as err:
        steps.transform(run, staged)
    detail = err.value.detail
    export = tmp_path / "dinsos-2026-10.csv"  # the steward's file, named as the reader names it
    assert detail.startswith(f"{export}, row 4, column 'Kabupaten/Kota': text of 5 characters (letters) "
                             "may name any of")
    report = json.loads(err.value.quarantine_report.read_text(encoding="utf-8"))
    assert (report["row"], report["column"]) == (4, "Kabupaten/Kota")
    assert report["file"] == str(export)
    assert Path(report["quarantined_file"]).read_text(encoding="utf-8") == bad
    record = json.loads(run.record_path.read_text(encoding="utf-8"))
    assert record["status"] == "quarantined"
    assert not (run.period_dir("staging") / "transformed.parquet").exists()


def test_the_check_reports_an_unknown_region_as_an_input_error(tmp_path, monkeypatch, capsys):
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    _write(catalog, ENTRY)
    monkeypatch.setenv("SATUDATA_CATALOG_DIR", str(catalog))
    export = tmp_path / "dinsos-2026-10.csv"
    export.write_text(CSV.replace("PPU,", "Kota Smd,"), encoding="utf-8")
    code = main(["check", DATASET, str(export), "--period", "2026-10", "--report-dir", str(tmp_path / "r")])
    message = capsys.readouterr().err
    assert code == 2, message
    assert (f"{export}, row 5, column 'Kabupaten/Kota': no region of Kalimantan Timur is named "
            "text of 8 characters (letters, spaces)") in message and "Kota Smd" not in message
