"""Schedules as people read them: in local time (WITA), the same in the README, on the DAG's page
and in the timetable the scheduler follows.

- The README's "Agency sources" table lists every catalog dataset with its schedule as
  ``schedule_text`` writes it, and nothing else.
- Each schedule's text says 00:00 WITA, and the DAG's timetable fires at 00:00 WITA on the day
  each period opens; the DAG's page (``doc_md``) shows the same text.
"""

from __future__ import annotations

import re
import runpy
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from satudata.catalog import get_entry, load_catalog
from satudata.periods import SCHEDULES, Period, schedule_text
from tests.conftest import REPO
from tests.unit.test_dag_schedules import _timetable

WITA = ZoneInfo("Asia/Makassar")


def _readme_table(section: str) -> list[dict[str, str]]:
    """The first table under the README heading ``## <section>``, one dict per row."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    match = re.search(rf"^## {re.escape(section)}\n(.*?)(?=^## )", text, re.S | re.M)
    assert match, f"README has no section {section!r}"
    lines = [line for line in match[1].splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in line.strip().strip("|").split("|")] for line in lines]
    header, _rule, *rows = cells
    return [dict(zip(header, row, strict=True)) for row in rows]


def _expected_rows() -> str:
    return "\n".join(f"| `{e.id}` | {e.source.system} | `{e.source.kind}` | {schedule_text(e.schedule)} |"
                     for e in load_catalog())


def test_readme_lists_every_catalog_dataset_with_its_schedule_in_local_time():
    rows = _readme_table("Agency sources")
    listed = {row["dataset"].strip("`"): row["schedule"] for row in rows}
    assert len(listed) == len(rows), "a dataset is listed twice"
    catalog = {entry.id: schedule_text(entry.schedule) for entry in load_catalog()}
    assert listed == catalog, f"the README's table should read (dataset and schedule columns):\n{_expected_rows()}"


@pytest.fixture(scope="module")
def build_dag():
    return runpy.run_path(str(REPO / "dags" / "satudata_catalog.py"))["build_dag"]


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_the_timetable_fires_when_the_text_says(build_dag, tmp_path, schedule):
    from airflow.timetables.base import DataInterval, TimeRestriction

    assert "00:00 WITA" in schedule_text(schedule)
    timetable = _timetable(build_dag, tmp_path, schedule)
    restriction = TimeRestriction(datetime(2025, 1, 1, tzinfo=WITA), None, catchup=True)
    interval: DataInterval | None = None
    for _ in range(8):
        info = timetable.next_dagrun_info(last_automated_data_interval=interval, restriction=restriction)
        assert info is not None
        interval = info.data_interval
        fires = info.run_after.astimezone(WITA)
        assert (fires.hour, fires.minute) == (0, 0)
        # It fires the day a period opens, for the period just ended.
        day = fires.date()
        assert Period.containing(schedule, day).start == day
        covered = Period.from_interval(interval.start, interval.end, schedule)
        assert covered == Period.containing(schedule, day).previous()


def test_the_dag_page_shows_the_schedule_in_local_time(build_dag):
    entry = get_entry("skm_ikm_semester")
    assert schedule_text("semiannual") in build_dag(entry).doc_md
