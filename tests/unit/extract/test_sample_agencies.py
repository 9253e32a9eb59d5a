"""The sample agency systems are deterministic and look like the real ones."""

from __future__ import annotations

import re
from datetime import date

from devstack.samples import agencies as s


def test_exports_and_api_records_are_the_same_every_time():
    assert s.dukcapil_export(date(2026, 10, 1)) == s.dukcapil_export(date(2026, 10, 1))
    assert s.skm_export(2026, 1) == s.skm_export(2026, 1)
    assert s.mpp_visits(date(2026, 10, 5)) == s.mpp_visits(date(2026, 10, 5))
    assert s.lapor_complaints(date(2026, 10, 1)) == s.lapor_complaints(date(2026, 10, 1))
    assert s.dukcapil_export(date(2026, 10, 1)) != s.dukcapil_export(date(2026, 9, 1))


def test_raw_records_carry_personal_data_like_the_real_systems():
    nik = re.compile(r"^64\d{2}\d{2}([0-6]\d|7[01])(0[1-9]|1[0-2])\d{2}\d{4}$")
    rows = s.dukcapil_rows(date(2026, 10, 1))
    assert all(nik.match(r[1]) for r in rows)
    complaints = s.lapor_complaints(date(2026, 10, 1))
    assert all(nik.match(c["pelapor"]["nik"]) for c in complaints)
    assert all(re.match(r"^08[1-35-9]\d{8,11}$", v["pengunjung"]["no_hp"]) for v in s.mpp_visits(date(2026, 10, 5)))


def test_malls_are_closed_on_sunday_and_intervals_are_half_open():
    assert s.mpp_visits(date(2026, 10, 4)) == []
    october = s.lapor_complaints_between(date(2026, 10, 1), date(2026, 11, 1))
    assert october == s.lapor_complaints(date(2026, 10, 1))
    assert all("2026-10-01" <= c["tanggal_laporan"][:10] < "2026-11-01" for c in october)


def test_survey_app_puts_sarana_before_penanganan_pengaduan():
    header = s.skm_header()
    assert header.index("Sarana dan Prasarana") < header.index("Penanganan Pengaduan, Saran dan Masukan")


def test_indonesian_formats():
    assert s.id_number(1234.5) == "1.234,5" and s.id_number(0.75, 2) == "0,75"
    assert s.id_date(date(2024, 3, 7)) == "7 Maret 2024"
