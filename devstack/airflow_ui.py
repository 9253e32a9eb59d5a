"""``make ui``: the Airflow UI on this machine, on the demo's data, sources and portal.

Starts Airflow's api-server, scheduler, dag-processor and triggerer (LocalExecutor, the metadata
database in ``AIRFLOW_HOME``) as ``airflow standalone`` would, but every one of them listens on
127.0.0.1 only: the api-server is bound there, and the scheduler's and triggerer's log servers
are not started (with one machine the api-server reads the task logs from ``AIRFLOW_HOME/logs``).
Components are started by the virtualenv's own ``airflow``, with its ``bin`` first on ``PATH``.

The connections the DAGs use are written to the metadata database, so the UI shows them and its
*Test* button can check them: every ``AIRFLOW_CONN_*`` of the environment (given by the caller or
made here for the sample agencies) replaces the stored one at each start; ``ckan_default``, when
not given, keeps what is stored (the UI may have edited it) or else points at the local portal.

Runs until interrupted (Ctrl-C, or SIGTERM to its process group), then stops what it started.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from devstack import airflow_cluster as cluster
from devstack.samples import demo

CKAN_CONN_ID = "ckan_default"


def say(message: str) -> None:
    print(f"[make ui] {message}", file=sys.stderr, flush=True)


def connections_to_store(environ: dict[str, str]) -> dict[str, str]:
    """The ``AIRFLOW_CONN_*`` values of ``environ`` by connection id (lower case, as Airflow reads them)."""
    prefix = "AIRFLOW_CONN_"
    return {key[len(prefix):].lower(): value for key, value in environ.items() if key.startswith(prefix)}


def store_connections(given: dict[str, str]) -> str:
    """Write ``given`` (id -> Airflow's JSON or URI form) to the metadata database; return the CKAN one's origin.

    ``ckan_default`` not given and stored already is left as it is; not given and not stored, it
    points at the local portal (started if needed).
    """
    from airflow.models.connection import Connection
    from airflow.utils.session import create_session
    from sqlalchemy import select

    origin = "the environment (AIRFLOW_CONN_CKAN_DEFAULT)"
    with create_session() as session:
        stored = {c.conn_id: c for c in session.scalars(select(Connection))}
        if CKAN_CONN_ID not in given:
            if CKAN_CONN_ID in stored:
                origin = "the connection stored in Airflow (Admin -> Connections)"
            else:
                given = {**given, CKAN_CONN_ID: demo.ckan_connection(demo.local_portal())}
                origin = "the local CKAN portal (devstack)"
        for conn_id, value in given.items():
            connection = (Connection.from_json(value, conn_id=conn_id) if value.lstrip().startswith("{")
                          else Connection(conn_id=conn_id, uri=value))
            if conn_id in stored:
                session.delete(stored[conn_id])
                session.flush()
            session.add(connection)
    return origin


def component_env(port: int) -> dict[str, str]:
    """The environment of the Airflow processes: loopback only, the virtualenv's ``airflow`` first on PATH."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW_CONN_")}
    base = f"http://127.0.0.1:{port}"
    env.update({
        "PATH": os.pathsep.join([str(cluster.VENV_BIN), env.get("PATH", "")]),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": base,
        # One secret shared by the api-server and the task runners, new at each start.
        "AIRFLOW__API_AUTH__JWT_SECRET": env.get("AIRFLOW__API_AUTH__JWT_SECRET") or secrets.token_urlsafe(32),
    })
    return env


def password_file() -> Path:
    return Path(os.environ["AIRFLOW_HOME"]) / "simple_auth_manager_passwords.json.generated"


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def run(port: int) -> int:
    for key, value in demo.demo_environment().items():
        os.environ[key] = value
    from devstack.samples.licensing import ensure_licensing_sqlite

    ensure_licensing_sqlite(demo.licensing_db())
    airflow = str(cluster.VENV_BIN / "airflow")
    home = Path(os.environ["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    log_dir = home / "ui-logs"
    log_dir.mkdir(exist_ok=True)
    say(f"AIRFLOW_HOME {home}; migrating its metadata database")
    migrate = subprocess.run([airflow, "db", "migrate"], capture_output=True, text=True, check=False)
    if migrate.returncode != 0:
        sys.stderr.write(migrate.stdout[-3000:] + migrate.stderr[-3000:])
        return migrate.returncode

    signal.signal(signal.SIGTERM, _stop)
    procs = cluster.Processes(log_dir)
    agency_api = None
    try:
        agency_api = demo.start_agency_api()
        origin = store_connections(connections_to_store(dict(os.environ)))
        say(f"connections stored in the metadata database; CKAN from {origin}")
        env = component_env(port)
        procs.start("api-server", [airflow, "api-server", "--host", "127.0.0.1", "--port", str(port)], env)
        procs.start("scheduler", [airflow, "scheduler", "--skip-serve-logs"], env)
        procs.start("dag-processor", [airflow, "dag-processor"], env)
        procs.start("triggerer", [airflow, "triggerer", "--skip-serve-logs"], env)
        base = f"http://127.0.0.1:{port}"
        cluster.wait_for("the api-server", lambda: cluster.http("GET", f"{base}/api/v2/monitor/health"), 180, procs)
        cluster.wait_for("the admin password file", password_file().exists, 60, procs)
        print(f"Airflow UI: {base}  user: admin  password: in {password_file()}\n"
              f"Component logs: {log_dir}  Stop: Ctrl-C", flush=True)
        while True:
            procs.check_alive()
            time.sleep(1)
    except KeyboardInterrupt:
        say("stopping")
        return 0
    except (RuntimeError, TimeoutError) as error:
        say(f"{error}; stopping")
        return 1
    finally:
        procs.stop_all()
        if agency_api is not None:
            demo.stop(agency_api)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8080, help="the api-server's port on 127.0.0.1 (8080)")
    args = parser.parse_args(argv)
    return run(args.port)


if __name__ == "__main__":
    sys.exit(main())
