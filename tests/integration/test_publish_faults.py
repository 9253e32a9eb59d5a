"""Publishing under faults, against the real local CKAN test portal behind a fault-injecting proxy.

Each dataset here is the permits dataset under another portal name, so these tests do not
disturb the pipeline tests. After the retries (or the next run) no dataset or resource is
duplicated and every dataset is wholly one version: all its resources carry the hashes of
one set of written files, and its ``satudata_versi`` names that set.
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import requests
from pipeline_clients import datastore_write_dsn, source_client
from pipeline_clients import portal as portal_client

from satudata.catalog import DatasetEntry, get_entry
from satudata.extract.archive import sha256_of
from satudata.periods import Period
from satudata.publish.ckan import extras_of, resource_digest
from satudata.run import RunContext
from tests.conftest import REPO, TEST_PORTAL_INSTANCE, TEST_PORTAL_PORT, sqlite_conn
from tests.faultproxy import FaultProxy

pytestmark = pytest.mark.integration

DATASET = "dpmptsp_izin_terbit_bulanan"
TIMEOUT = 2.0
OCTOBER = Period("monthly", *(__import__("datetime").date(2026, m, 1) for m in (10, 11)))
SEPTEMBER = Period("monthly", *(__import__("datetime").date(2026, m, 1) for m in (9, 10)))
AUGUST = Period("monthly", *(__import__("datetime").date(2026, m, 1) for m in (8, 9)))
DEVSTACK = [sys.executable, str(REPO / "devstack" / "ckanstack.py")]


def devstack(*args: str) -> None:
    """Run a devstack command on the test portal's instance; fail with its messages."""
    proc = subprocess.run([*DEVSTACK, *args, "--instance", TEST_PORTAL_INSTANCE], capture_output=True, text=True)
    assert proc.returncode == 0, f"ckanstack {args}: exit {proc.returncode}\n{proc.stderr[-3000:]}"


def start_portal(*settings: str) -> None:
    try:
        devstack("up", "--port", str(TEST_PORTAL_PORT), *settings)
    except AssertionError:
        # A restart sometimes finds the port not yet released by the stopped process; `up` is
        # idempotent, so a second call finishes the job.
        devstack("up", "--port", str(TEST_PORTAL_PORT), *settings)


def variant(name: str, **ckan) -> DatasetEntry:
    """The permits catalog entry published under another portal name."""
    entry = get_entry(DATASET)
    return entry.model_copy(update={"ckan": entry.ckan.model_copy(update={"name": name, **ckan})})


@pytest.fixture(scope="module")
def env(tmp_path_factory, sample_sqlite, ckan_portal):
    mp = pytest.MonkeyPatch()
    mp.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(sample_sqlite))
    mp.setenv("SATUDATA_CKAN_TIMEOUT_SECONDS", str(TIMEOUT))
    mp.setenv("SATUDATA_CKAN_RETRIES", "6")
    mp.setenv("SATUDATA_CKAN_BACKOFF_SECONDS", "0.2")
    from ckanapi import RemoteCKAN

    client = RemoteCKAN(ckan_portal["url"], apikey=ckan_portal["api_token"])
    yield {"mp": mp, "portal": ckan_portal, "client": client, "tmp": tmp_path_factory}
    mp.undo()


def point_at(env, url: str, **extra) -> None:
    env["mp"].setenv("AIRFLOW_CONN_CKAN_DEFAULT", json.dumps(
        {"conn_type": "ckan", "host": url, "password": env["portal"]["api_token"], "extra": extra}))


def purge(env, name: str) -> None:
    from ckanapi import NotFound

    try:
        env["client"].action.dataset_purge(id=name)
    except NotFound:
        pass


def build(env, entry: DatasetEntry, period: Period, data: Path) -> dict[str, str]:
    """Extract, transform, validate and write one period into the data zone ``data``."""
    from satudata import steps

    env["mp"].setenv("SATUDATA_DATA_DIR", str(data))
    run_id = f"test__{period.key}"
    raw = steps.extract(RunContext(entry, period, run_id), source_client(entry))
    staged = steps.transform(RunContext(entry, period, "t"), raw)
    gate = steps.validate(RunContext(entry, period, run_id), staged)
    return steps.write_outputs(RunContext(entry, period, "t"), gate)


