"""Adversarial text cells through the DataStore and back out of CKAN's ``/datastore/dump`` as CSV.

The rows go into the real test portal by both loaders (``datastore_upsert`` and COPY into the
DataStore write database); the CSV that CKAN serves must parse to the rows written, none split
or shifted, with no control character and no cell a spreadsheet would run as a formula.
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
from tests.integration.test_datastore_fast_path import write_conn  # noqa: F401  (fixture)
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
    pkg = client.action.package_create(name="output-safety", owner_org="output-safety-org")
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
