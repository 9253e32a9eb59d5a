"""The publication gate as the validate step runs it: suite, volume, suppression, scan, reports."""

import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import yaml

from satudata import steps
from satudata.catalog import CatalogError, load_entry
from satudata.gate.privacy import PersonalDataFound
from satudata.gate.suite import ValidationFailed, load_suite_json, validate_frame, volume_parameters
from satudata.periods import Period
from satudata.run import RunContext
from transforms.tables import conform, read_parquet, write_parquet

REPO = Path(__file__).resolve().parents[3]
PERMITS = REPO / "catalog" / "dpmptsp_izin_terbit_bulanan.yaml"
OCTOBER = Period("monthly", date(2026, 10, 1), date(2026, 11, 1))


def _entry(tmp_path: Path, **changes):
    data = yaml.safe_load(PERMITS.read_text(encoding="utf-8"))
    data.update(changes)
    path = tmp_path / "catalog" / "dpmptsp_izin_terbit_bulanan.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_entry(path)


def _rows(counts=(12, 9, 2), jenis="Persetujuan Bangunan Gedung", month=10):
    regencies = [("64.72", "Kota Samarinda"), ("64.71", "Kota Balikpapan"), ("64.11", "Kabupaten Mahakam Ulu")]
    return [
        ["64", "Kalimantan Timur", code, name, 2026, month, "PBG", jenis, n, 19.5, 20.0, 27.1, 28, 91.67]
        for (code, name), n in zip(regencies, counts, strict=False)
    ]


def _stage(entry, rows, data_dir: Path) -> str:
    frame = conform(pd.DataFrame(rows, columns=entry.table.column_names), entry.table.columns)
    path = data_dir / "staging" / entry.id / OCTOBER.key / "transformed.parquet"
    return str(write_parquet(frame, entry.table.columns, path))


SUPPRESSION = {"k": 3, "columns": ["jumlah_izin_terbit"],
               "also_blank": ["rata_rata_hari_proses", "median_hari_proses", "persentil_90_hari_proses"]}


def test_suppression_is_declared_in_the_dataset_metadata(tmp_path):
    entry = _entry(tmp_path, suppression=SUPPRESSION)
    note = entry.ckan.extras["penyamaran_sel_kecil"]
    assert "Nilai 1 sampai 3 pada kolom jumlah_izin_terbit dikosongkan" in note
    assert entry.ckan.extras["frekuensi_penerbitan"] == "Bulanan"  # the catalog's own extras stay


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"suppression": {"k": 3, "columns": ["jumlah"]}}, "unknown columns: \\['jumlah'\\]"),
        ({"suppression": {"k": 3, "columns": ["rata_rata_hari_proses"]}}, "must be int64 counts"),
        ({"suppression": {"k": 0, "columns": ["jumlah_izin_terbit"]}}, "key 'suppression.k'"),
        ({"personal_data_allow": [{"column": "jenis_izin", "kind": "ktp", "reason": "bukan data pribadi"}]},
         "key 'personal_data_allow\\[0\\].kind'"),
        ({"personal_data_allow": [{"column": "jenis_izin", "kind": "nik", "reason": "ok"}]},
         "key 'personal_data_allow\\[0\\].reason'"),
        ({"personal_data_allow": [{"column": "nomor", "kind": "nik", "reason": "nomor izin 16 digit"}]},
         "unknown columns: \\['nomor'\\]"),
    ],
)
def test_gate_settings_are_checked_with_file_and_key(tmp_path, changes, message):
    with pytest.raises(CatalogError, match=message):
        _entry(tmp_path, **changes)


