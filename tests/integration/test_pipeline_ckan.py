"""The permits DAG end to end with ``dag.test()`` against the real local CKAN test portal.

The tests in this module run in order on one data zone and one portal dataset: first
publication, an idempotent re-run, a second period, then a blocked bad period.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import requests

from satudata.catalog import get_entry
from satudata.publish.ckan import SPDX_SHA256, extras_of, resource_digest
from satudata.publish.release import OUTCOME_KEYS
from tests.conftest import REPO, sqlite_conn

pytestmark = pytest.mark.integration

DATASET = "dpmptsp_izin_terbit_bulanan"
# A manual run infers the latest complete month before its logical date as its interval.
OCTOBER_RUN = datetime(2026, 11, 5, tzinfo=UTC)
SEPTEMBER_RUN = datetime(2026, 10, 5, tzinfo=UTC)
AUGUST_RUN = datetime(2026, 9, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def zone(tmp_path_factory, sample_sqlite, ckan_portal, airflow_db):
    """Module-wide data zone, source and portal connection; starts from no portal dataset."""
    mp = pytest.MonkeyPatch()
    data = tmp_path_factory.mktemp("pipeline") / "data"
    mp.setenv("SATUDATA_DATA_DIR", str(data))
    mp.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(sample_sqlite))
    mp.setenv(
        "AIRFLOW_CONN_CKAN_DEFAULT",
        json.dumps({"conn_type": "ckan", "host": ckan_portal["url"], "password": ckan_portal["api_token"]}),
    )
    from ckanapi import NotFound, RemoteCKAN

    client = RemoteCKAN(ckan_portal["url"], apikey=ckan_portal["api_token"])
    try:
        client.action.dataset_purge(id=get_entry(DATASET).ckan.name)
    except NotFound:
        pass
    yield {"data": data, "client": client, "portal": ckan_portal}
    mp.undo()


def run_dag(logical_date: datetime):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO / "dags")).dags[DATASET]
    return dag.test(logical_date=logical_date)


def task_states(run) -> dict[str, str]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter_by(dag_id=run.dag_id, run_id=run.run_id).all()
        return {ti.task_id: str(ti.state) for ti in tis}


def run_record(zone, period: str) -> dict:
    return json.loads((zone["data"] / "runs" / DATASET / f"{period}.json").read_text())


def package(zone) -> dict:
    return zone["client"].action.package_show(id=get_entry(DATASET).ckan.name)


def published(zone, suffix: str) -> Path:
    return zone["data"] / "published" / DATASET / f"{get_entry(DATASET).ckan.name}.{suffix}"


def download(zone, resource: dict) -> bytes:
    answer = requests.get(resource["url"], timeout=30,
                          headers={"Authorization": zone["portal"]["api_token"]})
    answer.raise_for_status()
    return answer.content


def by_name(pkg: dict) -> dict[str, dict]:
    return {r["name"]: r for r in pkg["resources"]}


def test_first_run_publishes_what_the_pipeline_wrote(zone):
    run = run_dag(OCTOBER_RUN)
    assert str(run.state) == "success", task_states(run)

    record = run_record(zone, "2026-10")
    assert record["validation"] == "passed" and record["rows"] > 0

    pkg = package(zone)
    name = get_entry(DATASET).ckan.name
    assert pkg["organization"]["name"] == "dpmptsp-kaltim"
    assert pkg["license_id"] == "cc-by"
    extras = extras_of(pkg)
    assert extras["periode_data"] == "2026-10 s.d. 2026-10"
    assert extras["kode_referensi_wilayah"] == "Kemendagri"
    resources = by_name(pkg)
    assert set(resources) == {f"{name}.csv", f"{name}.parquet", f"{name}.xlsx", "datapackage.json",
                              "laporan-validasi.html", "laporan-validasi.json", "grafik-jumlah_izin_terbit.png",
                              "catatan-revisi.html", "catatan-revisi.csv"}

    page = requests.get(f"{zone['portal']['url']}/dataset/{name}", timeout=30)
    assert page.status_code == 200 and pkg["title"] in page.text

    csv = resources[f"{name}.csv"]
    assert download(zone, csv) == published(zone, "csv").read_bytes()
    assert re.fullmatch(r"[0-9a-f]{64}", csv["hash"]) and csv["row_count"] == str(record["rows"])
    assert csv["hash_algorithm"] == SPDX_SHA256 and resource_digest(csv) == f"sha256:{csv['hash']}"
    assert csv["airflow_run_id"] == run.run_id and csv["data_interval"] == "2026-10-01/2026-11-01"

    table = pq.read_table(io.BytesIO(download(zone, resources[f"{name}.parquet"])))
    import openpyxl

    xlsx = openpyxl.load_workbook(io.BytesIO(download(zone, resources[f"{name}.xlsx"])), read_only=True)
    assert xlsx.sheetnames == ["Data", "Kamus Data", "Metadata"]
    sheet_rows = list(xlsx["Data"].iter_rows(values_only=True))
    assert list(sheet_rows[0]) == table.column_names and len(sheet_rows) == table.num_rows + 1
    declared = {c.name: c.type for c in get_entry(DATASET).table.columns}
    arrow = {"string": pa.string(), "int64": pa.int64(), "float64": pa.float64()}
    assert {f.name: f.type for f in table.schema} == {k: arrow[v] for k, v in declared.items()}
    assert table.num_rows == record["rows"]


def test_dataset_metadata_has_satu_data_and_dcat_fields(zone):
    pkg = package(zone)
    entry = get_entry(DATASET)
    extras = extras_of(pkg)
    for key, value in entry.ckan.extras.items():
        assert extras[key] == value
    assert extras["temporal_start"] == "2026-10-01" and extras["temporal_end"] == "2026-10-31"
    assert extras["frequency"].endswith("/frequency/MONTHLY")
    assert extras["spatial_text"] == "Provinsi Kalimantan Timur"
    assert json.loads(extras.get("conforms_to", "[]")) == entry.ckan.conforms_to  # IRIs only (the DCAT test sets one)
    assert extras["satudata_quality_status"] == "passed" and extras["satudata_last_run_status"] == "published"
    assert pkg["maintainer"] == entry.ckan.maintainer and not pkg["private"]
    assert sorted(t["name"] for t in pkg["tags"]) == sorted(entry.ckan.tags)
    # The version marker names exactly the resources' current hashes.
    from satudata.publish.release import version_of

    assert extras["satudata_versi"] == version_of({r["name"]: resource_digest(r) for r in pkg["resources"]})


def test_datastore_table_has_catalog_types_key_dictionary_and_view(zone):
    entry = get_entry(DATASET)
    csv = by_name(package(zone))[f"{entry.ckan.name}.csv"]
    client = zone["client"]
    info = client.action.datastore_info(id=csv["id"])
    declared = {"string": "text", "int64": "int8", "float64": "float8"}
    fields = {f["id"]: f for f in info["fields"]}
    assert list(fields) == entry.table.column_names
    for col in entry.table.columns:
        assert fields[col.name]["type"] == declared[col.type], col.name
        assert fields[col.name]["info"]["notes"].startswith(col.description)
        assert fields[col.name]["info"]["unit"] == (col.unit or "")
    rows = client.action.datastore_search(resource_id=csv["id"], limit=1000)
    assert rows["total"] == int(csv["row_count"])
    # The primary key is the catalog's: upserting an existing row replaces it, never adds one.
    first = {k: v for k, v in rows["records"][0].items() if k != "_id"}
    client.action.datastore_upsert(resource_id=csv["id"], records=[first], method="upsert", force=True)
    assert client.action.datastore_search(resource_id=csv["id"], limit=0)["total"] == rows["total"]
    with pytest.raises(Exception, match="(?i)key"):
        client.action.datastore_upsert(resource_id=csv["id"], method="insert", force=True, records=[first])
    views = client.action.resource_view_list(id=csv["id"])
    assert [v["view_type"] for v in views].count("datatables_view") == 1
    page = requests.get(f"{zone['portal']['url']}/dataset/{entry.ckan.name}/resource/{csv['id']}", timeout=30)
    assert page.status_code == 200 and entry.table.columns[-1].description in page.text


def test_dictionary_report_and_chart_resources(zone):
    entry = get_entry(DATASET)
    resources = by_name(package(zone))
    dp = json.loads(download(zone, resources["datapackage.json"]))
    schema = dp["resources"][0]["schema"]
    assert [f["name"] for f in schema["fields"]] == entry.table.column_names
    assert schema["primaryKey"] == entry.table.primary_key
    units = {f["name"]: f.get("unit") for f in schema["fields"]}
    assert units["rata_rata_hari_proses"] == "hari" and units["kode_provinsi"] is None
    assert dp["resources"][0]["hash"] == resource_digest(resources[f"{entry.ckan.name}.csv"])

    html = download(zone, resources["laporan-validasi.html"]).decode("utf-8")
    report = json.loads(download(zone, resources["laporan-validasi.json"]))
    assert report["publishable"] and "LAYAK TERBIT" in html
    assert report["privacy"]["success"]
    assert "<script" not in html and "http://" not in html and "https://" not in html
    for e in report["expectations"]:
        assert e["type"] in html

    png = download(zone, resources["grafik-jumlah_izin_terbit.png"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_publication_is_an_asset_event_with_the_row_count(zone):
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        events = (session.query(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id)
                  .filter(AssetModel.name == get_entry(DATASET).ckan.name).all())
        extras = [e.extra for e in events]
    assert extras and extras[-1]["rows"] == run_record(zone, "2026-10")["published_rows"]


def test_rerun_of_the_same_period_changes_nothing(zone):
    before = package(zone)
    run = run_dag(OCTOBER_RUN)
    assert str(run.state) == "success", task_states(run)
    after = package(zone)
    assert after["id"] == before["id"]
    assert {r["id"]: r["hash"] for r in after["resources"]} == {r["id"]: r["hash"] for r in before["resources"]}
    assert after["metadata_modified"] == before["metadata_modified"]
    assert run_record(zone, "2026-10")["bytes_uploaded"] == 0
    assert run_record(zone, "2026-10")["changed"] is False
    assert after["resources"] == before["resources"]
    csv_name = f"{after['name']}.csv"
    assert by_name(after)[csv_name].get("datastore_hash") == resource_digest(by_name(before)[csv_name])
    found = zone["client"].action.package_search(q=f"name:{before['name']}", include_private=True)
    assert found["count"] == 1


def test_second_period_updates_the_same_resources(zone):
    before = package(zone)
    run = run_dag(SEPTEMBER_RUN)
    assert str(run.state) == "success", task_states(run)
    after = package(zone)
    assert {r["id"] for r in after["resources"]} == {r["id"] for r in before["resources"]}
    csv = by_name(after)[f"{after['name']}.csv"]
    body = download(zone, csv)
    assert body == published(zone, "csv").read_bytes()
    lines = body.decode("utf-8").splitlines()
    months = {line.split(",")[5] for line in lines[1:]}
    assert months == {"9", "10"}
    extras = extras_of(after)
    assert extras["periode_data"] == "2026-09 s.d. 2026-10"
    assert extras["temporal_start"] == "2026-09-01" and extras["temporal_end"] == "2026-10-31"
    # The DataStore holds both months, each row once.
    ds = zone["client"].action.datastore_search(resource_id=csv["id"], limit=0)
    assert ds["total"] == len(lines) - 1 == int(csv["row_count"])


def test_failed_quality_gate_publishes_nothing(zone, tmp_path, monkeypatch, sample_sqlite):
    planted = tmp_path / "licensing-with-bad-row.sqlite"
    shutil.copy(sample_sqlite, planted)
    with sqlite3.connect(planted) as db:
        db.execute(
            "INSERT INTO permohonan_izin VALUES (999999, 'DPMPTSP/PBG/2026/999999', '6472014101900001',"
            " '64.99', 'PBG', '2026-08-03', '2026-08-10', 'TERBIT')"
        )
    monkeypatch.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(planted))
    before = package(zone)
    csv_before = published(zone, "csv").read_bytes()

    run = run_dag(AUGUST_RUN)

    assert str(run.state) == "failed"
    states = task_states(run)
    assert states["validate"] == "failed" and states["publish"] == "upstream_failed"
    record = run_record(zone, "2026-08")
    assert record["validation"] == "failed"
    report = json.loads(Path(record["validation_report"]).read_text())
    failed = [e for e in report["expectations"] if not e["success"]]
    # The unknown code fails the reference-code checks, and it has no regency name either.
    assert {e["column"] for e in failed} == {
        "kode_kabupaten_kota", "nama_kabupaten_kota", "kode_kabupaten_kota + nama_kabupaten_kota"
    }
    code_check = next(e for e in failed if e["column"] == "kode_kabupaten_kota" and "in_set" in e["type"])
    assert code_check["unexpected_examples"] == ["text of 5 characters (digits, symbols)"]
    # The raw extraction is kept for the steward; nothing reached the curated zone or the portal.
    assert Path(record["raw_file"]).exists()
    assert not (zone["data"] / "curated" / DATASET / "2026-08.parquet").exists()
    assert published(zone, "csv").read_bytes() == csv_before
    # The portal keeps the last good version; only the dataset's run-outcome extras change.
    after = package(zone)
    assert after["resources"] == before["resources"]
    extras_before = extras_of(before)
    extras_after = extras_of(after)
    assert {k: v for k, v in extras_after.items() if k not in OUTCOME_KEYS} == {
        k: v for k, v in extras_before.items() if k not in OUTCOME_KEYS}
    assert extras_before["satudata_quality_status"] == "passed"
    assert extras_after["satudata_quality_status"] == "failed"
    assert extras_after["satudata_last_run_status"] == "blocked"
    assert extras_after["satudata_last_run_id"] == run.run_id
    assert extras_after["satudata_last_validated"] > extras_before["satudata_last_validated"]
    assert states["record_failure"] == "success"
    unchanged = {k for k in before if k not in ("extras", "metadata_modified", *OUTCOME_KEYS)}
    assert {k: after[k] for k in unchanged} == {k: before[k] for k in unchanged}
