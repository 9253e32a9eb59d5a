"""DPMPTSP licensing: permit applications -> permits issued per month, regency and permit type."""

from __future__ import annotations

import pandas as pd

from transforms.aggregate import GroupedStats, Partial
from transforms.reference import with_region_names

KEYS = ["tahun", "bulan", "kode_wilayah", "kode_jenis_izin"]
STATS = GroupedStats(KEYS, "hari_proses", first=["nama_jenis_izin", "standar_hari"], sums=["sesuai_standar"])


def _permit_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """The source rows with processing days, issue month and whether the service standard was met."""
    # The source rows hold the catalog's declared fields; a missing one is a KeyError naming it.
    rows = raw.copy()
    diajukan = pd.to_datetime(rows["tanggal_pengajuan"])
    terbit = pd.to_datetime(rows["tanggal_terbit"])
    rows["hari_proses"] = (terbit - diajukan).dt.days
    rows["tahun"] = terbit.dt.year
    rows["bulan"] = terbit.dt.month
    rows["sesuai_standar"] = rows["hari_proses"] <= rows["standar_hari"]
    return rows


def _published(out: pd.DataFrame) -> pd.DataFrame:
    # Round only the published figures, after every statistic is computed.
    for column in ["rata_rata_hari_proses", "median_hari_proses", "persentil_90_hari_proses"]:
        out[column] = out[column].astype("float64").round(1)
    out["persentase_sesuai_standar"] = out["persentase_sesuai_standar"].astype("float64").round(2)
    out = out.rename(columns={"kode_wilayah": "kode_kabupaten_kota"})
    # The published columns and their order are the catalog schema's (the transform step conforms).
    return with_region_names(out)


def izin_terbit_bulanan(raw: pd.DataFrame) -> pd.DataFrame:
    """Aggregate issued permits to month x regency x permit type with processing-day statistics.

    Processing days are calendar days from application to issue. A regency code outside the
    reference list keeps its code and gets no name, so the quality gate sees it instead of it
    being dropped here.
    """
    rows = _permit_rows(raw)
    grouped = rows.groupby(KEYS, sort=True)
    out = grouped.agg(
        jenis_izin=("nama_jenis_izin", "first"),
        standar_pelayanan_hari=("standar_hari", "first"),
        jumlah_izin_terbit=("hari_proses", "size"),
        rata_rata_hari_proses=("hari_proses", "mean"),
        median_hari_proses=("hari_proses", "median"),
        persentil_90_hari_proses=("hari_proses", lambda s: s.quantile(0.9)),
        persentase_sesuai_standar=("sesuai_standar", "mean"),
    ).reset_index()
    out["persentase_sesuai_standar"] = out["persentase_sesuai_standar"] * 100
    return _published(out)


def izin_partial(raw: pd.DataFrame) -> Partial:
    """One chunk of source rows summarised for ``izin_combine`` (exact: histograms of whole days)."""
    return STATS.partial(_permit_rows(raw))


def izin_combine(partial: Partial) -> pd.DataFrame:
    """The table ``izin_terbit_bulanan`` gives, from the merged partials of all chunks."""
    out = STATS.finish(partial, size="jumlah_izin_terbit", mean="rata_rata_hari_proses",
                       median="median_hari_proses", quantiles={"persentil_90_hari_proses": 0.9})
    out["persentase_sesuai_standar"] = out["sesuai_standar"] / out["jumlah_izin_terbit"] * 100
    out = out.rename(columns={"nama_jenis_izin": "jenis_izin", "standar_hari": "standar_pelayanan_hari"})
    return _published(out)
