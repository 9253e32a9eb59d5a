"""P1: load N rows x 10 columns into the DataStore of a real local CKAN, against the floor and DataPusher.

Starts (or reuses) its own devstack instance and measures, on the same PostgreSQL server:
  floor      plain COPY of the same rows (CSV already in memory) into a scratch table
  fast path  satudata.publish.datastore.sync_datastore with the DataStore write database (COPY)
  API path   satudata.publish.datastore.sync_datastore through datastore_upsert only (batch size and calls
             in flight from satudata.settings, printed with the figures)
  baseline b DataPusher-style: 250-row datastore_upsert calls (on a subset, extrapolated)
Goal of issue 7: fast path <= 2x the floor; API path >= 5x faster than (b).

    .venv/bin/python bench/p1_datastore_load.py [--rows 1000000] [--baseline-rows 20000] [--keep]
"""

from __future__ import annotations

import argparse
import configparser
import json
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

INSTANCE, PORT = "bench", 5099
DATAPUSHER_CHUNK = 250

# Ten columns of the kinds the catalog declares: codes, names, counts, amounts, a date, a flag.
COLUMNS = [("id_baris", "int64"), ("tahun", "int64"), ("bulan", "int64"), ("kode_kabupaten_kota", "string"),
           ("jenis_izin", "string"), ("jumlah", "int64"), ("rata_rata_hari", "float64"),
           ("persentase", "float64"), ("tanggal", "date"), ("sesuai_standar", "bool")]


def rows(n: int) -> pd.DataFrame:
    """N deterministic rows with a few missing values; ``id_baris`` is the primary key."""
    rng = np.random.default_rng(64)
    kode = np.array([f"64.{k:02d}" for k in (1, 2, 3, 4, 5, 7, 8, 9, 11, 71, 72, 74)])
    jenis = np.array(["Persetujuan Bangunan Gedung", "Surat Izin Praktik Apoteker", "Izin Trayek Angkutan"])
    frame = pd.DataFrame({
        "id_baris": pd.array(np.arange(n), dtype="Int64"),
        "tahun": pd.array(2020 + rng.integers(0, 7, n), dtype="Int64"),
        "bulan": pd.array(rng.integers(1, 13, n), dtype="Int64"),
        "kode_kabupaten_kota": kode[rng.integers(0, len(kode), n)],
        "jenis_izin": jenis[rng.integers(0, 3, n)],
        "jumlah": pd.array(rng.integers(0, 5000, n), dtype="Int64"),
        "rata_rata_hari": np.round(rng.random(n) * 30, 2),
        "persentase": np.round(rng.random(n) * 100, 3),
        "tanggal": (pd.Timestamp("2020-01-01") + pd.to_timedelta(rng.integers(0, 2500, n), unit="D")).date,
        "sesuai_standar": rng.random(n) < 0.8,
    })
    frame.loc[::97, "rata_rata_hari"] = np.nan
    frame.loc[::89, "jumlah"] = pd.NA
    return frame


def table_entry() -> SimpleNamespace:
    """The part of a catalog entry the DataStore load reads: columns and primary key."""
    cols = [SimpleNamespace(name=n, type=t, description=f"kolom {n}", unit=None) for n, t in COLUMNS]
    return SimpleNamespace(table=SimpleNamespace(columns=cols, primary_key=["id_baris"]))


