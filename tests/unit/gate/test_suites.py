"""Every dataset has a suite; GX loads every expectation of it; the gate blocks bad data."""

import json
from pathlib import Path

import pandas as pd
import pytest

from satudata.catalog import get_entry, load_catalog
from satudata.gate.suite import build_suite, validate_frame
from transforms.tables import conform

REPO = Path(__file__).resolve().parents[3]
SUITES = sorted((REPO / "expectations").glob("*.json"))


def test_each_catalog_entry_has_a_suite_and_each_suite_an_entry():
    ids = {e.id for e in load_catalog()}
    assert ids == {p.stem for p in SUITES}


@pytest.mark.parametrize("path", SUITES, ids=lambda p: p.stem)
def test_suite_loads_with_every_expectation(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    suite = build_suite(data)
    assert len(suite.expectations) == len(data["expectations"]) > 0
    for e in data["expectations"]:
        assert e["meta"]["severity"] in ("critical", "warning"), e


def test_unknown_expectation_type_is_refused():
    data = json.loads(SUITES[0].read_text(encoding="utf-8"))
    data["expectations"].append({"type": "expect_column_values_to_be_positive", "kwargs": {"column": "tahun"}})
    with pytest.raises(ValueError, match="expect_column_values_to_be_positive"):
        build_suite(data)


@pytest.fixture(scope="module")
def good_frame() -> pd.DataFrame:
    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    rows = [
        ["64", "Kalimantan Timur", "64.72", "Kota Samarinda", 2026, 10, "PBG", "Persetujuan Bangunan Gedung",
         12, 19.5, 20.0, 27.1, 28, 91.67],
        ["64", "Kalimantan Timur", "64.71", "Kota Balikpapan", 2026, 10, "PBG", "Persetujuan Bangunan Gedung",
         9, 22.0, 21.0, 30.0, 28, 77.78],
    ]
    return conform(pd.DataFrame(rows, columns=entry.table.column_names), entry.table.columns)


def _validate(frame, month=10):
    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    return validate_frame(frame, entry.suite_path(), entry.id, {"period_year": 2026, "period_month": month})


def test_good_period_passes(good_frame):
    report = _validate(good_frame)
    assert report.success and report.critical_failures == 0 and report.rows == 2


@pytest.mark.parametrize(
    "column, value, failing",
    [
        ("median_hari_proses", -3.0, "median_hari_proses"),
        ("jumlah_izin_terbit", -1, "jumlah_izin_terbit"),
        ("kode_kabupaten_kota", "64.99", "kode_kabupaten_kota"),
        ("persentase_sesuai_standar", 120.0, "persentase_sesuai_standar"),
        ("kode_jenis_izin", "PBG", None),  # duplicate key: compound uniqueness
    ],
)
def test_bad_value_blocks(good_frame, column, value, failing):
    frame = good_frame.copy()
    if column == "kode_jenis_izin":
        frame.loc[1, "kode_kabupaten_kota"] = "64.72"
    else:
        frame.loc[0, column] = value
    report = _validate(frame)
    assert not report.success
    failed = [e for e in report.expectations if not e.success]
    if failing:
        assert any(e.column == failing for e in failed)
    else:
        assert any(e.type == "expect_compound_columns_to_be_unique" for e in failed)


def test_rows_outside_the_run_period_block(good_frame):
    report = _validate(good_frame, month=9)
    assert not report.success
    assert any(e.column == "bulan" and not e.success for e in report.expectations)


def test_warning_is_reported_but_does_not_block(good_frame):
    frame = good_frame.copy()
    # Above the 90-day warning, consistently: the 90th percentile above the median, none within the standard.
    frame.loc[0, ["median_hari_proses", "persentil_90_hari_proses", "persentase_sesuai_standar"]] = [120.0, 130.0, 0.0]
    report = _validate(frame)
    assert report.success and report.warnings == 1


def test_median_above_the_standard_contradicts_a_high_share_within_it(good_frame):
    frame = good_frame.copy()
    frame.loc[0, ["median_hari_proses", "persentil_90_hari_proses"]] = [30.0, 35.0]  # standard: 28 days
    report = _validate(frame)
    assert not report.success
    failed = [e for e in report.expectations if not e.success]
    assert [(e.column, e.kwargs["max_value"]) for e in failed] == [("persentase_sesuai_standar", 50)]


def test_types_are_checked_on_the_conformed_frame(good_frame):
    frame = good_frame.copy()
    frame["standar_pelayanan_hari"] = frame["standar_pelayanan_hari"].astype("float64")
    report = _validate(frame)
    failed = [e for e in report.expectations if not e.success]
    assert [(e.type, e.column) for e in failed] == [("expect_column_values_to_be_of_type", "standar_pelayanan_hari")]


def test_an_overlong_name_fails_and_is_shown_by_its_shape_in_the_report(good_frame):
    frame = good_frame.copy()
    frame.loc[1, "jenis_izin"] = "x" * 5000
    report = _validate(frame)
    failed = [e for e in report.expectations if not e.success]
    assert [(e.type, e.column) for e in failed] == [("expect_column_value_lengths_to_be_between", "jenis_izin")]
    assert failed[0].unexpected_examples == ["text of 5,000 characters (letters)"]
