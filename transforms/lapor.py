"""SP4N-LAPOR! complaints -> complaints per month, category and status, with resolution days."""

from __future__ import annotations

import pandas as pd

from transforms.tables import source_columns

RAW_COLUMNS = ["tanggal_laporan", "kategori", "status", "tanggal_selesai"]


def pengaduan_lapor_bulanan(raw: pd.DataFrame) -> pd.DataFrame:
    """Count complaints filed per month x category x status; median days to resolution if resolved."""
    rows = source_columns(raw, RAW_COLUMNS)
    dilapor = pd.to_datetime(rows["tanggal_laporan"])
    selesai = pd.to_datetime(rows["tanggal_selesai"])
    rows["tahun"] = dilapor.dt.year
    rows["bulan"] = dilapor.dt.month
    # Calendar days from filing to resolution; open complaints have none.
    rows["hari"] = (selesai - dilapor).dt.days.astype("float64")
    out = rows.groupby(["tahun", "bulan", "kategori", "status"], sort=True).agg(
        jumlah_pengaduan=("status", "size"),
        median_hari_penyelesaian=("hari", "median"),
    ).reset_index()
    out["median_hari_penyelesaian"] = out["median_hari_penyelesaian"].round(1)
    return out.rename(columns={"status": "status_pengaduan"})
