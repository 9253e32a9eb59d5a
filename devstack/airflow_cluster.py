"""Run the catalog DAGs on a real, local, distributed Airflow: no Docker, no dag.test().

Starts the api-server, scheduler and dag-processor on a fresh PostgreSQL metadata database,
with either the CeleryExecutor (Redis broker, N Celery workers as separate processes) or the
LocalExecutor; triggers every catalog DAG through the REST API, waits for the runs, reports
which worker ran each task, and stops every process it started, by PID.

    .venv/bin/python devstack/airflow_cluster.py --executor celery --workers 2 \
        --ckan-url http://127.0.0.1:5000 --ckan-token "$(cat .devstack/demo/api_token)"

Prints one JSON line (runs, states, task hostnames) on stdout; progress on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parent.parent
# Run as a script: the sample agencies (devstack.samples) are imported from the checkout.
sys.path.insert(0, str(REPO))
VENV_BIN = Path(sys.executable).parent
PG = "postgresql+psycopg2://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379"
T0 = time.monotonic()


def say(message: str) -> None:
    print(f"[airflow-cluster {time.monotonic() - T0:6.1f}s] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(sql: str) -> None:
    subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "postgres", "-qAtc", sql],
                   check=True, stdout=subprocess.DEVNULL)


@contextmanager
def metadata_database(name: str):
    """A fresh PostgreSQL database for Airflow's metadata, dropped afterwards."""
    psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{name}"')
    try:
        yield f"{PG}/{name}"
    finally:
        psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Processes:
    """Background processes started here, each with a log; stopped by PID in reverse order."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = (self.log_dir / f"{name}.log").open("ab")
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT,
                                cwd=REPO, start_new_session=True)
        self.started.append((name, proc))
        say(f"started {name} (PID {proc.pid})")
        return proc

    def check_alive(self) -> None:
        for name, proc in self.started:
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}; see {self.log_dir / (name + '.log')}")

    def stop_all(self) -> None:
        for _name, proc in reversed(self.started):
            if proc.poll() is None:
                # Each was started in its own session: signal its process group (its children).
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        for name, proc in reversed(self.started):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            say(f"stopped {name} (PID {proc.pid})")


def http(method: str, url: str, token: str | None = None, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read() or b"{}")


def wait_for(what: str, check, timeout: float, procs: Processes, interval: float = 1.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        procs.check_alive()
        try:
            result = check()
            if result:
                return result
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            pass
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def airflow_env(args: argparse.Namespace, home: Path, db_url: str, api_port: int, queue: str) -> dict[str, str]:

    from devstack.samples.demo import demo_environment

    env = {**os.environ, **demo_environment()}
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": db_url,
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor" if args.executor == "celery" else "LocalExecutor",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{api_port}",
            "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
            # Only the runs triggered here: unpausing must not add the latest scheduled run.
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,
            "AIRFLOW__CELERY__BROKER_URL": f"{REDIS}/{args.redis_db}",
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + db_url,
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(args.concurrency),
            "AIRFLOW__CELERY__WORKER_PREFETCH_MULTIPLIER": "1",
            # As docker-compose.yml: the workers load the tasks' heavy libraries once (plugins/satudata_celery.py).
            **({"AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS": "satudata_celery.CELERY_CONFIG"}
               if getattr(args, "preload", True) else {}),
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": "satudata.ops.worker_hostname",
            "SATUDATA_DATA_DIR": os.environ["SATUDATA_DATA_DIR"],
            "SATUDATA_RETRY_DELAY_SECONDS": os.environ.get("SATUDATA_RETRY_DELAY_SECONDS", "5"),
            "AIRFLOW_CONN_CKAN_DEFAULT": json.dumps(
                {"conn_type": "ckan", "host": args.ckan_url, "password": args.ckan_token}
            ),
        }
    )
    return env


def run_cluster(args: argparse.Namespace) -> dict:
    # The data zone (and the sample source inside it) is the one given, in every process.
    os.environ["SATUDATA_DATA_DIR"] = str(Path(args.data_dir).resolve())
    from devstack.samples.demo import land_exports, licensing_db, start_agency_api, stop
    from devstack.samples.licensing import ensure_licensing_sqlite
    from satudata import settings
    from satudata.catalog import load_catalog

    run_dir = Path(args.run_dir).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    api_port = free_port()
    queue = f"satudata-{secrets.token_hex(4)}"
    airflow = str(VENV_BIN / "airflow")
    tag = secrets.token_hex(4)
    with ExitStack() as stack:
        db_url = stack.enter_context(metadata_database(f"satudata_airflow_{args.executor}_{tag}"))
        # The sample agency systems, as the demo sets them up: licensing database, export files
        # of the periods before the logical date, and the agency API server (its connections
        # are put into os.environ, which the Airflow processes inherit).
        ensure_licensing_sqlite(licensing_db())
        logical = datetime.fromisoformat(args.logical_date) if args.logical_date else datetime.now(UTC)
        land_exports(logical.astimezone(ZoneInfo(settings.TIMEZONE)).date())
        api = start_agency_api()
        stack.callback(stop, api)
        env = airflow_env(args, run_dir / "airflow", db_url, api_port, queue)
        say(f"migrating the metadata database ({args.executor} executor)")
        migrate = subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, text=True)
        if migrate.returncode != 0:
            raise RuntimeError(f"airflow db migrate failed:\n{migrate.stdout[-3000:]}{migrate.stderr[-3000:]}")
        procs = Processes(run_dir)
        stack.callback(procs.stop_all)
        procs.start("api-server", [airflow, "api-server", "--port", str(api_port), "--host", "127.0.0.1"], env)
        procs.start("scheduler", [airflow, "scheduler"], env)
        procs.start("dag-processor", [airflow, "dag-processor"], env)
        workers = []
        if args.executor == "celery":
            for i in range(1, args.workers + 1):
                name = f"worker{i}"
                workers.append(name)
                procs.start(
                    name,
                    [airflow, "celery", "worker", "--queues", queue, "--concurrency", str(args.concurrency),
                     "--celery-hostname", f"{name}@{queue}", "--skip-serve-logs",
                     "--without-mingle", "--without-gossip"],
                    {**env, "SATUDATA_WORKER_NAME": name},
                )
        base = f"http://127.0.0.1:{api_port}"
        wait_for("the api-server", lambda: http("GET", f"{base}/api/v2/monitor/health"), 180, procs)
        token = http("GET", f"{base}/auth/token")["access_token"]
        dag_ids = [e.id for e in load_catalog()]
        for dag_id in dag_ids:
            wait_for(f"DAG {dag_id} to be parsed", lambda d=dag_id: http("GET", f"{base}/api/v2/dags/{d}", token),
                     180, procs)
            http("PATCH", f"{base}/api/v2/dags/{dag_id}", token, {"is_paused": False})
        logical_date = logical.isoformat()
        runs = {}
        triggered = time.monotonic()
        for dag_id in dag_ids:
            run = http("POST", f"{base}/api/v2/dags/{dag_id}/dagRuns", token,
                       {"logical_date": logical_date, "conf": {}})
            runs[dag_id] = run["dag_run_id"]
            say(f"triggered {dag_id}: {run['dag_run_id']}")

        def finished():
            states = {d: http("GET", f"{base}/api/v2/dags/{d}/dagRuns/{r}", token)["state"] for d, r in runs.items()}
            return states if all(s in ("success", "failed") for s in states.values()) else None

        states = wait_for("the DAG runs", finished, args.timeout, procs, interval=3)
        seconds = time.monotonic() - triggered
        tasks = {}
        for dag_id, run_id in runs.items():
            tis = http("GET", f"{base}/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", token)
            tasks[dag_id] = {ti["task_id"]: {"state": ti["state"], "hostname": ti["hostname"]}
                             for ti in tis["task_instances"]}
        for dag_id, state in states.items():
            say(f"{dag_id}: {state}; tasks ran on " + ", ".join(
                sorted({t["hostname"] or "-" for t in tasks[dag_id].values()})))
        return {"executor": args.executor, "workers": workers, "runs": runs, "states": states, "tasks": tasks,
                "logs": str(run_dir), "seconds": seconds}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executor", choices=["celery", "local"], default="celery")
    parser.add_argument("--workers", type=int, default=2, help="Celery workers (separate processes)")
    parser.add_argument("--concurrency", type=int, default=1, help="task slots per Celery worker")
    parser.add_argument("--ckan-url", required=True)
    parser.add_argument("--ckan-token", required=True)
    parser.add_argument("--data-dir", default=str(REPO / ".devstack" / "cluster" / "data"))
    parser.add_argument("--run-dir", default=str(REPO / ".devstack" / "cluster"))
    parser.add_argument("--redis-db", type=int, default=7)
    parser.add_argument("--logical-date", help="ISO timestamp; default now (runs the latest complete period)")
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args(argv)
    result = run_cluster(args)
    print(json.dumps(result))
    return 0 if all(s == "success" for s in result["states"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
