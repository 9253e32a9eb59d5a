"""Periods: local calendar dates and names of a run's data interval."""

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from satudata.periods import CRON, SCHEDULES, Period, PeriodKeyError


@pytest.mark.parametrize(
    "schedule, start, end, key",
    [
        ("monthly", datetime(2026, 9, 30, 16, tzinfo=UTC), datetime(2026, 10, 31, 16, tzinfo=UTC), "2026-10"),
        ("daily", datetime(2026, 10, 4, 16, tzinfo=UTC), datetime(2026, 10, 5, 16, tzinfo=UTC), "2026-10-05"),
        ("semiannual", datetime(2026, 6, 30, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC), "2026-S2"),
        ("semiannual", datetime(2025, 12, 31, 16, tzinfo=UTC), datetime(2026, 6, 30, 16, tzinfo=UTC), "2026-S1"),
    ],
)
def test_interval_in_wita_names_the_period(schedule, start, end, key):
    period = Period.from_interval(start, end, schedule)
    assert period.key == key
    assert type(period.start).__name__ == "date"


def test_parameters_for_suites():
    period = Period.from_interval(datetime(2026, 6, 30, 16, tzinfo=UTC), datetime(2026, 12, 31, 16, tzinfo=UTC),
                                  "semiannual")
    assert period.parameters() == {
        "period_year": 2026, "period_month": 7, "period_semester": 2,
        "period_start": "2026-07-01", "period_end": "2027-01-01", "period_quarter": 3, "period_week": 27,
    }


# One example per schedule: a day, the period holding it (key, first day, day after).
EXAMPLES = [
    ("daily", date(2024, 2, 29), "2024-02-29", date(2024, 2, 29), date(2024, 3, 1)),
    ("weekly", date(2024, 2, 1), "2024-W05", date(2024, 1, 29), date(2024, 2, 5)),
    ("weekly", date(2025, 1, 1), "2025-W01", date(2024, 12, 30), date(2025, 1, 6)),
    ("weekly", date(2021, 1, 3), "2020-W53", date(2020, 12, 28), date(2021, 1, 4)),
    ("monthly", date(2024, 2, 14), "2024-02", date(2024, 2, 1), date(2024, 3, 1)),
    ("quarterly", date(2024, 2, 14), "2024-Q1", date(2024, 1, 1), date(2024, 4, 1)),
    ("quarterly", date(2024, 12, 31), "2024-Q4", date(2024, 10, 1), date(2025, 1, 1)),
    ("semiannual", date(2024, 7, 1), "2024-S2", date(2024, 7, 1), date(2025, 1, 1)),
    ("annual", date(2024, 12, 31), "2024", date(2024, 1, 1), date(2025, 1, 1)),
]


@pytest.mark.parametrize("schedule, day, key, start, end", EXAMPLES)
def test_period_of_each_schedule(schedule, day, key, start, end):
    period = Period.containing(schedule, day)
    assert (period.key, period.start, period.end) == (key, start, end)
    assert Period.from_key(key) == period == Period.from_key(key, schedule)


@pytest.mark.parametrize("schedule, start, end, key", [
    ("annual", datetime(2023, 12, 31, 16, tzinfo=UTC), datetime(2024, 12, 31, 16, tzinfo=UTC), "2024"),
    ("quarterly", datetime(2024, 12, 31, 16, tzinfo=UTC), datetime(2025, 3, 31, 16, tzinfo=UTC), "2025-Q1"),
    ("weekly", datetime(2024, 1, 28, 16, tzinfo=UTC), datetime(2024, 2, 4, 16, tzinfo=UTC), "2024-W05"),
])
def test_new_schedules_name_their_interval_in_wita(schedule, start, end, key):
    assert Period.from_interval(start, end, schedule).key == key


@pytest.mark.parametrize("key, schedule", [
    ("2024", "annual"), ("2024-10", "monthly"), ("2024-Q1", "quarterly"), ("2024-W05", "weekly"),
    ("2024-S1", "semiannual"), ("2024-10-05", "daily"),
])
def test_key_shape_tells_the_schedule(key, schedule):
    assert Period.from_key(key).schedule == schedule


