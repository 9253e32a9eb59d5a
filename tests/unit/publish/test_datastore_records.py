"""Rows as DataStore records and the size of each API call, without a portal."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd

from satudata.publish.datastore import batch_rows, to_records


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