def test_validate_suppresses_small_counts_and_hands_over_the_publishable_file(tmp_path, data_dir):
    entry = _entry(tmp_path, suppression=SUPPRESSION)
    gate = steps.validate(RunContext(entry, OCTOBER, "manual__1"), _stage(entry, _rows(), data_dir))

    published = read_parquet(Path(gate["publishable"]))
    mahulu = published[published["kode_kabupaten_kota"] == "64.11"].iloc[0]
    assert pd.isna(mahulu["jumlah_izin_terbit"]) and pd.isna(mahulu["median_hari_proses"])
    assert published["jumlah_izin_terbit"].dropna().tolist() == [12, 9]
    assert str(published["jumlah_izin_terbit"].dtype) == "Int64"

    report = json.loads(Path(gate["report_json"]).read_text())
    assert report["publishable"] and report["suppression"]["rows_suppressed"] == 1
    assert report["suppression"]["cells_suppressed"]["jumlah_izin_terbit"] == 1
    assert report["ckan_extras"]["penyamaran_sel_kecil"] == entry.ckan.extras["penyamaran_sel_kecil"]
    assert gate["suppression_note"] == entry.ckan.extras["penyamaran_sel_kecil"]


def test_html_report_is_self_contained(tmp_path, data_dir):
    entry = _entry(tmp_path, suppression=SUPPRESSION)
    gate = steps.validate(RunContext(entry, OCTOBER, "manual__1"), _stage(entry, _rows(), data_dir))
    page = Path(gate["report_html"]).read_text(encoding="utf-8")
    assert "LAYAK TERBIT" in page and entry.ckan.title in page and "Penyamaran sel kecil" in page
    # Nothing to fetch: no scripts, stylesheets, images, fonts or any URL at all.
    assert not re.search(r"<script|<link|<img|src=|url\(|https?://|@import", page, re.IGNORECASE)
    assert Path(gate["report_html"]).parent == data_dir / "reports" / entry.id / "2026-10" / "manual__1"


def test_personal_data_blocks_with_column_kind_and_count_only(tmp_path, data_dir):
    entry = _entry(tmp_path)
    rows = _rows(jenis="PBG a.n. 6472015203850012 hp 081234567890")
    with pytest.raises(PersonalDataFound) as err:
        steps.validate(RunContext(entry, OCTOBER, "manual__2"), _stage(entry, rows, data_dir))
    message = str(err.value)
    assert "column 'jenis_izin': 3 cell(s) with nik" in message
    assert "column 'jenis_izin': 3 cell(s) with telepon" in message
    assert "6472015203850012" not in message and "081234567890" not in message
    assert isinstance(err.value, ValidationFailed)  # the DAG fails it without retries
    report_text = Path(err.value.report_path).read_text()
    assert "6472015203850012" not in report_text
    assert "6472015203850012" not in Path(err.value.report_path).with_name("report.html").read_text()
    record = json.loads((data_dir / "runs" / entry.id / "2026-10.json").read_text())
    assert record["personal_data"] == "found" and record["status"] == "blocked"
    assert not (data_dir / "staging" / entry.id / "2026-10" / "publishable.parquet").exists()


def test_failed_expectation_examples_never_quote_personal_data(tmp_path, data_dir):
    entry = _entry(tmp_path)
    rows = _rows()
    rows[0][2] = "6472015203850012"  # a NIK where the regency code belongs
    with pytest.raises(PersonalDataFound) as err:
        steps.validate(RunContext(entry, OCTOBER, "manual__3"), _stage(entry, rows, data_dir))
    report = json.loads(Path(err.value.report_path).read_text())
    failed = [e for e in report["expectations"] if not e["success"]]
    assert any(e["column"] == "kode_kabupaten_kota" and e["unexpected_count"] == 1 for e in failed)
    assert "6472015203850012" not in json.dumps(report) and "6472015203850012" not in str(err.value)
    assert "text of 16 characters (digits)" in json.dumps(report)  # the example shows the shape only


