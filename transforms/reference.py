"""Reference codes: Kemendagri region codes of East Kalimantan (format PP.KK)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

KODE_PROVINSI = "64"
NAMA_PROVINSI = "Kalimantan Timur"

# Kemendagri codes; BPS numbers four of these regencies differently, so every published
# code column states that its code system is Kemendagri.
KABUPATEN_KOTA: dict[str, str] = {
    "64.01": "Kabupaten Paser",
    "64.02": "Kabupaten Kutai Kartanegara",
    "64.03": "Kabupaten Berau",
    "64.07": "Kabupaten Kutai Barat",
    "64.08": "Kabupaten Kutai Timur",
    "64.09": "Kabupaten Penajam Paser Utara",
    "64.11": "Kabupaten Mahakam Ulu",
    "64.71": "Kota Balikpapan",
    "64.72": "Kota Samarinda",
    "64.74": "Kota Bontang",
}

# Service units that run the SKM survey, with the number of people each serves per semester
# (the population of the Krejcie-Morgan sample size).
SKM_UNIT_LAYANAN: dict[str, tuple[str, int]] = {
    "DPMPTSP": ("Dinas Penanaman Modal dan PTSP Provinsi Kalimantan Timur", 12_500),
    "SAMSAT-SMD": ("UPTD PPRD Samarinda (SAMSAT)", 150_000),
    "RSUD-AWS": ("RSUD Abdul Wahab Sjahranie", 48_000),
    "DISNAKERTRANS": ("Dinas Tenaga Kerja dan Transmigrasi", 1_200),
    "BKD": ("Badan Kepegawaian Daerah", 900),
    "DISHUB-UPT": ("UPT Pengujian Kendaraan Bermotor Dinas Perhubungan", 600),
}


def with_region_names(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the province code and name, and the regency name of ``kode_kabupaten_kota``.

    An unknown regency code gets no name, so the quality gate sees it instead of it being dropped.
    """
    frame["kode_provinsi"] = KODE_PROVINSI
    frame["nama_provinsi"] = NAMA_PROVINSI
    frame["nama_kabupaten_kota"] = frame["kode_kabupaten_kota"].map(KABUPATEN_KOTA)
    return frame
