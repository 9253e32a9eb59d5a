"""Test set-up: a private Airflow home and data zone, and the real local CKAN test portal.

The Airflow environment must be in place before anything imports airflow, hence at import
time here. The test portal is a separate devstack instance (own port and databases), so the
tests never touch the demo portal; it is purged at the end unless SATUDATA_KEEP_TEST_PORTAL=1.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
_TMP = Path(tempfile.mkdtemp(prefix="satudata-tests-"))

os.environ.update(
    {
        "AIRFLOW_HOME": str(_TMP / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
        "GX_ANALYTICS_ENABLED": "False",
        "SATUDATA_DATA_DIR": str(_TMP / "data"),
        "SATUDATA_RETRY_DELAY_SECONDS": "1",
    }
)
os.environ.pop("AIRFLOW_CONN_CKAN_DEFAULT", None)
os.environ.pop("AIRFLOW_CONN_DPMPTSP_PERIZINAN", None)
# Airflow adds plugins/ to sys.path when it starts; tests that import hooks first need it too.
sys.path.insert(0, str(REPO / "plugins"))

# Separate checkouts running tests at once need their own instance name (databases) and port.
TEST_PORTAL_INSTANCE = os.environ.get("SATUDATA_TEST_PORTAL_INSTANCE", "test")
TEST_PORTAL_PORT = int(os.environ.get("SATUDATA_TEST_PORTAL_PORT", "5055"))


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_TMP, ignore_errors=True)


@pytest.fixture(scope="session")
def tmp_root() -> Path:
    return _TMP


@pytest.fixture(scope="session")
def airflow_db():
    """A migrated, empty Airflow metadata database (SQLite in the private Airflow home)."""
    from airflow.utils import db

    db.resetdb()
    yield


@pytest.fixture(scope="session")
def sample_sqlite(tmp_root) -> Path:
    from devstack.samples.licensing import ensure_licensing_sqlite

    return ensure_licensing_sqlite(tmp_root / "sources" / "dpmptsp_perizinan.sqlite")


# What a dataset made directly by a test needs on the Satu Data portal (its schema's required
# fields); a portal without the schema ignores them.
BARE_DATASET = {"notes": "Dataset uji.", "produsen_data": "Uji", "walidata": "Uji",
                "frekuensi_penerbitan": "Bulanan", "level_penyajian": "Provinsi"}


def _portal(instance: str, port: int, *options: str):
    devstack = REPO / "devstack" / "ckanstack.py"
    cmd = [sys.executable, str(devstack)]
    proc = subprocess.run(
        [*cmd, "up", "--instance", instance, "--port", str(port), *options],
        stdout=subprocess.PIPE, text=True, check=False,
    )
    if proc.returncode != 0:
        pytest.fail(f"the CKAN test portal {instance} did not start (exit {proc.returncode})")
    yield json.loads(proc.stdout.strip().splitlines()[-1])
    if os.environ.get("SATUDATA_KEEP_TEST_PORTAL") != "1":
        subprocess.run([*cmd, "down", "--instance", instance, "--purge"], check=False)


@pytest.fixture(scope="session")
def ckan_portal():
    """The real local CKAN 2.12 test portal, with the Satu Data schema and DCAT: {url, api_token, ...}."""
    yield from _portal(TEST_PORTAL_INSTANCE, TEST_PORTAL_PORT)


@pytest.fixture(scope="session")
def plain_ckan_portal():
    """A second test portal without the extensions (``ckanstack up --plain``), as many portals run."""
    yield from _portal(f"{TEST_PORTAL_INSTANCE}_plain", TEST_PORTAL_PORT + 1, "--plain")


@pytest.fixture
def ckan_client(ckan_portal):
    from ckanapi import RemoteCKAN

    return RemoteCKAN(ckan_portal["url"], apikey=ckan_portal["api_token"])


@pytest.fixture
def ckan_conn(ckan_portal, monkeypatch):
    """AIRFLOW_CONN_CKAN_DEFAULT pointing at the test portal."""
    value = json.dumps({"conn_type": "ckan", "host": ckan_portal["url"], "password": ckan_portal["api_token"]})
    monkeypatch.setenv("AIRFLOW_CONN_CKAN_DEFAULT", value)
    return ckan_portal


@pytest.fixture
def data_dir(tmp_path, monkeypatch) -> Path:
    """A fresh data zone for one test."""
    path = tmp_path / "data"
    monkeypatch.setenv("SATUDATA_DATA_DIR", str(path))
    return path


def sqlite_conn(path: Path) -> str:
    return json.dumps({"conn_type": "sqlite", "host": str(path)})


@pytest.fixture(scope="session")
def agency_api():
    """The local server playing the MPP and SP4N-LAPOR! APIs, in a thread of the test process."""
    from devstack.samples.agency_api import AgencyApiServer

    server = AgencyApiServer(slow_seconds=2.0).start_in_thread()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def agency_conns(agency_api, monkeypatch):
    """Connections of both agency APIs pointing at the local server; short timeouts and backoff."""
    from devstack.samples.agencies import api_connections

    for key, value in api_connections(agency_api.url).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("SATUDATA_API_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("SATUDATA_API_BACKOFF_SECONDS", "0.05")
    agency_api.faults.clear()
    agency_api.requests_seen.clear()
    yield agency_api
    agency_api.faults.clear()


@pytest.fixture
def smtp_server(monkeypatch):
    """A local SMTP server that records what it receives; ``smtp_default`` points at it, retries wait 0.01 s."""
    from tests.receivers import LocalSmtpServer

    with LocalSmtpServer() as server:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", server.connection())
        monkeypatch.setenv("SATUDATA_NOTICE_BACKOFF_SECONDS", "0.01")
        yield server
