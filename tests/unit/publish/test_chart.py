"""The chart of every dataset: which one it gets, its numbers and words, its file, its description."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from satudata.catalog import Chart, load_catalog
from satudata.publish.chart import _indonesian, chart_values, number_text, scale_of, write_chart
from satudata.publish.chart_choice import (
    MAX_LINES,
    OTHERS,
    chart_description,
    chart_for,
    chart_title,
    default_chart,
    period_span,
    readable,
)
from satudata.publish.resources import chart_file_name, publish_files, write_artifacts

ENTRIES = {e.id: e for e in load_catalog()}
REGENCIES = ["Kota Samarinda", "Kota Balikpapan", "Kabupaten Berau"]


def small_frame(dataset_id: str) -> pd.DataFrame:
    """A few rows of the dataset's columns over three periods (the chart reads a handful of them)."""
    entry = ENTRIES[dataset_id]
    cols = entry.period_columns
    if "date" in cols:
        periods = [{cols["date"]: date(2026, 10, 1) + timedelta(days=i)} for i in range(3)]
    elif "semester" in cols:
        periods = [{cols["year"]: y, cols["semester"]: s} for y, s in ((2025, 1), (2025, 2), (2026, 1))]
    elif "quarter" in cols:
        periods = [{cols["year"]: y, cols["quarter"]: q} for y, q in ((2025, 4), (2026, 1), (2026, 2))]
    elif "month" not in cols:
        periods = [{cols["year"]: y} for y in (2023, 2024, 2025)]
    else:
        periods = [{cols["year"]: 2026, cols["month"]: m} for m in (8, 9, 10)]
    rows = []
    for i, period in enumerate(periods):
        for j, region in enumerate(REGENCIES):
            row: dict[str, object] = dict(period)
            for c in entry.table.columns:
                if c.name in row:
                    continue
                if c.type == "string":
                    row[c.name] = region if c.name == "nama_kabupaten_kota" else f"{c.name}-{j}"
                elif c.type in ("int64", "float64"):
                    row[c.name] = 100 * (i + 1) + 10 * j + (0.5 if c.type == "float64" else 0)
                elif c.type == "bool":
                    row[c.name] = j % 2 == 0
            rows.append(row)
    return pd.DataFrame(rows)


@pytest.mark.parametrize("dataset_id, measure, aggregate, by", [
    ("dpmptsp_izin_terbit_bulanan", "jumlah_izin_terbit", "sum", None),  # the catalog's own chart
    ("dukcapil_dokumen_bulanan", "jumlah_dokumen", "sum", "nama_kabupaten_kota"),
    ("lapor_pengaduan_bulanan", "jumlah_pengaduan", "sum", None),
    ("mpp_kunjungan_harian", "jumlah_kunjungan", "sum", "nama_kabupaten_kota"),
    ("skm_ikm_semester", "ikm_konversi", "mean", None),
])
def test_every_dataset_gets_a_sensible_chart(dataset_id, measure, aggregate, by):
    chart = chart_for(ENTRIES[dataset_id])
    assert chart is not None
    assert (chart.measure, chart.aggregate, chart.by) == (measure, aggregate, by)
    assert chart_file_name(ENTRIES[dataset_id]) == f"grafik-{measure}.png"


def test_the_catalog_chart_wins_over_the_default():
    entry = ENTRIES["dpmptsp_izin_terbit_bulanan"]
    assert chart_for(entry) == entry.ckan.chart
    assert chart_for(entry).title == "Jumlah izin terbit per bulan, seluruh kabupaten/kota"
    assert default_chart(entry) == Chart(measure="jumlah_izin_terbit", aggregate="sum", by="nama_kabupaten_kota")


def test_no_measure_no_chart():
    entry = ENTRIES["lapor_pengaduan_bulanan"]
    table = entry.table.model_copy(update={"columns": [c for c in entry.table.columns if c.type == "string"]})
    assert default_chart(entry.model_copy(update={"table": table})) is None


@pytest.mark.parametrize("dataset_id", sorted(ENTRIES))
def test_a_chart_is_written_for_every_dataset_and_is_the_same_file_for_the_same_data(dataset_id, tmp_path):
    entry, frame = ENTRIES[dataset_id], small_frame(dataset_id)
    a = write_chart(frame, entry, tmp_path / "a.png").read_bytes()
    b = write_chart(frame.copy(), entry, tmp_path / "b.png").read_bytes()
    assert a[:8] == b"\x89PNG\r\n\x1a\n" and a == b
    assert write_chart(frame.assign(**{chart_for(entry).measure: 7}), entry, tmp_path / "c.png").read_bytes() != a


