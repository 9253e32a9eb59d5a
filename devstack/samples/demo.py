"""``make demo``: run every catalog DAG once for its latest complete period and summarise.

Publishes to the portal of ``AIRFLOW_CONN_CKAN_DEFAULT`` when it is set; otherwise starts the
project's local CKAN (devstack/ckanstack.py) and publishes there. The sample agency systems
come up too: the SQLite licensing database, the local agency API server (started here and
stopped by its PID at the end) and the export files dropped into the landing folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from satudata import settings

DEVSTACK = settings.REPO_ROOT / "devstack" / "ckanstack.py"


def local_portal(instance: str = "demo", port: int = 5000) -> dict:
    """Start (or find running) the local CKAN portal and return its URL and API token."""
    proc = subprocess.run(
        [sys.executable, str(DEVSTACK), "up", "--instance", instance, "--port", str(port)],
        stdout=subprocess.PIPE, text=True, check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"the local CKAN portal did not start (exit {proc.returncode}); see the messages above")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ckan_connection(portal: dict) -> str:
    return json.dumps({"conn_type": "ckan", "host": portal["url"], "password": portal["api_token"]})


def start_agency_api() -> subprocess.Popen:
    """Start the local agency API server on a free loopback port; connections point at it."""
    from devstack.samples.agencies import api_connections

    proc = subprocess.Popen([sys.executable, "-m", "devstack.samples.agency_api", "--port", "0"],
                            stdout=subprocess.PIPE, text=True, cwd=settings.REPO_ROOT)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line:
        proc.wait(timeout=10)
        raise SystemExit(f"the agency API server did not start (exit {proc.returncode})")
    url = json.loads(line)["url"]
    print(f"Agency API server (PID {proc.pid}) at {url}", file=sys.stderr)
    os.environ.update(api_connections(url))
    return proc


def stop(proc: subprocess.Popen) -> None:
    """Stop a process this demo started, by its PID."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def land_exports(today: date) -> None:
    """Drop the agencies' exports and tables of the recent periods into the landing folder."""
    from devstack.samples.agencies import write_exports
    from devstack.samples.tables import write_tables

    months, month = [], today.replace(day=1)
    for _ in range(3):
        month = (month - timedelta(days=1)).replace(day=1)
        months.append(month)
    semester = (today.year, 1 if today.month <= 6 else 2)
    semesters = []
    for _ in range(2):
        semester = (semester[0], 1) if semester[1] == 2 else (semester[0] - 1, 2)
        semesters.append(semester)
    written = write_exports(settings.landing_dir(), months, semesters) + write_tables(settings.landing_dir(), today)
    print(f"Landed {len(written)} export files in {settings.landing_dir()}", file=sys.stderr)


def licensing_db() -> Path:
    """The sample licensing database (SQLite, generated on first use) in the data dir."""
    return settings.data_dir() / "sources" / "dpmptsp_perizinan.sqlite"


def demo_environment() -> dict[str, str]:
    """The local Airflow environment plus the sample licensing database's connection.

    Values already set in the environment win.
    """
    defaults = {
        **settings.airflow_environment(),
        "AIRFLOW_CONN_DPMPTSP_PERIZINAN": json.dumps({"conn_type": "sqlite", "host": str(licensing_db())}),
    }
    return {key: os.environ.get(key, value) for key, value in defaults.items()}


def prepare_environment() -> None:
    """Set the Airflow environment, the sample source and the CKAN connection."""
    for key, value in demo_environment().items():
        os.environ[key] = value
    from devstack.samples.licensing import ensure_licensing_sqlite

    ensure_licensing_sqlite(licensing_db())
    land_exports(datetime.now(ZoneInfo(settings.TIMEZONE)).date())
    if os.environ.get("AIRFLOW_CONN_CKAN_DEFAULT"):
        print("Publishing to the portal of AIRFLOW_CONN_CKAN_DEFAULT", file=sys.stderr)
    else:
        print("AIRFLOW_CONN_CKAN_DEFAULT is not set: starting the local CKAN portal", file=sys.stderr)
        os.environ["AIRFLOW_CONN_CKAN_DEFAULT"] = ckan_connection(local_portal())
    subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        check=True, stdout=subprocess.DEVNULL,
    )