def hashes_of(entry: DatasetEntry, outputs: dict[str, str]) -> dict[str, str]:
    """Resource name -> sha256 of the files of one written version (read now: files get rewritten)."""
    from satudata.publish.resources import publish_files

    return {f.name: f"sha256:{sha256_of(f.path)}" for f in publish_files(outputs, entry)}


def publish(entry: DatasetEntry, period: Period, outputs: dict[str, str], run_id: str) -> dict:
    from satudata import steps

    return steps.publish(RunContext(entry, period, run_id), outputs, portal_client(), datastore_write_dsn())


def portal_state(env, name: str) -> tuple[dict, dict[str, str]]:
    """The package and its resources' hashes; fails on duplicate datasets or resource names."""
    client = env["client"]
    found = client.action.package_search(q=f"name:{name}", include_private=True)
    assert found["count"] == 1, f"{found['count']} datasets named {name}"
    pkg = client.action.package_show(id=name)
    names = [r["name"] for r in pkg["resources"]]
    assert len(names) == len(set(names)), f"duplicate resources: {names}"
    return pkg, {r["name"]: resource_digest(r) for r in pkg["resources"]}


def assert_wholly(env, name: str, version: dict[str, str], rows: int) -> None:
    from satudata.publish.release import version_of

    pkg, hashes = portal_state(env, name)
    assert hashes == version
    extras = extras_of(pkg)
    assert extras["satudata_versi"] == version_of(version)
    assert not pkg["private"]
    csv = next(r for r in pkg["resources"] if r["name"].endswith(".csv"))
    assert env["client"].action.datastore_search(resource_id=csv["id"], limit=0)["total"] == rows
    views = env["client"].action.resource_view_list(id=csv["id"])
    assert [v["view_type"] for v in views].count("datatables_view") == 1


INJECTED: list[tuple[str, str]] = []


def test_transient_faults_are_retried_and_the_new_version_is_whole(env):
    entry = variant("uji-gangguan-izin-terbit")
    purge(env, entry.ckan.name)
    data = env["tmp"].mktemp("faults") / "data"
    point_at(env, env["portal"]["url"])
    first = build(env, entry, OCTOBER, data)
    old = hashes_of(entry, first)
    publish(entry, OCTOBER, first, "run-1")
    assert_wholly(env, entry.ckan.name, old, int(first["rows"]))

    second = build(env, entry, SEPTEMBER, data)
    new = hashes_of(entry, second)
    assert new != old
    with FaultProxy(env["portal"]["url"]) as proxy:
        point_at(env, proxy.url)
        proxy.add("package_show", "429", delay=1)
        proxy.add("package_show", "500", nth=2)
        proxy.add("resource_patch", "reset_before")
        proxy.add("resource_patch", "slow_after", nth=2, delay=TIMEOUT + 1.5)
        proxy.add("resource_patch", "503", nth=4)
        proxy.add("resource_patch", "reset_after", nth=6)
        proxy.add("resource_patch", "429", nth=8, delay=1)
        proxy.add("datastore_search", "503")
        proxy.add("datastore_create", "500")
        proxy.add("datastore_upsert", "slow_after", delay=TIMEOUT + 1.5)
        proxy.add("datastore_upsert", "reset_after", nth=2)
        proxy.add("package_patch", "reset_after")
        proxy.add("package_patch", "slow_after", nth=2, delay=TIMEOUT + 1.5)
        proxy.add("resource_view_list", "500")
        result = publish(entry, SEPTEMBER, second, "run-2")
        assert proxy.plan == [], f"faults never triggered: {proxy.plan}"
        INJECTED.extend(proxy.injected)
    assert result["changed"] and result["bytes_uploaded"] > 0
    assert_wholly(env, entry.ckan.name, new, int(second["rows"]))


