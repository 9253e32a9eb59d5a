"""Every catalog dataset's state as the portal shows it: its last run, its quality, its last period published.

Read from the outcome extras each run leaves on the dataset (``satudata.publish.release``:
``satudata_last_run_status``, ``satudata_quality_status``, ``satudata_last_validated``), the
delivery monitor's status (``satudata.delivery``: ``satudata_status_terbit``, the period it
expected) and the last period the public sees (``delivery.published_period``). The portal is the
one place that holds every run's outcome, wherever the run ran, so the weekly digest reads it
there; nothing here reads Airflow or the data zone.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from satudata.catalog import DatasetEntry
from satudata.delivery import EXPECTED_KEY, STATUS_KEY, PublishedPeriodUnreadable, published_period


@dataclass(frozen=True)
class DatasetState:
    """One catalog dataset as the portal shows it; the run fields are None when no run recorded one."""

    dataset_id: str
    title: str
    agency: str
    producer_contact: bool
    portal_name: str
    on_portal: bool
    public: bool
    last_run_status: str | None
    quality_status: str | None
    last_validated: str | None
    last_run_id: str | None
    last_period: str | None
    delivery_status: str | None
    expected_period: str | None
    url: str | None


def agency_of(entry: DatasetEntry) -> str:
    """The producing agency's name: the catalog's producer, else the portal organization's title."""
    return entry.producer.name if entry.producer else entry.ckan.organization.title


def _last_period(entry: DatasetEntry, package: dict[str, Any] | None) -> str | None:
    try:
        period = published_period(entry, package)
    except PublishedPeriodUnreadable:
        return None  # the monitor reports it; the digest shows no period
    return period.key if period else None


def dataset_state(entry: DatasetEntry, package: dict[str, Any] | None, portal_url: str) -> DatasetState:
    """The state of ``entry`` from its portal dataset (``package_show``), None when it is not there."""
    from satudata.publish.ckan import extras_of  # ckanapi: not at the DAG file's parse

    present = package is not None and package.get("state") != "deleted"
    extras = extras_of(package) if present and package is not None else {}
    return DatasetState(
        dataset_id=entry.id,
        title=entry.ckan.title,
        agency=agency_of(entry),
        producer_contact=entry.producer is not None,
        portal_name=entry.ckan.name,
        on_portal=present,
        public=present and not (package or {}).get("private", False),
        last_run_status=extras.get("satudata_last_run_status"),
        quality_status=extras.get("satudata_quality_status"),
        last_validated=extras.get("satudata_last_validated"),
        last_run_id=extras.get("satudata_last_run_id"),
        last_period=_last_period(entry, package) if present else None,
        delivery_status=extras.get(STATUS_KEY),
        expected_period=extras.get(EXPECTED_KEY),
        url=f"{portal_url.rstrip('/')}/dataset/{entry.ckan.name}" if present else None,
    )


def dataset_states(entries: Iterable[DatasetEntry], client: Any, portal_url: str) -> list[DatasetState]:
    """Every entry's state, one ``package_show`` each through ``client`` (anything with ckanapi's ``call_action``)."""
    from satudata.publish.ckan import find_dataset

    return [dataset_state(entry, find_dataset(client, entry.ckan.name), portal_url) for entry in entries]