@contextmanager
def output_to(log: TextIO) -> Iterator[None]:
    """Send everything written to this process's stdout and stderr (fds 1 and 2) to ``log``."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    os.dup2(log.fileno(), 1)
    os.dup2(log.fileno(), 2)
    try:
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        log.flush()
        for fd, copy in zip((1, 2), saved, strict=True):
            os.dup2(copy, fd)
            os.close(copy)


def demo_log_path() -> Path:
    """Where a demo run writes Airflow's full log: ``<data dir>/logs/demo-<UTC time>.log``."""
    return settings.data_dir() / "logs" / f"demo-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.log"


def run_all(log_path: Path) -> list[dict]:
    """Run each catalog DAG once with ``dag.test()``; return one summary row per dataset.

    Airflow's log goes to ``log_path``; the terminal gets one line per dataset as it finishes.
    """
    from satudata.catalog import load_catalog
    from satudata.periods import Period
    from satudata.run import run_record_path

    entries = load_catalog()
    log_path.parent.mkdir(parents=True, exist_ok=True)
    print(f"Running {len(entries)} datasets with dag.test(); Airflow's full log: {log_path}", flush=True)
    rows = []
    with log_path.open("a", encoding="utf-8") as log:
        with output_to(log):
            from airflow.dag_processing.dagbag import DagBag

            bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
        if bag.import_errors:
            raise SystemExit(f"DAG import errors in {sorted(bag.import_errors)}; see {log_path}")
        for number, entry in enumerate(entries, start=1):
            started = time.monotonic()
            with output_to(log):
                # A manual run infers the latest complete period before now as its data interval.
                run = bag.dags[entry.id].test(logical_date=datetime.now(UTC))
            period = Period.from_interval(run.data_interval_start, run.data_interval_end, entry.schedule)
            path = run_record_path(entry, period)
            facts = json.loads(path.read_text()) if path.exists() else {}
            row = {
                "dataset": entry.id,
                "period": period.key,
                "state": str(run.state),
                "rows": facts.get("rows", "-"),
                "validation": facts.get("validation", "-"),
                "url": facts.get("dataset_url", "-") if str(run.state) == "success" else "-",
            }
            rows.append(row)
            print(progress_line(number, len(entries), row, time.monotonic() - started, facts), flush=True)
    return rows


def progress_line(number: int, total: int, row: dict, seconds: float, facts: dict) -> str:
    """``[3/8] <dataset> <period>: success, 67 rows, validation passed (12 s)``; a failure says why."""
    line = (f"[{number}/{total}] {row['dataset']} {row['period']}: {row['state']}, {row['rows']} rows, "
            f"validation {row['validation']} ({seconds:.0f} s)")
    if row["state"] != "success" and facts.get("error"):
        line += f"\n    {str(facts['error']).splitlines()[0]}"
    return line


def print_summary(rows: list[dict]) -> None:
    headers = ["dataset", "period", "state", "rows", "validation", "url"]
    widths = {h: max(len(h), *(len(str(r[h])) for r in rows)) for h in headers}
    line = "  ".join(h.ljust(widths[h]) for h in headers)
    print("\n" + line + "\n" + "-" * len(line))
    for r in rows:
        print("  ".join(str(r[h]).ljust(widths[h]) for h in headers))


def main(argv: list[str] | None = None) -> int:
    """``make demo``; with ``env``, print the demo's Airflow environment as export lines instead."""
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["env"]:
        import shlex

        for key, value in demo_environment().items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    prepare_environment()
    api = start_agency_api()
    log_path = demo_log_path()
    try:
        rows = run_all(log_path)
    finally:
        stop(api)
    print_summary(rows)
    print(f"\nAirflow's full log: {log_path}")
    return 0 if all(r["state"] == "success" for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