def test_lost_creates_are_looked_up_not_repeated(env, caplog):
    entry = variant("uji-gangguan-izin-baru")
    purge(env, entry.ckan.name)
    data = env["tmp"].mktemp("creates") / "data"
    outputs = build(env, entry, OCTOBER, data)
    version = hashes_of(entry, outputs)
    with FaultProxy(env["portal"]["url"]) as proxy:
        point_at(env, proxy.url)
        proxy.add("package_create", "slow_after", delay=TIMEOUT + 1.5)
        proxy.add("resource_create", "reset_after")
        proxy.add("resource_create", "503", nth=2)
        proxy.add("resource_create", "slow_after", nth=4, delay=TIMEOUT + 1.5)
        proxy.add("resource_create", "reset_before", nth=6)
        proxy.add("resource_create_default_resource_views", "reset_after")
        proxy.add("datastore_create", "slow_after", delay=TIMEOUT + 1.5)
        with caplog.at_level("INFO", logger="satudata.publish"):
            publish(entry, OCTOBER, outputs, "run-1")
        assert proxy.plan == [], f"faults never triggered: {proxy.plan}"
        INJECTED.extend(proxy.injected)
    # The late answers did time out (ckanapi itself would wait forever) and were looked up.
    lost = [r.getMessage() for r in caplog.records if "answer lost" in r.getMessage()]
    assert any(m.startswith("package_create: answer lost (ReadTimeout") for m in lost), lost
    assert sum(m.startswith("resource_create: answer lost") for m in lost) == 3, lost
    assert_wholly(env, entry.ckan.name, version, int(outputs["rows"]))


def test_portal_stopped_mid_publish_then_the_next_run_completes(env):
    entry = variant("uji-gangguan-izin-terbit")
    data = next(p for p in env["tmp"].getbasetemp().glob("faults*/data"))
    env["mp"].setenv("SATUDATA_DATA_DIR", str(data))
    before, old = portal_state(env, entry.ckan.name)
    third = build(env, entry, AUGUST, data)
    new = hashes_of(entry, third)
    assert new != old

    stopped = threading.Event()

    def stop_portal() -> None:
        try:
            devstack("down")
        finally:
            stopped.set()

    try:
        with FaultProxy(env["portal"]["url"]) as proxy:
            point_at(env, proxy.url)
            proxy.add("resource_patch", "call", nth=2, callback=stop_portal)
            with pytest.raises(Exception):  # noqa: B017 - whatever the client raises once retries run out
                publish(entry, AUGUST, third, "run-3")
            INJECTED.extend(proxy.injected)
    finally:
        # The client may give up before the portal has finished stopping: never start it twice.
        stopped.wait(timeout=120)
        start_portal()
    # Not committed: the dataset still names the previous complete version.
    during, _ = portal_state(env, entry.ckan.name)
    extras = extras_of(during)
    assert extras["satudata_versi"] == extras_of(before)["satudata_versi"]

    point_at(env, env["portal"]["url"])
    publish(entry, AUGUST, third, "run-4")
    assert_wholly(env, entry.ckan.name, new, int(third["rows"]))


def test_reports_follow_data_uploaded_by_an_interrupted_run(env):
    # A run that uploaded the new data files but failed before its reports: the next run must
    # publish its reports too, though it finds every data file already up to date.
    from satudata.publish.resources import publish_files

    entry = variant("uji-gangguan-laporan")
    purge(env, entry.ckan.name)
    data = env["tmp"].mktemp("interrupted") / "data"
    point_at(env, env["portal"]["url"])
    first = build(env, entry, OCTOBER, data)
    old = hashes_of(entry, first)
    publish(entry, OCTOBER, first, "run-1")
    second = build(env, entry, SEPTEMBER, data)
    new = hashes_of(entry, second)
    files = publish_files(second, entry)
    data_uploads = sum(1 for f in files if not f.describes_run and old[f.name] != new[f.name])
    report = next(f.name for f in files if f.describes_run)
    env["mp"].setenv("SATUDATA_CKAN_RETRIES", "1")
    try:
        with FaultProxy(env["portal"]["url"]) as proxy:
            point_at(env, proxy.url)
            for nth in range(data_uploads + 1, data_uploads + 5):  # the first report's upload, every attempt
                proxy.add("resource_patch", "500", nth=nth)
            with pytest.raises(Exception):  # noqa: B017 - whatever the client raises once retries run out
                publish(entry, SEPTEMBER, second, "run-2")
            INJECTED.extend(proxy.injected)
    finally:
        env["mp"].setenv("SATUDATA_CKAN_RETRIES", "6")
    _, during = portal_state(env, entry.ckan.name)
    assert during[f"{entry.ckan.name}.csv"] == new[f"{entry.ckan.name}.csv"]
    assert during[report] == old[report]

    point_at(env, env["portal"]["url"])
    publish(entry, SEPTEMBER, second, "run-3")
    assert_wholly(env, entry.ckan.name, new, int(second["rows"]))


