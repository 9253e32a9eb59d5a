"""Mal Pelayanan Publik queue tickets -> visits per day, mall, tenant agency and service."""

from __future__ import annotations

import pandas as pd

from transforms.reference import KABUPATEN_KOTA
from transforms.tables import source_columns

RAW_COLUMNS = ["waktu_kedatangan", "kode_mpp", "nama_mpp", "kode_wilayah", "kode_tenant", "nama_tenant",
               "layanan", "status", "waktu_tunggu_menit"]


def kunjungan_mpp_harian(raw: pd.DataFrame) -> pd.DataFrame:
    """Count tickets (all, and served) and the median wait of served tickets per day and service."""
    rows = source_columns(raw, RAW_COLUMNS)
    rows["tanggal"] = pd.to_datetime(rows["waktu_kedatangan"]).dt.date
    rows["selesai"] = rows["status"] == "SELESAI"
    # Waiting time only means something for a ticket that was served.
    rows["tunggu"] = pd.to_numeric(rows["waktu_tunggu_menit"]).where(rows["selesai"]).astype("float64")
    keys = ["tanggal", "kode_wilayah", "kode_mpp", "kode_tenant", "layanan"]
    out = rows.groupby(keys, sort=True).agg(
        nama_mpp=("nama_mpp", "first"),
        nama_instansi=("nama_tenant", "first"),
        jumlah_kunjungan=("status", "size"),
        jumlah_dilayani=("selesai", "sum"),
        median_waktu_tunggu_menit=("tunggu", "median"),
    ).reset_index()
    out["median_waktu_tunggu_menit"] = out["median_waktu_tunggu_menit"].round(1)
    out = out.rename(columns={"kode_wilayah": "kode_kabupaten_kota", "kode_tenant": "kode_instansi"})
    out["nama_kabupaten_kota"] = out["kode_kabupaten_kota"].map(KABUPATEN_KOTA)
    return out[["tanggal", "kode_kabupaten_kota", "nama_kabupaten_kota", "kode_mpp", "nama_mpp", "kode_instansi",
                "nama_instansi", "layanan", "jumlah_kunjungan", "jumlah_dilayani", "median_waktu_tunggu_menit"]]
