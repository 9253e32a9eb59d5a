"""A release: the dataset's resources brought to the written files, then one patch that names the
complete version and makes it public.

Write-audit-publish: this runs only after validation passed. A new dataset is created private
and made public by the final metadata patch, once every resource is in; that patch also sets
``satudata_versi``, the digest of all resource hashes, so a reader can tell which complete
version the resources belong to. A failed run changes only the outcome extras. Takes any client
with ckanapi's ``call_action``; it never imports Airflow.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from ckanapi import ValidationError

from satudata.catalog import DatasetEntry
from satudata.delivery import DELIVERY_KEYS
from satudata.publish import CkanClient
from satudata.publish.ckan import (
    PublishFile,
    as_fields,
    dataset_fields,
    ensure_dataset,
    ensure_organization,
    extras_of,
    find_dataset,
    metadata_differs,
    refused,
    resource_digest,
    satudata_schema,
    upsert_resource,
)

log = logging.getLogger(__name__)

VERSION_KEY = "satudata_versi"
# Extras describing the last run; a failed run updates only these.
OUTCOME_KEYS = ("satudata_last_run_id", "satudata_last_run_status", "satudata_quality_status",
                "satudata_last_validated")


def run_outcome(run_id: str, status: str, validated_at: str | None = None) -> dict[str, str]:
    """The extras (OUTCOME_KEYS) describing a run: published, blocked by the gate, or failed.

    A run that reached the gate (published or blocked) also says how the quality check went and when.
    """
    outcome = {"satudata_last_run_id": run_id, "satudata_last_run_status": status}
    if status in ("published", "blocked") and validated_at is not None:
        outcome["satudata_quality_status"] = "passed" if status == "published" else "failed"
        outcome["satudata_last_validated"] = validated_at
    return outcome


@dataclass
class PublishResult:
    dataset_id: str
    dataset_name: str
    dataset_url: str
    created: bool
    metadata_changed: bool
    version: str = ""
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    datastore: dict[str, Any] = field(default_factory=dict)

    @property
    def bytes_uploaded(self) -> int:
        return sum(r["bytes_uploaded"] for r in self.resources.values())

    @property
    def changed(self) -> bool:
        return self.metadata_changed or any(r["action"] != "unchanged" for r in self.resources.values())


def version_of(resource_hashes: dict[str, str]) -> str:
    """The digest naming one complete version: all resource names with their hashes."""
    text = "\n".join(f"{name}={digest}" for name, digest in sorted(resource_hashes.items()))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def commit_dataset(client: CkanClient, entry: DatasetEntry, package: dict[str, Any], extras: dict[str, str],
                   outcome: dict[str, str], resources_changed: bool) -> tuple[dict[str, Any], bool]:
    """Last step: metadata, version and outcome in one patch, which also makes the dataset public.

    A re-run that changed nothing leaves the dataset untouched (its metadata_modified too).
    """
    current = extras_of(package)
    current_outcome = {k: v for k, v in current.items() if k in OUTCOME_KEYS}
    # The delivery monitor's extras stay as it set them: a publication triggers its next check.
    monitored = {k: v for k, v in current.items() if k in DELIVERY_KEYS}
    schema = satudata_schema(client)
    as_is = {**dataset_fields(entry, package["owner_org"], {**extras, **monitored, **current_outcome}, schema),
             "private": False}
    if (not resources_changed and not metadata_differs(package, as_is)
            and current_outcome.get("satudata_last_run_status") == "published"):
        return package, False
    wanted = {**dataset_fields(entry, package["owner_org"], {**extras, **monitored, **outcome}, schema),
              "private": False}
    try:
        patched = client.call_action("package_patch", {"id": package["id"], **wanted})
    except ValidationError as exc:
        raise refused("package_patch", exc, entry.ckan.name) from exc
    log.info("committed dataset %s at version %s", entry.ckan.name, extras.get(VERSION_KEY, "")[:19])
    return patched, True


def record_outcome(client: CkanClient, entry: DatasetEntry, outcome: dict[str, str]) -> bool:
    """Show a run's outcome in the dataset's extras, touching neither data nor resources.

    Returns False when the dataset is not on the portal yet (nothing public to annotate).
    """
    package = find_dataset(client, entry.ckan.name)
    if package is None or package.get("state") == "deleted":
        return False
    extras = {**extras_of(package), **outcome}
    client.call_action("package_patch", {"id": package["id"], **as_fields(extras, satudata_schema(client))})
    log.info("dataset %s: recorded run outcome %s", entry.ckan.name, outcome)
    return True


def _unfinished_version(package: dict[str, Any], files: list[PublishFile]) -> bool:
    """True when the portal's resources are not the complete version ``satudata_versi`` names."""
    committed = extras_of(package).get(VERSION_KEY)
    if not committed:
        return False
    hashes = {r.get("name"): resource_digest(r) for r in package.get("resources", [])}
    return version_of({f.name: hashes.get(f.name, "") for f in files}) != committed


@dataclass(frozen=True)
class Portal:
    """A CKAN portal: its ckanapi client (anything with ``call_action``), its URL, its largest upload."""

    client: Any
    url: str
    max_resource_bytes: int | None = None