@pytest.mark.parametrize("key, schedule", [
    ("2024-Q5", None), ("2024-Q0", "quarterly"), ("2024-W54", None), ("2025-W53", "weekly"), ("2024-W5", None),
    ("24", None), ("2024", "monthly"), ("2024-Q1", "annual"), ("2024-13", None),
])
def test_keys_that_name_no_period_are_refused(key, schedule):
    with pytest.raises(PeriodKeyError):
        Period.from_key(key, schedule)


def test_new_roles_and_parameters():
    quarter = Period.from_key("2025-Q2")
    assert quarter.values() == {"year": 2025, "month": 4, "semester": 1, "date": "2025-04-01", "quarter": 2,
                                "week": 14}
    week = Period.from_key("2025-W01")  # opens on Monday 2024-12-30: the year is the ISO year of the key
    assert {k: v for k, v in week.parameters().items() if k in ("period_year", "period_week", "period_start")} == {
        "period_year": 2025, "period_week": 1, "period_start": "2024-12-30"}
    assert Period.from_key("2024").parameters() == {
        "period_year": 2024, "period_month": 1, "period_semester": 1, "period_start": "2024-01-01",
        "period_end": "2025-01-01", "period_quarter": 1, "period_week": 1}


def test_example_keys_name_every_schedule():
    assert Period.example(None) == "2026-10-05, 2026-10, 2026-S2, 2026, 2026-Q4, 2026-W41"


# Properties over every schedule and any day of 1990..2100.
days = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31))
schedules = st.sampled_from(sorted(SCHEDULES))


def _key_from_parameters(schedule: str, p: dict) -> str:
    """The key a period's suite parameters spell, by schedule."""
    return {
        "daily": p["period_start"],
        "weekly": f"{p['period_year']}-W{p['period_week']:02d}",
        "monthly": f"{p['period_year']}-{p['period_month']:02d}",
        "quarterly": f"{p['period_year']}-Q{p['period_quarter']}",
        "semiannual": f"{p['period_year']}-S{p['period_semester']}",
        "annual": f"{p['period_year']}",
    }[schedule]


@given(schedules, days)
def test_period_contains_its_day(schedule, day):
    period = Period.containing(schedule, day)
    assert period.start <= day < period.end
    assert period.start <= period.last_day < period.end
    assert Period.containing(schedule, period.start) == period == Period.containing(schedule, period.last_day)


@given(schedules, days)
def test_key_round_trips_with_and_without_schedule(schedule, day):
    period = Period.containing(schedule, day)
    assert Period.from_key(period.key, schedule) == period
    assert Period.from_key(period.key) == period


@given(schedules, days)
def test_previous_is_contiguous_and_disjoint(schedule, day):
    period = Period.containing(schedule, day)
    previous = period.previous()
    assert previous.end == period.start
    assert previous.start < previous.end
    assert previous.key < period.key  # file names sort in time: the written history's first and last period
    following = Period.containing(schedule, period.end)
    assert following.start == period.end and following.previous() == period


@given(schedules, days, days)
def test_periods_never_overlap(schedule, a, b):
    first, second = Period.containing(schedule, a), Period.containing(schedule, b)
    if first == second:
        assert first.key == second.key
    else:
        assert first.end <= second.start or second.end <= first.start
        assert first.key != second.key


@given(schedules, days)
def test_parameters_agree_with_the_key(schedule, day):
    period = Period.containing(schedule, day)
    parameters = period.parameters()
    assert _key_from_parameters(schedule, parameters) == period.key
    assert (parameters["period_start"], parameters["period_end"]) == (period.start.isoformat(), period.end.isoformat())
    values = period.values()
    assert {f"period_{role}": values[role] for role in ("year", "month", "semester", "quarter", "week")} == {
        k: v for k, v in parameters.items() if k not in ("period_start", "period_end")}


@pytest.mark.parametrize("schedule", sorted(SCHEDULES))
def test_cron_fires_at_each_period_start(schedule):
    """The cron's fields agree with the calendar: each period opens at midnight on a day the cron names."""
    minute, hour, dom, month, dow = CRON[schedule].split()
    assert (minute, hour) == ("0", "0")
    for day in (Period.containing(schedule, date(2025, m, 15)).start for m in range(1, 13)):
        assert dom == "*" or day.day in {int(x) for x in dom.split(",")}
        assert month == "*" or day.month in {int(x) for x in month.split(",")}
        assert dow == "*" or day.isoweekday() % 7 in {int(x) for x in dow.split(",")}
