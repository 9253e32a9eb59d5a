"""Deterministic sample agency systems for the demo and the tests.

The DPMPTSP licensing database is generated from a fixed seed, so the same file (and the same
rows in PostgreSQL or MariaDB) comes out on every machine.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from pathlib import Path

import sqlalchemy as sa

from transforms.reference import KABUPATEN_KOTA

SEED = 6400
FIRST_MONTH = date(2024, 1, 1)
# The demo publishes the latest complete period before today, so the sample system must
# already hold the months the demo will run in for years to come; months are generated in
# order from one seed, so extending the range leaves earlier months' rows unchanged.
LAST_MONTH = date(2030, 12, 1)

# (code, name, service standard in working days as published by the office)
JENIS_IZIN = [
    ("PBG", "Persetujuan Bangunan Gedung", 28),
    ("SLF", "Sertifikat Laik Fungsi", 14),
    ("SIP-DOK", "Surat Izin Praktik Dokter", 5),
    ("SIPA", "Surat Izin Praktik Apoteker", 5),
    ("REKLAME", "Izin Penyelenggaraan Reklame", 7),
    ("SIUP-IKAN", "Surat Izin Usaha Perikanan", 14),
    ("TRAYEK", "Izin Trayek Angkutan", 10),
]

# Relative volume of applications per regency (bigger cities file more).
_VOLUME = {
    "64.01": 0.6, "64.02": 1.2, "64.03": 0.6, "64.07": 0.35, "64.08": 0.7,
    "64.09": 0.5, "64.11": 0.1, "64.71": 1.4, "64.72": 1.6, "64.74": 0.5,
}

metadata = sa.MetaData()

wilayah = sa.Table(
    "wilayah", metadata,
    sa.Column("kode", sa.String(8), primary_key=True),
    sa.Column("nama", sa.String(100), nullable=False),
)
jenis_izin = sa.Table(
    "jenis_izin", metadata,
    sa.Column("kode", sa.String(16), primary_key=True),
    sa.Column("nama", sa.String(100), nullable=False),
    sa.Column("standar_hari", sa.Integer, nullable=False),
)
permohonan_izin = sa.Table(
    "permohonan_izin", metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("nomor_permohonan", sa.String(40), nullable=False, unique=True),
    sa.Column("nik_pemohon", sa.String(16), nullable=False),
    sa.Column("kode_wilayah", sa.String(8), nullable=False),
    sa.Column("kode_jenis_izin", sa.String(16), nullable=False),
    sa.Column("tanggal_pengajuan", sa.Date, nullable=False),
    sa.Column("tanggal_terbit", sa.Date, nullable=True),
    sa.Column("status", sa.String(12), nullable=False),
    sa.Index("ix_permohonan_terbit", "tanggal_terbit"),
)


def _months():
    month = FIRST_MONTH
    while month <= LAST_MONTH:
        yield month
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)


def _nik(rng: random.Random, kode_wilayah: str) -> str:
    """A synthetic NIK with a valid structure (province, regency, district, birth date, serial)."""
    born = date(1960, 1, 1) + timedelta(days=rng.randrange(0, 40 * 365))
    day = born.day + (40 if rng.random() < 0.5 else 0)
    return (
        kode_wilayah.replace(".", "")
        + f"{rng.randint(1, 12):02d}"
        + f"{day:02d}{born.month:02d}{born.year % 100:02d}"
        + f"{rng.randint(1, 9999):04d}"
    )


def permit_applications(seed: int = SEED) -> list[dict]:
    """Every permit application of the sample licensing system, in id order."""
    rng = random.Random(seed)
    rows: list[dict] = []
    for month in _months():
        days_in_month = ((month.replace(day=28) + timedelta(days=4)).replace(day=1) - month).days
        for kode_wilayah, volume in _VOLUME.items():
            for kode, _nama, standar in JENIS_IZIN:
                for _ in range(max(1, round(rng.randint(4, 24) * volume))):
                    diajukan = month + timedelta(days=rng.randrange(days_in_month))
                    roll = rng.random()
                    status = "TERBIT" if roll < 0.86 else ("DITOLAK" if roll < 0.95 else "DIPROSES")
                    terbit = None
                    if status == "TERBIT":
                        hari = max(0, round(rng.gauss(standar * 0.75, standar * 0.35)))
                        terbit = diajukan + timedelta(days=hari)
                    rows.append(
                        {
                            "id": len(rows) + 1,
                            "nomor_permohonan": f"DPMPTSP/{kode}/{diajukan.year}/{len(rows) + 1:06d}",
                            "nik_pemohon": _nik(rng, kode_wilayah),
                            "kode_wilayah": kode_wilayah,
                            "kode_jenis_izin": kode,
                            "tanggal_pengajuan": diajukan,
                            "tanggal_terbit": terbit,
                            "status": status,
                        }
                    )
    return rows


def load_licensing_db(engine: sa.Engine, seed: int = SEED) -> int:
    """Create the licensing tables in ``engine``'s database and fill them; returns rows loaded."""
    metadata.drop_all(engine)
    metadata.create_all(engine)
    rows = permit_applications(seed)
    with engine.begin() as conn:
        conn.execute(wilayah.insert(), [{"kode": k, "nama": v} for k, v in KABUPATEN_KOTA.items()])
        conn.execute(
            jenis_izin.insert(), [{"kode": k, "nama": n, "standar_hari": s} for k, n, s in JENIS_IZIN]
        )
        for start in range(0, len(rows), 5000):
            conn.execute(permohonan_izin.insert(), rows[start : start + 5000])
    return len(rows)


def ensure_licensing_sqlite(path: Path) -> Path:
    """Generate the embedded SQLite licensing database at ``path`` unless it is already there."""
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    engine = sa.create_engine(f"sqlite:///{tmp}")
    try:
        load_licensing_db(engine)
    finally:
        engine.dispose()
    tmp.replace(path)
    return path