def test_portal_restarted_while_the_client_retries(env):
    entry = variant("uji-gangguan-izin-baru")
    data = next(p for p in env["tmp"].getbasetemp().glob("creates*/data"))
    _, old = portal_state(env, entry.ckan.name)
    outputs = build(env, entry, SEPTEMBER, data)
    new = hashes_of(entry, outputs)
    assert new != old
    restarted = threading.Event()

    def bounce_portal() -> None:
        devstack("down")
        threading.Thread(target=lambda: (start_portal(), restarted.set()), daemon=True).start()

    # Backoff 0.2 s doubling over 9 retries waits up to ~100 s: longer than a restart takes.
    env["mp"].setenv("SATUDATA_CKAN_RETRIES", "9")
    try:
        with FaultProxy(env["portal"]["url"]) as proxy:
            point_at(env, proxy.url)
            proxy.add("resource_patch", "call", nth=3, callback=bounce_portal)
            publish(entry, SEPTEMBER, outputs, "run-2")
            INJECTED.extend(proxy.injected)
    finally:
        env["mp"].setenv("SATUDATA_CKAN_RETRIES", "6")
        assert restarted.wait(timeout=180), "the portal did not come back"
    assert_wholly(env, entry.ckan.name, new, int(outputs["rows"]))


def test_at_least_twenty_faults_were_injected():
    kinds = {kind for _, kind in INJECTED}
    assert len(INJECTED) >= 20, INJECTED
    assert {"500", "503", "429", "slow_after", "reset_before", "reset_after", "call"} <= kinds


def test_validation_error_is_reported_with_ckans_message(env):
    from satudata.publish import PublishError

    entry = variant("uji-tag-tidak-sah", tags=["izin terbit!"])
    purge(env, entry.ckan.name)
    point_at(env, env["portal"]["url"])
    outputs = build(env, entry, OCTOBER, env["tmp"].mktemp("invalid") / "data")
    with pytest.raises(PublishError, match=r"409.*izin terbit!"):
        publish(entry, OCTOBER, outputs, "run-1")
    from ckanapi import NotFound

    with pytest.raises(NotFound):
        env["client"].action.package_show(id=entry.ckan.name)


def test_file_over_the_portal_limit_gets_an_error_naming_it(env, tmp_path):
    from satudata.publish import ResourceTooLarge
    from satudata.publish.ckan import PublishFile, upsert_resource
    from transforms.tables import write_csv

    client = env["client"]
    pkg = client.action.package_show(id="uji-gangguan-izin-terbit")
    big = tmp_path / "besar.csv"
    import pandas as pd

    frame = pd.DataFrame({"teks": pd.array(["=HYPERLINK(\"http://x\")", "+SUM(1,2)", "@SUM(A1)", "biasa"] * 40000,
                                            dtype="string"), "angka": [-1, 2, 3, 4] * 40000})
    write_csv(frame, big)
    assert big.stat().st_size > 1024 * 1024
    item = PublishFile("besar.csv", big, "CSV", "uji", "text/csv")
    start_portal("--max-resource-size", "1")
    try:
        with pytest.raises(ResourceTooLarge, match=r"ckan\.max_resource_size"):
            upsert_resource(client, pkg, item, {})
        with pytest.raises(ResourceTooLarge, match=r"max_resource_size of 1 MB"):
            upsert_resource(client, pkg, item, {}, max_bytes=1024 * 1024)
        assert "besar.csv" not in [r["name"] for r in client.action.package_show(id=pkg["id"])["resources"]]
    finally:
        start_portal("--max-resource-size", "100")
    # Under the limit it goes through, and what CKAN serves has the formulas neutralised.
    small = tmp_path / "rumus.csv"
    write_csv(frame.head(4), small)
    done = upsert_resource(client, pkg, PublishFile("rumus.csv", small, "CSV", "uji", "text/csv"), {})
    body = requests.get(done["url"], timeout=30, headers={"Authorization": env["portal"]["api_token"]}).text
    # Text cells get a leading apostrophe; the number -1 stays a number.
    assert body.splitlines() == ["teks,angka", '"\'=HYPERLINK(""http://x"")",-1', '"\'+SUM(1,2)",2',
                                 "'@SUM(A1),3", "biasa,4"]
    client.action.resource_delete(id=done["id"])


