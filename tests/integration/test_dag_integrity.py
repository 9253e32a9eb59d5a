"""The DAG factory: imports cleanly, one DAG per catalog entry, the delivery monitor and the weekly digest,
retries and tags, light parsing."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from satudata.catalog import load_catalog

REPO = Path(__file__).resolve().parents[2]
MONITOR = "satudata_monitor"
DIGEST = "satudata_digest"


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO / "dags"))


@pytest.fixture(scope="module")
def pipelines(dagbag) -> list:
    """The catalog's pipeline DAGs (every DAG but the delivery monitor and the digest)."""
    return [d for d_id, d in dagbag.dags.items() if d_id not in (MONITOR, DIGEST)]


def test_no_import_errors(dagbag):
    assert dagbag.import_errors == {}


def test_one_dag_per_catalog_entry_the_monitor_and_the_digest(dagbag):
    assert set(dagbag.dag_ids) == {e.id for e in load_catalog()} | {MONITOR, DIGEST}


def test_the_monitor_runs_daily_in_wita_and_after_every_publication(dagbag, pipelines):
    from datetime import timedelta

    from failure_alerts import notify_failure

    from satudata import settings

    dag = dagbag.dags[MONITOR]
    assert "satudata" in dag.tags and dag.max_active_runs == 1
    assert dag.get_task("check_deliveries").downstream_task_ids == {"publish_status_page"}
    schedule = dag.timetable
    assert schedule.timetable.expression == "0 7 * * *" and schedule.timetable.timezone == settings.TIMEZONE
    published = {a.name for d in pipelines for a in d.get_task("publish").outlets}
    assert {a.name for a in schedule.asset_condition.objects} == published
    for t in dag.tasks:
        assert t.retries == 3 and t.on_failure_callback == [notify_failure], t.task_id
        assert t.execution_timeout == timedelta(minutes=settings.TASK_TIMEOUT_MINUTES[t.task_id])


def test_every_task_retries_and_dags_are_tagged(pipelines):
    from datetime import timedelta

    from failure_alerts import NotifyProducer, notify_failure

    for dag in pipelines:
        assert "satudata" in dag.tags
        assert dag.doc_md and "Quality gate" in dag.doc_md
        assert sorted(t.task_id for t in dag.tasks) == [
            "extract", "publish", "record_failure", "transform", "validate", "write"]
        for t in dag.tasks:
            assert t.retries == 3, t.task_id
            assert t.retry_exponential_backoff and t.max_retry_delay == timedelta(minutes=30)
            alert, producer_notice = t.on_failure_callback
            assert alert is notify_failure, t.task_id
            assert isinstance(producer_notice, NotifyProducer) and producer_notice.entry.id == dag.dag_id


def test_every_task_has_an_execution_timeout_from_its_setting(dagbag, monkeypatch):
    from datetime import timedelta

    from airflow.dag_processing.dagbag import DagBag

    from satudata import settings

    for dag in dagbag.dags.values():
        for t in dag.tasks:
            assert t.execution_timeout == timedelta(minutes=settings.TASK_TIMEOUT_MINUTES[t.task_id]), t.task_id
    # Each kind's setting reaches its tasks, and only them.
    monkeypatch.setenv("SATUDATA_PUBLISH_TASK_TIMEOUT_MINUTES", "7.5")
    monkeypatch.setenv("_AIRFLOW_PARSING_CONTEXT_DAG_ID", "dpmptsp_izin_terbit_bulanan")
    dag = DagBag(dag_folder=str(REPO / "dags")).dags["dpmptsp_izin_terbit_bulanan"]
    assert dag.get_task("publish").execution_timeout == timedelta(minutes=7.5)
    assert dag.get_task("write").execution_timeout == timedelta(minutes=settings.TASK_TIMEOUT_MINUTES["write"])


def test_write_and_publish_run_one_period_at_a_time(pipelines):
    # A backfill runs several periods at once; only the full-history writers are held to one.
    for dag in pipelines:
        limits = {t.task_id: t.max_active_tis_per_dag for t in dag.tasks}
        assert limits == {"extract": None, "transform": None, "validate": None, "write": 1, "publish": 1,
                          "record_failure": None}, dag.dag_id


