"""Every catalog DAG on a real distributed Airflow: scheduler, dag-processor, api-server and
Celery workers as separate processes (Redis broker, PostgreSQL metadata database), and the
LocalExecutor on PostgreSQL. Runs are triggered through the REST API, not dag.test()."""

import json
import subprocess
import sys

import pytest
import requests

from satudata.catalog import load_catalog
from tests.conftest import REPO

pytestmark = pytest.mark.integration


def _cluster(tmp_path, ckan_portal, *args: str) -> dict:
    proc = subprocess.run(
        [sys.executable, str(REPO / "devstack" / "airflow_cluster.py"), *args,
         "--ckan-url", ckan_portal["url"], "--ckan-token", ckan_portal["api_token"],
         "--data-dir", str(tmp_path / "data"), "--run-dir", str(tmp_path / "cluster"),
         "--logical-date", "2026-11-05T00:00:00+00:00", "--timeout", "900"],
        stdout=subprocess.PIPE, text=True, timeout=1200, check=False,
    )
    assert proc.stdout.strip(), f"no result; logs in {tmp_path / 'cluster'}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _no_leftovers(result: dict) -> None:
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert result["logs"] not in ps, "a process of the cluster is still running"


def test_celery_executor_with_two_workers(tmp_path, ckan_portal):
    result = _cluster(tmp_path, ckan_portal, "--executor", "celery", "--workers", "2")
    expected = {e.id for e in load_catalog()}
    assert set(result["states"]) == expected
    assert all(state == "success" for state in result["states"].values()), result["states"]
    # Tasks that ran (record_failure is skipped on success and runs nowhere).
    hosts = {t["hostname"] for tasks in result["tasks"].values() for t in tasks.values() if t["state"] == "success"}
    assert hosts == {"worker1", "worker2"}, f"tasks ran on {hosts}"
    for dag_id in expected:
        name = next(e.ckan.name for e in load_catalog() if e.id == dag_id)
        page = requests.get(f"{ckan_portal['url']}/api/3/action/package_show", params={"id": name}, timeout=30)
        assert page.status_code == 200 and len(page.json()["result"]["resources"]) >= 2
    _no_leftovers(result)


def test_local_executor_on_postgres(tmp_path, ckan_portal):
    result = _cluster(tmp_path, ckan_portal, "--executor", "local")
    assert all(state == "success" for state in result["states"].values()), result["states"]
    assert set(result["states"]) == {e.id for e in load_catalog()}
    _no_leftovers(result)
