"""A backfill of several periods of one dataset at once, on a real Airflow, to the CKAN test portal.

Scheduler, dag-processor and api-server as separate processes with the LocalExecutor on a fresh
PostgreSQL metadata database (``devstack/airflow_cluster.py``'s pieces); the backfill is created
with the command of the README's "Backfill" section, so the periods' extract, transform and
validate tasks run side by side and their write and publish tasks take turns. Every period must
end published, the portal's CSV must hold each period's rows once, and what is published must
equal what the same periods give when run one by one with ``dag.test()``.
"""

from __future__ import annotations

import csv
import io
import json
import shlex
import subprocess
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import requests

from tests.conftest import REPO, sqlite_conn
from tests.integration.local_airflow import local_airflow

pytestmark = pytest.mark.integration

DAG_ID = "dpmptsp_izin_terbit_bulanan"
# The README's command: logical dates are the periods' first instants (WITA midnight).
MONTHS = ["2025-01", "2025-02", "2025-03"]


def readme_backfill_command() -> list[str]:
    """The ``airflow backfill create`` command of the README's "Backfill" section, as arguments."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Backfill\n", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    line = next(line for line in block.splitlines() if "backfill create" in line)
    return shlex.split(line.split("#", 1)[0])


def published_state(client, entry, portal: dict, data: Path) -> dict:
    """What a run leaves published: the curated periods, the Parquet and CSV files, the DataStore rows."""
    package = client.action.package_show(id=entry.ckan.name)
    resource = next(r for r in package["resources"] if r["name"] == f"{entry.ckan.name}.csv")
    answer = requests.get(resource["url"], timeout=30, headers={"Authorization": portal["api_token"]})
    assert answer.status_code == 200
    found = client.action.datastore_search(resource_id=resource["id"], limit=32000)
    records = sorted(tuple(sorted((k, v) for k, v in r.items() if k != "_id")) for r in found["records"])
    assert len(records) == found["total"]
    published = data / "published" / entry.id
    return {
        "curated": {p.stem: pq.read_table(p) for p in sorted((data / "curated" / entry.id).glob("*.parquet"))},
        "parquet": pq.read_table(published / f"{entry.ckan.name}.parquet"),
        "csv": answer.content,
        "datastore": records,
    }


def test_the_readme_backfill_publishes_every_month_once_as_month_by_month_runs_do(
        tmp_path, monkeypatch, ckan_portal, sample_sqlite, airflow_db):
    from airflow.dag_processing.dagbag import DagBag
    from ckanapi import RemoteCKAN

    from devstack import airflow_cluster as cluster
    from satudata.catalog import get_entry

    command = readme_backfill_command()
    assert command[:3] == [".venv/bin/airflow", "backfill", "create"]
    assert command[command.index("--dag-id") + 1] == DAG_ID
    entry = get_entry(DAG_ID)
    client = RemoteCKAN(ckan_portal["url"], apikey=ckan_portal["api_token"])
    data = tmp_path / "data"
    monkeypatch.setenv("SATUDATA_DATA_DIR", str(data))
    with local_airflow(tmp_path, ckan_portal, DAG_ID, "satudata_backfill",
                       {"AIRFLOW__CORE__PARALLELISM": "6"}) as af:
        airflow, env, base, token, procs = af.airflow, af.env, af.base, af.token, af.procs
        created = subprocess.run([airflow, *command[1:]], env=env, capture_output=True, text=True, check=False)
        assert created.returncode == 0, created.stdout[-2000:] + created.stderr[-2000:]

        def finished():
            runs = cluster.http("GET", f"{base}/api/v2/dags/{DAG_ID}/dagRuns?limit=50", token)["dag_runs"]
            done = [r for r in runs if r["state"] in ("success", "failed")]
            return runs if len(runs) == len(MONTHS) and len(done) == len(runs) else None

        runs = cluster.wait_for("the backfill's runs", finished, 600, procs, interval=3)
        tasks = {r["dag_run_id"]: cluster.http(
            "GET", f"{base}/api/v2/dags/{DAG_ID}/dagRuns/{r['dag_run_id']}/taskInstances", token)["task_instances"]
            for r in runs}

    assert {r["run_type"] for r in runs} == {"backfill"}
    assert [r["state"] for r in runs] == ["success"] * len(MONTHS), f"logs in {tmp_path}"
    # The periods ran at once: some run's extraction started before another run's publish ended.
    spans = {run_id: {t["task_id"]: (t["start_date"], t["end_date"]) for t in tis} for run_id, tis in tasks.items()}
    assert any(spans[a]["extract"][0] < spans[b]["publish"][1] and spans[b]["extract"][0] < spans[a]["publish"][1]
               for a in spans for b in spans if a != b), "the runs did not overlap"

    # ... and no two periods' write (or publish) tasks ran at the same time.
    for kind in ("write", "publish"):
        turns = sorted(s[kind] for s in spans.values())
        assert all(a[1] <= b[0] for a, b in zip(turns, turns[1:], strict=False)), f"two {kind} tasks ran at once"

    curated = data / "curated" / entry.id
    expected = {p.stem: pq.ParquetFile(p).metadata.num_rows for p in curated.glob("*.parquet")}
    assert sorted(expected) == MONTHS and all(expected.values())
    package = client.action.package_show(id=entry.ckan.name)
    resource = next(r for r in package["resources"] if r["name"] == f"{entry.ckan.name}.csv")
    answer = requests.get(resource["url"], timeout=30, headers={"Authorization": ckan_portal["api_token"]})
    assert answer.status_code == 200
    header, *records = list(csv.reader(io.StringIO(answer.content.decode("utf-8"), newline="")))
    assert header == entry.table.column_names
    assert all(len(r) == len(header) for r in records)
    year, month = header.index("tahun"), header.index("bulan")
    assert Counter(f"{r[year]}-{int(r[month]):02d}" for r in records) == expected
    keys = [tuple(r[header.index(c)] for c in entry.table.primary_key) for r in records]
    assert len(set(keys)) == len(keys)
    table = client.action.datastore_search(resource_id=resource["id"], limit=0)
    assert table["total"] == sum(expected.values())
    backfilled = published_state(client, entry, ckan_portal, data)

    # The same months run one by one, in order, from no dataset on the portal and an empty data zone.
    client.action.dataset_purge(id=entry.ckan.name)
    one_by_one = tmp_path / "one-by-one"
    monkeypatch.setenv("SATUDATA_DATA_DIR", str(one_by_one))
    monkeypatch.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(sample_sqlite))
    monkeypatch.setenv("AIRFLOW_CONN_CKAN_DEFAULT", json.dumps(
        {"conn_type": "ckan", "host": ckan_portal["url"], "password": ckan_portal["api_token"]}))
    dag = DagBag(dag_folder=str(REPO / "dags")).dags[DAG_ID]
    for key in MONTHS:
        year, month = (int(part) for part in key.split("-"))
        # A manual run takes the latest complete month before its logical date.
        after = datetime(year + month // 12, month % 12 + 1, 5, tzinfo=UTC)
        assert str(dag.test(logical_date=after).state) == "success", key
    expected_state = published_state(client, entry, ckan_portal, one_by_one)
    assert sorted(backfilled["curated"]) == sorted(expected_state["curated"]) == MONTHS
    for key in MONTHS:
        assert backfilled["curated"][key].equals(expected_state["curated"][key]), key
    assert backfilled["parquet"].equals(expected_state["parquet"])
    assert backfilled["csv"] == expected_state["csv"]
    assert backfilled["datastore"] == expected_state["datastore"]


@pytest.mark.parametrize("publish_order", [("2025-02", "2025-01"), ("2025-01", "2025-02")])
def test_periods_written_before_either_is_published_all_reach_the_datastore(
        tmp_path, monkeypatch, ckan_portal, sample_sqlite, publish_order):
    # The orders a backfill's scheduler may give: both writes, then the publishes either way round.
    from ckanapi import NotFound, RemoteCKAN
    from pipeline_clients import close, portal, source_client

    from satudata import steps
    from satudata.catalog import get_entry
    from satudata.periods import Period
    from satudata.run import RunContext
    from tests.conftest import sqlite_conn

    permits = get_entry(DAG_ID)
    entry = permits.model_copy(update={"ckan": permits.ckan.model_copy(update={"name": "izin-terbit-bergantian"})})
    client = RemoteCKAN(ckan_portal["url"], apikey=ckan_portal["api_token"])
    try:
        client.action.dataset_purge(id=entry.ckan.name)
    except NotFound:
        pass
    monkeypatch.setenv("SATUDATA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(sample_sqlite))
    monkeypatch.setenv("AIRFLOW_CONN_CKAN_DEFAULT", json.dumps(
        {"conn_type": "ckan", "host": ckan_portal["url"], "password": ckan_portal["api_token"]}))

    def write(key: str) -> tuple[RunContext, steps.Written]:
        run = RunContext(entry, Period.from_key(key, "monthly"), f"backfill__{key}")
        source = source_client(entry)
        try:
            staged = steps.extract(run, source)
        finally:
            close(source)
        return run, steps.write_outputs(run, steps.validate(run, steps.transform(run, staged)))

    steps.publish(*write("2024-12"), portal())  # the table exists before the backfill
    by_key = {key: write(key) for key in ("2025-01", "2025-02")}
    for key in publish_order:
        steps.publish(*by_key[key], portal())

    resource = next(r for r in client.action.package_show(id=entry.ckan.name)["resources"]
                    if r["name"] == f"{entry.ckan.name}.csv")
    for key in ("2024-12", "2025-01", "2025-02"):
        expected = pq.ParquetFile(tmp_path / "data" / "curated" / entry.id / f"{key}.parquet").metadata.num_rows
        year, month = (int(part) for part in key.split("-"))
        found = client.action.datastore_search(resource_id=resource["id"], limit=0,
                                               filters={"tahun": year, "bulan": month})["total"]
        assert found == expected, f"DataStore holds {found} rows of {key}, the CSV {expected}"
    client.action.dataset_purge(id=entry.ckan.name)
