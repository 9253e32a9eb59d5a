"""Published metadata and side files, without a portal: periods, extras, report HTML (the chart: test_chart)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from satudata.catalog import get_entry
from satudata.gate.report import ExpectationOutcome, QualityReport, render_html
from satudata.publish.metadata import FREQUENCY_URI, dataset_extras, period_bounds

DATASET = "dpmptsp_izin_terbit_bulanan"


@pytest.mark.parametrize("key, first, last", [
    ("2026-10", date(2026, 10, 1), date(2026, 10, 31)),
    ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
    ("2024-02", date(2024, 2, 1), date(2024, 2, 29)),
    ("2026-S1", date(2026, 1, 1), date(2026, 6, 30)),
    ("2026-S2", date(2026, 7, 1), date(2026, 12, 31)),
    ("2026-10-05", date(2026, 10, 5), date(2026, 10, 5)),
    ("2024", date(2024, 1, 1), date(2024, 12, 31)),
    ("2024-Q1", date(2024, 1, 1), date(2024, 3, 31)),
    ("2024-Q4", date(2024, 10, 1), date(2024, 12, 31)),
    ("2024-W05", date(2024, 1, 29), date(2024, 2, 4)),
    ("2025-W01", date(2024, 12, 30), date(2025, 1, 5)),
    ("2020-W53", date(2020, 12, 28), date(2021, 1, 3)),
])
def test_period_bounds(key, first, last):
    assert period_bounds(key) == (first, last)


def test_extras_keep_catalog_fields_and_add_dcat_keys():
    entry = get_entry(DATASET)
    entry = entry.model_copy(update={"ckan": entry.ckan.model_copy(
        update={"conforms_to": ["https://example.go.id/standar/kode-wilayah"]})})
    extras = dataset_extras(entry, "2026-08", "2026-10")
    assert {k: extras[k] for k in entry.ckan.extras} == entry.ckan.extras
    assert extras["periode_data"] == "2026-08 s.d. 2026-10"
    assert (extras["temporal_start"], extras["temporal_end"]) == ("2026-08-01", "2026-10-31")
    assert extras["frequency"] == FREQUENCY_URI["monthly"]
    assert json.loads(extras["conforms_to"]) == entry.ckan.conforms_to


@pytest.mark.parametrize("schedule, first, last, start, end, uri, frekuensi", [
    ("annual", "2015", "2024", "2015-01-01", "2024-12-31", "ANNUAL", "Tahunan"),
    ("quarterly", "2024-Q3", "2025-Q1", "2024-07-01", "2025-03-31", "QUARTERLY", "Triwulanan"),
    ("weekly", "2024-W52", "2025-W02", "2024-12-23", "2025-01-12", "WEEKLY", "Mingguan"),
])
def test_extras_of_the_new_schedules(schedule, first, last, start, end, uri, frekuensi):
    entry = get_entry(DATASET)
    extras = dict(entry.ckan.extras)
    del extras["frekuensi_penerbitan"]
    entry = entry.model_copy(update={"schedule": schedule,
                                     "ckan": entry.ckan.model_copy(update={"extras": extras})})
    extras = dataset_extras(entry, first, last)
    assert extras["frequency"] == f"http://publications.europa.eu/resource/authority/frequency/{uri}"
    assert extras["frekuensi_penerbitan"] == frekuensi
    assert extras["periode_data"] == f"{first} s.d. {last}"
    assert (extras["temporal_start"], extras["temporal_end"]) == (start, end)


def test_catalog_frequency_stays_and_agrees_with_the_schedule():
    from satudata.catalog import load_catalog
    from satudata.publish.metadata import FREKUENSI_PENERBITAN

    assert set(FREQUENCY_URI) == set(FREKUENSI_PENERBITAN)
    for entry in load_catalog():
        assert entry.ckan.extras["frekuensi_penerbitan"] == FREKUENSI_PENERBITAN[entry.schedule], entry.id
        assert dataset_extras(entry, "2026-10", "2026-10")["frekuensi_penerbitan"] == \
            entry.ckan.extras["frekuensi_penerbitan"]
    entry = get_entry(DATASET)
    said = entry.ckan.model_copy(update={"extras": {**entry.ckan.extras, "frekuensi_penerbitan": "Tahunan"}})
    assert dataset_extras(entry.model_copy(update={"ckan": said}), "2026-10", "2026-10")[
        "frekuensi_penerbitan"] == "Tahunan"


def test_report_html_escapes_values_and_is_stable():
    outcome = ExpectationOutcome(
        type="expect_column_values_to_be_in_set", column="kode", severity="critical", success=False,
        note="<b>kode</b> wilayah", kwargs={"value_set": ["64.01"]}, unexpected_count=1,
        unexpected_examples=["<script>alert(1)</script>"],
    )
    report = QualityReport(
        dataset_id="x", title="Judul & <uji>", period="2026-10", run_id="r", source="s", rows=3,
        generated_at="2026-11-01T00:00:00+00:00", publishable=False, suite="x", critical_failures=1,
        warnings=0, expectations=[outcome], parameters={}, privacy={"success": True, "findings": []},
        suppression={},
    )
    html = render_html(report)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "Judul &amp; &lt;uji&gt;" in html
    assert render_html(report) == html


def test_xlsx_resource_holds_the_history_its_dictionary_and_metadata(tmp_path):
    import openpyxl

    from satudata.publish.resources import publish_files, write_artifacts
    from tests.unit.publish.test_chart import small_frame

    entry = get_entry("skm_ikm_semester")
    frame = small_frame("skm_ikm_semester")
    csv = tmp_path / "data.csv"
    frame.to_csv(csv, index=False)
    written = write_artifacts(entry, frame, csv, ["2025-S1", "2026-S1"], tmp_path)
    assert written["xlsx"] == str(tmp_path / f"{entry.ckan.name}.xlsx")
    wb = openpyxl.load_workbook(written["xlsx"])
    assert wb.sheetnames == ["Data", "Kamus Data", "Metadata"]
    data = [[c.value for c in r] for r in wb["Data"].iter_rows()]
    assert data[0] == entry.table.column_names and len(data) == len(frame) + 1
    assert wb["Data"]["E2"].number_format == "#,##0" and wb["Data"]["F2"].number_format == "#,##0.0"
    assert (wb["Data"]["A2"].value, wb["Data"]["A2"].number_format) == (2025, "0")  # tahun: 2025, not 2.025
    dictionary = [[c.value for c in r] for r in wb["Kamus Data"].iter_rows()]
    assert dictionary[0] == ["Nama kolom", "Tipe", "Satuan", "Deskripsi", "Kunci utama"]
    assert [r[0] for r in dictionary[1:]] == entry.table.column_names
    assert dictionary[5] == ["jumlah_responden", "bilangan bulat", "orang", "Jumlah responden SKM", None]
    assert dictionary[1][4] == "ya" and dictionary[-1][1] == "logika (benar/salah)"
    meta = {r[0].value: r[1].value for r in wb["Metadata"].iter_rows(min_row=2)}
    package = json.loads((tmp_path / "datapackage.json").read_text())
    assert meta["Judul"] == entry.ckan.title and meta["Lisensi"] == "cc-by"
    assert meta["Produsen data"] == entry.ckan.extras["produsen_data"]
    assert meta["Periode data"] == "2025-S1 s.d. 2026-S1" and meta["Rentang tanggal"] == "2025-01-01 s.d. 2026-06-30"
    assert meta["Versi data"] == package["resources"][0]["hash"] and meta["Jumlah baris"] == len(frame)
    assert meta["Status mutu"].startswith("Lolos")
    outputs = {"csv": str(csv), "parquet": str(csv), "first_period": "2025-S1", "last_period": "2026-S1", **written}
    files = [f for f in publish_files(outputs, entry) if f.format == "XLSX"]
    assert [(f.name, f.describes_run) for f in files] == [(f"{entry.ckan.name}.xlsx", False)]
    assert files[0].mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