def test_values_per_period_and_region():
    entry = ENTRIES["dukcapil_dokumen_bulanan"]
    frame = pd.DataFrame({"tahun": [2026] * 4, "bulan": [8, 8, 10, 10],
                          "nama_kabupaten_kota": ["Kota Bontang", "Kota Samarinda", "Kota Samarinda", "Kota Samarinda"],
                          "jumlah_dokumen": [5, 7, 8, 1]})
    table = chart_values(frame, entry)
    assert list(table.index) == ["2026-08", "2026-09", "2026-10"]  # September had no rows: 0 documents
    assert list(table.columns) == ["Kota Samarinda", "Kota Bontang"]  # largest first
    assert table["Kota Samarinda"].tolist() == [7.0, 0.0, 9.0]
    assert table["Kota Bontang"].tolist() == [5.0, 0.0, 0.0]
    wider = chart_values(frame, entry, span=("2026-07", "2026-10"))
    assert list(wider.index) == ["2026-07", "2026-08", "2026-09", "2026-10"]


def test_the_permits_catalog_chart_is_one_total_line():
    entry = ENTRIES["dpmptsp_izin_terbit_bulanan"]
    frame = pd.DataFrame({"tahun": [2026, 2026, 2026], "bulan": [9, 10, 10], "jumlah_izin_terbit": [5, 7, 8],
                          "nama_kabupaten_kota": ["Kota Bontang", "Kota Bontang", "Kota Samarinda"]})
    assert chart_values(frame, entry).iloc[:, 0].to_dict() == {"2026-09": 5.0, "2026-10": 15.0}


def test_means_leave_a_gap_where_a_period_has_no_rows():
    entry = ENTRIES["skm_ikm_semester"]
    frame = pd.DataFrame({"tahun": [2025, 2025, 2026], "semester": [1, 1, 1], "ikm_konversi": [80.0, 90.0, 70.0]})
    values = chart_values(frame, entry).iloc[:, 0]
    assert list(values.index) == ["2025-S1", "2025-S2", "2026-S1"]
    assert values["2025-S1"] == 85.0 and pd.isna(values["2025-S2"])


def test_many_groups_fold_into_lainnya():
    entry = ENTRIES["dukcapil_dokumen_bulanan"]
    names = [f"Wilayah {i:02d}" for i in range(14)]
    frame = pd.DataFrame({"tahun": 2026, "bulan": 10, "nama_kabupaten_kota": names,
                          "jumlah_dokumen": list(range(100, 114))})
    table = chart_values(frame, entry)
    assert len(table.columns) == MAX_LINES and table.columns[-1] == OTHERS
    assert table.columns[0] == "Wilayah 13"
    assert float(table.iloc[0].sum()) == float(sum(range(100, 114)))


@pytest.mark.parametrize("value, decimals, text", [
    (0, 0, "0"), (7, 0, "7"), (999, 0, "999"), (1000, 0, "1.000"), (1234567, 0, "1.234.567"),
    (88.345, 1, "88,3"), (1234.5, 1, "1.234,5"), (0.25, 2, "0,25"), (-1234.5, 1, "-1.234,5"), (-0.04, 1, "0,0"),
    (1_000_000_000, 0, "1.000.000.000"),
])
def test_indonesian_number_format(value, decimals, text):
    assert _indonesian(value, decimals) == text


@pytest.mark.parametrize("value", [0, 1, 12, 999, 1000, 2500, 12345.5, 98765432.25, 0.5, 3.75])
def test_indonesian_numbers_read_back(value):
    # Dots group thousands, the comma is the decimal mark: reading it back gives the number.
    text = number_text(value)
    assert re.fullmatch(r"\d{1,3}(\.\d{3})*(,\d{1,2})?", text)
    assert float(text.replace(".", "").replace(",", ".")) == pytest.approx(value)


@pytest.mark.parametrize("value, text", [(2000, "2.000"), (2.5, "2,5"), (0.25, "0,25"), (80, "80"), (1e6, "1.000.000")])
def test_tick_labels_use_no_more_decimals_than_needed(value, text):
    assert number_text(value) == text


