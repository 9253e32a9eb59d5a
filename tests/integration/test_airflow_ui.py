"""``make ui``, started as the README's "The Airflow UI" section says, on a fresh Airflow home.

The command runs in its own process group, as a terminal runs it. The test then checks:
- every socket its processes listen on is a loopback one;
- the admin logs in through the REST API with the password in the file the command names;
- the DAGs are listed and the connections are stored where the UI shows them;
- a manual run of one DAG publishes to the CKAN test portal;
- the task logs, read through the API, have one line with counts per task and no library chatter.
SIGTERM to the process group then stops every process the command started.
"""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import time
import urllib.error
from pathlib import Path
from urllib.parse import quote

import psutil
import pytest

from satudata.publish.ckan import extras_of
from tests.conftest import REPO

pytestmark = pytest.mark.integration

DAG_ID = "dpmptsp_izin_terbit_bulanan"
LOOPBACK = {"127.0.0.1", "::1"}


def readme_ui_commands() -> list[str]:
    """The shell lines of the README's "The Airflow UI" section, comments dropped."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## The Airflow UI\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    return [line.split("#", 1)[0].strip() for line in block.splitlines() if line.split("#", 1)[0].strip()]


def wait_for_line(proc: subprocess.Popen, prefix: str, timeout: float) -> str:
    """The first stdout line of ``proc`` starting with ``prefix``."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if ready:
            line = proc.stdout.readline()
            if line.startswith(prefix):
                return line
            if not line and proc.poll() is not None:
                break
    raise AssertionError(f"no line {prefix!r} from make ui (exit {proc.poll()})")


def listening(pids: set[int]) -> set[tuple[str, int, int]]:
    return {(c.laddr.ip, c.laddr.port, c.pid) for c in psutil.net_connections(kind="inet")
            if c.status == psutil.CONN_LISTEN and c.pid in pids}


def test_make_ui_listens_on_loopback_logs_in_runs_a_dag_and_stops_by_process_group(tmp_path, ckan_portal):
    from ckanapi import NotFound, RemoteCKAN

    from devstack import airflow_cluster as cluster
    from satudata.catalog import get_entry, load_catalog

    assert readme_ui_commands() == ["make ui"]
    entry = get_entry(DAG_ID)
    try:
        RemoteCKAN(ckan_portal["url"], apikey=ckan_portal["api_token"]).action.dataset_purge(id=entry.ckan.name)
    except NotFound:
        pass
    port = cluster.free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "SATUDATA_"))}
    env.update({
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "SATUDATA_DATA_DIR": str(tmp_path / "data"),
        "SATUDATA_RETRY_DELAY_SECONDS": "5",
        "AIRFLOW_CONN_CKAN_DEFAULT": json.dumps(
            {"conn_type": "ckan", "host": ckan_portal["url"], "password": ckan_portal["api_token"]}),
        # Only the run triggered here: unpausing must not add the latest scheduled run.
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
    })
    errors = (tmp_path / "make-ui.err").open("w")
    proc = subprocess.Popen(["make", "ui", f"UI_PORT={port}"], cwd=REPO, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=errors, start_new_session=True)
    tree: list[psutil.Process] = []
    try:
        ready = wait_for_line(proc, "Airflow UI:", 300)
        base = f"http://127.0.0.1:{port}"
        assert base in ready
        password_file = Path(re.search(r"password: in (\S+)", ready).group(1))
        assert password_file == tmp_path / "airflow" / "simple_auth_manager_passwords.json.generated"
        tree = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(" ".join(p.cmdline()) for p in tree)
        for component in (r"api.server", r"scheduler", r"dag.processor", r"triggerer", r"agency_api"):
            assert re.search(component, names), (component, names)

        sockets = listening({p.pid for p in tree})
        assert any(p == port for _, p, _ in sockets)
        assert {ip for ip, _, _ in sockets} <= LOOPBACK, sockets

        with pytest.raises(urllib.error.HTTPError):
            cluster.http("POST", f"{base}/auth/token", body={"username": "admin", "password": "wrong"})
        password = json.loads(password_file.read_text())["admin"]
        token = cluster.http("POST", f"{base}/auth/token",
                             body={"username": "admin", "password": password})["access_token"]

        def all_dags():
            dags = cluster.http("GET", f"{base}/api/v2/dags?limit=100", token)["dags"]
            return dags if {e.id for e in load_catalog()} <= {d["dag_id"] for d in dags} else None

        procs = cluster.Processes(tmp_path)
        dags = cluster.wait_for("the DAGs to be parsed", all_dags, 180, procs)
        assert {d["dag_id"] for d in dags} - {e.id for e in load_catalog()} <= {"satudata_monitor", "satudata_digest"}
        assert all(d["is_paused"] for d in dags)
        stored = {c["connection_id"]: c for c in
                  cluster.http("GET", f"{base}/api/v2/connections?limit=100", token)["connections"]}
        assert stored["ckan_default"]["conn_type"] == "ckan"
        assert stored["ckan_default"]["host"] == ckan_portal["url"]
        assert stored["dpmptsp_perizinan"]["conn_type"] == "sqlite"

        dag_url = f"{base}/api/v2/dags/{DAG_ID}"
        cluster.http("PATCH", dag_url, token, {"is_paused": False})
        run_id = cluster.http("POST", f"{dag_url}/dagRuns", token, {"logical_date": None})["dag_run_id"]

        def finished():
            run = cluster.http("GET", f"{dag_url}/dagRuns/{quote(run_id)}", token)
            return run if run["state"] in ("success", "failed") else None

        run = cluster.wait_for("the manual run", finished, 300, procs, interval=2)
        assert run["state"] == "success", f"component logs in {tmp_path / 'airflow' / 'ui-logs'}"
        package = RemoteCKAN(ckan_portal["url"], apikey=ckan_portal["api_token"]).action.package_show(
            id=entry.ckan.name)
        assert extras_of(package).get("satudata_last_run_id") == run_id

        for task_id in ("extract", "transform", "validate", "write", "publish"):
            content = cluster.http("GET", f"{dag_url}/dagRuns/{quote(run_id)}/taskInstances/{task_id}/logs/1",
                                   token)["content"]
            events = [e for e in content if isinstance(e, dict) and e.get("event")]
            ours = [e["event"] for e in events if str(e.get("logger", "")).startswith("satudata.steps")]
            assert any(re.search(rf"^{entry.id} \S+: .*\d+ .*rows", line) for line in ours), (task_id, ours)
            chatter = [e for e in events if str(e.get("logger", "")).startswith(("great_expectations", "matplotlib"))
                       and e.get("level") in ("debug", "info")]
            assert not chatter, f"{task_id}: {len(chatter)} library lines below WARNING"
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=90)
        finally:
            errors.close()
    gone, alive = psutil.wait_procs(tree, timeout=60)
    assert not alive, f"still running after SIGTERM to the process group: {[p.pid for p in alive]}"
    with pytest.raises(OSError):
        cluster.http("GET", f"http://127.0.0.1:{port}/api/v2/monitor/health")
