"""Statistical tables as a walidata receives them from agencies: a yearly XLSX with title rows, a
quarterly CSV from Excel, and one export holding years of monthly history.

Deterministic (seeded by the period), in the shapes people make: headers with spaces, `/`, `.`
and `%`, regency names written in several ways, BPS region codes, Windows-1252 and decimal
commas, the period as a month name and year in one cell.
"""

from __future__ import annotations

import io
import random
from datetime import date, timedelta
from pathlib import Path

from devstack.samples.agencies import SEED, _fixed_timestamps

# Regencies as the education office writes them (not the official names), with their size.
SEKOLAH_WILAYAH = [("Kab. Paser", 0.7), ("KUTAI KARTANEGARA", 1.5), ("Kab Berau", 0.6), ("Kubar", 0.4),
                   ("Kab. Kutai Timur", 0.8), ("PPU", 0.5), ("Mahulu", 0.15), ("Kota Balikpapan", 1.1),
                   ("SAMARINDA", 1.4), ("Kota Bontang", 0.4)]
JENJANG = [("SD", 180, 9), ("SMP", 70, 14), ("SMA", 30, 18), ("SMK", 25, 20)]
# BPS codes (the health office's system numbers Kutai Kartanegara 6403, Kutai Barat 6402, ...).
IMUNISASI_WILAYAH = [("6401", "Paser", 2900), ("6403", "Kutai Kartanegara", 8200), ("6405", "Berau", 3500),
                     ("6402", "Kutai Barat", 1800), ("6404", "Kutai Timur", 4700), ("6409", "PPU", 2100),
                     ("6411", "Mahakam Ulu", 450), ("6471", "Balikpapan", 9400), ("6472", "Samarinda", 12800),
                     ("6474", "Bontang", 2600)]
PELABUHAN = [("Semayang (Balikpapan)", 42000), ("Samarinda", 15000), ("Lok Tuan (Bontang)", 6000),
             ("Tanjung Redeb (Berau)", 3500)]
BULAN = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
         "November", "Desember"]


def _rng(kind: str, key: str) -> random.Random:
    return random.Random(f"{SEED}:{kind}:{key}")


def _id_number(value: float, decimals: int = 0) -> str:
    """1.234,5: as an Indonesian spreadsheet writes numbers."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def sekolah_workbook(year: int) -> bytes:
    """Schools, teachers and pupils per teacher by regency and level: one sheet, title rows above the table."""
    from openpyxl import Workbook

    rng = _rng("sekolah", str(year))
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Tabel"
    sheet.append([f"Jumlah Sekolah, Guru dan Rasio Murid per Guru menurut Kabupaten/Kota, Tahun {year}"])
    sheet.append(["Sumber: Dinas Pendidikan dan Kebudayaan Provinsi Kalimantan Timur"])
    sheet.append([])
    sheet.append(["No.", "Kabupaten/Kota", "Jenjang", "Jumlah Sekolah", "Jumlah Guru", "Rasio Murid/Guru"])
    number = 0
    for region, size in SEKOLAH_WILAYAH:
        for level, schools, per_school in JENJANG:
            number += 1
            count = max(1, round(schools * size * rng.uniform(0.9, 1.1)))
            teachers = count * per_school + rng.randint(0, 30)
            sheet.append([number, region, level, count, teachers, round(rng.uniform(12, 22), 1)])
    sheet.append([])
    sheet.append(["Catatan: data per 31 Desember."])
    buffer = io.BytesIO()
    book.save(buffer)
    return _fixed_timestamps(buffer.getvalue(), f"{year}-12-31T00:00:00Z")


def imunisasi_csv(year: int, quarter: int) -> bytes:
    """Infants, complete basic immunisation and coverage per regency for one quarter (Excel CSV, `;`, cp1252)."""
    rng = _rng("imunisasi", f"{year}-Q{quarter}")
    lines = ["Kode Wilayah (BPS);Kabupaten / Kota;Sasaran Bayi;Imunisasi Dasar Lengkap;Cakupan IDL (%);Keterangan"]
    for code, name, infants in IMUNISASI_WILAYAH:
        target = round(infants / 4 * rng.uniform(0.95, 1.05))
        done = round(target * rng.uniform(0.72, 0.97))
        note = rng.choice(["", "", "Data sementara – menunggu validasi", "Termasuk “sweeping” di desa terpencil"])
        lines.append(f"{code};{name};{_id_number(target)};{_id_number(done)};{_id_number(done / target * 100, 2)};"
                     f"{note}")
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def penumpang_history_csv(first: date, last: date) -> bytes:
    """Passengers embarking and disembarking per port and month, every month from ``first`` to ``last`` in one file."""
    lines = ["Bulan,Pelabuhan,Penumpang Naik,Penumpang Turun"]
    month = first.replace(day=1)
    while month <= last:
        rng = _rng("penumpang", f"{month:%Y-%m}")
        season = 1.35 if month.month in (4, 6, 12) else 1.0
        for port, base in PELABUHAN:
            up = round(base * season * rng.uniform(0.85, 1.15))
            down = round(base * season * rng.uniform(0.85, 1.15))
            lines.append(f'{BULAN[month.month - 1]} {month.year},"{port}","{_id_number(up)}","{_id_number(down)}"')
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return ("\ufeff" + "\n".join(lines) + "\n").encode("utf-8")


def write_tables(landing: Path, today: date) -> list[Path]:
    """Drop the tables of the recent complete periods into the landing folder: two years, two quarters,
    and the history file of every month since January 2024."""
    written = []
    for year in (today.year - 2, today.year - 1):
        written.append(_write(landing / "disdik" / f"sekolah_{year}.xlsx", sekolah_workbook(year)))
    quarter = (today.year, (today.month - 1) // 3 + 1)
    for _ in range(2):
        quarter = (quarter[0], quarter[1] - 1) if quarter[1] > 1 else (quarter[0] - 1, 4)
        written.append(_write(landing / "dinkes" / f"imunisasi_{quarter[0]}-Q{quarter[1]}.csv",
                              imunisasi_csv(*quarter)))
    last_month = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    written.append(_write(landing / "dishub" / "penumpang_pelabuhan.csv",
                          penumpang_history_csv(date(2024, 1, 1), last_month)))
    return written


def _write(path: Path, body: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return path
