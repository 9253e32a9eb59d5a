"""The delivery monitor end to end: the permits DAG publishes an old month, ``satudata_monitor`` (``dag.test()``)
marks the dataset late on the real CKAN test portal, alerts a local webhook once and publishes the status
page; the expected month published, the next check says on time and alerts nothing.

The tests in this module run in order on one data zone and one portal.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from satudata.catalog import get_entry, load_catalog
from satudata.delivery import EXPECTED_KEY, NEXT_KEY, STATUS_KEY
from satudata.publish.ckan import extras_of
from satudata.publish.status_page import HTML_NAME, JSON_NAME, STATUS_DATASET
from tests.browser import CHROMIUM, Browser
from tests.conftest import REPO, sqlite_conn

pytestmark = pytest.mark.integration

DATASET = "dpmptsp_izin_terbit_bulanan"
MONITOR = "satudata_monitor"
# A manual run of the permits DAG covers the last complete month before its logical date.
AUGUST_RUN = datetime(2026, 9, 5, tzinfo=UTC)
OCTOBER_RUN = datetime(2026, 11, 5, tzinfo=UTC)
# 20 November 2026 (WITA): October's deadline (10 November) has passed.
CHECK_DAY = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def zone(tmp_path_factory, sample_sqlite, ckan_portal, airflow_db):
    """Data zone, source, portal and alerts webhook for the module; no catalog dataset on the portal."""
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    mp = pytest.MonkeyPatch()
    data = tmp_path_factory.mktemp("overdue") / "data"
    mp.setenv("SATUDATA_DATA_DIR", str(data))
    mp.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(sample_sqlite))
    mp.setenv("AIRFLOW_CONN_CKAN_DEFAULT", json.dumps(
        {"conn_type": "ckan", "host": ckan_portal["url"], "password": ckan_portal["api_token"]}))
    mp.setenv("AIRFLOW_CONN_SATUDATA_ALERTS", json.dumps(
        {"conn_type": "http", "host": f"http://127.0.0.1:{server.server_address[1]}/alerts"}))
    from ckanapi import NotFound, RemoteCKAN

    client = RemoteCKAN(ckan_portal["url"], apikey=ckan_portal["api_token"])
    for name in [e.ckan.name for e in load_catalog()] + [STATUS_DATASET]:
        try:
            client.action.dataset_purge(id=name)
        except NotFound:
            pass
    yield {"data": data, "client": client, "portal": ckan_portal, "alerts": received}
    mp.undo()
    server.shutdown()


def run(dag_id: str, logical_date: datetime):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO / "dags")).dags[dag_id]
    result = dag.test(logical_date=logical_date, run_after=logical_date)
    assert str(result.state) == "success", dag_id
    return result


def extras(zone, name: str | None = None) -> dict[str, str]:
    package = zone["client"].action.package_show(id=name or get_entry(DATASET).ckan.name)
    return extras_of(package)


def status_files(zone) -> tuple[dict, str, dict]:
    """The status dataset's JSON and HTML as downloaded from the portal, and its resources by name."""
    package = zone["client"].action.package_show(id=STATUS_DATASET)
    resources = {r["name"]: r for r in package["resources"]}
    assert set(resources) == {HTML_NAME, JSON_NAME}
    headers = {"Authorization": zone["portal"]["api_token"]}
    document = requests.get(resources[JSON_NAME]["url"], headers=headers, timeout=30).json()
    page = requests.get(resources[HTML_NAME]["url"], headers=headers, timeout=30).text
    return document, page, resources


def row_of(document: dict, dataset_id: str) -> dict:
    return next(r for r in document["dataset"] if r["dataset"] == dataset_id)


