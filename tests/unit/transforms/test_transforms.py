"""Transforms, schema conformance and the file writers, from inline frames."""

import io

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from satudata.catalog import get_entry
from transforms.izin import izin_terbit_bulanan
from transforms.tables import SchemaMismatch, conform, neutralise_formulas, spreadsheet_safe, write_csv, write_parquet

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
    out = conform(izin_terbit_bulanan(raw), entry.table.columns, drop_extra=True)
    assert str(out["tahun"].dtype) == "Int64"
    assert str(out["kode_kabupaten_kota"].dtype) == "string"
    assert out.columns.tolist() == entry.table.column_names


def test_conform_names_row_and_column_of_a_bad_value(raw):
    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    frame = izin_terbit_bulanan(raw).astype({"jumlah_izin_terbit": object})
    frame.loc[1, "jumlah_izin_terbit"] = "tiga"
    shape = r"text of 4 characters \(letters\)"
    with pytest.raises(SchemaMismatch, match=rf"src\.csv: row 2, column 'jumlah_izin_terbit': {shape} is not a int64"):
        conform(frame, entry.table.columns, source="src.csv")


def test_conform_reports_missing_and_extra_columns(raw):
    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    frame = izin_terbit_bulanan(raw).rename(columns={"bulan": "month"})
    with pytest.raises(SchemaMismatch, match=r"missing \['bulan'\], unexpected \['month'\]"):
        conform(frame, entry.table.columns)


def test_parquet_keeps_declared_types_and_descriptions(raw, tmp_path):
    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    frame = conform(izin_terbit_bulanan(raw), entry.table.columns, drop_extra=True)
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


def test_csv_is_byte_for_byte_what_pandas_writes(tmp_path):
    # write_csv formats with Arrow; the published bytes (and their hash) must stay pandas' own.
    from datetime import date

    rows = 70_000  # more than one Arrow batch
    text = ["biasa", "", None, 'kutip "ganda"', "koma, di tengah", "baris\nbaru", "cr\rsaja", "=1+2", "+62 811",
            "-", "@SUM(A1)", "\ttab", "\rcr", " spasi ", "Ünïcödé ✓", "'sudah"]
    floats = [0.1, 19.5, 100.0, -0.0, 1e16, 1.2345678901234567e-7, 123456789.125, float("nan"), float("inf"), 2.5]
    frame = pd.DataFrame({
        "teks": pd.array([text[i % len(text)] for i in range(rows)], dtype="string"),
        "objek": [text[(i + 3) % len(text)] for i in range(rows)],
        "bulat": pd.array([None if i % 7 == 0 else i * 1_000_003 - 5 for i in range(rows)], dtype="Int64"),
        "numpy_int": np.arange(rows, dtype="int64") - 3,
        "pecahan": [floats[i % len(floats)] * (i % 5 + 1) for i in range(rows)],
        "tanggal": [None if i % 11 == 0 else date(2026, 1 + i % 12, 1 + i % 28) for i in range(rows)],
        "benar": [i % 3 == 0 for i in range(rows)],
        "benar_kosong": [None if i % 4 == 0 else i % 2 == 0 for i in range(rows)],
        "kosong": [None] * rows,
        'nama "aneh", kolom': ["x"] * rows,
    })
    expected = spreadsheet_safe(frame).to_csv(index=False, lineterminator="\n").encode("utf-8")
    assert write_csv(frame, tmp_path / "x.csv").read_bytes() == expected
    assert write_csv(pa.Table.from_pandas(frame, preserve_index=False), tmp_path / "y.csv").read_bytes() == expected
    single = frame[["teks"]].head(20)  # one column: pandas quotes an empty row, so pandas writes it
    assert write_csv(single, tmp_path / "z.csv").read_bytes() == single.pipe(spreadsheet_safe).to_csv(
        index=False, lineterminator="\n").encode("utf-8")


@pytest.mark.parametrize("flags", [[True, False, True], [True, None, False]])
def test_parquet_from_arrow_is_the_file_from_pandas(tmp_path, flags):
    from datetime import date
    from types import SimpleNamespace

    from transforms.tables import read_parquet, read_table

    columns = [SimpleNamespace(name=n, type=t, description=n, unit=None) for n, t in
               [("kode", "string"), ("jumlah", "int64"), ("nilai", "float64"), ("tanggal", "date"), ("ya", "bool")]]
    frame = conform(pd.DataFrame({"kode": ["a", None, "c"], "jumlah": [1, None, 3], "nilai": [0.5, None, 2.0],
                                  "tanggal": ["2026-10-01", None, "2026-10-03"], "ya": flags}), columns)
    first = write_parquet(frame, columns, tmp_path / "first.parquet")
    from_pandas = write_parquet(read_parquet(first), columns, tmp_path / "pandas.parquet", table_meta={"x": 1})
    from_arrow = write_parquet(read_table(first, columns), columns, tmp_path / "arrow.parquet", table_meta={"x": 1})
    assert from_arrow.read_bytes() == from_pandas.read_bytes()
    assert read_parquet(from_arrow)["tanggal"].tolist() == [date(2026, 10, 1), None, date(2026, 10, 3)]


def test_sort_rows_orders_as_pandas_and_keeps_sorted_tables():
    from transforms.tables import sort_rows

    frame = pd.DataFrame({"tahun": [2026, 2025, 2026, 2025, 2026], "kode": ["b", "z", "a", "a", None],
                          "nilai": [1.0, 2.0, float("nan"), 4.0, 5.0]})
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for keys in (["tahun", "kode"], ["tahun"], ["nilai"], ["kode", "tahun"]):
        expected = frame.sort_values(keys, ignore_index=True, kind="stable")
        assert sort_rows(table, keys).to_pandas().equals(expected), keys
    ordered = sort_rows(table.slice(0, 4), ["tahun", "kode"])
    assert sort_rows(ordered, ["tahun", "kode"]) is ordered
    assert sort_rows(ordered, ["kode"]).column("kode").to_pylist() == ["a", "a", "b", "z"]
