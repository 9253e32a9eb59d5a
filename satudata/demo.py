"""``make demo``: run every catalog DAG once for its latest complete period and summarise.

Publishes to the portal of ``AIRFLOW_CONN_CKAN_DEFAULT`` when it is set; otherwise starts the
project's local CKAN (devstack/ckanstack.py) and publishes there.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

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


def prepare_environment() -> None:
    """Set the Airflow environment, the sample source and the CKAN connection."""
    for key, value in settings.airflow_environment().items():
        os.environ[key] = value
    from satudata.sample_sources import ensure_licensing_sqlite

    ensure_licensing_sqlite(settings.sample_licensing_db())
    if os.environ.get("AIRFLOW_CONN_CKAN_DEFAULT"):
        print("Publishing to the portal of AIRFLOW_CONN_CKAN_DEFAULT", file=sys.stderr)
    else:
        print("AIRFLOW_CONN_CKAN_DEFAULT is not set: starting the local CKAN portal", file=sys.stderr)
        os.environ["AIRFLOW_CONN_CKAN_DEFAULT"] = ckan_connection(local_portal())
    subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        check=True, stdout=subprocess.DEVNULL,
    )


def run_all() -> list[dict]:
    """Run each catalog DAG once with ``dag.test()``; return one summary row per dataset."""
    from airflow.dag_processing.dagbag import DagBag

    from satudata.catalog import load_catalog
    from satudata.periods import Period
    from satudata.steps import run_record_path

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        raise SystemExit(f"DAG import errors: {bag.import_errors}")
    rows = []
    for entry in load_catalog():
        dag = bag.dags[entry.id]
        # A manual run infers the latest complete period before now as its data interval.
        run = dag.test(logical_date=datetime.now(UTC))
        period = Period.from_interval(run.data_interval_start, run.data_interval_end, entry.schedule)
        path = run_record_path(entry, period)
        facts = json.loads(path.read_text()) if path.exists() else {}
        rows.append({
            "dataset": entry.id,
            "period": period.key,
            "state": str(run.state),
            "rows": facts.get("rows", "-"),
            "validation": facts.get("validation", "-"),
            "url": facts.get("dataset_url", "-") if str(run.state) == "success" else "-",
        })
    return rows


def print_summary(rows: list[dict]) -> None:
    headers = ["dataset", "period", "state", "rows", "validation", "url"]
    widths = {h: max(len(h), *(len(str(r[h])) for r in rows)) for h in headers}
    line = "  ".join(h.ljust(widths[h]) for h in headers)
    print("\n" + line + "\n" + "-" * len(line))
    for r in rows:
        print("  ".join(str(r[h]).ljust(widths[h]) for h in headers))


def main() -> int:
    prepare_environment()
    rows = run_all()
    print_summary(rows)
    return 0 if all(r["state"] == "success" for r in rows) else 1
