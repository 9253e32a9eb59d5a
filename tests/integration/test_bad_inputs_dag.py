"""Bad inputs through the real DAG: bad rows planted in the SQL source, the real CKAN test portal.

The file-level corpus of the same cases, run through the steward CLI, is in
tests/unit/cli/test_bad_inputs.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from satudata.catalog import get_entry
from satudata.publish.ckan import extras_of
from satudata.publish.release import OUTCOME_KEYS
from tests.conftest import REPO, sqlite_conn

DATASET = "dpmptsp_izin_terbit_bulanan"
NIK = "6472015203850012"  # synthetic, valid structure (a woman born 12-03-1985 in Samarinda)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- DAG cases: bad rows in the SQL source, the real DAG, the real CKAN test portal ---

OCTOBER_RUN = datetime(2026, 11, 5, tzinfo=UTC)
SEPTEMBER_RUN = datetime(2026, 10, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def dag_zone(tmp_path_factory, sample_sqlite, ckan_portal, airflow_db):
    """A data zone and a portal where October was published from good data."""
    from ckanapi import NotFound, RemoteCKAN

    mp = pytest.MonkeyPatch()
    data = tmp_path_factory.mktemp("bad-inputs") / "data"
    mp.setenv("SATUDATA_DATA_DIR", str(data))
    mp.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(sample_sqlite))
    mp.setenv("AIRFLOW_CONN_CKAN_DEFAULT", json.dumps(
        {"conn_type": "ckan", "host": ckan_portal["url"], "password": ckan_portal["api_token"]}))
    client = RemoteCKAN(ckan_portal["url"], apikey=ckan_portal["api_token"])
    try:
        client.action.dataset_purge(id=get_entry(DATASET).ckan.name)
    except NotFound:
        pass
    run = _run_dag(OCTOBER_RUN)
    assert str(run.state) == "success"
    yield {"data": data, "client": client, "portal": ckan_portal, "sqlite": sample_sqlite}
    mp.undo()


def _run_dag(logical_date: datetime):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags")).dags[DATASET].test(logical_date=logical_date)


def _states(run) -> dict[str, str]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter_by(dag_id=run.dag_id, run_id=run.run_id).all()
        return {ti.task_id: str(ti.state) for ti in tis}


# A blocked run records its outcome on the dataset (and so its modification time); data,
# resources and every other field stay as they were.


def _portal_state(zone) -> dict:
    client = zone["client"]
    pkg = client.action.package_show(id=get_entry(DATASET).ckan.name)
    pkg = {k: v for k, v in pkg.items() if k != "metadata_modified" and k not in OUTCOME_KEYS}
    # As a mapping: CKAN does not promise an order of extras across updates.
    pkg["extras"] = {e["key"]: e["value"] for e in pkg.get("extras", []) if e["key"] not in OUTCOME_KEYS}
    return {"package": pkg, "datasets": client.action.package_list()}


def _quality_status(zone) -> str:
    pkg = zone["client"].action.package_show(id=get_entry(DATASET).ckan.name)
    return extras_of(pkg)["satudata_quality_status"]


def _planted(zone, tmp_path, monkeypatch, sql: str) -> None:
    path = tmp_path / "source.sqlite"
    shutil.copy(zone["sqlite"], path)
    with sqlite3.connect(path) as db:
        db.execute(sql)
    monkeypatch.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(path))


@pytest.mark.integration
@pytest.mark.parametrize(
    "name, sql, finding",
    [
        ("nik_in_permit_type_name", f"UPDATE jenis_izin SET nama = 'Izin Reklame {NIK}' WHERE kode = 'REKLAME'",
         ("jenis_izin", "nik")),
        ("nik_as_number_in_standard_days", f"UPDATE jenis_izin SET standar_hari = {NIK} WHERE kode = 'SIPA'",
         ("standar_pelayanan_hari", "nik")),
        ("email_in_permit_type_name", "UPDATE jenis_izin SET nama = 'SLF (cs: slf.kaltim@gmail.com)' "
         "WHERE kode = 'SLF'", ("jenis_izin", "email")),
    ],
)
def test_dag_blocks_personal_data_and_leaves_the_portal_unchanged(dag_zone, tmp_path, monkeypatch, name, sql, finding):
    _planted(dag_zone, tmp_path, monkeypatch, sql)
    before = _portal_state(dag_zone)
    curated = dag_zone["data"] / "curated" / DATASET / "2026-10.parquet"
    curated_before = _sha(curated)

    run = _run_dag(OCTOBER_RUN)

    assert str(run.state) == "failed"
    states = _states(run)
    assert states["validate"] == "failed" and states["write"] == "upstream_failed"
    assert states["publish"] == "upstream_failed"
    record = json.loads((dag_zone["data"] / "runs" / DATASET / "2026-10.json").read_text())
    assert record["personal_data"] == "found" and record["status"] == "blocked"
    report = json.loads(Path(record["validation_report"]).read_text())
    found = {(f["column"], f["kind"]) for f in report["privacy"]["findings"]}
    assert finding in found
    assert NIK not in json.dumps(report) and "slf.kaltim@gmail.com" not in json.dumps(report)
    assert Path(record["validation_report_html"]).exists()
    assert Path(record["raw_file"]).exists()  # the raw extraction is kept for the steward
    assert _sha(curated) == curated_before
    assert _portal_state(dag_zone) == before
    assert _quality_status(dag_zone) == "failed"


@pytest.mark.integration
def test_dag_publishes_a_formula_neutralised(dag_zone, tmp_path, monkeypatch):
    import requests

    formula = '=HYPERLINK("http://x.example","Izin Trayek")'
    _planted(dag_zone, tmp_path, monkeypatch,
             f"UPDATE jenis_izin SET nama = '{formula.replace(chr(39), chr(39) * 2)}' WHERE kode = 'TRAYEK'")
    run = _run_dag(SEPTEMBER_RUN)
    assert str(run.state) == "success", _states(run)

    pkg = dag_zone["client"].action.package_show(id=get_entry(DATASET).ckan.name)
    csv_resource = next(r for r in pkg["resources"] if r["format"].rsplit("/", 1)[-1] == "CSV")
    body = requests.get(csv_resource["url"], timeout=30,
                        headers={"Authorization": dag_zone["portal"]["api_token"]}).text
    names = {row["jenis_izin"] for row in csv.DictReader(io.StringIO(body))}
    assert "'" + formula in names and formula not in names