def test_datastore_follows_a_period_that_lost_rows(env, tmp_path, monkeypatch, sample_sqlite):
    import shutil
    import sqlite3

    entry = variant("uji-datastore-baris-hilang")
    purge(env, entry.ckan.name)
    point_at(env, env["portal"]["url"])
    data = tmp_path / "data"
    first = build(env, entry, OCTOBER, data)
    publish(entry, OCTOBER, first, "run-1")

    source = tmp_path / "fewer-permits.sqlite"
    shutil.copy(sample_sqlite, source)
    with sqlite3.connect(source) as db:
        gone = db.execute("DELETE FROM permohonan_izin WHERE kode_wilayah = '64.74'"
                          " AND tanggal_terbit >= '2026-10-01' AND tanggal_terbit < '2026-11-01'").rowcount
    assert gone > 0
    monkeypatch.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(source))
    second = build(env, entry, OCTOBER, data)
    assert int(second["rows"]) < int(first["rows"])
    publish(entry, OCTOBER, second, "run-2")
    assert_wholly(env, entry.ckan.name, hashes_of(entry, second), int(second["rows"]))
    csv = next(r for r in env["client"].action.package_show(id=entry.ckan.name)["resources"]
               if r["name"].endswith(".csv"))
    left = env["client"].action.datastore_search(resource_id=csv["id"], filters={"kode_kabupaten_kota": "64.74"})
    assert left["total"] == 0


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def messages(logger: str):
    """The messages ``logger`` logs at INFO and above inside the block.

    Its own handler, not caplog's: the first run in a test process sets up logging again,
    which drops the handler caplog put on the root logger.
    """
    handler = _Kept()
    log = logging.getLogger(logger)
    level = log.level
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    try:
        yield handler.messages
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


def test_a_create_answered_by_a_gateway_error_is_looked_up_not_repeated(env):
    # 502/504 after the portal acted: the transport must not repeat the create; create_once
    # finds what was made. A 502 without forwarding: nothing is found, so it is created again.
    entry = variant("uji-gangguan-gateway")
    purge(env, entry.ckan.name)
    outputs = build(env, entry, OCTOBER, env["tmp"].mktemp("gateway") / "data")
    version = hashes_of(entry, outputs)
    with FaultProxy(env["portal"]["url"]) as proxy:
        point_at(env, proxy.url)
        proxy.add("package_create", "504_after")
        proxy.add("resource_create", "502_after")
        proxy.add("resource_create", "504_after", nth=2)
        proxy.add("resource_create", "502", nth=3)
        with messages("satudata.publish") as logged:
            publish(entry, OCTOBER, outputs, "run-1")
        assert proxy.plan == [], f"faults never triggered: {proxy.plan}"
        # One call per resource, plus one for the create that never reached the portal.
        assert proxy.calls["resource_create"] == len(version) + 1
        assert proxy.calls["package_create"] == 1
    lost = [m for m in logged if "answer lost (CKANAPIError" in m]
    assert sum(m.startswith("package_create:") for m in lost) == 1, lost
    assert sum(m.startswith("resource_create:") for m in lost) == 3, lost
    assert sum("had been done before the answer was lost" in m for m in logged) == 3, logged
    assert_wholly(env, entry.ckan.name, version, int(outputs["rows"]))


def _write_dsn(portal: dict) -> str:
    """libpq DSN of the test portal's DataStore write database."""
    import configparser
    from urllib.parse import urlsplit

    from psycopg2.extensions import make_dsn

    ini = configparser.RawConfigParser(strict=False)
    ini.read(portal["ini"])
    url = urlsplit(ini.get("app:main", "ckan.datastore.write_url"))
    return str(make_dsn(host=url.hostname, port=url.port or 5432, dbname=url.path.lstrip("/"),
                        user=url.username, password=url.password))


