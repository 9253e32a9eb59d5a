"""The API and file-export DAGs end to end with ``dag.test()`` against the real local CKAN portal.

The agency APIs are played by the local agency API server; the file exports are generated into
the landing folder. Good periods publish; bad input fails the run with a named error, keeps
the raw payload, quarantines it, and publishes nothing.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import requests

from devstack.samples import agencies as sample_agencies
from satudata.catalog import get_entry
from satudata.publish.ckan import extras_of
from satudata.publish.release import OUTCOME_KEYS
from tests.conftest import REPO

pytestmark = pytest.mark.integration

MPP, LAPOR, DUKCAPIL, SKM = ("mpp_kunjungan_harian", "lapor_pengaduan_bulanan", "dukcapil_dokumen_bulanan",
                             "skm_ikm_semester")
# A manual run infers the latest complete period before its logical date as its interval.
MONDAY_5_OCTOBER = datetime(2026, 10, 6, 6, tzinfo=UTC)
OCTOBER = datetime(2026, 11, 5, tzinfo=UTC)
AUGUST = datetime(2026, 9, 5, tzinfo=UTC)
FIRST_SEMESTER = datetime(2026, 7, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def zone(tmp_path_factory, ckan_portal, airflow_db, agency_api):
    """Module-wide data zone with landed exports, API and portal connections; no portal datasets."""
    mp = pytest.MonkeyPatch()
    data = tmp_path_factory.mktemp("sources") / "data"
    mp.setenv("SATUDATA_DATA_DIR", str(data))
    for key, value in sample_agencies.api_connections(agency_api.url).items():
        mp.setenv(key, value)
    mp.setenv("SATUDATA_API_TIMEOUT_SECONDS", "1")
    mp.setenv("SATUDATA_API_BACKOFF_SECONDS", "0.05")
    mp.setenv("AIRFLOW_CONN_CKAN_DEFAULT", json.dumps(
        {"conn_type": "ckan", "host": ckan_portal["url"], "password": ckan_portal["api_token"]}))
    sample_agencies.write_exports(data / "landing", [date(2026, m, 1) for m in (8, 10)], [(2026, 1)])
    from ckanapi import NotFound, RemoteCKAN

    client = RemoteCKAN(ckan_portal["url"], apikey=ckan_portal["api_token"])
    for dataset in (MPP, LAPOR, DUKCAPIL, SKM):
        try:
            client.action.dataset_purge(id=get_entry(dataset).ckan.name)
        except NotFound:
            pass
    yield {"data": data, "client": client, "portal": ckan_portal, "api": agency_api}
    agency_api.faults.clear()
    mp.undo()


def run_dag(dataset: str, logical_date: datetime):
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(REPO / "dags")).dags[dataset]
    return dag.test(logical_date=logical_date)


def task_states(run) -> dict[str, str]:
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter_by(dag_id=run.dag_id, run_id=run.run_id).all()
        return {ti.task_id: str(ti.state) for ti in tis}


def run_record(zone, dataset: str, period: str) -> dict:
    return json.loads((zone["data"] / "runs" / dataset / f"{period}.json").read_text())


def package(zone, dataset: str) -> dict:
    return zone["client"].action.package_show(id=get_entry(dataset).ckan.name)


# A failed run records its outcome on the dataset (and so its modification time); data,
# resources and every other field stay as they were.


def public_version(zone, dataset: str) -> dict:
    """The dataset as the public sees its data: everything but the run-outcome fields."""
    pkg = {k: v for k, v in package(zone, dataset).items() if k != "metadata_modified" and k not in OUTCOME_KEYS}
    # As a mapping: CKAN does not promise an order of extras across updates.
    pkg["extras"] = {e["key"]: e["value"] for e in pkg.get("extras", []) if e["key"] not in OUTCOME_KEYS}
    return pkg


def published(zone, dataset: str, suffix: str) -> Path:
    return zone["data"] / "published" / dataset / f"{get_entry(dataset).ckan.name}.{suffix}"


def download(zone, resource: dict) -> bytes:
    answer = requests.get(resource["url"], timeout=30, headers={"Authorization": zone["portal"]["api_token"]})
    answer.raise_for_status()
    return answer.content


def raw_files(record: dict) -> tuple[dict, list[Path]]:
    """The raw manifest of a run and its archived files, each checked against its sha256."""
    manifest_path = Path(record["raw_file"])
    manifest = json.loads(manifest_path.read_text())
    files = []
    for entry in manifest["files"]:
        path = manifest_path.with_suffix("") / entry["name"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        files.append(path)
    return manifest, files


def assert_published_matches_portal(zone, dataset: str, rows: int) -> str:
    pkg = package(zone, dataset)
    csv = next(r for r in pkg["resources"] if r["format"].rsplit("/", 1)[-1] == "CSV")
    body = download(zone, csv)
    assert body == published(zone, dataset, "csv").read_bytes()
    text = body.decode("utf-8")
    assert len(text.splitlines()) == rows + 1
    assert not re.search(r"\b\d{16}\b", text), "a 16-digit number (NIK?) reached the published CSV"
    return text


def test_mpp_daily_visits_from_the_paged_api(zone):
    run = run_dag(MPP, MONDAY_5_OCTOBER)
    assert str(run.state) == "success", task_states(run)
    record = run_record(zone, MPP, "2026-10-05")
    manifest, pages = raw_files(record)
    visits = sample_agencies.mpp_visits(date(2026, 10, 5))
    assert manifest["rows"] == record["source_rows"] == len(visits)
    assert len(pages) == len(visits) // 200 + 1 and manifest["interval_start"] == "2026-10-05"
    text = assert_published_matches_portal(zone, MPP, record["rows"])
    assert not any(v["pengunjung"]["no_hp"] in text or v["pengunjung"]["nama"] in text for v in visits)
    served = sum(1 for v in visits if v["status"] == "SELESAI" and v["kode_tenant"] == "POLRES")
    lines = [line.split(",") for line in text.splitlines()[1:]]
    assert sum(int(parts[-2]) for parts in lines if parts[5] == "POLRES") == served


def test_lapor_monthly_complaints_survive_injected_faults(zone):
    zone["api"].inject("429", "500", "slow")
    run = run_dag(LAPOR, OCTOBER)
    assert str(run.state) == "success", task_states(run)
    record = run_record(zone, LAPOR, "2026-10")
    manifest, pages = raw_files(record)
    complaints = sample_agencies.lapor_complaints(date(2026, 10, 1))
    assert len(pages) == len(complaints) // 250 + 1 and manifest["rows"] == len(complaints)
    assert any(c["pelapor"]["nik"].encode() in pages[0].read_bytes() for c in complaints)  # NIK stays raw
    text = assert_published_matches_portal(zone, LAPOR, record["rows"])
    assert not any(c["pelapor"]["nama"] in text for c in complaints)


def test_disdukcapil_windows_1252_export(zone):
    run = run_dag(DUKCAPIL, OCTOBER)
    assert str(run.state) == "success", task_states(run)
    record = run_record(zone, DUKCAPIL, "2026-10")
    _manifest, (raw,) = raw_files(record)
    landed = zone["data"] / "landing" / "dukcapil" / "layanan_dukcapil_2026-10.csv"
    assert raw.read_bytes() == landed.read_bytes()  # archived byte for byte
    text = assert_published_matches_portal(zone, DUKCAPIL, record["rows"])
    # Past the raw zone only the declared fields exist: no NIK, no names.
    import pyarrow.parquet as pq

    staged_source = zone["data"] / "staging" / DUKCAPIL / "2026-10" / "source-rows.parquet"
    declared = [f.name for f in get_entry(DUKCAPIL).source.fields]
    assert pq.read_schema(staged_source).names == declared
    niks = {r[1] for r in sample_agencies.dukcapil_rows(date(2026, 10, 1))}
    assert not set(pq.read_table(staged_source).to_pandas().astype(str).stack()) & niks
    rows = sample_agencies.dukcapil_rows(date(2026, 10, 1))
    ktp_samarinda = sum(1 for r in rows if r[3] == "64.72" and r[5] == "KTP-el")
    line = next(x for x in text.splitlines() if ",64.72," in x and ",KTP-el," in x)
    assert line.split(",")[7] == str(ktp_samarinda)


def test_skm_xlsx_gives_ikm_per_unit_for_the_semester(zone):
    run = run_dag(SKM, FIRST_SEMESTER)
    assert str(run.state) == "success", task_states(run)
    record = run_record(zone, SKM, "2026-S1")
    assert record["validation"] == "passed" and record["validation_warnings"] >= 1  # small samples flagged
    import pandas as pd

    table = pd.read_parquet(published(zone, SKM, "parquet"))
    assert len(table) == len({r[2] for r in sample_agencies.skm_respondents(2026, 1)})
    assert set(table["semester"]) == {1} and set(table["mutu_pelayanan"]) <= {"A", "B", "C", "D"}
    assert not table.loc[table["kode_unit_layanan"] == "BKD", "sampel_memadai"].item()
    assert_published_matches_portal(zone, SKM, record["rows"])


def _csv(rows: list[list[str]], header: list[str] | None = None) -> bytes:
    lines = [";".join(header or sample_agencies.DUKCAPIL_HEADER)] + [";".join(r) for r in rows]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def _august() -> list[list[str]]:
    return sample_agencies.dukcapil_rows(date(2026, 8, 1))


def _with(row_index: int, column: int, value: str) -> bytes:
    rows = _august()
    rows[row_index][column] = value
    return _csv(rows)


BAD_EXPORTS = {
    # case: (file bytes, expected row, expected column, words of the message)
    "undecodable-bytes": (_csv(_august()[:5]).replace(b"KTP-el", b"KTP\x81el", 1), 2, None, "0x81"),
    "renamed-column": (_csv(_august(), [h.replace("Jenis Dokumen", "Jenis Dok") for h in
                                        sample_agencies.DUKCAPIL_HEADER]), 1, "Jenis Dokumen", "missing column"),
    "text-in-numeric-column": (_with(6, 7, "dua jam"), 8, "Lama Proses (jam)",
                               "text of 7 characters (letters, spaces) is not a number"),
    "empty-file": (b"", None, None, "the file is empty"),
    "header-only": (_csv([]), 1, None, "no data rows"),
}


@pytest.mark.parametrize("case", list(BAD_EXPORTS))
def test_bad_export_is_quarantined_and_nothing_is_published(zone, case):
    body, row, column, words = BAD_EXPORTS[case]
    landed = zone["data"] / "landing" / "dukcapil" / "layanan_dukcapil_2026-08.csv"
    landed.write_bytes(body)
    before = public_version(zone, DUKCAPIL)
    csv_before = published(zone, DUKCAPIL, "csv").read_bytes()

    run = run_dag(DUKCAPIL, AUGUST)

    assert str(run.state) == "failed"
    states = task_states(run)
    assert states["extract"] == "failed" and states["publish"] == "upstream_failed"
    record = run_record(zone, DUKCAPIL, "2026-08")
    assert record["status"] == "quarantined"
    error = record["error"]
    assert "SIAK Disdukcapil" in error and "dukcapil/layanan_dukcapil_2026-08.csv" in error and words in error
    assert "dua jam" not in error  # the cell is named by its shape, never quoted
    if row is not None:
        assert f"row {row}" in error
    if column is not None:
        assert f"column '{column}'" in error
    # The raw input is kept unchanged; a copy sits in quarantine with an error report.
    _manifest, (raw,) = raw_files(record)
    assert raw.read_bytes() == body
    report = json.loads(Path(record["quarantine_report"]).read_text())
    assert report["row"] == row and report["error"] in error
    assert Path(report["quarantined_file"]).read_bytes() == body
    # Nothing reached the curated zone, the published files or the portal.
    assert not (zone["data"] / "curated" / DUKCAPIL / "2026-08.parquet").exists()
    assert published(zone, DUKCAPIL, "csv").read_bytes() == csv_before
    assert public_version(zone, DUKCAPIL) == before
    outcome = extras_of(package(zone, DUKCAPIL))
    assert outcome["satudata_last_run_status"] == "failed" and outcome["satudata_last_run_id"] == run.run_id


@pytest.mark.parametrize("case", ["truncated-json", "401"])
def test_bad_api_answer_is_quarantined_and_nothing_is_published(zone, monkeypatch, case):
    if case == "truncated-json":
        zone["api"].inject("truncated")
    else:
        monkeypatch.setenv("AIRFLOW_CONN_SP4N_LAPOR", json.dumps(
            {"conn_type": "http", "host": zone["api"].url, "password": "revoked-token"}))
    before = public_version(zone, LAPOR)
    csv_before = published(zone, LAPOR, "csv").read_bytes()

    run = run_dag(LAPOR, AUGUST)

    assert str(run.state) == "failed"
    states = task_states(run)
    assert states["extract"] == "failed" and states["publish"] == "upstream_failed"
    record = run_record(zone, LAPOR, "2026-08")
    assert record["status"] == "quarantined" and "SP4N-LAPOR!" in record["error"]
    manifest, files = raw_files(record)
    assert manifest["status"] == "failed"
    report = json.loads(Path(record["quarantine_report"]).read_text())
    if case == "truncated-json":
        assert "page-0001.json" in record["error"] and "not valid JSON" in record["error"]
        assert [f.name for f in files] == ["page-0001.json"]
        assert Path(report["quarantined_file"]).read_bytes() == files[0].read_bytes()
    else:
        assert "HTTP 401" in record["error"] and "'sp4n_lapor'" in record["error"]
        assert files == [] and "quarantined_file" not in report  # refused: no payload to keep
    assert not (zone["data"] / "curated" / LAPOR / "2026-08.parquet").exists()
    assert published(zone, LAPOR, "csv").read_bytes() == csv_before
    assert public_version(zone, LAPOR) == before


def backfill_intervals(dataset: str, first: datetime, last: datetime) -> list[tuple[datetime, datetime]]:
    """The data intervals ``airflow backfill create --run-backwards`` would run, newest first."""
    from airflow.models.backfill import _get_info_list
    from airflow.models.serialized_dag import SerializedDagModel
    from airflow.utils.session import create_session

    with create_session() as session:
        dag = session.scalar(SerializedDagModel.latest_item_select_object(dataset)).dag
    infos = _get_info_list(from_date=first, to_date=last, reverse=True, dag=dag)
    return [(i.data_interval.start, i.data_interval.end) for i in infos]


def test_backfill_of_three_periods_gives_the_files_of_three_scheduled_runs(zone, tmp_path, monkeypatch):
    """Three months run in schedule order in one zone, and backfilled newest-first in another: same files.

    The backfill runs exactly the intervals Airflow's own backfill planner gives for those months.
    """
    from zoneinfo import ZoneInfo

    wita = ZoneInfo("Asia/Makassar")
    scheduled_order = [datetime(2026, m, 5, tzinfo=UTC) for m in (7, 8, 9)]  # June, July, August
    zones = {}
    monkeypatch.setenv("SATUDATA_DATA_DIR", str(tmp_path / "scheduled"))
    ran = []
    for logical_date in scheduled_order:
        run = run_dag(LAPOR, logical_date)
        assert str(run.state) == "success", task_states(run)
        ran.append((run.data_interval_start, run.data_interval_end))
    zones["scheduled"] = tmp_path / "scheduled"

    planned = backfill_intervals(LAPOR, datetime(2026, 6, 1, tzinfo=wita), datetime(2026, 8, 1, tzinfo=wita))
    assert planned == list(reversed(ran))  # the same three intervals, newest first
    monkeypatch.setenv("SATUDATA_DATA_DIR", str(tmp_path / "backfill"))
    for start, end in planned:
        run = run_dag(LAPOR, end + timedelta(days=4))
        assert str(run.state) == "success", task_states(run)
        assert (run.data_interval_start, run.data_interval_end) == (start, end)
    zones["backfill"] = tmp_path / "backfill"

    def outputs(data: Path) -> dict[str, bytes]:
        files = sorted((data / "curated" / LAPOR).glob("*.parquet")) + sorted((data / "published" / LAPOR).iterdir())
        # The validation report describes the last run (its period and run id), and the revision
        # log the runs in the order they came (a backfill runs newest first), not the data.
        return {f"{p.parent.parent.name}/{p.name}": p.read_bytes() for p in files
                if not p.name.startswith(("laporan-validasi", "catatan-revisi"))}

    scheduled, backfill = outputs(zones["scheduled"]), outputs(zones["backfill"])
    assert {"curated/2026-06.parquet", "curated/2026-07.parquet", "curated/2026-08.parquet"} <= set(scheduled)
    assert scheduled == backfill
