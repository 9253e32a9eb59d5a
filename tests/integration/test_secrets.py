"""The API token of the CKAN connection appears in nothing a DAG run produces.

A fresh token, known to this test, publishes the permits dataset through the whole DAG; then
every log line, XCom value, report and file the run wrote is searched for it.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import REPO, sqlite_conn

pytestmark = pytest.mark.integration

DATASET = "dpmptsp_izin_terbit_bulanan"


def files_containing(root: Path, secret: str) -> list[str]:
    """Files under ``root`` whose bytes contain ``secret`` (as text or URL-encoded)."""
    needles = [secret.encode(), secret.replace(".", "%2E").encode()]
    hits = []
    for path in root.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            if any(n in data for n in needles):
                hits.append(str(path))
    return hits


def test_the_search_finds_a_planted_token(tmp_path):
    (tmp_path / "deep" / "er").mkdir(parents=True)
    (tmp_path / "deep" / "er" / "log.txt").write_text("x Authorization: abc.def.ghi y")
    assert files_containing(tmp_path, "abc.def.ghi") == [str(tmp_path / "deep" / "er" / "log.txt")]


def test_token_is_in_no_log_xcom_report_or_file(tmp_path, monkeypatch, sample_sqlite, ckan_portal, ckan_client,
                                                 airflow_db, caplog, capfd):
    token = ckan_client.action.api_token_create(user="ckan_admin", name=f"secret-test-{datetime.now(UTC):%H%M%S}")
    token = token["token"] if isinstance(token, dict) else token
    data = tmp_path / "data"
    monkeypatch.setenv("SATUDATA_DATA_DIR", str(data))
    monkeypatch.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(sample_sqlite))
    monkeypatch.setenv("AIRFLOW_CONN_CKAN_DEFAULT",
                       json.dumps({"conn_type": "ckan", "host": ckan_portal["url"], "password": token}))
    caplog.set_level(logging.DEBUG)
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO / "dags")).dags[DATASET]
    run = dag.test(logical_date=datetime(2026, 11, 5, tzinfo=UTC))
    assert str(run.state) == "success"
    # The run did publish with this token (a wrong one is refused: see test_ckan_hook).
    assert json.loads((data / "runs" / DATASET / "2026-10.json").read_text())["status"] == "published"

    out, err = capfd.readouterr()
    assert token not in out and token not in err
    assert all(token not in record.getMessage() for record in caplog.records)
    assert token not in caplog.text

    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    with create_session() as session:
        values = [x.value for x in session.query(XComModel).filter_by(dag_id=DATASET, run_id=run.run_id)]
    assert values, "the run pushed no XCom at all"
    assert all(token not in json.dumps(v, default=str) for v in values)

    import os

    assert files_containing(data, token) == []
    assert files_containing(Path(os.environ["AIRFLOW_HOME"]), token) == []
    if (REPO / "data").exists():
        assert files_containing(REPO / "data", token) == []
