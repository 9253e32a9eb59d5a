"""Manual runs through the REST API on a real Airflow: api-server, scheduler and dag-processor with
the LocalExecutor on a fresh PostgreSQL metadata database (``devstack/airflow_cluster.py``'s
pieces, as the backfill test starts them), publishing to the CKAN test portal.

Two runs of the permits DAG (``max_active_runs=1``), triggered one after the other as an operator
would from the UI: first one whose data interval is half a month, which names no period and must
fail at once, without retries; then one with ``logical_date: null`` (Airflow 3's default for a
manual run), which must run the latest complete month before it was triggered, as ``make demo``
does, without waiting long behind the failed one.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest

from tests.integration.local_airflow import local_airflow

pytestmark = pytest.mark.integration

DAG_ID = "dpmptsp_izin_terbit_bulanan"
# Half of October 2026 (WITA): not one monthly period.
HALF_A_MONTH = {"logical_date": "2026-10-15T00:00:00+08:00", "data_interval_start": "2026-10-01T00:00:00+08:00",
                "data_interval_end": "2026-10-15T00:00:00+08:00"}


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_manual_runs_without_a_period_fail_at_once_and_without_logical_date_run_the_latest_month(
        tmp_path, monkeypatch, ckan_portal):
    from ckanapi import RemoteCKAN

    from devstack import airflow_cluster as cluster
    from satudata.catalog import get_entry
    from satudata.periods import Period

    entry = get_entry(DAG_ID)
    client = RemoteCKAN(ckan_portal["url"], apikey=ckan_portal["api_token"])
    data = tmp_path / "data"
    monkeypatch.setenv("SATUDATA_DATA_DIR", str(data))
    with local_airflow(tmp_path, ckan_portal, DAG_ID, "satudata_manual") as af:
        base, token, procs = af.base, af.token, af.procs
        runs_url = f"{base}/api/v2/dags/{DAG_ID}/dagRuns"
        bad = cluster.http("POST", runs_url, token, HALF_A_MONTH)
        good = cluster.http("POST", runs_url, token, {"logical_date": None})
        assert good["logical_date"] is None and good["data_interval_start"] is None

        def finished(run_id: str):
            def check():
                run = cluster.http("GET", f"{runs_url}/{run_id}", token)
                return run if run["state"] in ("success", "failed") else None
            return check

        bad = cluster.wait_for("the run of half a month", finished(bad["dag_run_id"]), 120, procs)
        good = cluster.wait_for("the run without logical date", finished(good["dag_run_id"]), 180, procs, interval=2)
        tasks = {run["dag_run_id"]: {t["task_id"]: t for t in cluster.http(
            "GET", f"{runs_url}/{run['dag_run_id']}/taskInstances", token)["task_instances"]} for run in (bad, good)}
        log = cluster.http("GET", f"{runs_url}/{bad['dag_run_id']}/taskInstances/extract/logs/1?full_content=true",
                           token)

    # The run that names no period failed at its first task's first try; record_failure skipped.
    failed = tasks[bad["dag_run_id"]]
    assert bad["state"] == "failed", f"logs in {tmp_path}"
    assert (failed["extract"]["state"], failed["extract"]["try_number"]) == ("failed", 1)
    assert failed["record_failure"]["state"] == "skipped"
    assert {failed[t]["state"] for t in ("transform", "validate", "write", "publish")} == {"upstream_failed"}
    assert (_instant(bad["end_date"]) - _instant(bad["start_date"])).total_seconds() < 60
    text = json.dumps(log)
    assert "is not one monthly period" in text and "logical date 2026-11-01T00:00:00+08:00 runs 2026-10" in text

    # The run without logical date ran the latest complete month before it was triggered, and published it.
    assert good["state"] == "success", f"logs in {tmp_path}"
    assert {t["state"] for t in tasks[good["dag_run_id"]].values()} == {"success", "skipped"}
    assert _instant(good["start_date"]) >= _instant(bad["end_date"])  # max_active_runs=1: it waited, briefly
    period = Period.latest_complete("monthly", _instant(good["run_after"]))
    record = json.loads((data / "runs" / DAG_ID / f"{period.key}.json").read_text(encoding="utf-8"))
    assert (record["run_id"], record["status"]) == (good["dag_run_id"], "published")
    assert sorted(p.stem for p in (data / "curated" / DAG_ID).glob("*.parquet")) == [period.key]
    package = client.action.package_show(id=entry.ckan.name)
    assert any(r["name"] == f"{entry.ckan.name}.csv" for r in package["resources"])
    client.action.dataset_purge(id=entry.ckan.name)
