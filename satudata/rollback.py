"""Put a dataset back to an earlier version from the version store, through the publishing path.

The version's files go back into the published zone and its curated periods into the curated
zone (a period it did not have is removed there: the next scheduled run builds on the
rolled-back history, and a removed period comes back when that period is run again). Then the
files are published exactly as a run publishes them (``steps._publish``: resources by hash, the
DataStore table replaced whole by the version's rows, one committing patch), so the same
retries, timeouts and no-duplicate guarantees hold. The portal's resources a newer version
added are removed. The rollback is a new version in the store (``rollback_of``), a run record,
a line in the revision log and two extras (``satudata_rollback_ke``, ``satudata_rollback_dari``).

Idempotent: when the store's latest version already holds the target's data, a repeat
republishes that version (finishing an interrupted rollback) and records nothing new.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from satudata.catalog import DatasetEntry
from satudata.periods import Period
from satudata.publish.versions import Version, VersionStore, version_store
from satudata.run import RunContext
from transforms.writing import write_text

log = logging.getLogger(__name__)

ROLLBACK_TO, ROLLBACK_FROM = "satudata_rollback_ke", "satudata_rollback_dari"
# Files that describe the versions rather than being the data: left out when comparing two versions.
_NOT_DATA = ("revision_csv", "revision_html")


def _data(version: Version) -> dict[str, str]:
    return {f"{f.kind}:{f.name}": f.sha256 for f in version.files if f.kind not in _NOT_DATA}


def rollback(entry: DatasetEntry, wanted: str, portal: Any, write_dsn: str | None = None,
             store: VersionStore | None = None) -> dict[str, Any]:
    """Publish version ``wanted`` (number, id or ``satudata_versi`` prefix) of ``entry`` again; returns
    what was published, with ``version_id`` (the rollback's own version) and ``rolled_back_to``."""
    from satudata import steps

    store = store or version_store()
    target = store.find(entry.id, wanted)
    stamp = datetime.now(UTC)
    run = RunContext(entry, Period.from_key(target.periods[-1], entry.schedule),
                     f"rollback__{target.id}__{stamp.strftime('%Y%m%dT%H%M%S')}")
    with run.publishing_lock():
        latest = store.latest(entry.id)
        assert latest is not None  # target is one
        done = _data(latest) == _data(target)
        source = latest if done else target
        written = _restore(run, store, source)
        if not done:
            from satudata.publish.revisions import write_revision_log

            note = f"Dikembalikan ke versi {target.seq} (sebelumnya versi {latest.seq})"
            written.update(write_revision_log(
                entry, store, {Path(f.name).stem: run.zone("curated") / f.name for f in target.of_kind("curated")},
                list(target.extra.get("columns", entry.table.column_names)),
                next(f.sha256 for f in target.files if f.kind == "csv"), run.zone("published"), note=note))
        came_from = latest.extra.get(ROLLBACK_FROM, latest.id) if done else latest.id
        extras = {ROLLBACK_TO: target.id, ROLLBACK_FROM: str(came_from)}
        outcome = {"satudata_last_run_id": run.run_id, "satudata_last_run_status": "published",
                   "satudata_quality_status": target.quality,
                   "satudata_last_validated": str(target.extra.get("validated", target.created))}
        result = steps._publish(run, cast("steps.Written", written), portal, write_dsn, more_extras=extras,
                                outcome=outcome)
        removed = _remove_newer_resources(portal.client, entry, store, source, result["dataset_id"])
        if done and latest.satudata_versi == result["version"]:
            version_id = latest.id
        else:
            version_id = steps.record_version(run, cast("steps.Written", written), result, rollback_of=target.id,
                                              outcome=outcome, extra=extras, store=store)
    record = {"dataset": entry.id, "status": "rolled back", "run_id": run.run_id, "rolled_back_to": target.id,
              "rolled_back_from": came_from, "version_id": version_id, "repeat": done,
              "resources_removed": removed, "at": stamp.isoformat(timespec="seconds"),
              "dataset_url": result["dataset_url"], "changed": result["changed"]}
    write_text(run.zone("runs") / f"rollback-{stamp.strftime('%Y%m%dT%H%M%S')}.json", json.dumps(record, indent=2))
    log.info("%s: rolled back to version %s (from %s)%s; now version %s", entry.id, target.id, came_from,
             ", a repeat" if done else "", version_id)
    return {**result, **record}


def _restore(run: RunContext, store: VersionStore, version: Version) -> dict[str, Any]:
    """The version's files back in the published zone, its periods in the curated zone; ``Written``."""
    published, curated = run.zone("published"), run.zone("curated")
    written: dict[str, Any] = {}
    for f in version.files:
        if f.kind == "curated":
            store.restore(version.dataset, f, curated / f.name)
        else:
            written[f.kind] = str(store.restore(version.dataset, f, published / f.name))
    keep = {f.name for f in version.of_kind("curated")}
    for stale in curated.glob("*.parquet"):
        if stale.name not in keep:
            log.warning("%s: period %s is not in version %s: removed from the curated zone (kept in the "
                        "version store)", run.entry.id, stale.stem, version.id)
            stale.unlink()
    last = version.periods[-1]
    csv = next(f for f in version.files if f.kind == "csv")
    written.update({"curated": str(curated / f"{last}.parquet"), "rows": version.rows,
                    "period_rows": version.period_rows.get(last, 0), "first_period": version.periods[0],
                    "last_period": last, "csv_hash": f"sha256:{csv.sha256}", "base_csv_hash": "",
                    "rebuilt_since": False, "reload_reason": f"rollback to version {version.id}"})
    return written


def _remove_newer_resources(client: Any, entry: DatasetEntry, store: VersionStore, version: Version,
                            dataset_id: str) -> list[str]:
    """Delete the resources that other stored versions publish and ``version`` does not (a newer file kind)."""
    mine = {f.name for f in version.files if f.kind != "curated"}
    managed = {f.name for v in store.versions(entry.id) for f in v.files if f.kind != "curated"}
    package = client.call_action("package_show", {"id": dataset_id})
    removed = []
    for resource in package.get("resources", []):
        if resource.get("name") in managed - mine:
            client.call_action("resource_delete", {"id": resource["id"]})
            removed.append(resource["name"])
    if removed:
        log.info("%s: resources not in version %s removed: %s", entry.id, version.id, ", ".join(removed))
    return removed
