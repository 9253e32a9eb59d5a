"""Periods: local calendar dates and names of a run's data interval."""

from datetime import UTC, datetime

import pytest

from satudata.periods import Period


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
        "period_start": "2026-07-01", "period_end": "2027-01-01",
    }
