"""Deterministic sample agency systems: MPP queues, SP4N-LAPOR!, Disdukcapil and SKM exports.

Each day, month or semester is generated from its own seed (the project seed plus the period),
so any interval can be produced on its own and comes out the same on every machine. The raw
records carry personal data (names, NIK, phone numbers) as the real systems do: the pipeline
must keep it in the raw zone.
"""

from __future__ import annotations

import io
import json
import random
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

from transforms.ikm import UNSUR
from transforms.reference import KABUPATEN_KOTA, SKM_UNIT_LAYANAN

SEED = 6400
# The sample systems' own credentials (the agency API server checks them; the demo's connections carry them).
MPP_USER, MPP_PASSWORD = "satudata", "mpp-kaltim-2026"
LAPOR_TOKEN = "lapor-kaltim-demo-token"
_BULAN = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September",
          "Oktober", "November", "Desember"]

_FIRST_NAMES = ["Agus", "Siti", "Budi", "Dewi", "Muhammad", "Nur", "Rina", "Andi", "Yohanes", "Théresia",
                "José", "Agnès", "Hendra", "Wahyuni", "Fransiskus", "Rahmat", "Kadek", "Ni Luh", "Irwan",
                "Dayang"]
_LAST_NAMES = ["Saputra", "Rahmawati", "Siregar", "Hutagalung", "Wulandari", "Pratama", "Nugroho",
               "Manurung", "Aji", "Effendi", "Lumban Tobing", "Kartika", "Hidayat", "Kurniawan"]

# MPP (Mal Pelayanan Publik): (code, name, regency, daily volume factor)
MPP = [
    ("MPP-SMD", "MPP Kota Samarinda", "64.72", 1.0),
    ("MPP-BPP", "MPP Kota Balikpapan", "64.71", 0.9),
    ("MPP-KKR", "MPP Kabupaten Kutai Kartanegara", "64.02", 0.5),
]
# Tenant agencies and their services: (code, name, [(service, mean waiting minutes)])
TENANTS = [
    ("DISDUKCAPIL", "Dinas Kependudukan dan Pencatatan Sipil",
     [("Perekaman KTP-el", 35), ("Pencetakan Kartu Keluarga", 25), ("Akta Kelahiran", 20)]),
    ("SAMSAT", "Badan Pendapatan Daerah (SAMSAT)", [("Pembayaran PKB Tahunan", 15), ("Pengesahan STNK", 20)]),
    ("BPJS-KES", "BPJS Kesehatan", [("Pendaftaran Peserta", 30), ("Perubahan Data Peserta", 20)]),
    ("BPN", "Kantor Pertanahan", [("Pengecekan Sertifikat", 40), ("Roya", 25)]),
    ("POLRES", "Kepolisian Resor", [("Penerbitan SKCK", 30)]),
    ("DPMPTSP", "Dinas Penanaman Modal dan PTSP", [("Konsultasi Perizinan", 15)]),
]

LAPOR_KATEGORI = ["Infrastruktur", "Kesehatan", "Pendidikan", "Administrasi Kependudukan", "Lingkungan Hidup",
                  "Perhubungan", "Ketenagakerjaan", "Pelayanan Publik"]
LAPOR_STATUS = [("Selesai", 0.62), ("Diproses", 0.2), ("Diteruskan ke Instansi", 0.1), ("Belum Diverifikasi", 0.08)]

DOKUMEN_DUKCAPIL = [("KTP-el", 30), ("Kartu Keluarga", 22), ("Akta Kelahiran", 18), ("Akta Kematian", 5),
                    ("Kartu Identitas Anak", 10)]
_VOLUME = {"64.01": 0.6, "64.02": 1.2, "64.03": 0.6, "64.07": 0.35, "64.08": 0.7,
           "64.09": 0.5, "64.11": 0.1, "64.71": 1.4, "64.72": 1.6, "64.74": 0.5}


def _rng(kind: str, key: str) -> random.Random:
    return random.Random(f"{SEED}:{kind}:{key}")


def _name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"


def _nik(rng: random.Random, kode_wilayah: str) -> str:
    born = date(1955, 1, 1) + timedelta(days=rng.randrange(0, 50 * 365))
    day = born.day + (40 if rng.random() < 0.5 else 0)
    return (kode_wilayah.replace(".", "") + f"{rng.randint(1, 12):02d}"
            + f"{day:02d}{born.month:02d}{born.year % 100:02d}" + f"{rng.randint(1, 9999):04d}")


def _phone(rng: random.Random) -> str:
    return f"08{rng.choice('1258')}{rng.randint(1, 9)}{rng.randint(10_000_000, 99_999_999)}"


def id_date(day: date) -> str:
    """A date as Indonesian exports write it: 7 Maret 2024."""
    return f"{day.day} {_BULAN[day.month - 1]} {day.year}"