def test_task_order_puts_validation_before_publication(pipelines):
    for dag in pipelines:
        assert dag.get_task("extract").downstream_task_ids == {"transform"}
        assert dag.get_task("transform").downstream_task_ids == {"validate"}
        assert dag.get_task("validate").downstream_task_ids == {"write", "record_failure"}
        assert dag.get_task("write").downstream_task_ids == {"publish"}
        # Only a failed run records its outcome on the portal; it never publishes data.
        assert dag.get_task("record_failure").trigger_rule == "one_failed"
        assert dag.get_task("record_failure").downstream_task_ids == set()
        from satudata.catalog import get_entry

        assert [a.name for a in dag.get_task("publish").outlets] == [get_entry(dag.dag_id).ckan.name]


def test_the_digest_runs_weekly_on_monday_morning_wita(dagbag):
    from datetime import UTC, datetime, timedelta

    from airflow.serialization.encoders import coerce_to_core_timetable
    from failure_alerts import notify_failure

    dag = dagbag.dags[DIGEST]
    assert "satudata" in dag.tags and [t.task_id for t in dag.tasks] == ["send_digest"]
    task = dag.get_task("send_digest")
    assert task.retries == 2 and task.on_failure_callback == [notify_failure]
    assert task.execution_timeout == timedelta(minutes=30)
    timetable = coerce_to_core_timetable(dag.timetable)
    after = timetable.next_dagrun_info(last_automated_data_interval=None, restriction=_from(datetime(2026, 12, 2)))
    assert after.run_after.astimezone(UTC).isoformat() == "2026-12-06T23:00:00+00:00"  # Mon 7 Dec 07:00 WITA


def _from(start):
    from zoneinfo import ZoneInfo

    from airflow.timetables.base import TimeRestriction

    return TimeRestriction(earliest=start.replace(tzinfo=ZoneInfo("Asia/Makassar")), latest=None, catchup=False)


def test_monthly_data_interval_in_local_time(dagbag):
    from datetime import UTC, datetime

    from airflow.serialization.encoders import coerce_to_core_timetable

    dag = dagbag.dags["dpmptsp_izin_terbit_bulanan"]
    timetable = coerce_to_core_timetable(dag.timetable)
    interval = timetable.infer_manual_data_interval(run_after=datetime(2026, 11, 28, tzinfo=UTC))
    assert interval.start.isoformat() == "2026-09-30T16:00:00+00:00"  # 1 Oct 00:00 WITA
    assert interval.end.isoformat() == "2026-10-31T16:00:00+00:00"


def test_parsing_imports_no_heavy_libraries():
    code = (
        "import runpy, sys; runpy.run_path(sys.argv[1]);"
        "heavy = [m for m in ('pandas', 'great_expectations', 'ckanapi', 'pyarrow') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(REPO / "dags" / "satudata_catalog.py")],
        capture_output=True, text=True, env=os.environ.copy(), check=True,
    )
    assert out.stdout.strip().splitlines()[-1:] in ([], [""]), out.stdout


def test_a_worker_parses_only_the_dag_it_runs(tmp_path):
    import yaml

    catalog = tmp_path / "catalog"
    catalog.mkdir()
    source = yaml.safe_load((REPO / "catalog" / "dpmptsp_izin_terbit_bulanan.yaml").read_text(encoding="utf-8"))
    for suffix in ("a", "b"):
        entry = {**source, "id": f"permits_{suffix}", "ckan": {**source["ckan"], "name": f"permits-{suffix}"}}
        (catalog / f"permits_{suffix}.yaml").write_text(yaml.safe_dump(entry), encoding="utf-8")
    code = (
        "import sys; from airflow.dag_processing.dagbag import DagBag;"
        "print(sorted(DagBag(dag_folder=sys.argv[1]).dags))"
    )
    env = {**os.environ, "SATUDATA_CATALOG_DIR": str(catalog)}

    def dags(extra: dict) -> str:
        return subprocess.run([sys.executable, "-c", code, str(REPO / "dags")], env={**env, **extra},
                              capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]

    assert dags({}) == "['permits_a', 'permits_b', 'satudata_digest', 'satudata_monitor']"
    assert dags({"_AIRFLOW_PARSING_CONTEXT_DAG_ID": "permits_b"}) == "['permits_b']"
    assert dags({"_AIRFLOW_PARSING_CONTEXT_DAG_ID": MONITOR}) == "['satudata_monitor']"
