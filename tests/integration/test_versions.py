"""Versions and rollback against the real CKAN test portal.

The permits dataset under another portal name (a catalog folder of its own, so the command
line finds it by its id): September published, then October (a new period), then
``python -m satudata rollback ... --to 1`` must give the portal back September's version
(resources, DataStore, extras) and be recorded; repeated, it changes nothing; interrupted by a
fault in the DataStore load and repeated, it ends at the same state. A correction of September
re-published shows in the revision log as that key revised.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import shutil
import sqlite3
from datetime import date

import pytest
import requests

from satudata.periods import Period
from satudata.publish.ckan import extras_of, resource_digest
from tests.conftest import REPO, sqlite_conn
from tests.faultproxy import FaultProxy

pytestmark = pytest.mark.integration

DATASET = "dpmptsp_izin_terbit_bulanan"
NAME = "uji-versi-izin-terbit"
SEPTEMBER = Period("monthly", date(2026, 9, 1), date(2026, 10, 1))
OCTOBER = Period("monthly", date(2026, 10, 1), date(2026, 11, 1))
RUN_KEYS = ("satudata_versi", "satudata_last_run_id", "satudata_last_run_status", "satudata_quality_status",
            "satudata_last_validated", "satudata_rollback_ke", "satudata_rollback_dari")


@pytest.fixture
def env(tmp_path, monkeypatch, ckan_portal, sample_sqlite):
    from ckanapi import NotFound, RemoteCKAN

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    text = (REPO / "catalog" / f"{DATASET}.yaml").read_text(encoding="utf-8")
    (catalog / f"{DATASET}.yaml").write_text(text.replace("name: dpmptsp-izin-terbit-bulanan", f"name: {NAME}"),
                                             encoding="utf-8")
    source = tmp_path / "perizinan.sqlite"
    shutil.copy(sample_sqlite, source)
    monkeypatch.setenv("SATUDATA_CATALOG_DIR", str(catalog))
    monkeypatch.setenv("SATUDATA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("SATUDATA_VERSION_STORE", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(source))
    client = RemoteCKAN(ckan_portal["url"], apikey=ckan_portal["api_token"])
    with contextlib.suppress(NotFound):
        client.action.dataset_purge(id=NAME)
    point_at(monkeypatch, ckan_portal, ckan_portal["url"])
    yield {"client": client, "portal": ckan_portal, "source": source, "data": tmp_path / "data", "mp": monkeypatch}
    with contextlib.suppress(NotFound):
        client.action.dataset_purge(id=NAME)


def point_at(mp, portal: dict, url: str) -> None:
    mp.setenv("AIRFLOW_CONN_CKAN_DEFAULT", json.dumps({"conn_type": "ckan", "host": url,
                                                       "password": portal["api_token"]}))


def run_period(period: Period, run_id: str) -> dict:
    """The DAG's steps for one period, publishing to the connection's portal."""
    from pipeline_clients import close, datastore_write_dsn, portal, source_client

    from satudata import steps
    from satudata.catalog import get_entry
    from satudata.run import RunContext

    entry = get_entry(DATASET)
    run = RunContext(entry, period, run_id)
    source = source_client(entry)
    try:
        staged = steps.extract(run, source)
    finally:
        close(source)
    written = steps.write_outputs(run, steps.validate(run, steps.transform(run, staged)))
    return steps.publish(run, written, portal(), datastore_write_dsn())


def cli(*args: str) -> tuple[int, str]:
    from satudata.cli import versions as cli_versions

    out = io.StringIO()
    if args[0] == "versions":
        code = cli_versions.run_versions(args[1], out)
    else:
        code = cli_versions.run_rollback(args[1], args[3], out)
    return code, out.getvalue()


def portal_state(env) -> dict:
    """The dataset as the public sees it: resource hashes, extras, the DataStore's rows by key, the revision log."""
    client = env["client"]
    found = client.action.package_search(q=f"name:{NAME}", include_private=True)
    assert found["count"] == 1
    package = client.action.package_show(id=NAME)
    names = [r["name"] for r in package["resources"]]
    assert len(names) == len(set(names)), f"duplicate resources: {names}"
    table = next(r for r in package["resources"] if r["name"] == f"{NAME}.csv")
    answer = client.action.datastore_search(resource_id=table["id"], limit=32000)
    assert len(answer["records"]) == answer["total"]
    rows = {(r["tahun"], r["bulan"], r["kode_kabupaten_kota"], r["kode_jenis_izin"]): r["jumlah_izin_terbit"]
            for r in answer["records"]}
    assert len(rows) == answer["total"]
    log = next((r for r in package["resources"] if r["name"] == "catatan-revisi.csv"), None)
    log_rows = []
    if log is not None:
        body = requests.get(log["url"], timeout=30, headers={"Authorization": env["portal"]["api_token"]})
        log_rows = list(csv.DictReader(io.StringIO(body.content.decode("utf-8"), newline="")))
    extras = extras_of(package)
    return {"hashes": {r["name"]: resource_digest(r) for r in package["resources"]}, "extras": extras,
            "datastore": rows, "log": log_rows, "private": package["private"], "modified": package["metadata_modified"]}


