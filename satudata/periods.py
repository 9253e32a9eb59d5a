"""Publication periods: the calendar unit a dataset is published in, its key, its bounds, its schedule.

The one period model of the pipeline: the DAGs (cron and data interval), the steps (file keys,
the previous period, the DataStore's period filter), the steward CLI (``--period``) and the
metadata (temporal coverage) all read periods through ``Period``. A schedule is a row of
``SCHEDULES``: its cron, how a date opens its period, how a period's key is written and read.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from satudata import settings

Schedule = Literal["daily", "weekly", "monthly", "quarterly", "semiannual", "annual"]


def _semester(day: date) -> int:
    return 1 if day.month <= 6 else 2


def _quarter(day: date) -> int:
    return (day.month - 1) // 3 + 1


def _iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class _Calendar:
    """How one schedule cuts time into periods."""

    cron: str  # each run covers the period that ended at its scheduled time
    opening: Callable[[date], date]  # the first day of the period holding a date
    after: Callable[[date], date]  # the first day after the period opening on a date
    key: Callable[[date], str]
    pattern: re.Pattern[str]  # a key of this schedule
    parse: Callable[[re.Match[str]], date]  # the first day of the period a key names
    runs: str  # when the cron fires, in WITA, and what it covers, for people (schedule_text)


SCHEDULES: dict[str, _Calendar] = {
    "daily": _Calendar(
        "0 0 * * *", lambda d: d, lambda d: d + timedelta(days=1), date.isoformat,
        re.compile(r"^(\d{4})-(\d{2})-(\d{2})$"), lambda m: date(*(int(g) for g in m.groups())),
        "every day at 00:00 WITA, for the day before",
    ),
    "monthly": _Calendar(
        "0 0 1 * *", lambda d: d.replace(day=1), lambda d: _add_months(d, 1), lambda d: f"{d:%Y-%m}",
        re.compile(r"^(\d{4})-(\d{2})$"), lambda m: date(int(m[1]), int(m[2]), 1),
        "the 1st of each month at 00:00 WITA, for the month before",
    ),
    "semiannual": _Calendar(
        "0 0 1 1,7 *", lambda d: date(d.year, 1 if d.month <= 6 else 7, 1), lambda d: _add_months(d, 6),
        lambda d: f"{d.year}-S{_semester(d)}",
        re.compile(r"^(\d{4})-S([12])$"), lambda m: date(int(m[1]), 1 if m[2] == "1" else 7, 1),
        "1 January and 1 July at 00:00 WITA, for the half-year before",
    ),
    "annual": _Calendar(
        "0 0 1 1 *", lambda d: date(d.year, 1, 1), lambda d: date(d.year + 1, 1, 1), lambda d: f"{d.year}",
        re.compile(r"^(\d{4})$"), lambda m: date(int(m[1]), 1, 1),
        "1 January at 00:00 WITA, for the year before",
    ),
    "quarterly": _Calendar(
        "0 0 1 1,4,7,10 *", lambda d: date(d.year, 3 * _quarter(d) - 2, 1), lambda d: _add_months(d, 3),
        lambda d: f"{d.year}-Q{_quarter(d)}",
        re.compile(r"^(\d{4})-Q([1-4])$"), lambda m: date(int(m[1]), 3 * int(m[2]) - 2, 1),
        "1 January, April, July and October at 00:00 WITA, for the quarter before",
    ),
    # ISO weeks, Monday to Sunday, named by ISO year and week: 2025-W01 opens on 2024-12-30.
    "weekly": _Calendar(
        "0 0 * * 1", lambda d: d - timedelta(days=d.weekday()), lambda d: d + timedelta(days=7), _iso_week,
        re.compile(r"^(\d{4})-W(\d{2})$"), lambda m: date.fromisocalendar(int(m[1]), int(m[2]), 1),
        "Mondays at 00:00 WITA, for the ISO week before",
    ),
}

# The cron of each schedule, for the DAGs' timetables.
CRON: dict[str, str] = {name: calendar.cron for name, calendar in SCHEDULES.items()}


def schedule_text(schedule: str) -> str:
    """A schedule in local time, as the README's dataset table and the DAG's page show it:
    ``monthly: the 1st of each month at 00:00 WITA, for the month before``."""
    return f"{schedule}: {SCHEDULES[schedule].runs}"


class PeriodKeyError(ValueError):
    """A text that is not a period key of the schedule."""


class PeriodUnknown(ValueError):
    """A run whose period cannot be told: no data interval and no time to infer one, or an
    interval that is not one period of the dataset's schedule."""


