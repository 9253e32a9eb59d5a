"""Disdukcapil civil-registry export -> documents issued per month, regency and document type."""

from __future__ import annotations

import pandas as pd

from transforms.reference import with_region_names


def dokumen_dukcapil_bulanan(raw: pd.DataFrame) -> pd.DataFrame:
    """Count documents issued and their mean processing hours per month x regency x document type."""
    # The source rows hold the catalog's declared fields; a missing one is a KeyError naming it.
    rows = raw.copy()
    terbit = pd.to_datetime(rows["Tanggal Terbit"])
    rows["tahun"] = terbit.dt.year
    rows["bulan"] = terbit.dt.month
    rows["jam"] = pd.to_numeric(rows["Lama Proses (jam)"]).astype("float64")
    out = rows.groupby(["tahun", "bulan", "Kode Wilayah", "Jenis Dokumen"], sort=True).agg(
        jumlah_dokumen=("jam", "size"),
        rata_rata_jam_proses=("jam", "mean"),
        median_jam_proses=("jam", "median"),
    ).reset_index()
    out["rata_rata_jam_proses"] = out["rata_rata_jam_proses"].round(1)
    out["median_jam_proses"] = out["median_jam_proses"].round(1)
    out = out.rename(columns={"Kode Wilayah": "kode_kabupaten_kota", "Jenis Dokumen": "jenis_dokumen"})
    return with_region_names(out)