def csv_rows(data: bytes) -> dict:
    reader = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
    return {(int(r["tahun"]), int(r["bulan"]), r["kode_kabupaten_kota"], r["kode_jenis_izin"]):
            int(r["jumlah_izin_terbit"]) for r in reader}


def assert_at_version(env, version, state: dict) -> None:
    """The portal holds ``version``'s data files, its rows in the DataStore and its periods' extras."""
    from satudata.publish.versions import version_store

    store = version_store()
    data_files = {f.name: f"sha256:{f.sha256}" for f in version.files
                  if f.kind not in ("curated", "revision_csv", "revision_html")}
    assert {n: h for n, h in state["hashes"].items() if n in data_files} == data_files
    assert set(state["hashes"]) - set(data_files) == {"catatan-revisi.csv", "catatan-revisi.html"}
    csv_file = next(f for f in version.files if f.kind == "csv")
    assert state["datastore"] == csv_rows(store.read_blob(version.dataset, csv_file.sha256))
    assert not state["private"]


def test_rollback_puts_back_the_version_and_a_correction_shows_in_the_revision_log(env):
    from satudata.publish.release import version_of
    from satudata.publish.versions import version_store

    store = version_store()
    entry_id = DATASET
    run_period(SEPTEMBER, "run-sep")
    first = portal_state(env)
    v1 = store.latest(entry_id)
    assert v1 is not None and v1.seq == 1 and v1.periods == ["2026-09"]
    assert first["extras"]["satudata_versi"] == v1.satudata_versi == version_of(first["hashes"])
    assert [(r["versi"], r["periode"]) for r in first["log"]] == [("1", "2026-09")]

    run_period(OCTOBER, "run-oct")
    second = portal_state(env)
    v2 = store.latest(entry_id)
    assert v2.seq == 2 and v2.periods == ["2026-09", "2026-10"]
    october = {k for k in second["datastore"] if k[1] == 10}
    assert october and second["extras"]["periode_data"] == "2026-09 s.d. 2026-10"

    code, listing = cli("versions", entry_id)
    assert code == 0
    lines = listing.splitlines()
    assert lines[1].startswith(v1.id) and lines[2].startswith(v2.id) and lines[2].rstrip().endswith("ya")
    assert not lines[1].rstrip().endswith("ya")

    # Back to September: October's rows leave the DataStore, the extras name September only.
    code, said = cli("rollback", entry_id, "--to", "1")
    assert code == 0, said
    back = portal_state(env)
    assert_at_version(env, v1, back)
    assert not {k for k in back["datastore"] if k[1] == 10}
    assert {k: v for k, v in back["extras"].items() if k not in RUN_KEYS} == \
        {k: v for k, v in first["extras"].items() if k not in RUN_KEYS}
    v3 = store.latest(entry_id)
    assert v3.seq == 3 and v3.rollback_of == v1.id and v3.periods == ["2026-09"]
    assert back["extras"]["satudata_versi"] == v3.satudata_versi == version_of(back["hashes"])
    assert back["extras"]["satudata_rollback_ke"] == v1.id and back["extras"]["satudata_rollback_dari"] == v2.id
    assert back["log"][0]["keterangan"] == "Dikembalikan ke versi 1 (sebelumnya versi 2)"
    assert (back["log"][0]["periode"], back["log"][0]["baris_dihapus"]) == ("2026-10", str(len(october)))
    assert sorted(p.stem for p in (env["data"] / "curated" / entry_id).glob("*.parquet")) == ["2026-09"]
    assert any(p.name.startswith("rollback-") for p in (env["data"] / "runs" / entry_id).iterdir())

    # Repeated: nothing changes on the portal, nothing new is recorded.
    code, said = cli("rollback", entry_id, "--to", "1")
    assert code == 0 and "already" in said
    assert portal_state(env) == back
    assert store.latest(entry_id).seq == 3

    # October again, then a rollback whose DataStore load fails (retries exhausted), then repeated.
    run_period(OCTOBER, "run-oct-2")
    v4 = store.latest(entry_id)
    assert v4.seq == 4 and v4.periods == ["2026-09", "2026-10"]
    env["mp"].setenv("SATUDATA_CKAN_RETRIES", "1")
    env["mp"].setenv("SATUDATA_CKAN_BACKOFF_SECONDS", "0.1")
    with FaultProxy(env["portal"]["url"]) as proxy:
        point_at(env["mp"], env["portal"], proxy.url)
        for nth in range(1, 5):
            proxy.add("datastore_upsert", "500", nth=nth)
        with pytest.raises(Exception):  # noqa: B017 - whatever the client raises once retries run out
            cli("rollback", entry_id, "--to", v1.id)
        assert proxy.injected
    env["mp"].setenv("SATUDATA_CKAN_RETRIES", "5")
    point_at(env["mp"], env["portal"], env["portal"]["url"])
    during = portal_state(env)
    assert during["extras"]["satudata_versi"] == v4.satudata_versi  # not committed
    assert store.latest(entry_id).seq == 4
    code, said = cli("rollback", entry_id, "--to", v1.id)
    assert code == 0, said
    again = portal_state(env)
    assert_at_version(env, v1, again)
    v5 = store.latest(entry_id)
    assert v5.seq == 5 and v5.rollback_of == v1.id
    assert again["extras"]["satudata_versi"] == v5.satudata_versi
    assert [r["versi"] for r in again["log"]].count("5") == 1

    # September corrected at the source and re-published: the revision log names the key as revised.
    with sqlite3.connect(env["source"]) as db:
        region, kind, count = db.execute(
            "SELECT kode_wilayah, kode_jenis_izin, COUNT(*) FROM permohonan_izin WHERE status = 'TERBIT'"
            " AND tanggal_terbit >= '2026-09-01' AND tanggal_terbit < '2026-10-01'"
            " GROUP BY kode_wilayah, kode_jenis_izin HAVING COUNT(*) >= 3 ORDER BY 1, 2 LIMIT 1").fetchone()
        db.execute("DELETE FROM permohonan_izin WHERE id = (SELECT MIN(id) FROM permohonan_izin WHERE status = "
                   "'TERBIT' AND kode_wilayah = ? AND kode_jenis_izin = ? AND tanggal_terbit >= '2026-09-01'"
                   " AND tanggal_terbit < '2026-10-01')", (region, kind))
    run_period(SEPTEMBER, "run-sep-corrected")
    corrected = portal_state(env)
    key = (2026, 9, region, kind)
    assert corrected["datastore"][key] == count - 1
    top = corrected["log"][0]
    assert (top["versi"], top["periode"], top["baris_direvisi"]) == ("6", "2026-09", "1")
    assert top["kunci_direvisi"] == f"tahun=2026, bulan=9, kode_kabupaten_kota={region}, kode_jenis_izin={kind}"
    assert "jumlah_izin_terbit" in top["kolom_direvisi"]
    assert corrected["extras"]["satudata_versi"] == store.latest(entry_id).satudata_versi
    assert "satudata_rollback_ke" not in corrected["extras"]
