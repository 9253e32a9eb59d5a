"""The DataStore COPY fast path against the real test portal: same table as the API path.

Two resources of one dataset get the same history, one through ``datastore_upsert`` and one
through COPY into the DataStore write database; their rows, field types and data dictionary
must match, before and after a re-run of one period that changes, drops and adds rows.
"""

from __future__ import annotations

import configparser
import json
from urllib.parse import urlsplit

import pandas as pd
import pytest
from pipeline_clients import datastore_write_dsn

from satudata import settings
from satudata.catalog import get_entry
from satudata.publish import DataStoreLoadError
from satudata.publish.datastore import sync_datastore
from tests.conftest import BARE_DATASET

pytestmark = pytest.mark.integration

DATASET = "dpmptsp_izin_terbit_bulanan"


def _history(months: list[int], regencies: list[str], bump: int = 0) -> pd.DataFrame:
    """Rows of the permits table for the given months and regencies, with some missing values."""
    rows = []
    for month in months:
        for i, kode in enumerate(regencies):
            for jenis in ("IMB", "SIUP"):
                rows.append({
                    "kode_provinsi": "64", "nama_provinsi": "Kalimantan Timur",
                    "kode_kabupaten_kota": kode, "nama_kabupaten_kota": f"Kab, \"{kode}\"",
                    "tahun": 2026, "bulan": month, "kode_jenis_izin": jenis, "jenis_izin": f"Izin {jenis}",
                    "jumlah_izin_terbit": 10 * month + i + bump,
                    "rata_rata_hari_proses": 3.25 + i, "median_hari_proses": None if i == 1 else 3.0,
                    "persentil_90_hari_proses": 7.5, "standar_pelayanan_hari": None if i == 2 else 14,
                    "persentase_sesuai_standar": 99.125,
                })
    frame = pd.DataFrame(rows)
    for col in ("tahun", "bulan", "jumlah_izin_terbit", "standar_pelayanan_hari"):
        frame[col] = frame[col].astype("Int64")
    for col in ("median_hari_proses",):
        frame[col] = frame[col].astype("float64")
    return frame


@pytest.fixture
def write_conn(ckan_portal, monkeypatch):
    """The DataStore write database of the test portal as an Airflow postgres connection."""
    ini = configparser.RawConfigParser(strict=False)
    ini.read(ckan_portal["ini"])
    url = urlsplit(ini.get("app:main", "ckan.datastore.write_url"))
    conn = {"conn_type": "postgres", "host": url.hostname, "port": url.port or 5432,
            "schema": url.path.lstrip("/"), "login": url.username, "password": url.password}
    monkeypatch.setenv(f"AIRFLOW_CONN_{settings.datastore_write_conn_id().upper()}", json.dumps(conn))
    return conn


def _table(client, resource_id: str) -> list[dict]:
    order = "bulan, kode_kabupaten_kota, kode_jenis_izin"
    found = client.action.datastore_search(resource_id=resource_id, limit=1000, sort=order)
    assert found["total"] == len(found["records"])
    return [{k: v for k, v in r.items() if k != "_id"} for r in found["records"]]


def _fields(client, resource_id: str) -> list[dict]:
    """Field ids, types, dictionary and schema, less the index names (they differ per table)."""
    fields = client.action.datastore_info(id=resource_id)["fields"]
    return [{**f, "schema": {k: v for k, v in f.get("schema", {}).items() if k != "index_name"}} for f in fields]


def _full_text(dsn: str, resource_id: str) -> list[str]:
    """The table's search vectors in key order, as PostgreSQL prints them."""
    import psycopg2
    from psycopg2 import sql

    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("SELECT _full_text::text FROM {} ORDER BY bulan, kode_kabupaten_kota, kode_jenis_izin")
                    .format(sql.Identifier(resource_id)))
        return [v for (v,) in cur.fetchall()]


