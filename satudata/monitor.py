"""The delivery monitor: every catalog dataset's published period against its deadline, on the portal.

``check_deliveries`` reads each dataset from the portal (read only) and says where it stands;
the caller alerts the datasets that became late (``Check.newly_late``), then ``record_statuses``
writes the status extras (``satudata.delivery.DELIVERY_KEYS``) of the datasets whose status
changed. Alerting before recording means an alert that could not be sent is sent again by the
next check; recording only changes means a re-run changes nothing. Takes any client with
ckanapi's ``call_action``; it never imports Airflow.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from satudata.catalog import DatasetEntry
from satudata.delivery import (
    DELIVERY_KEYS,
    LATE,
    Assessment,
    PublishedPeriodUnreadable,
    assess,
    days_after_period,
    newly_late,
    published_period,
)
from satudata.publish import CkanClient
from satudata.publish.ckan import as_fields, extras_of, find_dataset, satudata_schema
from satudata.publish.metadata import FREKUENSI_PENERBITAN
from satudata.run import dataset_lock

log = logging.getLogger(__name__)


@dataclass
class Check:
    """One check of every dataset: the status page's rows, the datasets to alert, the extras to set."""

    checked_on: date
    rows: list[dict[str, Any]] = field(default_factory=list)
    newly_late: list[dict[str, Any]] = field(default_factory=list)
    # Dataset name -> the delivery extras it should show (only datasets whose extras differ).
    changes: dict[str, dict[str, str]] = field(default_factory=dict)


def status_row(entry: DatasetEntry, package: dict[str, Any] | None, portal_url: str,
               today: date) -> tuple[dict[str, Any], Assessment]:
    """The status page's row of one dataset (metadata only, no data value) and its assessment."""
    extras = extras_of(package) if package else {}
    try:
        published = published_period(entry, package)
        problem = None
    except PublishedPeriodUnreadable as exc:
        published, problem = None, str(exc)
    state = assess(entry.schedule, days_after_period(entry), published, today)
    visible = package is not None and package.get("state") != "deleted" and not package.get("private")
    row = {
        "dataset": entry.id,
        "judul": entry.ckan.title,
        "produsen_data": entry.ckan.extras.get("produsen_data", entry.ckan.organization.title),
        "organisasi": entry.ckan.organization.name,
        "frekuensi": FREKUENSI_PENERBITAN[entry.schedule],
        "batas_hari_setelah_periode": days_after_period(entry),
        "periode_terakhir": state.published,
        "periode_diharapkan": state.expected,
        "status_terbit": state.status,
        "periode_tertinggal": state.behind,
        "periode_berikutnya": state.next_period,
        "batas_berikutnya": state.next_due.isoformat(),
        "status_kualitas": extras.get("satudata_quality_status"),
        "status_run_terakhir": extras.get("satudata_last_run_status"),
        "validasi_terakhir": extras.get("satudata_last_validated"),
        "tautan": f"{portal_url.rstrip('/')}/dataset/{entry.ckan.name}" if visible else None,
        "catatan": problem,
    }
    return row, state


def check_deliveries(client: CkanClient, entries: list[DatasetEntry], portal_url: str, today: date) -> Check:
    """Where every dataset stands on ``today`` (WITA), as its portal dataset shows; changes nothing."""
    check = Check(today)
    for entry in entries:
        package = find_dataset(client, entry.ckan.name)
        row, state = status_row(entry, package, portal_url, today)
        wanted = state.extras()
        check.rows.append(row)
        if row["catatan"]:
            log.warning("%s", row["catatan"])
        if package is None or package.get("state") == "deleted":
            # Nowhere to record that it was alerted: listed on the status page, never alerted daily.
            continue
        before = extras_of(package)
        if newly_late(before, state):
            check.newly_late.append(row)
        if {k: before.get(k) for k in DELIVERY_KEYS} != wanted:
            check.changes[entry.ckan.name] = wanted
    log.info("delivery check %s: %d datasets, %d late, %d newly late, %d to update", today.isoformat(),
             len(check.rows), sum(r["status_terbit"] == LATE for r in check.rows), len(check.newly_late),
             len(check.changes))
    return check


def record_statuses(client: CkanClient, entries: list[DatasetEntry], check: Check) -> list[str]:
    """Set the delivery extras of the datasets ``check`` found changed; returns the names patched.

    Each dataset is re-read and patched under its publishing lock, so a publication's metadata
    patch and this one never overwrite each other; a dataset being published is left for the
    check its publication triggers.
    """
    patched = []
    for entry in entries:
        wanted = check.changes.get(entry.ckan.name)
        if wanted is None:
            continue
        with dataset_lock(entry, wait=False) as held:
            if not held:
                log.info("%s: being published; its status is left to the next check", entry.id)
                continue
            package = find_dataset(client, entry.ckan.name)
            if package is None or package.get("state") == "deleted":
                continue
            extras = {**extras_of(package), **wanted}
            client.call_action("package_patch", {"id": package["id"], **as_fields(extras, satudata_schema(client))})
        log.info("%s: delivery status %s, next %s", entry.ckan.name, wanted[DELIVERY_KEYS[0]], wanted[DELIVERY_KEYS[2]])
        patched.append(entry.ckan.name)
    return patched


def alert_payload(check: Check) -> dict[str, Any]:
    """The alert naming the datasets that became late: what a walidata needs to chase the agencies."""
    late = check.newly_late
    return {
        "kind": "overdue",
        "checked_on": check.checked_on.isoformat(),
        "summary": f"{len(late)} dataset terlambat terbit: " + ", ".join(r["dataset"] for r in late),
        "datasets": [{k: r[k] for k in ("dataset", "produsen_data", "periode_terakhir", "periode_diharapkan",
                                        "periode_tertinggal", "periode_berikutnya", "batas_berikutnya", "tautan")}
                     for r in late],
    }
