"""Rows as DataStore records and the size of each API call, without a portal."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest

from satudata.catalog import get_entry
from satudata.periods import Period
from satudata.publish.datastore import batch_rows, to_records
from satudata.run import RunContext
from satudata.steps import period_filters


def test_records_are_json_ready_with_nulls_for_missing_values():
    frame = pd.DataFrame({
        "kode": pd.array(["64.01", None], dtype="string"),
        "jumlah": pd.array([3, None], dtype="Int64"),
        "baris": np.array([1, 2], dtype="int64"),
        "rata_rata": [2.5, np.nan],
        "sesuai": [True, False],
        "tanggal": [dt.date(2026, 9, 1), None],
        "waktu": pd.to_datetime(["2026-09-01 08:30", None]),
    })
    records = to_records(frame)
    assert records == [
        {"kode": "64.01", "jumlah": 3, "baris": 1, "rata_rata": 2.5, "sesuai": True,
         "tanggal": "2026-09-01", "waktu": "2026-09-01T08:30:00"},
        {"kode": None, "jumlah": None, "baris": 2, "rata_rata": None, "sesuai": False,
         "tanggal": None, "waktu": None},
    ]
    # Plain Python values only: json.dumps fails on numpy scalars and pandas NA.
    assert json.loads(json.dumps(records)) == records
    assert all(type(r["baris"]) is int and type(r["sesuai"]) is bool for r in records)


def test_batches_stay_under_the_row_and_byte_limits():
    sample = [{"kode": "64.01", "nama": "x" * 90}] * 100  # ~110 bytes of JSON a row
    assert batch_rows(sample, 20000, 8 * 1024 * 1024) == 20000
    by_bytes = batch_rows(sample, 20000, 100_000)
    assert 0 < by_bytes < 1000
    assert len(json.dumps(sample[:1] * by_bytes)) <= 100_000
    assert batch_rows(sample, 20000, 10) == 1
    assert batch_rows([], 500, 10) == 500


@pytest.mark.parametrize("schedule, key, columns, filters", [
    ("daily", "2026-10-05", {"date": "tanggal"}, {"tanggal": "2026-10-05"}),
    ("monthly", "2026-10", {"year": "tahun", "month": "bulan"}, {"tahun": 2026, "bulan": 10}),
    ("semiannual", "2026-S2", {"year": "tahun", "semester": "semester"}, {"tahun": 2026, "semester": 2}),
    ("annual", "2024", {"year": "tahun"}, {"tahun": 2024}),
    ("annual", "2024", {"year": "tahun", "month": "bulan"}, {"tahun": 2024}),
    ("quarterly", "2024-Q3", {"year": "tahun", "quarter": "triwulan"}, {"tahun": 2024, "triwulan": 3}),
    ("quarterly", "2024-Q3", {"year": "tahun", "month": "bulan"}, None),
    ("weekly", "2025-W01", {"year": "tahun", "week": "minggu"}, {"tahun": 2025, "minggu": 1}),
    ("weekly", "2025-W01", {"date": "tanggal"}, None),
    ("monthly", "2026-10", {"year": "tahun"}, None),
])
def test_period_filter_by_the_entry_roles(schedule, key, columns, filters):
    entry = get_entry("dpmptsp_izin_terbit_bulanan").model_copy(update={"schedule": schedule,
                                                                        "period_columns": columns})
    assert period_filters(RunContext(entry, Period.from_key(key, schedule), "r")) == filters


def test_period_filters_of_the_bundled_catalog():
    from satudata.catalog import load_catalog

    keys = {"daily": "2026-10-05", "monthly": "2026-10", "semiannual": "2026-S2", "quarterly": "2026-Q3",
            "annual": "2025"}
    found = {e.id: period_filters(RunContext(e, Period.from_key(keys[e.schedule], e.schedule), "r"))
             for e in load_catalog()}
    assert found == {
        "dpmptsp_izin_terbit_bulanan": {"tahun": 2026, "bulan": 10},
        "dukcapil_dokumen_bulanan": {"tahun": 2026, "bulan": 10},
        "lapor_pengaduan_bulanan": {"tahun": 2026, "bulan": 10},
        "mpp_kunjungan_harian": {"tanggal": "2026-10-05"},
        "skm_ikm_semester": {"tahun": 2026, "semester": 2},
        "disdik_sekolah_tahunan": {"tahun": 2025},
        "dinkes_imunisasi_triwulanan": {"tahun": 2026, "triwulan": 3},
        "dishub_penumpang_bulanan": {"tahun": 2026, "bulan": 10},
    }
