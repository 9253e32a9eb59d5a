"""Delivery deadlines: the expected period, late or on time, the next period due, when to alert."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from satudata.catalog import CatalogError, load_entry
from satudata.delivery import (
    DEFAULT_DAYS_AFTER_PERIOD,
    EXPECTED_KEY,
    LATE,
    NEXT_KEY,
    ON_TIME,
    STATUS_KEY,
    PublishedPeriodUnreadable,
    assess,
    days_after_period,
    due_date,
    expected_period,
    following,
    local_day,
    newly_late,
    published_period,
)
from satudata.periods import SCHEDULES, Period
from tests.conftest import REPO

schedules = st.sampled_from(sorted(SCHEDULES))
days = st.integers(min_value=0, max_value=120)
today = st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31))


def test_a_monthly_period_is_due_ten_days_after_it_ends():
    october = Period.from_key("2026-10")
    assert due_date(october, 10) == date(2026, 11, 10)
    # On its due day October is not expected yet: September is; the day after, October is.
    assert expected_period("monthly", 10, date(2026, 11, 10)).key == "2026-09"
    assert expected_period("monthly", 10, date(2026, 11, 11)).key == "2026-10"


def test_worked_example_late_by_two_months():
    state = assess("monthly", 10, Period.from_key("2026-08"), date(2026, 11, 20))
    assert (state.status, state.published, state.expected, state.behind) == (LATE, "2026-08", "2026-10", 2)
    assert (state.next_period, state.next_due) == ("2026-09", date(2026, 10, 10))
    assert state.extras() == {STATUS_KEY: "terlambat", EXPECTED_KEY: "2026-10",
                              NEXT_KEY: "2026-09 (batas 2026-10-10)"}


def test_worked_example_on_time():
    state = assess("quarterly", 30, Period.from_key("2026-Q3"), date(2026, 11, 5))
    assert (state.status, state.behind, state.next_period, state.next_due) == (
        ON_TIME, 0, "2026-Q4", date(2027, 1, 30))


def test_nothing_published_is_late():
    state = assess("annual", 90, None, date(2026, 12, 1))
    assert (state.status, state.published, state.behind, state.expected) == (LATE, None, None, "2025")


def test_local_day_is_wita():
    assert local_day(datetime(2026, 11, 10, 16, 0, tzinfo=UTC)) == date(2026, 11, 11)
    assert local_day(datetime(2026, 11, 10, 15, 59, tzinfo=UTC)) == date(2026, 11, 10)


@given(schedules, days, today)
def test_the_expected_period_is_the_latest_whose_deadline_passed(schedule, delay, day):
    expected = expected_period(schedule, delay, day)
    assert due_date(expected, delay) < day
    assert due_date(following(expected), delay) >= day


@given(schedules, days, today)
def test_publishing_the_expected_period_is_never_late(schedule, delay, day):
    expected = expected_period(schedule, delay, day)
    state = assess(schedule, delay, expected, day)
    assert state.status == ON_TIME and state.behind == 0
    # The next period is the one after, not yet due.
    assert state.next_period == following(expected).key and state.next_due >= day
    # A period published ahead of its deadline is not late either.
    assert assess(schedule, delay, following(expected), day).status == ON_TIME


@given(schedules, days, today, st.integers(min_value=1, max_value=30))
def test_k_periods_behind_after_the_deadline_is_late_by_k(schedule, delay, day, k):
    published = expected_period(schedule, delay, day)
    for _ in range(k):
        published = published.previous()
    state = assess(schedule, delay, published, day)
    assert state.status == LATE and state.behind == k
    # The first missing period is the one after the published one, and its deadline has passed.
    assert state.next_period == following(published).key and state.next_due < day


@given(schedules, days, today)
def test_the_day_a_deadline_passes_an_on_time_dataset_turns_late(schedule, delay, day):
    published = expected_period(schedule, delay, day)
    due_next = due_date(following(published), delay)
    assert assess(schedule, delay, published, due_next).status == ON_TIME
    assert assess(schedule, delay, published, due_next + timedelta(days=1)).status == LATE


@given(schedules, days, today, st.integers(min_value=0, max_value=5))
def test_one_alert_per_missed_deadline(schedule, delay, day, k):
    published = expected_period(schedule, delay, day)
    for _ in range(k):
        published = published.previous()
    state = assess(schedule, delay, published, day)
    assert newly_late({}, state) == (state.status == LATE)
    # The same lateness the next day: no new alert; a further missed deadline: one.
    assert not newly_late(state.extras(), state)
    later = assess(schedule, delay, published, due_date(following(Period.from_key(state.expected, schedule)),
                                                        delay) + timedelta(days=1))
    assert later.status == LATE and newly_late(state.extras(), later)


def _package(periode_data: str | None, **fields) -> dict:
    extras = [] if periode_data is None else [{"key": "periode_data", "value": periode_data}]
    return {"state": "active", "private": False, "extras": extras, **fields}


def test_the_published_period_is_the_last_of_periode_data():
    entry = load_entry(REPO / "catalog" / "dpmptsp_izin_terbit_bulanan.yaml")
    assert published_period(entry, _package("2025-01 s.d. 2026-09")) == Period.from_key("2026-09")
    assert published_period(entry, _package("2026-09")) == Period.from_key("2026-09")
    for unpublished in (None, _package(None), _package("2026-09", private=True),
                        _package("2026-09", state="deleted")):
        assert published_period(entry, unpublished) is None
    with pytest.raises(PublishedPeriodUnreadable) as caught:
        published_period(entry, _package("2025-01 s.d. 2026-Q3"))
    assert "periode_data" in str(caught.value) and "2026-Q3" not in str(caught.value)


def _entry_file(tmp_path, delivery) -> object:
    raw = yaml.safe_load((REPO / "catalog" / "dpmptsp_izin_terbit_bulanan.yaml").read_text(encoding="utf-8"))
    if delivery is not None:
        raw["delivery"] = delivery
    path = tmp_path / "dpmptsp_izin_terbit_bulanan.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    return path


def test_the_catalog_declares_the_deadline_or_the_schedule_default_applies(tmp_path):
    assert days_after_period(load_entry(_entry_file(tmp_path, None))) == DEFAULT_DAYS_AFTER_PERIOD["monthly"] == 10
    assert days_after_period(load_entry(_entry_file(tmp_path, {"days_after_period": 15}))) == 15


@pytest.mark.parametrize(("delivery", "said"), [
    ({"days_after_period": -1}, "key 'delivery.days_after_period'"),
    ({"days_after_period": "10"}, "key 'delivery.days_after_period'"),
    ({"days_after_periode": 10}, "unknown key 'delivery.days_after_periode'"),
    ({}, "missing key 'delivery.days_after_period'"),
])
def test_a_wrong_delivery_section_is_refused_with_its_key(tmp_path, delivery, said):
    with pytest.raises(CatalogError) as caught:
        load_entry(_entry_file(tmp_path, delivery))
    assert said in str(caught.value)


def test_every_schedule_has_a_default_deadline():
    assert set(DEFAULT_DAYS_AFTER_PERIOD) == set(SCHEDULES)