@dataclass(frozen=True)
class Period:
    """A run's data interval as local (WITA) calendar dates, ``end`` exclusive."""

    schedule: str
    start: date
    end: date

    @classmethod
    def from_interval(cls, start: datetime, end: datetime, schedule: str = "monthly") -> Period:
        """The period of a DAG run's data interval (instants, read as WITA dates)."""
        tz = ZoneInfo(settings.TIMEZONE)
        # Plain dates: DB drivers (sqlite3) do not bind pendulum's date subclass.
        first, last = start.astimezone(tz), end.astimezone(tz)
        return cls(schedule, date(first.year, first.month, first.day), date(last.year, last.month, last.day))

    @classmethod
    def latest_complete(cls, schedule: str, instant: datetime) -> Period:
        """The last period of ``schedule`` that ended by ``instant`` (read in WITA).

        What a manual run covers, as the DAG's timetable infers it from a logical date.
        """
        local = instant.astimezone(ZoneInfo(settings.TIMEZONE))
        return cls.containing(schedule, date(local.year, local.month, local.day)).previous()

    @classmethod
    def of_run(cls, schedule: str, start: datetime | None, end: datetime | None,
               run_after: datetime | None = None) -> Period:
        """The period a DAG run covers.

        Its data interval when it has one, which must be one period of ``schedule``; a run without
        a logical date has none (Airflow 3's default for a manual run), and covers the latest
        complete period before it was triggered (``run_after``). ``PeriodUnknown`` otherwise,
        saying which logical date to give.
        """
        if start is not None and end is not None:
            period = cls.from_interval(start, end, schedule)
            if period != cls.containing(schedule, period.start):
                raise PeriodUnknown(
                    f"the run's data interval ({period.start} to {period.end}, WITA) is not one {schedule} "
                    f"period; {cls.trigger_hint(schedule)}"
                )
            return period
        if start is None and end is None and run_after is not None:
            return cls.latest_complete(schedule, run_after)
        raise PeriodUnknown(f"the run has no data interval to take its period from; {cls.trigger_hint(schedule)}")

    @staticmethod
    def trigger_hint(schedule: str) -> str:
        """How to trigger a run of a given period of ``schedule``, for messages."""
        example = Period.containing(schedule, date(2026, 10, 5))
        return (
            f"trigger it again with a logical date: a run covers the last complete {schedule} period before "
            f"it, e.g. logical date {example.end.isoformat()}T00:00:00+08:00 runs {example.key} "
            "(no logical date: the latest complete period)"
        )

    @classmethod
    def containing(cls, schedule: str, day: date) -> Period:
        """The period of ``schedule`` that holds ``day``."""
        calendar = SCHEDULES[schedule]
        first = calendar.opening(day)
        return cls(schedule, first, calendar.after(first))

    @classmethod
    def from_key(cls, key: str, schedule: str | None = None) -> Period:
        """The period a key names: 2026-10-05 (daily), 2026-W41 (weekly), 2026-10 (monthly),
        2026-Q4 (quarterly), 2026-S2 (semiannual), 2026 (annual).

        Without ``schedule`` the key's shape decides: no two schedules' keys look alike.
        """
        names = [schedule] if schedule else list(SCHEDULES)
        for name in names:
            match = SCHEDULES[name].pattern.match(key.strip())
            if match:
                try:
                    return cls.containing(name, SCHEDULES[name].parse(match))
                except ValueError:
                    break
        expected = f"a {schedule} period key" if schedule else "a period key"
        raise PeriodKeyError(f"{key!r} is not {expected} (e.g. {cls.example(schedule)})")

    @staticmethod
    def example(schedule: str | None) -> str:
        """An example key of ``schedule`` (all schedules' when None), for messages."""
        day = date(2026, 10, 5)
        names = [schedule] if schedule else list(SCHEDULES)
        return ", ".join(SCHEDULES[n].key(SCHEDULES[n].opening(day)) for n in names)

    @property
    def key(self) -> str:
        """The period's name in paths and metadata: 2026-10-05, 2026-W41, 2026-10, 2026-Q4, 2026-S2 or 2026."""
        return SCHEDULES[self.schedule].key(self.start)

    @property
    def year(self) -> int:
        """The year of the first day; of a weekly period, the ISO year its key names."""
        if self.schedule == "weekly":
            return self.start.isocalendar().year
        return self.start.year

    @property
    def month(self) -> int:
        return self.start.month

    @property
    def semester(self) -> int:
        return _semester(self.start)

    @property
    def quarter(self) -> int:
        return _quarter(self.start)

    @property
    def week(self) -> int:
        """The ISO week of the first day."""
        return self.start.isocalendar().week

    @property
    def last_day(self) -> date:
        """The period's last day (``end`` is the day after)."""
        return self.end - timedelta(days=1)

    def previous(self) -> Period:
        """The period just before this one, for comparing volumes."""
        return Period.containing(self.schedule, self.start - timedelta(days=1))

    def values(self) -> dict[str, Any]:
        """What a row says of its period, by role: year, month, semester, quarter, week, date (the first day)."""
        return {"year": self.year, "month": self.month, "semester": self.semester, "date": self.start.isoformat(),
                "quarter": self.quarter, "week": self.week}

    def parameters(self) -> dict[str, Any]:
        """Suite parameters ($PARAMETER) describing the period, for freshness expectations."""
        return {
            "period_year": self.year,
            "period_month": self.month,
            "period_semester": self.semester,
            "period_start": self.start.isoformat(),
            "period_end": self.end.isoformat(),
            "period_quarter": self.quarter,
            "period_week": self.week,
        }


# Periods and dates in words, as Indonesian readers write them (charts, notices, the status page).
BULAN = ["Januari", "Februari", "Maret", "April", "Mei", "Juni", "Juli", "Agustus", "September", "Oktober",
         "November", "Desember"]


def tanggal(day: date) -> str:
    """A date as Indonesian readers write it: 1 Desember 2026."""
    return f"{day.day} {BULAN[day.month - 1]} {day.year}"


def period_text(key: str) -> str:
    """A period key in words: ``Oktober 2026``, ``Semester 2 2026``, ``5 Oktober 2026``."""
    try:
        period = Period.from_key(key)
    except PeriodKeyError:
        return key  # a year, or a key of no schedule: as it is
    first: date = period.start
    if period.schedule == "daily":
        return f"{first.day} {BULAN[first.month - 1]} {first.year}"
    if period.schedule == "semiannual":
        return f"Semester {period.semester} {first.year}"
    return coarse_text(period) or f"{BULAN[first.month - 1]} {first.year}"


def coarse_text(period: Period) -> str | None:
    """A year, quarter or week in words (the same on the axis as in titles), or None."""
    if period.schedule == "annual":
        return str(period.year)
    if period.schedule == "quarterly":
        return f"Triwulan {period.values()['quarter']} {period.year}"
    if period.schedule == "weekly":
        return f"Minggu {period.values()['week']} {period.values()['year']}"
    return None
