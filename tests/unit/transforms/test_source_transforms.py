"""Transforms of the MPP, SP4N-LAPOR!, Disdukcapil and SKM datasets, from inline frames."""

from __future__ import annotations

import io
from datetime import date

import pandas as pd
import pytest

from satudata.catalog import get_entry
from transforms.dukcapil import dokumen_dukcapil_bulanan
from transforms.ikm import UNSUR, krejcie_morgan, mutu_pelayanan
from transforms.lapor import pengaduan_lapor_bulanan
from transforms.mpp import kunjungan_mpp_harian
from transforms.tables import conform


def frame(text: str) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(text), sep="|", dtype=str, keep_default_na=False).replace("", None)


def test_mpp_visits_per_day_and_service():
    raw = frame(
        "waktu_kedatangan|kode_mpp|nama_mpp|kode_wilayah|kode_tenant|nama_tenant|layanan|status|waktu_tunggu_menit\n"
        "2026-10-05|MPP-SMD|MPP Kota Samarinda|64.72|SAMSAT|Bapenda|Pengesahan STNK|SELESAI|10\n"
        "2026-10-05|MPP-SMD|MPP Kota Samarinda|64.72|SAMSAT|Bapenda|Pengesahan STNK|SELESAI|30\n"
        "2026-10-05|MPP-SMD|MPP Kota Samarinda|64.72|SAMSAT|Bapenda|Pengesahan STNK|BATAL|\n"
        "2026-10-05|MPP-SMD|MPP Kota Samarinda|64.72|SAMSAT|Bapenda|Pengesahan STNK|SELESAI|15\n"
        "2026-10-05|MPP-BPP|MPP Kota Balikpapan|64.71|POLRES|Polres|Penerbitan SKCK|SELESAI|42\n"
    )
    out = kunjungan_mpp_harian(raw)
    out = conform(out, get_entry("mpp_kunjungan_harian").table.columns, drop_extra=True)
    stnk = out[out["layanan"] == "Pengesahan STNK"].iloc[0]
    assert (stnk["jumlah_kunjungan"], stnk["jumlah_dilayani"], stnk["median_waktu_tunggu_menit"]) == (4, 3, 15.0)
    assert stnk["nama_kabupaten_kota"] == "Kota Samarinda" and stnk["tanggal"] == date(2026, 10, 5)
    assert len(out) == 2


def test_lapor_complaints_per_month_category_status():
    raw = frame(
        "tanggal_laporan|kategori|status|tanggal_selesai\n"
        "2026-10-01|Kesehatan|Selesai|2026-10-04\n"
        "2026-10-10|Kesehatan|Selesai|2026-10-20\n"
        "2026-10-11|Kesehatan|Selesai|2026-10-31\n"
        "2026-10-12|Kesehatan|Diproses|\n"
    )
    out = conform(pengaduan_lapor_bulanan(raw), get_entry("lapor_pengaduan_bulanan").table.columns, drop_extra=True)
    done = out[out["status_pengaduan"] == "Selesai"].iloc[0]
    assert (done["jumlah_pengaduan"], done["median_hari_penyelesaian"]) == (3, 10.0)
    open_ = out[out["status_pengaduan"] == "Diproses"].iloc[0]
    assert open_["jumlah_pengaduan"] == 1 and pd.isna(open_["median_hari_penyelesaian"])


def test_dukcapil_documents_per_month_regency_type():
    raw = pd.DataFrame({
        "Kode Wilayah": ["64.72", "64.72", "64.72", "64.74"],
        "Jenis Dokumen": ["KTP-el", "KTP-el", "KTP-el", "Akta Kelahiran"],
        "Tanggal Terbit": [date(2026, 10, 1), date(2026, 10, 9), date(2026, 10, 31), date(2026, 10, 2)],
        "Lama Proses (jam)": [2.5, 1234.5, 4.0, 10.0],
    })
    out = conform(dokumen_dukcapil_bulanan(raw), get_entry("dukcapil_dokumen_bulanan").table.columns, drop_extra=True)
    ktp = out[out["jenis_dokumen"] == "KTP-el"].iloc[0]
    assert ktp["jumlah_dokumen"] == 3 and ktp["median_jam_proses"] == 4.0
    assert ktp["rata_rata_jam_proses"] == round((2.5 + 1234.5 + 4.0) / 3, 1)
    assert ktp["nama_kabupaten_kota"] == "Kota Samarinda" and ktp["bulan"] == 10


