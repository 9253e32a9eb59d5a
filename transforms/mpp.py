"""Mal Pelayanan Publik queue tickets -> visits per day, mall, tenant agency and service."""

from __future__ import annotations

import pandas as pd

from transforms.aggregate import GroupedStats, Partial
from transforms.reference import KABUPATEN_KOTA

KEYS = ["tanggal", "kode_wilayah", "kode_mpp", "kode_tenant", "layanan"]
STATS = GroupedStats(KEYS, "tunggu", first=["nama_mpp", "nama_tenant"], sums=["selesai"])


def _ticket_rows(raw: pd.DataFrame) -> pd.DataFrame:
    """The tickets with their day, whether they were served, and the wait of served ones."""
    # The source rows hold the catalog's declared fields; a missing one is a KeyError naming it.
    rows = raw.copy()
    rows["tanggal"] = pd.to_datetime(rows["waktu_kedatangan"]).dt.date
    rows["selesai"] = rows["status"] == "SELESAI"
    # Waiting time only means something for a ticket that was served.
    rows["tunggu"] = pd.to_numeric(rows["waktu_tunggu_menit"]).where(rows["selesai"]).astype("float64")
    return rows


def _published(out: pd.DataFrame) -> pd.DataFrame:
    out["median_waktu_tunggu_menit"] = out["median_waktu_tunggu_menit"].round(1)
    out = out.rename(columns={"kode_wilayah": "kode_kabupaten_kota", "kode_tenant": "kode_instansi"})
    out["nama_kabupaten_kota"] = out["kode_kabupaten_kota"].map(KABUPATEN_KOTA)
    return out


def kunjungan_mpp_harian(raw: pd.DataFrame) -> pd.DataFrame:
    """Count tickets (all, and served) and the median wait of served tickets per day and service."""
    rows = _ticket_rows(raw)
    out = rows.groupby(KEYS, sort=True).agg(
        nama_mpp=("nama_mpp", "first"),
        nama_instansi=("nama_tenant", "first"),
        jumlah_kunjungan=("status", "size"),
        jumlah_dilayani=("selesai", "sum"),
        median_waktu_tunggu_menit=("tunggu", "median"),
    ).reset_index()
    return _published(out)


def mpp_partial(raw: pd.DataFrame) -> Partial:
    """One chunk of tickets summarised for ``mpp_combine`` (exact: histograms of whole minutes)."""
    return STATS.partial(_ticket_rows(raw))


def mpp_combine(partial: Partial) -> pd.DataFrame:
    """The table ``kunjungan_mpp_harian`` gives, from the merged partials of all chunks."""
    out = STATS.finish(partial, size="jumlah_kunjungan", median="median_waktu_tunggu_menit")
    out = out.rename(columns={"nama_tenant": "nama_instansi", "selesai": "jumlah_dilayani"})
    return _published(out)
