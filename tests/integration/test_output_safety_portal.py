"""Adversarial text cells published to the real test portal and read back as CSV.

The rows go into the DataStore by both loaders (``datastore_upsert`` and COPY into the DataStore
write database), and a whole period is published from a source whose names hold such cells;
the CSV resource and what CKAN serves at ``/datastore/dump`` must parse to the rows written,
none split or shifted, with no control character and no cell a spreadsheet would run as a formula.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipeline_clients import datastore_write_dsn

from satudata import settings as satudata_settings
from satudata.catalog import get_entry
from satudata.publish.datastore import sync_datastore
from tests.adversarial import CELL, CELLS, has_controls, runs_as_formula
from tests.conftest import BARE_DATASET, sqlite_conn
from tests.integration.test_datastore_fast_path import write_conn  # noqa: F401  (fixture)
from tests.integration.test_publish_faults import OCTOBER, build, env, point_at, publish, purge, variant  # noqa: F401
from transforms.tables import spreadsheet_safe

pytestmark = pytest.mark.integration

DATASET = "dpmptsp_izin_terbit_bulanan"
TEXT = ["kode_kabupaten_kota", "kode_jenis_izin", "jenis_izin", "nama_kabupaten_kota"]


def _history(cells: list[str]) -> pd.DataFrame:
    """One row per cell, in every text column; keys kept unique by a row number after the cell."""
    rows = []
    for i, cell in enumerate(cells):
        rows.append({
            "kode_provinsi": "64", "nama_provinsi": "Kalimantan Timur",
            "kode_kabupaten_kota": f"{cell}#{i}", "nama_kabupaten_kota": cells[-1 - i],
            "tahun": 2026, "bulan": 9 + i % 2, "kode_jenis_izin": f"{cells[(i + 7) % len(cells)]}#{i}",
            "jenis_izin": cell, "jumlah_izin_terbit": -i, "rata_rata_hari_proses": -1.5 * i,
            "median_hari_proses": None, "persentil_90_hari_proses": 7.5, "standar_pelayanan_hari": 14,
            "persentase_sesuai_standar": 99.125,
        })
    frame = pd.DataFrame(rows)
    for col in ("tahun", "bulan", "jumlah_izin_terbit", "standar_pelayanan_hari"):
        frame[col] = frame[col].astype("Int64")
    for col in TEXT:
        frame[col] = frame[col].astype("string")
    frame["median_hari_proses"] = frame["median_hari_proses"].astype("float64")
    return frame


def _dump(portal: dict, resource_id: str) -> list[dict[str, str]]:
    answer = requests.get(f"{portal['url']}/datastore/dump/{resource_id}", timeout=60,
                          headers={"Authorization": portal["api_token"]})
    assert answer.status_code == 200, answer.status_code
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))
    header = rows[0]
    assert all(len(r) == len(header) for r in rows), "a row of the dump was split or shifted"
    return [dict(zip(header, r, strict=True)) for r in rows[1:]]


def _check(portal: dict, resource_id: str, history: pd.DataFrame) -> None:
    dumped = _dump(portal, resource_id)
    assert len(dumped) == len(history)
    safe = spreadsheet_safe(history)
    # Row i has the count -i: text as the public CSV has it, numbers as numbers.
    by_count = sorted(dumped, key=lambda r: -int(r["jumlah_izin_terbit"]))
    for got, (_, want) in zip(by_count, safe.iterrows(), strict=True):
        assert [got[c] for c in TEXT] == [want[c] for c in TEXT]
        assert int(got["jumlah_izin_terbit"]) == want["jumlah_izin_terbit"] <= 0
        assert float(got["rata_rata_hari_proses"]) == want["rata_rata_hari_proses"]
    for number, row in enumerate(dumped, start=2):
        for column in TEXT:
            assert not runs_as_formula(row[column]), f"dump row {number}, column {column}: a formula"
            assert not has_controls(row[column]), f"dump row {number}, column {column}: a control character"


@pytest.fixture
def package(ckan_client):
    client = ckan_client
    try:
        client.action.organization_create(name="output-safety-org")
    except Exception:  # already there from an earlier kept-portal run
        pass
    try:
        client.action.dataset_purge(id="output-safety")
    except Exception:
        pass
    pkg = client.action.package_create(name="output-safety", owner_org="output-safety-org", **BARE_DATASET)
    yield pkg
    client.action.dataset_purge(id=pkg["id"])


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(drawn=st.lists(CELL, min_size=5, max_size=15))
def test_datastore_dump_serves_adversarial_cells_safely(drawn, ckan_client, ckan_portal, write_conn,  # noqa: F811
                                                        package, airflow_db):
    entry = get_entry(DATASET)
    client = ckan_client
    history = _history(CELLS + drawn)
    september = history[history["bulan"] == 9].reset_index(drop=True)
    dsn = datastore_write_dsn(satudata_settings.datastore_write_conn_id())
    assert dsn
    for name, write_dsn in (("api", None), ("copy", dsn)):
        resource = client.action.resource_create(package_id=package["id"], name=f"{name}.csv",
                                                 url=f"http://example.invalid/{name}.csv")
        first = sync_datastore(client, resource, entry, september, history, {"tahun": 2026, "bulan": 9},
                               write_dsn=write_dsn)
        assert first["path"] == name and first["table_created"]
        _check(ckan_portal, resource["id"], history)
        # A re-run of the period finds its own rows by key: nothing deleted, nothing added.
        again = sync_datastore(client, resource, entry, september, history, {"tahun": 2026, "bulan": 9},
                               write_dsn=write_dsn)
        assert again["rows_deleted"] == 0 and not again["table_created"]
        _check(ckan_portal, resource["id"], history)
        client.action.resource_delete(id=resource["id"])


# The source's permit names as an agency system might hold them after a copy-paste.
NAMES = {
    "PBG": 'PBG\r=HYPERLINK("http://x.example","klik")',
    "SLF": "\x00=1+1",
    "SIP-DOK": "\t@SUM(1+1)",
    "SIPA": "\uff1dcmd|' /C calc'!A0",
    "REKLAME": 'Reklame\r\n-2+3;"kutip", koma',
    "SIUP-IKAN": "Perikanan\u2028\x85\x1b[1m",
    "TRAYEK": "\u00a0\u200b+1 Trayek",
}


def _no_formula_or_control(rows: list[list[str]], where: str) -> None:
    for number, row in enumerate(rows, start=2):
        for column, cell in enumerate(row):
            try:
                float(cell)
                continue  # a number, written as one
            except ValueError:
                pass
            assert not runs_as_formula(cell), f"{where} row {number}, column {column + 1}: a formula"
            assert not has_controls(cell), f"{where} row {number}, column {column + 1}: a control character"


def test_published_period_with_adversarial_names(env, tmp_path, monkeypatch, sample_sqlite):  # noqa: F811
    import shutil
    import sqlite3

    entry = variant("uji-keamanan-keluaran")
    purge(env, entry.ckan.name)
    point_at(env, env["portal"]["url"])
    source = tmp_path / "names.sqlite"
    shutil.copy(sample_sqlite, source)
    with sqlite3.connect(source) as db:
        for kode, nama in NAMES.items():
            assert db.execute("UPDATE jenis_izin SET nama = ? WHERE kode = ?", (nama, kode)).rowcount == 1
    monkeypatch.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(source))
    written = build(env, entry, OCTOBER, tmp_path / "data")
    result = publish(entry, OCTOBER, written, "run-1")
    assert result["datastore"]["rows_upserted"] == int(written["rows"])

    auth = {"Authorization": env["portal"]["api_token"]}
    resource = next(r for r in env["client"].action.package_show(id=entry.ckan.name)["resources"]
                    if r["format"].rsplit("/", 1)[-1] == "CSV")
    header = [c.name for c in entry.table.columns]
    expected_names = set(spreadsheet_safe(pd.DataFrame({"n": pd.array(list(NAMES.values()), dtype="string")}))["n"])
    for where, url in (("csv", resource["url"]), ("dump", f"{env['portal']['url']}/datastore/dump/{resource['id']}")):
        answer = requests.get(url, timeout=60, headers=auth)
        assert answer.status_code == 200, (where, answer.status_code)
        rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig"), newline="")))
        columns = rows[0][1:] if where == "dump" else rows[0]  # the dump leads with _id
        assert columns == header, where
        assert len(rows) == int(written["rows"]) + 1 and all(len(r) == len(rows[0]) for r in rows), where
        names = {r[rows[0].index("jenis_izin")] for r in rows[1:]}
        assert names == expected_names, where
        _no_formula_or_control(rows[1:], where)
    purge(env, entry.ckan.name)
