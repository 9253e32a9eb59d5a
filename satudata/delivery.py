"""Delivery deadlines: which period of a dataset should be published by now, and whether it is.

A period is due ``days_after_period`` days after its last day (the catalog's ``delivery``, else
the schedule's default below). On a given day (WITA) the *expected* period is the latest one
whose due date has passed; a dataset whose latest published period is older is *terlambat*
(late), otherwise *tepat waktu* (on time). The published period is read from the portal's
``periode_data`` extra ("first s.d. last"), the truth the public sees.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from satudata import settings
from satudata.catalog import DatasetEntry
from satudata.periods import Period, PeriodKeyError

DeliveryStatus = Literal["terlambat", "tepat waktu"]
LATE: DeliveryStatus = "terlambat"
ON_TIME: DeliveryStatus = "tepat waktu"

# Days after a period's last day by which an agency delivers it, when the catalog does not say:
# time to close the books of the period, scaled with its length.
DEFAULT_DAYS_AFTER_PERIOD: dict[str, int] = {
    "daily": 2,
    "weekly": 3,
    "monthly": 10,
    "quarterly": 30,
    "semiannual": 45,
    "annual": 90,
}

# The extras the monitor sets on a dataset: status, the period it expected, the next period due.
STATUS_KEY = "satudata_status_terbit"
EXPECTED_KEY = "satudata_periode_diharapkan"
NEXT_KEY = "satudata_periode_berikutnya"
DELIVERY_KEYS = (STATUS_KEY, EXPECTED_KEY, NEXT_KEY)


def days_after_period(entry: DatasetEntry) -> int:
    """The entry's delivery deadline in days after a period ends: the catalog's, else its schedule's default."""
    if entry.delivery is not None:
        return entry.delivery.days_after_period
    return DEFAULT_DAYS_AFTER_PERIOD[entry.schedule]


def due_date(period: Period, days: int) -> date:
    """The last day (WITA) on which ``period`` may still be published on time."""
    return period.last_day + timedelta(days=days)


def following(period: Period) -> Period:
    """The period just after ``period``."""
    return Period.containing(period.schedule, period.end)


def local_day(instant: datetime) -> date:
    """The WITA calendar day of an instant."""
    return instant.astimezone(ZoneInfo(settings.TIMEZONE)).date()


def expected_period(schedule: str, days: int, today: date) -> Period:
    """The latest period of ``schedule`` whose due date is before ``today``."""
    period = Period.containing(schedule, today).previous()
    while due_date(period, days) >= today:
        period = period.previous()
    return period


@dataclass(frozen=True)
class Assessment:
    """Where one dataset stands against its delivery deadlines on one day."""

    status: DeliveryStatus
    published: str | None  # the latest published period's key; None: nothing published
    expected: str  # the latest period whose deadline has passed
    behind: int | None  # periods past their deadline and not published; None: nothing published
    next_period: str  # the first period not yet published (late when its due date has passed)
    next_due: date

    def extras(self) -> dict[str, str]:
        """The dataset extras (DELIVERY_KEYS) saying this."""
        return {STATUS_KEY: self.status, EXPECTED_KEY: self.expected,
                NEXT_KEY: f"{self.next_period} (batas {self.next_due.isoformat()})"}


def assess(schedule: str, days: int, published: Period | None, today: date) -> Assessment:
    """Compare the latest published period with the one expected on ``today`` (a WITA date)."""
    expected = expected_period(schedule, days, today)
    if published is None:
        return Assessment(LATE, None, expected.key, None, expected.key, due_date(expected, days))
    following_published = following(published)
    behind = 0
    period = following_published
    while period.start <= expected.start:
        behind += 1
        period = following(period)
    return Assessment(LATE if behind else ON_TIME, published.key, expected.key, behind,
                      following_published.key, due_date(following_published, days))


class PublishedPeriodUnreadable(ValueError):
    """The portal's ``periode_data`` extra does not name a period of the dataset's schedule."""


def published_period(entry: DatasetEntry, package: dict[str, Any] | None) -> Period | None:
    """The latest period a portal dataset shows the public (``periode_data``: "first s.d. last").

    None when the dataset is absent, deleted, private (not yet complete) or holds no period.
    """
    if package is None or package.get("state") == "deleted" or package.get("private"):
        return None
    from satudata.publish.ckan import extras_of

    text = extras_of(package).get("periode_data", "").strip()
    if not text:
        return None
    last = text.rsplit(" s.d. ", 1)[-1]
    try:
        return Period.from_key(last, entry.schedule)
    except PeriodKeyError:
        raise PublishedPeriodUnreadable(
            f"{entry.id}: the portal dataset {entry.ckan.name}'s extra periode_data does not end with a "
            f"{entry.schedule} period key (e.g. {Period.example(entry.schedule)})") from None


def newly_late(before: dict[str, str], now: Assessment) -> bool:
    """True when an alert is due: the dataset became late, or a further period's deadline passed.

    ``before`` is the dataset's extras as the last check left them. A dataset that stays late for
    the same expected period is not alerted again; each missed deadline is alerted once.
    """
    if now.status != LATE:
        return False
    return before.get(STATUS_KEY) != LATE or before.get(EXPECTED_KEY) != now.expected
