"""A real Airflow for one dataset's DAG: api-server, scheduler and dag-processor, LocalExecutor.

The pieces of ``devstack/airflow_cluster.py`` on a fresh PostgreSQL metadata database, publishing
to the CKAN test portal, with a catalog of the one dataset (the dag-processor parses one DAG).
Used by the tests that go through the scheduler: the backfill and the manual runs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from argparse import Namespace
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class LocalAirflow:
    airflow: str  # the airflow command
    env: dict[str, str]  # the environment its processes run with
    base: str  # the api-server's URL
    token: str  # an API token of the admin user
    procs: Any  # devstack.airflow_cluster.Processes, for wait_for


def one_entry_catalog(tmp_path: Path, dataset_id: str) -> Path:
    """A catalog of this one dataset: the dag-processor parses one DAG, not the whole catalog."""
    from satudata import settings

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    shutil.copyfile(settings.catalog_dir() / f"{dataset_id}.yaml", catalog / f"{dataset_id}.yaml")
    return catalog


@contextmanager
def local_airflow(tmp_path: Path, ckan_portal: dict[str, str], dag_id: str, database: str,
                  extra_env: dict[str, str] | None = None) -> Iterator[LocalAirflow]:
    """Start the three processes for ``dag_id`` (its portal dataset purged first); stop them on exit.

    The caller sets ``SATUDATA_DATA_DIR``; the sample licensing database is made if missing.
    """
    from ckanapi import NotFound, RemoteCKAN

    from devstack import airflow_cluster as cluster
    from devstack.samples.demo import licensing_db
    from devstack.samples.licensing import ensure_licensing_sqlite
    from satudata.catalog import get_entry

    entry = get_entry(dag_id)
    try:
        RemoteCKAN(ckan_portal["url"], apikey=ckan_portal["api_token"]).action.dataset_purge(id=entry.ckan.name)
    except NotFound:
        pass
    ensure_licensing_sqlite(licensing_db())
    args = Namespace(executor="local", redis_db=7, concurrency=1, ckan_url=ckan_portal["url"],
                     ckan_token=ckan_portal["api_token"])
    airflow = str(cluster.VENV_BIN / "airflow")
    api_port = cluster.free_port()
    with ExitStack() as stack:
        db_url = stack.enter_context(cluster.metadata_database(f"{database}_{os.getpid()}"))
        env = cluster.airflow_env(args, tmp_path / "airflow", db_url, api_port, "default")
        env.update({"AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
                    "SATUDATA_CATALOG_DIR": str(one_entry_catalog(tmp_path, entry.id)), **(extra_env or {})})
        migrate = subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, text=True, check=False)
        assert migrate.returncode == 0, migrate.stderr[-3000:]
        procs = cluster.Processes(tmp_path)
        stack.callback(procs.stop_all)
        procs.start("api-server", [airflow, "api-server", "--port", str(api_port), "--host", "127.0.0.1"], env)
        procs.start("scheduler", [airflow, "scheduler"], env)
        procs.start("dag-processor", [airflow, "dag-processor"], env)
        base = f"http://127.0.0.1:{api_port}"
        cluster.wait_for("the api-server", lambda: cluster.http("GET", f"{base}/api/v2/monitor/health"), 180, procs)
        token = cluster.http("GET", f"{base}/auth/token")["access_token"]
        cluster.wait_for("the DAG to be parsed", lambda: cluster.http("GET", f"{base}/api/v2/dags/{dag_id}", token),
                         180, procs)
        yield LocalAirflow(airflow, env, base, token, procs)
