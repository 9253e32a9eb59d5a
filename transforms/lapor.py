"""SP4N-LAPOR! complaints -> complaints per month, category and status, with resolution days."""

from __future__ import annotations

import pandas as pd

from transforms.aggregate import GroupedStats, Partial

KEYS = ["tahun", "bulan", "kategori", "status"]
STATS = GroupedStats(KEYS, "hari")


def _complaint_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """The complaints with their filing month and days to resolution (none while open)."""
    # The source rows hold the catalog's declared fields; a missing one is a KeyError naming it.
    rows = raw.copy()
    dilapor = pd.to_datetime(rows["tanggal_laporan"])
    selesai = pd.to_datetime(rows["tanggal_selesai"])
    rows["tahun"] = dilapor.dt.year
    rows["bulan"] = dilapor.dt.month
    rows["hari"] = (selesai - dilapor).dt.days.astype("float64")
    return rows


def _published(out: pd.DataFrame) -> pd.DataFrame:
    out["median_hari_penyelesaian"] = out["median_hari_penyelesaian"].round(1)
    return out.rename(columns={"status": "status_pengaduan"})


def pengaduan_lapor_bulanan(raw: pd.DataFrame) -> pd.DataFrame:
    """Count complaints filed per month x category x status; median days to resolution if resolved."""
    rows = _complaint_rows(raw)
    out = rows.groupby(KEYS, sort=True).agg(
        jumlah_pengaduan=("status", "size"),
        median_hari_penyelesaian=("hari", "median"),
    ).reset_index()
    return _published(out)


def lapor_partial(raw: pd.DataFrame) -> Partial:
    """One chunk of complaints summarised for ``lapor_combine`` (exact: histograms of whole days)."""
    return STATS.partial(_complaint_rows(raw))


def lapor_combine(partial: Partial) -> pd.DataFrame:
    """The table ``pengaduan_lapor_bulanan`` gives, from the merged partials of all chunks."""
    return _published(STATS.finish(partial, size="jumlah_pengaduan", median="median_hari_penyelesaian"))