def skm_raw(rows: list[list]) -> pd.DataFrame:
    columns = ["Tanggal Survei", "Kode Unit", "Unit Layanan", *[name for _, name in UNSUR]]
    return pd.DataFrame(rows, columns=columns)


def test_ikm_matches_a_hand_computed_example():
    """Four respondents, one blank answer; NRR, IKM and konversi worked out by hand.

    U1 = 14/4 = 3.5, U2 = 10/3 (one blank: 3 respondents), U3 = 11/4, U4 = 4, U5 = 13/4, U6 = 13/4,
    U7 = 4, U8 = 11/4, U9 = 13/4; sum = 30.0833..., IKM = 30.0833/9 = 3.34259, konversi 83.56 -> B.
    """
    from transforms.ikm import ikm_per_unit

    d = date(2026, 3, 2)
    raw = skm_raw([
        [d, "X", "Unit X", 4, 4, 3, 4, 3, 3, 4, 3, 4],
        [d, "X", "Unit X", 3, 3, 3, 4, 3, 4, 4, 3, 3],
        [d, "X", "Unit X", 4, 3, 2, 4, 3, 3, 4, 2, 3],
        [d, "X", "Unit X", 3, None, 3, 4, 4, 3, 4, 3, 3],
    ])
    out = ikm_per_unit(raw, populations={"X": ("Unit X", 100)})
    conform(out, get_entry("skm_ikm_semester").table.columns, drop_extra=True)
    row = out.iloc[0]
    assert (row["tahun"], row["semester"], row["jumlah_responden"]) == (2026, 1, 4)
    assert row["nrr_u1_persyaratan"] == 3.5
    assert row["nrr_u2_sistem_mekanisme_prosedur"] == 3.333
    assert row["nrr_u3_waktu_penyelesaian"] == 2.75
    assert row["nrr_u8_penanganan_pengaduan"] == 2.75
    assert row["nrr_u9_sarana_prasarana"] == 3.25
    assert row["ikm"] == 3.343
    assert row["ikm_konversi"] == 83.56
    assert (row["mutu_pelayanan"], row["kinerja_unit_pelayanan"]) == ("B", "Baik")
    assert (row["populasi_penerima_layanan"], row["sampel_minimum"], bool(row["sampel_memadai"])) == (100, 80, False)


def test_ikm_rounds_only_at_the_end():
    """Rounding each NRR to 2 decimals first would give 3 x 2.67 -> konversi 66.67 + ... ; check exactness."""
    from transforms.ikm import ikm_per_unit

    d = date(2026, 8, 1)
    # Each element averages 8/3 = 2.6667: exact IKM 2.6667 -> konversi 66.67 (C). Rounding NRR to
    # one decimal first (2.7) would give 67.5; to an integer (3) 75.0.
    rows = [[d, "Y", "Unit Y", *([2] * 9)], [d, "Y", "Unit Y", *([3] * 9)], [d, "Y", "Unit Y", *([3] * 9)]]
    row = ikm_per_unit(skm_raw(rows), populations={"Y": ("Unit Y", 3)}).iloc[0]
    assert row["semester"] == 2 and row["ikm_konversi"] == 66.67 and row["mutu_pelayanan"] == "C"
    assert bool(row["sampel_memadai"]) is True  # a population of 3 needs all 3


def test_element_columns_are_matched_by_name_not_position():
    from transforms.ikm import ikm_per_unit

    d = date(2026, 3, 2)
    raw = skm_raw([[d, "X", "Unit X", 4, 4, 4, 4, 4, 4, 4, 1, 2]])
    swapped = raw[[*raw.columns[:10], raw.columns[11], raw.columns[10]]]  # U9 before U8, as apps do
    row = ikm_per_unit(swapped, populations={"X": ("Unit X", 10)}).iloc[0]
    assert (row["nrr_u8_penanganan_pengaduan"], row["nrr_u9_sarana_prasarana"]) == (1.0, 2.0)