@pytest.mark.parametrize("largest, divisor, word", [(0, 1, ""), (9_999, 1, ""), (10_000, 1_000, "ribu"),
                                                    (2_500_000, 1_000_000, "juta")])
def test_large_values_are_shown_in_ribu_or_juta(largest, divisor, word):
    assert scale_of(largest) == (divisor, word)


@pytest.mark.parametrize("first, last, text", [
    ("2026-01", "2026-10", "Januari 2026 – Oktober 2026"),
    ("2025-S1", "2025-S2", "Semester 1 2025 – Semester 2 2025"),
    ("2026-10-01", "2026-10-31", "1 Oktober 2026 – 31 Oktober 2026"),
    ("2026-12", "2026-12", "Desember 2026"),
])
def test_period_span_in_indonesian(first, last, text):
    assert period_span(first, last) == text


def test_readable_names():
    assert readable("jumlah_izin_terbit") == "Jumlah izin terbit"
    assert readable("ikm_konversi") == "IKM konversi"
    assert readable("rata_rata_hari_proses") == "Rata-rata hari proses"


@pytest.mark.parametrize("dataset_id, first, last, description", [
    ("dpmptsp_izin_terbit_bulanan", "2026-01", "2026-10", "Grafik jumlah izin terbit (izin) per bulan, total "
     "Provinsi Kalimantan Timur, Januari 2026 – Oktober 2026."),
    ("dukcapil_dokumen_bulanan", "2026-01", "2026-10", "Grafik jumlah dokumen (dokumen) per bulan menurut "
     "kabupaten/kota, Januari 2026 – Oktober 2026."),
    ("lapor_pengaduan_bulanan", "2026-09", "2026-10", "Grafik jumlah pengaduan (pengaduan) per bulan, total "
     "Provinsi Kalimantan Timur, September 2026 – Oktober 2026."),
    ("mpp_kunjungan_harian", "2026-10-01", "2026-10-31", "Grafik jumlah kunjungan (kunjungan) per hari menurut "
     "kabupaten/kota, 1 Oktober 2026 – 31 Oktober 2026."),
    ("skm_ikm_semester", "2025-S1", "2025-S2", "Grafik IKM konversi (indeks) per semester, rata-rata seluruh "
     "unit layanan, Semester 1 2025 – Semester 2 2025."),
])
def test_description_names_measure_unit_grouping_and_periods(dataset_id, first, last, description):
    entry = ENTRIES[dataset_id]
    assert chart_description(entry, chart_for(entry), first, last) == description


def test_titles_name_the_periods_covered():
    permits, skm = ENTRIES["dpmptsp_izin_terbit_bulanan"], ENTRIES["skm_ikm_semester"]
    assert chart_title(permits, chart_for(permits), "2026-01", "2026-10") == (
        "Jumlah izin terbit per bulan, seluruh kabupaten/kota, Januari 2026 – Oktober 2026")
    assert chart_title(skm, chart_for(skm), "2025-S1", "2025-S2") == (
        "IKM konversi per semester, rata-rata seluruh unit layanan, Semester 1 2025 – Semester 2 2025")


@pytest.mark.parametrize("dataset_id", sorted(ENTRIES))
def test_every_dataset_publishes_its_chart_with_its_description(dataset_id, tmp_path):
    entry, frame = ENTRIES[dataset_id], small_frame(dataset_id)
    csv = tmp_path / "data.csv"
    frame.to_csv(csv, index=False)
    keys = {"date": ["2026-10-01", "2026-10-03"], "semester": ["2025-S1", "2026-S1"]}
    periods = next((v for k, v in keys.items() if k in entry.period_columns), ["2026-08", "2026-10"])
    written = write_artifacts(entry, frame, csv, periods, tmp_path)
    assert Path(written["chart"]).name == f"grafik-{chart_for(entry).measure}.png"
    outputs = {"csv": str(csv), "parquet": str(csv), "datapackage": written["datapackage"],
               "chart": written["chart"], "first_period": periods[0], "last_period": periods[-1]}
    chart = next(f for f in publish_files(outputs, entry) if f.format == "PNG")
    assert chart.name == Path(written["chart"]).name and chart.mimetype == "image/png"
    assert chart.description == chart_description(entry, chart_for(entry), periods[0], periods[-1])