@dataclass
class Publication:
    """A publication under way: the dataset as found or created, and its resources as now uploaded."""

    package: dict[str, Any]
    result: PublishResult
    # The resource whose DataStore table must be (re)loaded before the version is committed.
    table_to_load: dict[str, Any] | None = None
    # Why its table must be loaded whole rather than by period (None: the period's rows suffice).
    table_reload: str | None = None


def _ensure_package(portal: Portal, entry: DatasetEntry,
                    dataset_extras: dict[str, str]) -> tuple[dict[str, Any], bool]:
    # One read answers an unchanged re-run: the dataset, its organization and its resources' hashes.
    current = find_dataset(portal.client, entry.ckan.name)
    org = (current or {}).get("organization") or {}
    if current is None or current.get("state") == "deleted" or org.get("name") != entry.ckan.organization.name:
        org = ensure_organization(portal.client, entry)
    return ensure_dataset(portal.client, entry, org["id"], dataset_extras, current)


def _kept(resource: dict[str, Any]) -> dict[str, Any]:
    return {"id": resource["id"], "url": resource["url"], "hash": resource_digest(resource), "bytes_uploaded": 0,
            "action": "unchanged", "resource": resource}


def upload_resources(portal: Portal, entry: DatasetEntry, files: list[PublishFile], dataset_extras: dict[str, str],
                     provenance: dict[str, str], table_resource: str | None = None) -> Publication:
    """Bring the dataset's resources to the state of ``files`` (the dataset stays as it was until ``commit``).

    Safe to repeat: an unchanged file is not uploaded again. ``table_resource`` names the
    resource whose DataStore table is loaded; the publication says when it must be (re)loaded:
    its file changed, or its last load did not finish; and, when the table does not hold the
    file this run replaced, why it must be reloaded whole (``table_reload``).
    """
    client = portal.client
    package, created = _ensure_package(portal, entry, dataset_extras)
    result = PublishResult(dataset_id=package["id"], dataset_name=package["name"],
                           dataset_url=f"{portal.url.rstrip('/')}/dataset/{package['name']}",
                           created=created, metadata_changed=False)
    unfinished = _unfinished_version(package, files)
    for item in (f for f in files if not f.describes_run):
        result.resources[item.name] = upsert_resource(client, package, item, provenance, portal.max_resource_bytes)
    # After an interrupted publication the data files may already be the new ones; this run's
    # reports then describe them, not the reports of the last complete version.
    data_changed = unfinished or any(r["action"] != "unchanged" for r in result.resources.values())
    for item in (f for f in files if f.describes_run):
        current = [r for r in package.get("resources", []) if r.get("name") == item.name]
        if current and current[0].get("hash") and not data_changed:
            log.info("resource %r describes an earlier run of unchanged data: kept", item.name)
            result.resources[item.name] = _kept(current[0])
        else:
            result.resources[item.name] = upsert_resource(client, package, item, provenance, portal.max_resource_bytes)
    publication = Publication(package, result)
    if table_resource is not None:
        res = result.resources[table_resource]
        resource = res["resource"]
        if resource.get("datastore_hash") != res["hash"] or not resource.get("datastore_active"):
            publication.table_to_load = resource
            previous = next((resource_digest(r) for r in package.get("resources", [])
                             if r.get("name") == table_resource), None)
            publication.table_reload = table_reload(resource.get("datastore_hash"), previous)
    return publication


def table_reload(held: str | None, previous: str | None) -> str | None:
    """Why a table holding version ``held`` cannot take just the period's rows, or None if it can.

    ``held`` is the file version the table was last loaded with (``datastore_hash``, recorded
    only after a load finished); ``previous`` is the hash of the file this run replaced. Loading
    one period's rows brings the table to the new file only if it held exactly the previous one:
    otherwise an earlier load failed or was interrupted, and periods would be missing for good.
    """
    if not held:
        return "the table records no loaded version of the file"
    if held != previous:
        return (f"the table holds version {held[:19]}, not the file's previous version "
                f"{(previous or 'none')[:19]}: an earlier load did not finish")
    return None


def mark_table_loaded(portal: Portal, publication: Publication) -> None:
    """Record on the resource that its table holds its file; only after the load finished, so an
    interrupted load is redone by the next run."""
    resource = publication.table_to_load
    assert resource is not None
    res = publication.result.resources[resource["name"]]
    portal.client.call_action("resource_patch", {"id": resource["id"], "datastore_hash": res["hash"]})
    res["action"] = res["action"] if res["action"] != "unchanged" else "datastore reloaded"


def commit(portal: Portal, entry: DatasetEntry, publication: Publication, dataset_extras: dict[str, str],
           outcome: dict[str, str]) -> PublishResult:
    """Name the complete version and make it public in one metadata patch; returns what was done."""
    result = publication.result
    for res in result.resources.values():
        res.pop("resource", None)
    result.version = version_of({name: r["hash"] for name, r in result.resources.items()})
    extras = {**dataset_extras, VERSION_KEY: result.version}
    changed = any(r["action"] != "unchanged" for r in result.resources.values())
    _, result.metadata_changed = commit_dataset(portal.client, entry, publication.package, extras, outcome,
                                                changed or result.created)
    return result
