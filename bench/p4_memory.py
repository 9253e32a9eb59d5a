"""P4: peak memory (RSS) of processing a 10M-row source vs a 1M-row source. Goal: <= 1.5x.

Each size runs in a fresh child process through the project's real steps, extract ->
transform -> validate -> write_outputs (no CKAN: publishing does not read the source), for one
month of the permits dataset; the peak is the child's VmHWM (high-water mark of its RSS).
Rows/s are printed for information.

The source is the permits SQL source (``dpmptsp_izin_terbit_bulanan``) on a generated SQLite
table, because it is the catalog's large source by nature (one row per permit application)
and the fastest to make big: rows are inserted from NumPy arrays in about half a minute for
10M, while a 10M-row CSV export or paged API would spend most of the bench producing text or
serving pages. The table holds only the columns the catalog query reads. Generating it is
neither timed nor measured (it happens in this parent process).

    .venv/bin/python bench/p4_memory.py [--rows 1000000,10000000] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Run as a script: the sample agencies (devstack.samples) are imported from the checkout.
sys.path.insert(0, str(REPO))
MONTH = date(2026, 10, 1)

CHILD = r'''
import json, os, sys, time
from datetime import date
sys.path.insert(0, os.path.join(os.environ["SATUDATA_REPO"], "plugins"))

def status(key):
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith(key + ":"))

from satudata import steps
from satudata.catalog import get_entry
from satudata.periods import Period
import agency_sql_hook, great_expectations, pandas, pyarrow.parquet  # imported up front: not per-row cost
from satudata.run import RunContext, run_record_path
from pipeline_clients import source_client
entry = get_entry("dpmptsp_izin_terbit_bulanan")
period = Period("monthly", date(2026, 10, 1), date(2026, 11, 1))
imported_kb = status("VmRSS")
started = time.perf_counter()
raw = steps.extract(RunContext(entry, period, "p4"), source_client(entry))
extracted = time.perf_counter()
extract_peak_kb = status("VmHWM")
staged = steps.transform(RunContext(entry, period, "t"), raw)
gate = steps.validate(RunContext(entry, period, "p4"), staged)
outputs = steps.write_outputs(RunContext(entry, period, "t"), gate)
done = time.perf_counter()
rows = json.loads(open(run_record_path(entry, period)).read())["source_rows"]
print(json.dumps({"peak_kb": status("VmHWM"), "imported_kb": imported_kb, "extract_peak_kb": extract_peak_kb,
                  "rows": rows, "output_rows": int(outputs["period_rows"]), "seconds": done - started,
                  "extract_seconds": extracted - started}))
'''


def make_source(path: Path, rows: int, seed: int = 4) -> None:
    """A SQLite licensing database whose permits table has ``rows`` permits issued in MONTH."""
    import numpy as np

    from devstack.samples.licensing import JENIS_IZIN
    from transforms.reference import KABUPATEN_KOTA

    conn = sqlite3.connect(path)
    conn.executescript(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
        "CREATE TABLE jenis_izin (kode TEXT PRIMARY KEY, nama TEXT NOT NULL, standar_hari INTEGER NOT NULL);"
        "CREATE TABLE permohonan_izin (id INTEGER PRIMARY KEY, kode_wilayah TEXT NOT NULL,"
        " kode_jenis_izin TEXT NOT NULL, tanggal_pengajuan DATE NOT NULL, tanggal_terbit DATE, status TEXT NOT NULL);"
    )
    conn.executemany("INSERT INTO jenis_izin VALUES (?, ?, ?)", JENIS_IZIN)
    regencies = np.array(sorted(KABUPATEN_KOTA))
    kinds = np.array([k for k, _, _ in JENIS_IZIN])
    first = MONTH - timedelta(days=90)
    days = np.array([(first + timedelta(days=i)).isoformat() for i in range(122)])
    rng = np.random.default_rng(seed)
    block = 1_000_000
    for start in range(0, rows, block):
        n = min(block, rows - start)
        issued = rng.integers(90, 90 + 31, n)  # a day of October 2026
        waited = np.minimum(rng.poisson(12, n), 90)  # whole days, a long tail
        status = np.where(rng.random(n) < 0.95, "TERBIT", "DITOLAK")
        conn.executemany(
            "INSERT INTO permohonan_izin VALUES (?, ?, ?, ?, ?, ?)",
            zip(range(start + 1, start + n + 1), regencies[rng.integers(0, len(regencies), n)].tolist(),
                kinds[rng.integers(0, len(kinds), n)].tolist(), days[issued - waited].tolist(),
                days[issued].tolist(), status.tolist(), strict=True),
        )
    conn.commit()
    conn.close()


def measure(rows: int, work: Path) -> dict:
    """Run the steps on a fresh ``rows``-row source in a child process and return its figures."""
    source = work / f"source-{rows}.sqlite"
    began = time.perf_counter()
    make_source(source, rows)
    print(f"  generated {rows:,} source rows in {time.perf_counter() - began:.0f} s (not measured)", flush=True)
    env = {**os.environ, "SATUDATA_REPO": str(REPO), "SATUDATA_DATA_DIR": str(work / f"data-{rows}"),
           "GX_ANALYTICS_ENABLED": "False",
           "AIRFLOW_CONN_DPMPTSP_PERIZINAN": json.dumps({"conn_type": "sqlite", "host": str(source)})}
    done = subprocess.run([sys.executable, "-c", CHILD], env=env, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        raise SystemExit(f"the {rows:,}-row run failed")
    source.unlink()
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000,10000000", help="small,large source rows")
    parser.add_argument("--keep", action="store_true", help="keep the data zones in the temp directory")
    args = parser.parse_args()
    small, large = (int(x) for x in args.rows.split(","))
    work = Path(tempfile.mkdtemp(prefix="satudata-p4-"))
    try:
        print(f"P4 memory: permits SQL source (SQLite), one month, {small:,} vs {large:,} rows")
        figures = {n: measure(n, work) for n in (small, large)}
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    for n, f in figures.items():
        print(f"  {n:>12,} rows: peak RSS {f['peak_kb'] / 1024:7.0f} MiB (after imports {f['imported_kb'] / 1024:.0f}"
              f" MiB, after extract {f['extract_peak_kb'] / 1024:.0f} MiB)  {f['seconds']:6.1f} s"
              f"  {f['rows'] / f['seconds']:9,.0f} rows/s"
              f"  (extract {f['extract_seconds']:.1f} s; {f['output_rows']} output rows)")
    ratio = figures[large]["peak_kb"] / figures[small]["peak_kb"]
    verdict = "met" if ratio <= 1.5 else "NOT met"
    print(f"  peak {large:,} / peak {small:,} = {ratio:.2f}x   (goal <= 1.5x: {verdict})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
