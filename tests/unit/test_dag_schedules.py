"""Each schedule's DAG covers the previous complete period, in WITA, as Airflow's timetable plans it.

No scheduler runs: the DAG is built from a catalog entry and its timetable is asked directly.
"""

from __future__ import annotations

import runpy
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import yaml

from satudata.catalog import load_entry
from satudata.periods import Period
from tests.conftest import REPO

WITA = ZoneInfo("Asia/Makassar")
PERMITS = REPO / "catalog" / "dpmptsp_izin_terbit_bulanan.yaml"


@pytest.fixture(scope="module")
def build_dag():
    return runpy.run_path(str(REPO / "dags" / "satudata_catalog.py"))["build_dag"]


def _timetable(build_dag, tmp_path, schedule: str):
    """The core timetable of the DAG of a catalog entry with ``schedule``."""
    from airflow.serialization.encoders import coerce_to_core_timetable

    data = yaml.safe_load(PERMITS.read_text(encoding="utf-8"))
    data["id"] = f"izin_terbit_{schedule}"
    data["schedule"] = schedule
    path = tmp_path / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    entry = load_entry(path)
    dag = build_dag(entry)
    assert dag.dag_id == entry.id and schedule in dag.tags
    return coerce_to_core_timetable(dag.timetable)


@pytest.mark.parametrize("schedule, run_after, start, end, key", [
    ("quarterly", datetime(2025, 4, 1, tzinfo=WITA), datetime(2025, 1, 1, tzinfo=WITA),
     datetime(2025, 4, 1, tzinfo=WITA), "2025-Q1"),
    ("quarterly", datetime(2025, 5, 20, 9, tzinfo=WITA), datetime(2025, 1, 1, tzinfo=WITA),
     datetime(2025, 4, 1, tzinfo=WITA), "2025-Q1"),
    ("annual", datetime(2025, 1, 1, tzinfo=WITA), datetime(2024, 1, 1, tzinfo=WITA),
     datetime(2025, 1, 1, tzinfo=WITA), "2024"),
    ("weekly", datetime(2025, 1, 6, tzinfo=WITA), datetime(2024, 12, 30, tzinfo=WITA),
     datetime(2025, 1, 6, tzinfo=WITA), "2025-W01"),
    ("weekly", datetime(2024, 2, 7, 13, tzinfo=WITA), datetime(2024, 1, 29, tzinfo=WITA),
     datetime(2024, 2, 5, tzinfo=WITA), "2024-W05"),
    ("monthly", datetime(2026, 11, 28, tzinfo=WITA), datetime(2026, 10, 1, tzinfo=WITA),
     datetime(2026, 11, 1, tzinfo=WITA), "2026-10"),
])
def test_run_covers_the_previous_complete_period(build_dag, tmp_path, schedule, run_after, start, end, key):
    timetable = _timetable(build_dag, tmp_path, schedule)
    interval = timetable.infer_manual_data_interval(run_after=run_after)
    assert (interval.start, interval.end) == (start, end)
    assert Period.from_interval(interval.start, interval.end, schedule).key == key


@pytest.mark.parametrize("schedule, first, last, keys", [
    # The examples of docs/operations.md, Backfill.
    ("annual", "2015-01-01T00:00+08:00", "2024-12-31", [str(y) for y in range(2015, 2025)]),
    ("monthly", "2026-01-01T00:00+08:00", "2026-06-30", [f"2026-{m:02d}" for m in range(1, 7)]),
    ("annual", "2015-01-01T00:00+08:00", "2024-01-01T00:00+08:00", [str(y) for y in range(2015, 2025)]),
    ("quarterly", "2024-01-01T00:00+08:00", "2024-12-31", ["2024-Q1", "2024-Q2", "2024-Q3", "2024-Q4"]),
    ("weekly", "2024-12-30T00:00+08:00", "2025-01-13T00:00+08:00", ["2025-W01", "2025-W02", "2025-W03"]),
    # A bare date is midnight UTC, 08:00 WITA: the period opening that day at 00:00 WITA is left out.
    ("annual", "2015-01-01", "2024-12-31", [str(y) for y in range(2016, 2025)]),
])
def test_backfill_range_gives_one_run_per_period(build_dag, tmp_path, schedule, first, last, keys):
    """The runs ``airflow backfill create --from-date first --to-date last`` plans (logical dates in range)."""
    from airflow.sdk import timezone
    from airflow.timetables.base import TimeRestriction

    timetable = _timetable(build_dag, tmp_path, schedule)
    restriction = TimeRestriction(timezone.parse(first), timezone.parse(last), catchup=True)
    planned, interval = [], None
    while info := timetable.next_dagrun_info(last_automated_data_interval=interval, restriction=restriction):
        interval = info.data_interval
        planned.append(Period.from_interval(interval.start, interval.end, schedule).key)
    assert planned == keys
