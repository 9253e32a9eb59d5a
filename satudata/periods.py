"""Publication periods: the calendar unit a dataset is published in, and its cron schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from satudata import settings

Schedule = Literal["daily", "monthly", "semiannual"]

# Each run covers the period that ended at its scheduled time (CronDataIntervalTimetable).
CRON: dict[str, str] = {
    "daily": "0 0 * * *",
    "monthly": "0 0 1 * *",
    "semiannual": "0 0 1 1,7 *",
}


@dataclass(frozen=True)
class Period:
    """A run's data interval as local (WITA) calendar dates, ``end`` exclusive."""

    schedule: str
    start: date
    end: date

    @classmethod
    def from_interval(cls, start: datetime, end: datetime, schedule: str = "monthly") -> Period:
        tz = ZoneInfo(settings.TIMEZONE)
        # Plain dates: DB drivers (sqlite3) do not bind pendulum's date subclass.
        first, last = start.astimezone(tz), end.astimezone(tz)
        return cls(schedule, date(first.year, first.month, first.day), date(last.year, last.month, last.day))

    @property
    def key(self) -> str:
        """The period's name in paths and metadata: 2026-10-05, 2026-10 or 2026-S2."""
        if self.schedule == "daily":
            return self.start.isoformat()
        if self.schedule == "semiannual":
            return f"{self.start.year}-S{1 if self.start.month <= 6 else 2}"
        return f"{self.start:%Y-%m}"

    @property
    def year(self) -> int:
        return self.start.year

    @property
    def month(self) -> int:
        return self.start.month

    def previous(self) -> Period:
        """The period just before this one, for comparing volumes."""
        last_day = self.start - timedelta(days=1)
        if self.schedule == "daily":
            return Period(self.schedule, last_day, self.start)
        if self.schedule == "semiannual":
            return Period(self.schedule, date(last_day.year, 1 if last_day.month <= 6 else 7, 1), self.start)
        return Period(self.schedule, last_day.replace(day=1), self.start)

    def parameters(self) -> dict[str, Any]:
        """Suite parameters ($PARAMETER) describing the period, for freshness expectations."""
        return {
            "period_year": self.start.year,
            "period_month": self.start.month,
            "period_semester": 1 if self.start.month <= 6 else 2,
            "period_start": self.start.isoformat(),
            "period_end": self.end.isoformat(),
        }