def test_copy_fast_path_matches_api_path(ckan_client, write_conn, airflow_db, monkeypatch):
    # Small batches, two in flight: the API path's parallel calls are exercised on 12 rows.
    monkeypatch.setenv("SATUDATA_DATASTORE_BATCH_ROWS", "5")
    monkeypatch.setenv("SATUDATA_DATASTORE_PARALLEL_REQUESTS", "2")
    entry = get_entry(DATASET)
    client = ckan_client
    try:
        client.action.organization_create(name="fastpath-org")
    except Exception:  # already there from an earlier kept-portal run
        pass
    try:
        client.action.dataset_purge(id="fastpath-datastore")
    except Exception:
        pass
    pkg = client.action.package_create(name="fastpath-datastore", owner_org="fastpath-org", **BARE_DATASET)
    api = client.action.resource_create(package_id=pkg["id"], name="api.csv", url="http://example.invalid/a.csv")
    fast = client.action.resource_create(package_id=pkg["id"], name="fast.csv", url="http://example.invalid/f.csv")
    dsn = datastore_write_dsn(settings.datastore_write_conn_id())
    assert dsn and write_conn["schema"] in dsn
    assert datastore_write_dsn("no_such_connection") is None

    history = _history([8, 9], ["64.01", "64.02", "64.03"])
    first_api = sync_datastore(client, api, entry, history, history, {"tahun": 2026, "bulan": 9})
    first_fast = sync_datastore(client, fast, entry, history, history, {"tahun": 2026, "bulan": 9}, write_dsn=dsn)
    assert first_api["path"] == "api" and first_fast["path"] == "copy"
    assert first_fast["table_created"] and first_fast["rows_upserted"] == len(history) == 12
    assert _table(client, fast["id"]) == _table(client, api["id"])
    assert _fields(client, fast["id"]) == _fields(client, api["id"])
    # _full_text is computed to exactly what CKAN's trigger gives the API path's rows.
    assert _full_text(dsn, fast["id"]) == _full_text(dsn, api["id"])
    assert all(_full_text(dsn, fast["id"]))
    assert client.action.datastore_search(resource_id=fast["id"], q="SIUP", limit=0)["total"] == 6

    # Re-run September: values change, 64.03 is gone, 64.04 is new; August stays as it was.
    september = _history([9], ["64.01", "64.02", "64.04"], bump=100)
    again_api = sync_datastore(client, api, entry, september, history, {"tahun": 2026, "bulan": 9})
    again_fast = sync_datastore(client, fast, entry, september, history, {"tahun": 2026, "bulan": 9}, write_dsn=dsn)
    assert again_fast["rows_deleted"] == again_api["rows_deleted"] == 2
    rows = _table(client, fast["id"])
    assert rows == _table(client, api["id"])
    assert len(rows) == 12
    # CKAN 2.12's upsert (INSERT ... ON CONFLICT DO UPDATE) keeps an updated row's old _full_text;
    # the fast path's vectors are those of the same rows loaded afresh.
    fresh = client.action.resource_create(package_id=pkg["id"], name="fresh.csv", url="http://example.invalid/n.csv")
    final = pd.concat([history[history["bulan"] == 8], september], ignore_index=True)
    sync_datastore(client, fresh, entry, final, final, None)
    assert _table(client, fresh["id"]) == rows
    assert _full_text(dsn, fast["id"]) == _full_text(dsn, fresh["id"])
    sept = [r for r in rows if r["bulan"] == 9]
    assert sorted(r["kode_kabupaten_kota"] for r in sept) == ["64.01", "64.01", "64.02", "64.02", "64.04", "64.04"]
    assert all(r["jumlah_izin_terbit"] >= 100 for r in sept)
    assert [r for r in rows if r["bulan"] == 8] == [r for r in _table(client, api["id"]) if r["bulan"] == 8]
    assert client.action.resource_show(id=fast["id"])["datastore_active"]
    client.action.dataset_purge(id=pkg["id"])


def test_a_refused_batch_names_its_rows_and_stops_the_load(ckan_client, airflow_db, monkeypatch):
    monkeypatch.setenv("SATUDATA_DATASTORE_BATCH_ROWS", "4")
    monkeypatch.setenv("SATUDATA_DATASTORE_PARALLEL_REQUESTS", "2")
    entry = get_entry(DATASET)
    client = ckan_client
    try:
        client.action.organization_create(name="fastpath-org")
    except Exception:  # already there
        pass
    try:
        client.action.dataset_purge(id="fastpath-refused")
    except Exception:
        pass
    pkg = client.action.package_create(name="fastpath-refused", owner_org="fastpath-org", **BARE_DATASET)
    res = client.action.resource_create(package_id=pkg["id"], name="bad.csv", url="http://example.invalid/b.csv")
    history = _history([8, 9], ["64.01", "64.02", "64.03"]).astype({"jumlah_izin_terbit": object})
    history.loc[9, "jumlah_izin_terbit"] = "sembilan"  # row 9: in the third batch (rows 8-11)
    with pytest.raises(DataStoreLoadError, match="rows 8-11") as refused:
        sync_datastore(client, res, entry, history, history, None)
    assert "HTTP 409" in str(refused.value)
    client.action.dataset_purge(id=pkg["id"])


def test_stale_rows_are_deleted_past_the_portals_read_limit(ckan_client, write_conn, airflow_db, monkeypatch):
    # More rows than one datastore_search call returns (ckan.datastore.search.rows_max, 32,000):
    # a re-run of September keeps 4 of its 33,004 rows; every other September row goes.
    from satudata.publish.datastore import READ_LIMIT

    entry = get_entry(DATASET)
    client = ckan_client
    try:
        client.action.organization_create(name="fastpath-org")
    except Exception:  # already there
        pass
    try:
        client.action.dataset_purge(id="fastpath-stale")
    except Exception:
        pass
    pkg = client.action.package_create(name="fastpath-stale", owner_org="fastpath-org", **BARE_DATASET)
    res = client.action.resource_create(package_id=pkg["id"], name="many.csv", url="http://example.invalid/m.csv")
    august = _history([8], ["64.01", "64.02"])
    september = _history([9], ["64.01", "64.02"])
    many = september.iloc[[0] * (READ_LIMIT + 1000)].reset_index(drop=True)
    many["kode_jenis_izin"] = [f"J{i:05d}" for i in range(len(many))]
    history = pd.concat([august, september, many], ignore_index=True)
    sync_datastore(client, res, entry, history, history, None, write_dsn=datastore_write_dsn())
    assert client.action.datastore_search(resource_id=res["id"], filters={"bulan": 9}, limit=0)["total"] == \
        len(september) + len(many) > READ_LIMIT

    done = sync_datastore(client, res, entry, september, pd.concat([august, september]), {"tahun": 2026, "bulan": 9})
    assert done["path"] == "api"
    assert done["rows_deleted"] == len(many)
    assert _table(client, res["id"]) == _table_of(pd.concat([august, september]))
    client.action.dataset_purge(id=pkg["id"])


def _table_of(frame: pd.DataFrame) -> list[dict]:
    """Rows as _table returns them: DataStore order, missing values as None."""
    ordered = frame.sort_values(["bulan", "kode_kabupaten_kota", "kode_jenis_izin"])
    return [{k: (None if pd.isna(v) else v) for k, v in row.items()} for row in ordered.to_dict("records")]