@pytest.mark.parametrize(
    "konversi, grade",
    [(100.0, ("A", "Sangat Baik")), (88.31, ("A", "Sangat Baik")), (88.3099, ("A", "Sangat Baik")),
     (88.304, ("B", "Baik")), (76.61, ("B", "Baik")), (76.60, ("C", "Kurang Baik")), (65.0, ("C", "Kurang Baik")),
     (64.99, ("D", "Tidak Baik")), (25.0, ("D", "Tidak Baik"))],
)
def test_grade_thresholds(konversi, grade):
    assert mutu_pelayanan(konversi) == grade


@pytest.mark.parametrize("population, sample", [(100, 80), (500, 217), (1000, 278), (10_000, 370),
                                                 (100_000, 384), (2_000_000, 384), (5, 5), (101, 86)])
def test_krejcie_morgan_table(population, sample):
    assert krejcie_morgan(population) == sample


def test_transforms_refuse_frames_without_their_columns():
    with pytest.raises(KeyError, match="Tanggal Terbit|Lama Proses"):
        dokumen_dukcapil_bulanan(pd.DataFrame({"Kode Wilayah": ["64.72"]}))


def test_mpp_gate_blocks_rows_of_another_day():
    from satudata.gate.suite import validate_frame
    from satudata.periods import Period

    entry = get_entry("mpp_kunjungan_harian")
    row = [date(2026, 10, 5), "64.72", "Kota Samarinda", "MPP-SMD", "MPP Kota Samarinda", "SAMSAT", "Bapenda",
           "Pengesahan STNK", 4, 3, 15.0]
    good = conform(pd.DataFrame([row], columns=entry.table.column_names), entry.table.columns)
    day = Period("daily", date(2026, 10, 5), date(2026, 10, 6)).parameters()
    assert validate_frame(good, entry.suite_path(), entry.id, day).success
    late = good.copy()
    late.loc[0, "tanggal"] = date(2026, 10, 6)
    report = validate_frame(late, entry.suite_path(), entry.id, day)
    assert not report.success
    assert [e.column for e in report.expectations if not e.success] == ["tanggal"]


def _staged(dataset: str, period):
    """The dataset's staged frame for ``period``, made from the sample agency system's raw input."""
    from devstack.samples import agencies as sample_agencies
    from transforms import get_transform
    from transforms.readers import read_csv_bytes, read_records, read_xlsx_bytes

    entry = get_entry(dataset)
    source = entry.source
    if dataset == "lapor_pengaduan_bulanan":
        raw = read_records(sample_agencies.lapor_complaints(period.start), source.fields, "page")
    elif dataset == "dukcapil_dokumen_bulanan":
        raw = read_csv_bytes(sample_agencies.dukcapil_export(period.start), source.fields, "export.csv")
    else:
        book = sample_agencies.skm_export(period.year, 1 if period.month <= 6 else 2)
        raw = read_xlsx_bytes(book, source.fields, "skm.xlsx", source.sheet)
    return entry, conform(get_transform(entry.transform)(raw), entry.table.columns, drop_extra=True)


@pytest.mark.parametrize(
    "dataset, schedule, column, bad",
    [("lapor_pengaduan_bulanan", "monthly", "bulan", 9),
     ("dukcapil_dokumen_bulanan", "monthly", "kode_kabupaten_kota", "64.99"),
     ("skm_ikm_semester", "semiannual", "nrr_u4_biaya_tarif", 4.2),
     ("skm_ikm_semester", "semiannual", "semester", 2)],
)
def test_sample_period_passes_its_gate_and_a_bad_value_blocks(dataset, schedule, column, bad):
    from satudata.gate.suite import validate_frame
    from satudata.periods import Period

    period = (Period("monthly", date(2026, 10, 1), date(2026, 11, 1)) if schedule == "monthly"
              else Period("semiannual", date(2026, 1, 1), date(2026, 7, 1)))
    entry, staged = _staged(dataset, period)
    report = validate_frame(staged, entry.suite_path(), entry.id, period.parameters())
    assert report.success, report.failure_summary()
    staged.loc[0, column] = bad
    report = validate_frame(staged, entry.suite_path(), entry.id, period.parameters())
    assert not report.success
    assert column in {e.column for e in report.expectations if not e.success}
