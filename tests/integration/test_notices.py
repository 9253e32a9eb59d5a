"""Notices end to end: real Airflow (``dag.test``), the CKAN test portal, a local SMTP server.

A blocked run and a quarantined export each tell the producer named in the catalog, once, in
Indonesian, without a data value; the weekly digest tells the walidata every dataset's state.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from datetime import UTC, date, datetime

import pytest

from devstack.samples import agencies as sample_agencies
from satudata.catalog import get_entry, load_catalog
from satudata.publish.ckan import extras_of
from tests.conftest import REPO, sqlite_conn
from tests.receivers import RecordingWebhook

pytestmark = pytest.mark.integration

PERMITS, DUKCAPIL = "dpmptsp_izin_terbit_bulanan", "dukcapil_dokumen_bulanan"
OCTOBER_RUN, AUGUST_RUN = datetime(2026, 11, 5, tzinfo=UTC), datetime(2026, 9, 5, tzinfo=UTC)
NIK = "6472015203850012"  # synthetic, valid structure
REGION_MARKER = "64.99"  # a region code no regency has


@pytest.fixture(scope="module")
def zone(tmp_path_factory, sample_sqlite, ckan_portal, airflow_db):
    """A data zone, the portal connection, and the permits dataset published (public) from good October data."""
    from ckanapi import NotFound, RemoteCKAN

    mp = pytest.MonkeyPatch()
    data = tmp_path_factory.mktemp("notices") / "data"
    mp.setenv("SATUDATA_DATA_DIR", str(data))
    mp.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(sample_sqlite))
    mp.setenv("AIRFLOW_CONN_CKAN_DEFAULT", json.dumps(
        {"conn_type": "ckan", "host": ckan_portal["url"], "password": ckan_portal["api_token"]}))
    client = RemoteCKAN(ckan_portal["url"], apikey=ckan_portal["api_token"])
    for dataset in (PERMITS, DUKCAPIL):
        try:
            client.action.dataset_purge(id=get_entry(dataset).ckan.name)
        except NotFound:
            pass
    assert str(run_dag(PERMITS, OCTOBER_RUN).state) == "success"
    yield {"data": data, "client": client, "portal": ckan_portal, "sqlite": sample_sqlite}
    mp.undo()


def run_dag(dag_id: str, logical_date: datetime):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags")).dags[dag_id].test(logical_date=logical_date)


def task_instance(run, task_id: str):
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        return session.query(TaskInstance).filter_by(dag_id=run.dag_id, run_id=run.run_id, task_id=task_id).one()


def test_a_blocked_run_tells_the_producer_once_without_values(zone, smtp_server, tmp_path, monkeypatch):
    planted = tmp_path / "licensing.sqlite"
    shutil.copy(zone["sqlite"], planted)
    with sqlite3.connect(planted) as db:
        db.execute(f"UPDATE permohonan_izin SET kode_wilayah = '{REGION_MARKER}' WHERE id = (SELECT min(id) FROM "
                   "permohonan_izin WHERE status = 'TERBIT' AND tanggal_terbit >= '2026-10-01')")
        db.execute(f"UPDATE jenis_izin SET nama = 'Izin Reklame {NIK}' WHERE kode = 'REKLAME'")
    monkeypatch.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(planted))

    with RecordingWebhook() as alerts:
        monkeypatch.setenv("AIRFLOW_CONN_SATUDATA_ALERTS", alerts.connection())
        run = run_dag(PERMITS, OCTOBER_RUN)

    assert str(run.state) == "failed"
    assert len(alerts.received) == 1 and alerts.received[0]["task_id"] == "validate"  # the operators' alert too
    # The values were there to leak: the raw archive holds them.
    import pyarrow.parquet as pq

    record = json.loads((zone["data"] / "runs" / PERMITS / "2026-10.json").read_text())
    raw = pq.read_table(record["raw_file"].removesuffix(".json") + ".parquet").to_pandas()
    assert REGION_MARKER in set(raw["kode_wilayah"]) and raw["nama_jenis_izin"].str.contains(NIK).any()
    [mail] = smtp_server.received
    assert mail.recipients == ["satudata@dpmptsp.kaltimprov.example"]
    assert mail.subject == f"[Satu Data] Diblokir oleh gerbang mutu: {get_entry(PERMITS).ckan.title} (2026-10)"
    text = mail.part("plain")
    assert "Status: diblokir oleh gerbang mutu" in text and "Periode: Oktober 2026 (2026-10)" in text
    assert re.search(r"\[expect_column_values_to_be_in_set, kolom kode_kabupaten_kota\]: \d+ baris tidak sesuai",
                     text), text
    assert re.search(r"- kolom jenis_izin: \d+ sel berisi NIK \(nilainya tidak ditampilkan\)", text), text
    page = f"{zone['portal']['url'].rstrip('/')}/dataset/{get_entry(PERMITS).ckan.name}"
    assert f"Halaman dataset: {page}" in text  # published before, so public
    assert REGION_MARKER not in mail.everything and NIK not in mail.everything
    assert zone["portal"]["api_token"] not in mail.everything

    # The callback running again for the same failed try sends nothing; the next try is told.
    from failure_alerts import NotifyProducer

    from satudata.gate.suite import ValidationFailed

    ti = task_instance(run, "validate")
    report = record["validation_report"]
    context = {"ti": ti, "exception": ValidationFailed("blocked", report_path=report), "run_id": run.run_id,
               "dag_run": run, "data_interval_start": run.data_interval_start,
               "data_interval_end": run.data_interval_end}
    assert NotifyProducer(get_entry(PERMITS)).notify(context) == []
    assert len(smtp_server.received) == 1
    ti.try_number += 1
    assert NotifyProducer(get_entry(PERMITS)).notify(context) == ["email"]
    assert len(smtp_server.received) == 2


def test_a_quarantined_export_names_file_row_and_column(zone, smtp_server):
    from ckanapi import NotFound

    landing = zone["data"] / "landing"
    sample_agencies.write_exports(landing, [date(2026, 8, 1)], [])
    rows = sample_agencies.dukcapil_rows(date(2026, 8, 1))
    rows[6][7] = "NILAI RAHASIA"
    lines = [";".join(sample_agencies.DUKCAPIL_HEADER)] + [";".join(r) for r in rows]
    (landing / "dukcapil" / "layanan_dukcapil_2026-08.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))

    run = run_dag(DUKCAPIL, AUGUST_RUN)

    assert str(run.state) == "failed"
    [mail] = smtp_server.received
    assert mail.recipients == ["satudata@disdukcapil.kaltimprov.example"]
    assert mail.subject.startswith("[Satu Data] Dikarantina: ")
    text = mail.part("plain")
    assert "- berkas layanan_dukcapil_2026-08.csv, baris 8, kolom Lama Proses (jam)" in text, text
    assert "Kirim ulang berkas ekspor periode 2026-08 (dukcapil/layanan_dukcapil_2026-08.csv)" in text
    assert "Halaman dataset" not in text  # not on the portal
    assert "NILAI RAHASIA" not in mail.everything
    assert not any(row[1] in mail.everything for row in rows)  # the export's NIKs
    with pytest.raises(NotFound):
        zone["client"].action.package_show(id=get_entry(DUKCAPIL).ckan.name)


def test_the_weekly_digest_tells_the_walidata_every_datasets_state(zone, smtp_server, monkeypatch):
    monkeypatch.setenv("SATUDATA_WALIDATA_EMAIL", "walidata@diskominfo.kaltimprov.example")
    extras = extras_of(zone["client"].action.package_show(id=get_entry(PERMITS).ckan.name))

    run = run_dag("satudata_digest", datetime(2026, 11, 29, 23, tzinfo=UTC))  # Monday 07:00 WITA

    assert str(run.state) == "success"
    [mail] = smtp_server.received
    assert mail.recipients == ["walidata@diskominfo.kaltimprov.example"]
    assert mail.subject.startswith("[Satu Data] Ringkasan mingguan 2026-11-30: 8 dataset, ")
    text = mail.part("plain")
    for entry in load_catalog():
        assert f"[{entry.id}]" in text and f"== {entry.producer.name} ==" in text
    status = {"published": "terbit", "blocked": "diblokir gerbang mutu"}[extras["satudata_last_run_status"]]
    assert (f"[{PERMITS}]: run terakhir {status}; mutu "
            f"{'lulus' if extras['satudata_quality_status'] == 'passed' else 'tidak lulus'}; "
            "periode terbit terakhir 2026-10; penyerahan ") in text
    assert f"[{DUKCAPIL}]: run terakhir belum ada di portal" in text
    assert "<table" in mail.part("html")


def test_without_walidata_addresses_the_digest_skips(zone, smtp_server, monkeypatch):
    monkeypatch.delenv("SATUDATA_WALIDATA_EMAIL", raising=False)
    run = run_dag("satudata_digest", datetime(2026, 11, 22, 23, tzinfo=UTC))
    assert str(task_instance(run, "send_digest").state) == "skipped"
    assert smtp_server.received == []