def id_number(value: float, decimals: int = 1) -> str:
    """A number as Indonesian exports write it: 1.234,5."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "_").replace(".", ",").replace("_", ".")


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day < end:
        yield day
        day += timedelta(days=1)


# --- Mal Pelayanan Publik queue system (REST API, page pagination) ---------------------------

def mpp_visits(day: date) -> list[dict]:
    """Every queue ticket of ``day`` in the MPP queue system, in arrival order."""
    rng = _rng("mpp", day.isoformat())
    weekday = day.weekday()
    if weekday == 6:  # the malls are closed on Sunday
        return []
    visits = []
    for kode_mpp, nama_mpp, kode_wilayah, volume in MPP:
        factor = volume * (0.4 if weekday == 5 else 1.0)
        for kode_tenant, nama_tenant, services in TENANTS:
            if kode_tenant == "BPN" and kode_mpp == "MPP-KKR":
                continue  # no land office desk in this mall
            for layanan, tunggu in services:
                for _ in range(round(rng.randint(2, 14) * factor)):
                    datang = datetime.combine(day, time(8, 0)) + timedelta(minutes=rng.randrange(0, 7 * 60))
                    selesai = rng.random() > 0.06
                    visits.append({
                        "kode_mpp": kode_mpp,
                        "nama_mpp": nama_mpp,
                        "kode_wilayah": kode_wilayah,
                        "kode_tenant": kode_tenant,
                        "nama_tenant": nama_tenant,
                        "layanan": layanan,
                        "waktu_kedatangan": datang.isoformat() + "+08:00",
                        "status": "SELESAI" if selesai else "BATAL",
                        "waktu_tunggu_menit": max(1, round(rng.gauss(tunggu, tunggu * 0.4))) if selesai else None,
                        "pengunjung": {"nama": _name(rng), "no_hp": _phone(rng)},
                    })
    visits.sort(key=lambda v: (v["waktu_kedatangan"], v["kode_mpp"], v["kode_tenant"], v["layanan"]))
    for i, v in enumerate(visits, 1):
        v["nomor_tiket"] = f"{v['kode_mpp']}-{day:%Y%m%d}-{i:05d}"
    return visits


def mpp_visits_between(start: date, end: date) -> list[dict]:
    return [v for day in _days(start, end) for v in mpp_visits(day)]


# --- SP4N-LAPOR! complaints (REST API, cursor pagination, token) -----------------------------

def lapor_complaints(month: date) -> list[dict]:
    """Every complaint filed in ``month`` (first day) about agencies in East Kalimantan."""
    rng = _rng("lapor", f"{month:%Y-%m}")
    next_month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    days = (next_month - month).days
    rows = []
    for kategori in LAPOR_KATEGORI:
        for _ in range(rng.randint(15, 60)):
            filed = datetime.combine(month + timedelta(days=rng.randrange(days)), time(0)) + timedelta(
                minutes=rng.randrange(24 * 60))
            status = rng.choices([s for s, _ in LAPOR_STATUS], [w for _, w in LAPOR_STATUS])[0]
            kode_wilayah = rng.choice(list(KABUPATEN_KOTA))
            selesai = filed + timedelta(days=max(1, round(rng.expovariate(1 / 12))), hours=rng.randint(0, 8))
            rows.append({
                "kategori": kategori,
                "status": status,
                "tanggal_laporan": filed.isoformat() + "+08:00",
                "tanggal_selesai": selesai.isoformat() + "+08:00" if status == "Selesai" else None,
                "kode_wilayah": kode_wilayah,
                "instansi_tujuan": f"Pemerintah {KABUPATEN_KOTA[kode_wilayah]}",
                "judul": f"Laporan {kategori.lower()} di {KABUPATEN_KOTA[kode_wilayah]}",
                "pelapor": {"nama": _name(rng), "nik": _nik(rng, kode_wilayah), "no_hp": _phone(rng)},
            })
    rows.sort(key=lambda r: (r["tanggal_laporan"], r["kategori"]))
    for i, r in enumerate(rows, 1):
        r["tracking_id"] = f"LPR{month:%Y%m}{i:05d}"
    return rows


def lapor_complaints_between(start: date, end: date) -> list[dict]:
    """Complaints filed on ``start <= day < end``."""
    rows, month = [], start.replace(day=1)
    while month < end:
        rows += [r for r in lapor_complaints(month) if start.isoformat() <= r["tanggal_laporan"][:10] < end.isoformat()]
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return rows


# --- Disdukcapil civil-registry export (CSV, `;`, Windows-1252, decimal comma) ---------------

DUKCAPIL_HEADER = ["No", "NIK", "Nama Pemohon", "Kode Wilayah", "Kabupaten/Kota", "Jenis Dokumen",
                   "Tanggal Terbit", "Lama Proses (jam)", "Petugas"]


def dukcapil_rows(month: date) -> list[list[str]]:
    """The rows of the monthly civil-registry export, as the text the agency's Excel writes."""
    rng = _rng("dukcapil", f"{month:%Y-%m}")
    next_month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    days = (next_month - month).days
    rows = []
    for kode, volume in _VOLUME.items():
        for dokumen, base in DOKUMEN_DUKCAPIL:
            for _ in range(max(1, round(rng.randint(base // 2, base) * volume))):
                terbit = month + timedelta(days=rng.randrange(days))
                # Most documents take hours; a few wait weeks for blanks (over a thousand hours).
                jam = rng.uniform(0.5, 72) if rng.random() > 0.02 else rng.uniform(1000, 1500)
                rows.append([str(len(rows) + 1), _nik(rng, kode), _name(rng), kode, KABUPATEN_KOTA[kode],
                             dokumen, id_date(terbit), id_number(jam), _name(rng)])
    return rows


def dukcapil_export(month: date) -> bytes:
    """The monthly export file as the agency sends it: Windows-1252, `;`-separated, CRLF."""
    lines = [";".join(DUKCAPIL_HEADER)] + [";".join(r) for r in dukcapil_rows(month)]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


# --- SKM satisfaction survey export (XLSX, title rows, one row per respondent) ---------------

# The survey app writes element names as headers and, like many local apps, puts Sarana before
# Penanganan Pengaduan: readers must go by name, never by position or code.
SKM_ELEMENT_ORDER = [0, 1, 2, 3, 4, 5, 6, 8, 7]


def skm_header() -> list[str]:
    return (["No", "Tanggal Survei", "Kode Unit", "Unit Layanan", "Jenis Kelamin", "Usia", "Pendidikan"]
            + [UNSUR[i][1] for i in SKM_ELEMENT_ORDER] + ["Saran"])


def skm_respondents(year: int, semester: int) -> list[list]:
    """One row per respondent of the semester: answers 1..4, a few left blank."""
    rng = _rng("skm", f"{year}-S{semester}")
    first = date(year, 1 if semester == 1 else 7, 1)
    rows = []
    for kode, (_nama, populasi) in SKM_UNIT_LAYANAN.items():
        quality = rng.uniform(2.7, 3.6)
        # Some units fall short of the Krejcie-Morgan minimum.
        n = rng.randint(int(populasi * 0.08), int(populasi * 0.3)) if populasi < 2000 else rng.randint(250, 450)
        for _ in range(n):
            answers = []
            for _i in range(9):
                value = min(4, max(1, round(rng.gauss(quality, 0.6))))
                answers.append(None if rng.random() < 0.015 else value)
            day = first + timedelta(days=rng.randrange(181))
            rows.append([id_date(day), kode, SKM_UNIT_LAYANAN[kode][0], rng.choice(["L", "P"]),
                         rng.randint(17, 70), rng.choice(["SD", "SMP", "SMA", "D3", "S1", "S2"]),
                         *[answers[i] for i in SKM_ELEMENT_ORDER], ""])
    rows.sort(key=lambda r: (r[1], r[0]))
    return [[i, *r] for i, r in enumerate(rows, 1)]


def skm_workbook(rows: list[list], year: int, semester: int) -> bytes:
    """An XLSX export with the app's title rows above the header."""
    from openpyxl import Workbook

    book = Workbook()
    ws = book.active
    ws.title = "Data Responden"
    ws.append(["REKAPITULASI SURVEI KEPUASAN MASYARAKAT"])
    ws.append(["Pemerintah Provinsi Kalimantan Timur"])
    ws.append([f"Periode: Semester {'I' if semester == 1 else 'II'} Tahun {year}"])
    ws.append([])
    ws.append(skm_header())
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return _fixed_timestamps(out.getvalue(), f"{year}-{6 if semester == 1 else 12:02d}-28T16:00:00Z")


def _fixed_timestamps(xlsx: bytes, stamp: str) -> bytes:
    """The same workbook with fixed zip and document times, so the export is byte-identical each time.

    openpyxl stamps "modified" with the current time and zip entries with the current date.
    """
    import re
    import zipfile

    source, out = zipfile.ZipFile(io.BytesIO(xlsx)), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = re.sub(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*", rb"\g<1>" + stamp.encode(), data)
            target.writestr(zipfile.ZipInfo(info.filename, date_time=(2026, 1, 1, 0, 0, 0)), data,
                            compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def skm_export(year: int, semester: int) -> bytes:
    return skm_workbook(skm_respondents(year, semester), year, semester)


def write_exports(landing: Path, months: list[date], semesters: list[tuple[int, int]]) -> list[Path]:
    """Drop the agencies' export files for these periods into the landing folder, as they send them."""
    written = []
    for month in months:
        path = landing / "dukcapil" / f"layanan_dukcapil_{month:%Y-%m}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(dukcapil_export(month))
        written.append(path)
    for year, semester in semesters:
        path = landing / "skm" / f"skm_{year}-S{semester}.xlsx"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(skm_export(year, semester))
        written.append(path)
    return written


def api_connections(base_url: str) -> dict[str, str]:
    """Airflow connection environment variables pointing both agency APIs at ``base_url``."""
    return {
        "AIRFLOW_CONN_MPP_ANTREAN": json.dumps(
            {"conn_type": "http", "host": base_url, "login": MPP_USER, "password": MPP_PASSWORD}),
        "AIRFLOW_CONN_SP4N_LAPOR": json.dumps({"conn_type": "http", "host": base_url, "password": LAPOR_TOKEN}),
    }
