"""Publishing to a portal without the Satu Data schema and DCAT (``ckanstack up --plain``): the
dataset's keys are free extras as before, and a portal holding checksums the old way
(``sha256:<hex>`` in ``hash``) is not uploaded to again."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import pytest

from satudata.catalog import get_entry
from satudata.publish.ckan import SPDX_SHA256, extras_of, resource_digest
from satudata.publish.release import version_of
from tests.conftest import REPO, sqlite_conn

pytestmark = pytest.mark.integration

DATASET = "dpmptsp_izin_terbit_bulanan"
OCTOBER_RUN = datetime(2026, 11, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def zone(tmp_path_factory, sample_sqlite, plain_ckan_portal, airflow_db):
    mp = pytest.MonkeyPatch()
    data = tmp_path_factory.mktemp("plain") / "data"
    mp.setenv("SATUDATA_DATA_DIR", str(data))
    mp.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(sample_sqlite))
    mp.setenv("AIRFLOW_CONN_CKAN_DEFAULT", json.dumps(
        {"conn_type": "ckan", "host": plain_ckan_portal["url"], "password": plain_ckan_portal["api_token"]}))
    from ckanapi import NotFound, RemoteCKAN

    client = RemoteCKAN(plain_ckan_portal["url"], apikey=plain_ckan_portal["api_token"])
    try:
        client.action.dataset_purge(id=get_entry(DATASET).ckan.name)
    except NotFound:
        pass
    yield {"data": data, "client": client}
    mp.undo()


def run_dag():
    from airflow.dag_processing.dagbag import DagBag

    run = DagBag(dag_folder=str(REPO / "dags")).dags[DATASET].test(logical_date=OCTOBER_RUN)
    assert str(run.state) == "success"


def package(zone) -> dict:
    return zone["client"].action.package_show(id=get_entry(DATASET).ckan.name)


def record(zone) -> dict:
    return json.loads((zone["data"] / "runs" / DATASET / "2026-10.json").read_text())


def test_the_portal_has_no_schema(zone):
    status = zone["client"].action.status_show()
    assert "scheming_datasets" not in status["extensions"] and "dcat" not in status["extensions"]


def test_keys_are_free_extras_as_before(zone):
    run_dag()
    pkg = package(zone)
    extras = {e["key"]: e["value"] for e in pkg["extras"]}
    entry = get_entry(DATASET)
    assert {k: extras[k] for k in entry.ckan.extras} == entry.ckan.extras
    assert extras["temporal_start"] == "2026-10-01" and extras["satudata_last_run_status"] == "published"
    assert extras["satudata_versi"] == version_of({r["name"]: resource_digest(r) for r in pkg["resources"]})
    assert "frekuensi_penerbitan" not in pkg and "temporal_coverage" not in pkg
    # The English title and notes, for a portal that adds the satudata_i18n plugin.
    assert (extras["title_en"], extras["notes_en"]) == (entry.ckan.title_en, (entry.ckan.notes_en or "").strip())
    assert pkg["title"] == entry.ckan.title
    assert extras_of(pkg) == extras
    csv = next(r for r in pkg["resources"] if r["name"] == f"{entry.ckan.name}.csv")
    assert (csv["format"], csv["mimetype"]) == ("CSV", "text/csv")
    assert re.fullmatch(r"[0-9a-f]{64}", csv["hash"]) and csv["hash_algorithm"] == SPDX_SHA256


def test_checksums_written_the_old_way_are_not_uploaded_again(zone):
    pkg = package(zone)
    for resource in pkg["resources"]:
        zone["client"].action.resource_patch(id=resource["id"], hash=f"sha256:{resource['hash']}")
    old = package(zone)
    assert all(r["hash"].startswith("sha256:") for r in old["resources"])
    run_dag()
    after = package(zone)
    assert record(zone)["bytes_uploaded"] == 0 and record(zone)["changed"] is False
    assert {r["id"]: r["url"] for r in after["resources"]} == {r["id"]: r["url"] for r in old["resources"]}
    assert extras_of(after)["satudata_versi"] == extras_of(pkg)["satudata_versi"]
