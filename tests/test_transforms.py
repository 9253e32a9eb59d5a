"""Transforms, schema conformance and the file writers, from inline frames."""

import io

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from satudata.catalog import get_entry
from transforms.izin import izin_terbit_bulanan
from transforms.tables import SchemaMismatch, conform, neutralise_formulas, write_csv, write_parquet

RAW = """kode_wilayah,kode_jenis_izin,nama_jenis_izin,standar_hari,tanggal_pengajuan,tanggal_terbit
64.72,PBG,Persetujuan Bangunan Gedung,28,2026-09-20,2026-10-01
64.72,PBG,Persetujuan Bangunan Gedung,28,2026-09-01,2026-10-10
64.72,PBG,Persetujuan Bangunan Gedung,28,2026-10-01,2026-10-31
64.72,SIPA,Surat Izin Praktik Apoteker,5,2026-10-02,2026-10-05
64.71,SIPA,Surat Izin Praktik Apoteker,5,2026-10-02,2026-10-12
"""


@pytest.fixture
def raw() -> pd.DataFrame:
    return pd.read_csv(io.StringIO(RAW), dtype={"kode_wilayah": str})


def test_permits_are_counted_per_regency_and_type(raw):
    out = izin_terbit_bulanan(raw).set_index(["kode_kabupaten_kota", "kode_jenis_izin"])
    pbg = out.loc[("64.72", "PBG")]
    # processing days 11, 39, 30 -> mean 26.67, median 30, p90 = 30 + 0.8 * (39 - 30)
    assert pbg["jumlah_izin_terbit"] == 3
    assert pbg["rata_rata_hari_proses"] == 26.7
    assert pbg["median_hari_proses"] == 30.0
    assert pbg["persentil_90_hari_proses"] == 37.2
    assert pbg["persentase_sesuai_standar"] == pytest.approx(33.33)
    assert pbg["nama_kabupaten_kota"] == "Kota Samarinda"
    assert out.loc[("64.71", "SIPA")]["persentase_sesuai_standar"] == 0.0
    assert set(out["tahun"]) == {2026} and set(out["bulan"]) == {10}
    assert len(out) == 3


def test_unknown_regency_keeps_its_code_for_the_quality_gate(raw):
    raw.loc[0, "kode_wilayah"] = "64.99"
    out = izin_terbit_bulanan(raw)
    row = out[out["kode_kabupaten_kota"] == "64.99"].iloc[0]
    assert pd.isna(row["nama_kabupaten_kota"])


def test_missing_source_column_is_named(raw):
    with pytest.raises(KeyError, match="standar_hari"):
        izin_terbit_bulanan(raw.drop(columns=["standar_hari"]))


def test_conform_casts_to_declared_types(raw):
    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    out = conform(izin_terbit_bulanan(raw), entry.table.columns)
    assert str(out["tahun"].dtype) == "Int64"
    assert str(out["kode_kabupaten_kota"].dtype) == "string"
    assert out.columns.tolist() == entry.table.column_names


def test_conform_names_row_and_column_of_a_bad_value(raw):
    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    frame = izin_terbit_bulanan(raw).astype({"jumlah_izin_terbit": object})
    frame.loc[1, "jumlah_izin_terbit"] = "tiga"
    with pytest.raises(SchemaMismatch, match=r"src\.csv: row 2, column 'jumlah_izin_terbit': 'tiga' is not a int64"):
        conform(frame, entry.table.columns, source="src.csv")


def test_conform_reports_missing_and_extra_columns(raw):
    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    frame = izin_terbit_bulanan(raw).rename(columns={"bulan": "month"})
    with pytest.raises(SchemaMismatch, match=r"missing \['bulan'\], unexpected \['month'\]"):
        conform(frame, entry.table.columns)


def test_parquet_keeps_declared_types_and_descriptions(raw, tmp_path):
    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    frame = conform(izin_terbit_bulanan(raw), entry.table.columns)
    path = write_parquet(frame, entry.table.columns, tmp_path / "x.parquet")
    schema = pq.read_schema(path)
    assert schema.field("tahun").type == pa.int64()
    assert schema.field("median_hari_proses").type == pa.float64()
    assert schema.field("kode_kabupaten_kota").type == pa.string()
    assert schema.field("jumlah_izin_terbit").metadata[b"unit"] == b"izin"
    assert b"Jumlah izin" in schema.field("jumlah_izin_terbit").metadata[b"description"]


def test_csv_neutralises_formulas_but_not_numbers(tmp_path):
    frame = pd.DataFrame(
        {"teks": pd.array(["=HYPERLINK(\"x\")", "+62 811", "-", "@SUM(A1)", "biasa", None], dtype="string"),
         "angka": [-1.5, 2.0, -3.0, 4.0, 5.0, 6.0]}
    )
    out = neutralise_formulas(frame)
    assert out["teks"].tolist()[:5] == ["'=HYPERLINK(\"x\")", "'+62 811", "'-", "'@SUM(A1)", "biasa"]
    assert out["angka"].tolist()[0] == -1.5
    text = write_csv(frame, tmp_path / "x.csv").read_text(encoding="utf-8")
    assert text.splitlines()[0] == "teks,angka"
    assert "-1.5" in text and "\r" not in text
