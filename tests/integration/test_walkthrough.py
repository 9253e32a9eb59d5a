"""The README's "Adding a dataset" walkthrough, end to end against the CKAN test portal.

A walidata's path with no Python: scaffold a draft from a messy agency export (Windows-1252,
`;`, decimal commas, headers with `/` and `.`, the period as "Januari 2024", curly quotes and
an en dash in a note), edit the draft's review marks, check the sample, run the DAG for the
period, and find the dataset on the portal under clean column names.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import pytest
import requests

from satudata.__main__ import main
from tests.conftest import REPO

pytestmark = pytest.mark.integration

DATASET = "dinkes_kunjungan_puskesmas"
SAMPLE = REPO / "tests" / "data" / "dinkes_kunjungan_puskesmas_2024-01.csv"
# A manual run covers the latest complete month before its logical date: January 2024.
JANUARY_RUN = datetime(2024, 2, 5, tzinfo=UTC)


@pytest.fixture
def walidata(tmp_path, monkeypatch, ckan_portal, airflow_db):
    catalog = tmp_path / "catalog"
    shutil.copytree(REPO / "catalog", catalog)
    expectations = tmp_path / "expectations"
    shutil.copytree(REPO / "expectations", expectations)
    monkeypatch.setenv("SATUDATA_CATALOG_DIR", str(catalog))
    monkeypatch.setenv("SATUDATA_EXPECTATIONS_DIR", str(expectations))
    monkeypatch.setenv("SATUDATA_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("AIRFLOW_CONN_CKAN_DEFAULT", json.dumps(
        {"conn_type": "ckan", "host": ckan_portal["url"], "password": ckan_portal["api_token"]}))
    from ckanapi import NotFound, RemoteCKAN

    client = RemoteCKAN(ckan_portal["url"], apikey=ckan_portal["api_token"])
    try:
        client.action.dataset_purge(id="dinkes-kunjungan-puskesmas")
    except NotFound:
        pass
    return {"catalog": catalog, "data": tmp_path / "data", "client": client, "portal": ckan_portal}


def edit_draft(path) -> None:
    """What the walidata does with the draft: titles, units, the organization; the marks go."""
    text = path.read_text(encoding="utf-8")
    for old, new in [
        ('title: "Dinkes Kunjungan Puskesmas"', 'title: "Kunjungan Puskesmas per Bulan"'),
        ('notes: "Deskripsi dataset."', 'notes: "Kunjungan pasien ke puskesmas per kabupaten/kota dan jenis kelamin."'),
        ('organization: {name: dinkes, title: "DINKES"}', 'organization: {name: dinkes, title: "Dinas Kesehatan"}'),
        ('description: "Jml. Kunjungan"}', 'description: "Jumlah kunjungan", unit: kunjungan}'),
        ('description: "Rasio per 1.000 Penduduk"}', 'description: "Kunjungan per 1.000 penduduk", '
         'unit: per 1.000 penduduk}'),
    ]:
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def test_scaffold_edit_check_run_and_see_it_on_the_portal(walidata, capsys):
    # 1. scaffold
    assert main(["new", DATASET, str(SAMPLE)]) == 0, capsys.readouterr()
    # 2. edit
    entry_file = walidata["catalog"] / f"{DATASET}.yaml"
    edit_draft(entry_file)
    # 3. check
    assert main(["check", DATASET, str(SAMPLE), "--period", "2024-01"]) == 0, capsys.readouterr().out
    # 4. run the DAG for the period: the export lands where the catalog's path says
    landed = walidata["data"] / "landing" / DATASET / f"{DATASET}_2024-01.csv"
    landed.parent.mkdir(parents=True)
    shutil.copyfile(SAMPLE, landed)
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO / "dags"))
    assert not bag.import_errors
    run = bag.dags[DATASET].test(logical_date=JANUARY_RUN)
    assert str(run.state) == "success"
    # 5. see it on the portal
    client = walidata["client"]
    package = client.action.package_show(id="dinkes-kunjungan-puskesmas")
    assert package["title"] == "Kunjungan Puskesmas per Bulan" and not package["private"]
    names = {r["name"] for r in package["resources"]}
    assert {"dinkes-kunjungan-puskesmas.csv", "dinkes-kunjungan-puskesmas.parquet", "datapackage.json",
            "laporan-validasi.html"} <= names
    csv_resource = next(r for r in package["resources"] if r["name"].endswith(".csv"))
    table = client.action.datastore_search(resource_id=csv_resource["id"], limit=100)
    columns = [f["id"] for f in table["fields"] if f["id"] != "_id"]
    assert columns == ["tahun", "bulan", "kabupaten_kota", "jenis_kelamin", "jml_kunjungan",
                       "rasio_per_1000_penduduk", "ket"]
    records = table["records"]
    assert len(records) == 8 and {r["tahun"] for r in records} == {2024} and {r["bulan"] for r in records} == {1}
    samarinda_l = next(r for r in records if r["kabupaten_kota"] == "Kota Samarinda" and r["jenis_kelamin"] == "L")
    assert samarinda_l["jml_kunjungan"] == 2750 and samarinda_l["rasio_per_1000_penduduk"] == pytest.approx(17.97)
    notes = {r["ket"] for r in records}
    assert "Data sementara – menunggu verifikasi" in notes  # the en dash came through Windows-1252 intact
    answer = requests.get(csv_resource["url"], timeout=30, headers={"Authorization": walidata["portal"]["api_token"]})
    assert answer.content.decode("utf-8").splitlines()[0] == ",".join(columns)
