"""A run without a logical date (Airflow 3's default for a manual run from the UI, the REST API or
``airflow dags trigger``) covers the latest complete period of its schedule, as ``make demo`` does;
a run whose period cannot be told fails at once, without retries, naming the logical date to give.

The DAG's tasks are called as the worker calls them, with the context Airflow builds for such a run
(no logical date, so no data interval); the expected period is the one the DAG's own timetable
infers for a manual run triggered at the same instant.
"""

from __future__ import annotations

import json
import runpy
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from satudata.catalog import get_entry
from satudata.periods import SCHEDULES, Period, PeriodUnknown
from satudata.run import RunContext
from tests.conftest import REPO, sqlite_conn
from tests.unit.test_dag_schedules import _timetable

WITA = ZoneInfo("Asia/Makassar")
PERMITS = "dpmptsp_izin_terbit_bulanan"
# Instants around the WITA midnights that open periods (and the UTC ones that do not).
TRIGGERED = [
    datetime(2026, 12, 1, 2, 26, tzinfo=UTC),
    datetime(2026, 11, 30, 15, 59, tzinfo=UTC),  # 23:59 WITA on the last day of November
    datetime(2026, 11, 30, 16, 0, tzinfo=UTC),  # 00:00 WITA on 1 December
    datetime(2025, 1, 1, 0, 0, tzinfo=WITA),
    datetime(2024, 12, 31, 20, 0, tzinfo=UTC),
    datetime(2025, 7, 1, 7, 30, tzinfo=UTC),
    datetime(2025, 1, 6, 0, 0, tzinfo=WITA),
]


@pytest.fixture(scope="module")
def build_dag():
    return runpy.run_path(str(REPO / "dags" / "satudata_catalog.py"))["build_dag"]


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_a_run_without_interval_covers_what_the_timetable_infers_for_a_manual_run(
        build_dag, tmp_path, schedule):
    timetable = _timetable(build_dag, tmp_path, schedule)
    for instant in TRIGGERED:
        inferred = timetable.infer_manual_data_interval(run_after=instant)
        expected = Period.from_interval(inferred.start, inferred.end, schedule)
        assert Period.of_run(schedule, None, None, run_after=instant) == expected, (schedule, instant)
        assert expected.end <= instant.astimezone(WITA).date(), "the period is complete"


def test_a_run_with_its_interval_keeps_it():
    start, end = datetime(2026, 9, 30, 16, tzinfo=UTC), datetime(2026, 10, 31, 16, tzinfo=UTC)
    later = datetime(2027, 3, 2, tzinfo=UTC)
    assert Period.of_run("monthly", start, end, run_after=later) == Period.from_key("2026-10", "monthly")


@pytest.mark.parametrize("start, end, run_after", [
    (None, None, None),  # nothing to take a period from
    (datetime(2026, 10, 1, tzinfo=WITA), datetime(2026, 10, 15, tzinfo=WITA), None),  # half a month
    (datetime(2026, 10, 1, tzinfo=WITA), datetime(2026, 10, 1, tzinfo=WITA), None),  # empty
    (datetime(2026, 9, 1, tzinfo=WITA), datetime(2026, 11, 1, tzinfo=WITA), None),  # two months
    (datetime(2026, 10, 1, tzinfo=WITA), None, datetime(2026, 11, 5, tzinfo=UTC)),  # half an interval
])
def test_a_run_whose_period_cannot_be_told_says_which_logical_date_to_give(start, end, run_after):
    entry = get_entry(PERMITS)
    with pytest.raises(PeriodUnknown) as raised:
        RunContext.of(entry, start, end, "manual__x", run_after=run_after)
    message = str(raised.value)
    # The monthly example: the logical date that runs October 2026, and what no logical date runs.
    assert "logical date 2026-11-01T00:00:00+08:00 runs 2026-10" in message
    assert "latest complete period" in message


def _call(dag, task_id: str, context: dict, *args):
    """Run one task's function as the worker does, with ``context`` as the current context."""
    from airflow.sdk.execution_time.context import set_current_context

    with set_current_context(context):
        return dag.task_dict[task_id].python_callable(*args)


def _manual_context(run_after: datetime | None, run_id: str = "manual__2026-12-01T02:26:00+00:00") -> dict:
    # What the task runner gives a run without a logical date: no logical date, no data interval.
    return {"run_id": run_id, "dag_run": SimpleNamespace(run_id=run_id, logical_date=None, run_after=run_after,
                                                          data_interval_start=None, data_interval_end=None),
            "data_interval_start": None, "data_interval_end": None, "logical_date": None}


def test_extract_of_a_run_without_logical_date_takes_the_latest_complete_month(
        build_dag, data_dir, sample_sqlite, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(sample_sqlite))
    dag = build_dag(get_entry(PERMITS))
    triggered = datetime.now(UTC)
    staged = _call(dag, "extract", _manual_context(triggered))
    expected = Period.latest_complete("monthly", triggered)
    this_month = triggered.astimezone(WITA).date().replace(day=1)
    assert (expected.start, expected.end) == ((this_month - timedelta(days=1)).replace(day=1), this_month)
    assert expected.key in staged
    record = json.loads((data_dir / "runs" / PERMITS / f"{expected.key}.json").read_text())
    assert record["period"] == expected.key


def test_tasks_of_a_run_whose_period_cannot_be_told_fail_at_once_and_record_nothing(
        build_dag, data_dir, sample_sqlite, monkeypatch):
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    monkeypatch.setenv("AIRFLOW_CONN_DPMPTSP_PERIZINAN", sqlite_conn(sample_sqlite))
    dag = build_dag(get_entry(PERMITS))
    context = _manual_context(None)
    with pytest.raises(AirflowFailException, match=rf"{PERMITS}: .*logical date 2026-11-01T00:00:00\+08:00"):
        _call(dag, "extract", context)
    with pytest.raises(AirflowFailException, match="no data interval"):
        _call(dag, "transform", context, str(data_dir / "staged.parquet"))
    # record_failure runs after such a failure: it does not fail the same way, it has nothing to record.
    ti = SimpleNamespace(xcom_pull=lambda **kwargs: None)
    with pytest.raises(AirflowSkipException, match="nothing to record"):
        _call(dag, "record_failure", context, ti)
    assert not (data_dir / "runs").exists()


def test_the_dag_keeps_its_time_in_wita(build_dag):
    dag = build_dag(get_entry(PERMITS))
    assert dag.timezone.name == "Asia/Makassar"
    # Its first period opens at midnight WITA, as the periods do.
    assert dag.start_date.astimezone(WITA) == datetime(2024, 1, 1, tzinfo=WITA)