def portal() -> dict:
    proc = subprocess.run([sys.executable, str(REPO / "devstack" / "ckanstack.py"), "up", "--instance", INSTANCE,
                           "--port", str(PORT)], stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def write_dsn(ini_path: str) -> str:
    ini = configparser.RawConfigParser(strict=False)
    ini.read(ini_path)
    return ini.get("app:main", "ckan.datastore.write_url")


def new_resource(client, package_id: str, name: str) -> dict:
    return client.call_action("resource_create", {"package_id": package_id, "name": name,
                                                  "url": f"http://example.invalid/{name}"})


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--baseline-rows", type=int, default=20_000,
                        help="rows actually loaded for baseline (b); the full figure is extrapolated")
    parser.add_argument("--keep", action="store_true", help="leave the bench CKAN instance running")
    args = parser.parse_args()

    import psycopg2
    from ckanapi import RemoteCKAN
    from psycopg2 import sql

    from satudata import settings
    from satudata.publish.datastore import (
        DATASTORE_TYPES,
        _copy_text,
        batch_rows,
        datastore_fields,
        sync_datastore,
        to_records,
    )

    info = portal()
    try:
        client = RemoteCKAN(info["url"], apikey=info["api_token"])
        dsn = write_dsn(info["ini"])
        entry = table_entry()
        frame = rows(args.rows)
        print(f"P1 DataStore load: {args.rows:,} rows x {len(COLUMNS)} columns into CKAN at {info['url']}")
        try:
            client.call_action("dataset_purge", {"id": "bench-p1"})
        except Exception:  # not there yet
            pass
        try:
            client.call_action("organization_create", {"name": "bench-p1-org"})
        except Exception:  # kept from an earlier run
            pass
        pkg = client.call_action("package_create", {"name": "bench-p1", "owner_org": "bench-p1-org"})

        # (floor) the same rows, already as CSV, COPYed into a plain table of the same types.
        names = [n for n, _ in COLUMNS]
        buf = _copy_text(frame, names)
        conn = psycopg2.connect(dsn)
        scratch = sql.Identifier("bench_p1_floor")
        with conn, conn.cursor() as cur:
            cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(scratch))
            cur.execute(sql.SQL("CREATE TABLE {} ({})").format(scratch, sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(DATASTORE_TYPES[t])) for n, t in COLUMNS)))
        started = time.perf_counter()
        with conn, conn.cursor() as cur:
            cur.copy_expert(sql.SQL("COPY {} FROM STDIN WITH (FORMAT csv)").format(scratch).as_string(cur), buf)
        floor = time.perf_counter() - started
        with conn, conn.cursor() as cur:
            cur.execute(sql.SQL("DROP TABLE {}").format(scratch))
        conn.close()

        # (b) DataPusher: datastore_create, then 250-row insert calls (DataPusher inserts, it does not
        # upsert) asking CKAN to count the records on the last call only, as DataPusher does. Run
        # first, on a quiet database: the 1M-row loads below leave autovacuum work behind them.
        subset = frame.iloc[:min(args.baseline_rows, args.rows)]
        dp_res = new_resource(client, pkg["id"], "datapusher.csv")

        def datapusher() -> None:
            client.call_action("datastore_create", {"resource_id": dp_res["id"], "force": True,
                                                    "fields": datastore_fields(entry), "primary_key": ["id_baris"]})
            for start in range(0, len(subset), DATAPUSHER_CHUNK):
                client.call_action("datastore_upsert", {
                    "resource_id": dp_res["id"], "force": True, "method": "insert",
                    "records": to_records(subset.iloc[start:start + DATAPUSHER_CHUNK]),
                    "calculate_record_count": start + DATAPUSHER_CHUNK >= len(subset)})

        measured = timed(datapusher)
        baseline = measured * args.rows / len(subset)
        # (project) fast path and API path: the whole load from the DataFrame, table creation included.
        fast_res = new_resource(client, pkg["id"], "fast.csv")
        fast = timed(lambda: sync_datastore(client, fast_res, entry, frame, frame, None, write_dsn=dsn))
        api_res = new_resource(client, pkg["id"], "api.csv")
        api = timed(lambda: sync_datastore(client, api_res, entry, frame, frame, None))
        for res in (fast_res, api_res):
            total = client.call_action("datastore_search", {"resource_id": res["id"], "limit": 0})["total"]
            assert total == args.rows, f"{res['name']}: {total} rows in the DataStore, expected {args.rows}"

        client.call_action("dataset_purge", {"id": pkg["id"]})

        def line(label: str, seconds: float) -> str:
            return f"  {label:<44} {seconds:9.2f} s  {args.rows / seconds:12,.0f} rows/s"

        print(line("(floor) PostgreSQL COPY, scratch table", floor))
        print(line("(project) fast path: datastore_create + COPY", fast))
        load = settings.datastore_load()
        size = batch_rows(to_records(frame.iloc[:1000]), load.batch_rows, load.request_mb * 1024 * 1024)
        print(line(f"(project) API path: {size:,}-row calls, {load.parallel_requests} in flight",
                   api))
        print(f"  (b) DataPusher-style, 250-row calls: {measured:.2f} s for {len(subset):,} rows measured")
        label = "(b) same, EXTRAPOLATED linearly to all rows" if len(subset) < args.rows else "(b) all rows"
        print(line(label, baseline))
        print(f"  fast path / floor = {fast / floor:.2f}x   (goal <= 2x: {'met' if fast / floor <= 2 else 'NOT met'})")
        print(f"  API path / floor  = {api / floor:.2f}x")
        print(f"  (b) / fast path   = {baseline / fast:.1f}x faster")
        verdict = "met" if baseline / api >= 5 else "NOT met"
        print(f"  (b) / API path    = {baseline / api:.1f}x faster   (goal >= 5x: {verdict})")
    finally:
        if not args.keep:
            subprocess.run([sys.executable, str(REPO / "devstack" / "ckanstack.py"), "down", "--instance", INSTANCE,
                            "--purge"], check=False, stdout=subprocess.DEVNULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