def test_an_old_month_published_is_late_alerted_and_on_the_status_page(zone):
    run(DATASET, AUGUST_RUN)
    assert extras(zone)["periode_data"].endswith("2026-08")

    run(MONITOR, CHECK_DAY)

    shown = extras(zone)
    assert shown[STATUS_KEY] == "terlambat" and shown[EXPECTED_KEY] == "2026-10"
    assert shown[NEXT_KEY] == "2026-09 (batas 2026-10-10)"
    # One alert, naming the one late dataset on the portal; the others were never published.
    assert len(zone["alerts"]) == 1, zone["alerts"]
    alert = zone["alerts"][0]
    assert alert["kind"] == "overdue" and [d["dataset"] for d in alert["datasets"]] == [DATASET]
    assert alert["datasets"][0]["periode_terakhir"] == "2026-08" and alert["datasets"][0]["periode_tertinggal"] == 2

    document, page, _ = status_files(zone)
    assert document["diperiksa_pada"] == "2026-11-20"
    assert {r["dataset"] for r in document["dataset"]} == {e.id for e in load_catalog()}
    row = row_of(document, DATASET)
    assert (row["status_terbit"], row["periode_terakhir"], row["periode_tertinggal"]) == ("terlambat", "2026-08", 2)
    assert (row["status_kualitas"], row["status_run_terakhir"]) == ("passed", "published")
    assert row["tautan"] == f"{zone['portal']['url'].rstrip('/')}/dataset/{get_entry(DATASET).ckan.name}"
    assert row_of(document, "mpp_kunjungan_harian")["periode_terakhir"] is None
    # The page as published is the page written locally, with the same rows.
    local = zone["data"] / "status"
    assert json.loads((local / JSON_NAME).read_text(encoding="utf-8")) == document
    assert (local / HTML_NAME).read_text(encoding="utf-8") == page
    assert page.count("<article") == len(document["dataset"])
    assert f'id="{DATASET}"' in page and "Terlambat" in page and "20 November 2026" in page


def test_the_same_check_again_alerts_nothing_and_changes_nothing(zone):
    before = zone["client"].action.package_show(id=get_entry(DATASET).ckan.name)["metadata_modified"]
    _, _, resources = status_files(zone)

    run(MONITOR, CHECK_DAY.replace(hour=2))

    assert len(zone["alerts"]) == 1
    assert zone["client"].action.package_show(id=get_entry(DATASET).ckan.name)["metadata_modified"] == before
    _, _, again = status_files(zone)
    assert {n: r["hash"] for n, r in again.items()} == {n: r["hash"] for n, r in resources.items()}
    assert all(again[n]["last_modified"] == resources[n]["last_modified"] for n in again)


def test_the_expected_month_published_is_on_time_without_an_alert(zone):
    run(DATASET, OCTOBER_RUN)
    shown = extras(zone)
    assert shown["periode_data"].endswith("2026-10")
    # The publication keeps the monitor's extras; the check it triggers updates them.
    assert shown[STATUS_KEY] == "terlambat"

    run(MONITOR, CHECK_DAY.replace(hour=3))

    shown = extras(zone)
    assert shown[STATUS_KEY] == "tepat waktu" and shown[NEXT_KEY] == "2026-11 (batas 2026-12-10)"
    assert len(zone["alerts"]) == 1
    document, page, _ = status_files(zone)
    row = row_of(document, DATASET)
    assert (row["status_terbit"], row["periode_terakhir"], row["periode_tertinggal"]) == ("tepat waktu", "2026-10", 0)
    assert "Tepat waktu" in page


def test_the_next_missed_deadline_is_alerted_once(zone):
    # 11 December (WITA): November's deadline has passed.
    run(MONITOR, datetime(2026, 12, 11, 1, 0, tzinfo=UTC))

    assert extras(zone)[STATUS_KEY] == "terlambat"
    assert len(zone["alerts"]) == 2
    assert [(d["dataset"], d["periode_diharapkan"]) for d in zone["alerts"][1]["datasets"]] == [(DATASET, "2026-11")]


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)")
def test_the_status_page_reads_on_a_phone(zone, tmp_path):
    from devstack.airflow_cluster import free_port

    page = zone["data"] / "status" / HTML_NAME
    browser = Browser(tmp_path / "profile", free_port(), size=(390, 844))
    try:
        browser.goto(page.as_uri())
        browser.wait("document.querySelectorAll('article').length > 0")
        shown = browser.js("""(() => ({
            cards: document.querySelectorAll('article').length,
            late: document.querySelectorAll('article.terlambat').length,
            overflow: document.documentElement.scrollWidth - window.innerWidth,
            first: document.querySelector('article h2').textContent}))()""")
        browser.screenshot(tmp_path / "status-phone.png")
    finally:
        browser.close()
    document = json.loads((zone["data"] / "status" / JSON_NAME).read_text(encoding="utf-8"))
    assert shown["cards"] == len(document["dataset"]) and shown["late"] == document["jumlah_terlambat"]
    assert shown["overflow"] <= 0, "the page scrolls sideways on a 390 px wide screen"
    assert shown["first"] == document["dataset"][0]["judul"]
    assert (tmp_path / "status-phone.png").stat().st_size > 10_000