def test_volume_is_bounded_by_the_previous_period(tmp_path, data_dir):
    entry = _entry(tmp_path)
    suite = load_suite_json(entry.suite_path())
    previous = pd.DataFrame({"jumlah_izin_terbit": [10, 10, 10, 10]})
    params = volume_parameters(suite, previous)
    assert (params["volume_rows_min_critical"], params["volume_rows_max_critical"]) == (1, 16)
    assert (params["volume_sum_min_warning"], params["volume_sum_max_warning"]) == (24, 64)

    frame = conform(pd.DataFrame(_rows(counts=(12, 9, 2)), columns=entry.table.column_names), entry.table.columns)
    report = validate_frame(frame, entry.suite_path(), entry.id, {**OCTOBER.parameters(), **params})
    volume = {(o.type, o.severity): o.success for o in report.expectations if "volume" in o.note.lower()
              or o.type in ("expect_column_sum_to_be_between",)}
    # 23 permits against 40: below the warning floor (24), above the critical one (10).
    assert volume[("expect_column_sum_to_be_between", "warning")] is False
    assert volume[("expect_column_sum_to_be_between", "critical")] is True
    assert report.success and report.warnings >= 1

    collapsed = volume_parameters(suite, pd.DataFrame({"jumlah_izin_terbit": [100] * 4}))
    report = validate_frame(frame, entry.suite_path(), entry.id, {**OCTOBER.parameters(), **collapsed})
    assert not report.success
    assert any(o.type == "expect_column_sum_to_be_between" and o.severity == "critical" and not o.success
               for o in report.expectations)


def test_validate_step_compares_with_the_previous_curated_period(tmp_path, data_dir):
    entry = _entry(tmp_path)
    previous = conform(pd.DataFrame(_rows(counts=(400, 300, 200), month=9), columns=entry.table.column_names),
                       entry.table.columns)
    write_parquet(previous, entry.table.columns, data_dir / "curated" / entry.id / "2026-09.parquet")
    with pytest.raises(ValidationFailed, match="expect_column_sum_to_be_between on column 'jumlah_izin_terbit'"):
        steps.validate(RunContext(entry, OCTOBER, "manual__4"), _stage(entry, _rows(), data_dir))


@pytest.mark.parametrize("suppression", [SUPPRESSION, None])
def test_published_files_are_those_of_the_pandas_path(tmp_path, data_dir, suppression):
    # write_outputs rebuilds the history in Arrow; the bytes must be what concat + sort + to_csv wrote.
    from satudata import __version__
    from transforms.tables import neutralise_formulas

    entry = _entry(tmp_path, suppression=suppression)
    september = conform(pd.DataFrame(_rows(counts=(11, 2, 8), month=9), columns=entry.table.column_names),
                        entry.table.columns)
    write_parquet(september, entry.table.columns, data_dir / "curated" / entry.id / "2026-09.parquet")
    gate = steps.validate(RunContext(entry, OCTOBER, "manual__5"), _stage(entry, _rows(counts=(12, 9, 2)), data_dir))
    outputs = steps.write_outputs(RunContext(entry, OCTOBER, "t"), gate)

    curated = sorted((data_dir / "curated" / entry.id).glob("*.parquet"))
    history = pd.concat([read_parquet(p) for p in curated], ignore_index=True).sort_values(
        entry.table.primary_key, ignore_index=True)
    meta = {"dataset": entry.id, "primary_key": entry.table.primary_key, "pipeline_version": __version__,
            "first_period": "2026-09", "last_period": "2026-10"}
    expected = write_parquet(history, entry.table.columns, tmp_path / "expected.parquet", table_meta=meta)
    assert Path(outputs["parquet"]).read_bytes() == expected.read_bytes()
    csv_text = neutralise_formulas(history).to_csv(index=False, lineterminator="\n")
    assert Path(outputs["csv"]).read_text(encoding="utf-8") == csv_text
    assert (outputs["rows"], outputs["period_rows"], outputs["first_period"]) == (6, 3, "2026-09")
    assert read_parquet(Path(outputs["curated"])).equals(read_parquet(Path(gate["publishable"])))
    assert str(read_parquet(Path(outputs["parquet"]))["jumlah_izin_terbit"].dtype) == "Int64"
