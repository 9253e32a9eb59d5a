"""A failed run reports a clear summary to the alerts webhook, without secrets."""

import json
import shutil
import sqlite3
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import REPO, sqlite_conn

pytestmark = pytest.mark.integration


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/alerts", received
    server.shutdown()


def test_quality_gate_failure_is_reported(webhook, monkeypatch, tmp_path, sample_sqlite, data_dir, airflow_db,
                                          ckan_portal):
    url, received = webhook
    planted = tmp_path / "licensing.sqlite"
    shutil.copy(sample_sqlite, planted)
    with sqlite3.connect(planted) as db:
        db.execute("UPDATE permohonan_izin SET kode_wilayah = '64.99' WHERE id = "
                   "(SELECT min(id) FROM permohonan_izin WHERE status = 'TERBIT' AND tanggal_terbit >= '2026-07-01')")
    monkeypatch.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(planted))
    monkeypatch.setenv("AIRFLOW_CONN_SATUDATA_ALERTS", json.dumps({"conn_type": "http", "host": url}))
    # Publishing is never reached; record_failure reaches the portal, and the token is checked for leaks.
    token = ckan_portal["api_token"]
    monkeypatch.setenv("AIRFLOW_CONN_CKAN_DEFAULT",
                       json.dumps({"conn_type": "ckan", "host": ckan_portal["url"], "password": token}))
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO / "dags")).dags["dpmptsp_izin_terbit_bulanan"]
    run = dag.test(logical_date=datetime(2026, 8, 5, tzinfo=UTC))

    assert str(run.state) == "failed"
    assert len(received) == 1, received
    alert = received[0]
    assert alert["dag_id"] == "dpmptsp_izin_terbit_bulanan" and alert["task_id"] == "validate"
    assert alert["data_interval"] == "2026-06-30T16:00:00+00:00/2026-07-31T16:00:00+00:00"
    assert "critical expectation" in alert["error"] and "kode_kabupaten_kota" in alert["error"]
    assert token not in json.dumps(alert)


def test_without_webhook_the_failure_is_only_logged(caplog):
    from failure_alerts import notify_failure

    class TI:
        dag_id, task_id, run_id, try_number = "d", "t", "r", 1

    with caplog.at_level("ERROR"):
        notify_failure({"ti": TI(), "exception": ValueError("boom")})
    assert "pipeline task failed: dag=d task=t run=r" in caplog.text and "ValueError: boom" in caplog.text