def _datastore_equals_csv(env, name: str) -> set[int]:
    """Assert the DataStore table holds exactly the CSV's rows; returns the months it holds."""
    import io

    import pandas as pd

    csv = next(r for r in env["client"].action.package_show(id=name)["resources"] if r["name"].endswith(".csv"))
    body = requests.get(csv["url"], timeout=30, headers={"Authorization": env["portal"]["api_token"]}).text
    columns = ["tahun", "bulan", "kode_kabupaten_kota", "kode_jenis_izin", "jumlah_izin_terbit"]
    published = pd.read_csv(io.StringIO(body), dtype=str, keep_default_na=False)[columns]
    found = env["client"].action.datastore_search(resource_id=csv["id"], fields=columns, limit=32000)
    assert found["total"] == len(found["records"]) == len(published)
    table = sorted(tuple(str(r[c]) for c in columns) for r in found["records"])
    assert table == sorted(published.itertuples(index=False, name=None))
    return {int(r["bulan"]) for r in found["records"]}


@pytest.mark.parametrize("path", ["api", "copy"])
def test_the_next_run_heals_a_datastore_whose_load_failed(env, path):
    # September's CSV goes up but its DataStore load fails on every attempt; October's run finds
    # a table that does not hold the CSV's previous version and reloads the whole history.
    from satudata import steps

    entry = variant(f"uji-datastore-pulih-{path}")
    purge(env, entry.ckan.name)
    point_at(env, env["portal"]["url"])
    dsn = _write_dsn(env["portal"]) if path == "copy" else None
    data = env["tmp"].mktemp(f"heal-{path}") / "data"

    def run(period: Period, outputs: dict[str, str], run_id: str, write_dsn: str | None) -> dict:
        return steps.publish(RunContext(entry, period, run_id), outputs, portal_client(), write_dsn)

    run(AUGUST, build(env, entry, AUGUST, data), "run-8", dsn)
    assert _datastore_equals_csv(env, entry.ckan.name) == {8}

    september = build(env, entry, SEPTEMBER, data)
    env["mp"].setenv("SATUDATA_CKAN_RETRIES", "1")
    try:
        with FaultProxy(env["portal"]["url"]) as proxy:
            point_at(env, proxy.url)
            if path == "api":
                for nth in range(1, 5):  # every attempt of the first batch
                    proxy.add("datastore_upsert", "503", nth=nth)
                with pytest.raises(Exception):  # noqa: B017 - whatever the client raises once retries run out
                    run(SEPTEMBER, september, "run-9", None)
            else:
                import psycopg2

                # The write database refuses the connection (nothing listens on port 9).
                with pytest.raises(psycopg2.OperationalError):
                    run(SEPTEMBER, september, "run-9", "host=127.0.0.1 port=9 dbname=x connect_timeout=2")
    finally:
        env["mp"].setenv("SATUDATA_CKAN_RETRIES", "6")
    point_at(env, env["portal"]["url"])
    # The CSV has September; the table does not.
    pkg, hashes = portal_state(env, entry.ckan.name)
    assert hashes[f"{entry.ckan.name}.csv"] == hashes_of(entry, september)[f"{entry.ckan.name}.csv"]
    csv = next(r for r in pkg["resources"] if r["name"].endswith(".csv"))
    assert env["client"].action.datastore_search(resource_id=csv["id"], filters={"bulan": 9}, limit=0)["total"] == 0

    october = build(env, entry, OCTOBER, data)
    with messages("satudata.publish") as logged:
        result = run(OCTOBER, october, "run-10", dsn)
    assert _datastore_equals_csv(env, entry.ckan.name) == {8, 9, 10}
    assert result["datastore"]["table_replaced"] and result["datastore"]["path"] == path
    assert result["datastore"]["rows_upserted"] == int(october["rows"])
    why = [m for m in logged if "reloading the full history" in m]
    assert len(why) == 1 and "an earlier load did not finish" in why[0], why
    assert f"({october['rows']} rows replace the table's " in why[0]
    assert_wholly(env, entry.ckan.name, hashes_of(entry, october), int(october["rows"]))

    # The next run trusts the healed table again: November's rows alone are loaded.
    november = Period("monthly", __import__("datetime").date(2026, 11, 1), __import__("datetime").date(2026, 12, 1))
    outputs = build(env, entry, november, data)
    result = run(november, outputs, "run-11", dsn)
    assert not result["datastore"]["table_replaced"]
    assert result["datastore"]["rows_upserted"] == int(outputs["period_rows"])
    assert _datastore_equals_csv(env, entry.ckan.name) == {8, 9, 10, 11}
