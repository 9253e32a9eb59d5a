"""Publish a dataset's files to CKAN: organization, dataset and resources, found by name.

Everything is looked up before it is created, so a re-run (or a retry after a crash) never
duplicates anything; a file whose sha256 matches the resource's ``hash`` is not uploaded again.
Takes any client with ckanapi's ``call_action``; it never imports Airflow.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ckanapi import NotFound, ValidationError

from satudata.catalog import DatasetEntry
from satudata.extract import sha256_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PublishFile:
    """One file to publish as a resource of the dataset."""

    name: str
    path: Path
    format: str
    description: str
    mimetype: str


@dataclass
class PublishResult:
    dataset_id: str
    dataset_name: str
    dataset_url: str
    created: bool
    metadata_changed: bool
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def bytes_uploaded(self) -> int:
        return sum(r["bytes_uploaded"] for r in self.resources.values())


def ensure_organization(client, entry: DatasetEntry) -> dict:
    """The producing agency's organization, created when missing."""
    org = entry.ckan.organization
    try:
        return client.call_action("organization_show", {"id": org.name})
    except NotFound:
        pass
    try:
        created = client.call_action(
            "organization_create",
            {"name": org.name, "title": org.title, "description": org.description},
        )
        log.info("created organization %s", org.name)
        return created
    except ValidationError:
        # Created by an earlier attempt whose answer was lost: use it.
        return client.call_action("organization_show", {"id": org.name})


def dataset_fields(entry: DatasetEntry, org_id: str, extras: dict[str, str]) -> dict[str, Any]:
    """The dataset's metadata as CKAN fields, from the catalog plus run-derived extras."""
    meta = entry.ckan
    all_extras = {**meta.extras, **extras}
    return {
        "name": meta.name,
        "title": meta.title,
        "notes": meta.notes.strip(),
        "owner_org": org_id,
        "license_id": meta.license_id,
        "maintainer": meta.maintainer,
        "maintainer_email": meta.maintainer_email or "",
        "tags": [{"name": t} for t in meta.tags],
        "extras": [{"key": k, "value": v} for k, v in sorted(all_extras.items())],
    }


def _differs(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    for key, value in wanted.items():
        have = current.get(key)
        if key == "tags":
            if sorted(t["name"] for t in have or []) != sorted(t["name"] for t in value):
                return True
        elif key == "extras":
            if {e["key"]: e["value"] for e in have or []} != {e["key"]: e["value"] for e in value}:
                return True
        elif (have or "") != (value or ""):
            return True
    return False


def ensure_dataset(client, entry: DatasetEntry, org_id: str, extras: dict[str, str]) -> tuple[dict, bool, bool]:
    """The dataset, created or patched to match the catalog; returns (package, created, changed)."""
    wanted = dataset_fields(entry, org_id, extras)
    try:
        current = client.call_action("package_show", {"id": entry.ckan.name})
    except NotFound:
        current = None
    if current is None:
        try:
            created = client.call_action("package_create", wanted)
            log.info("created dataset %s", entry.ckan.name)
            return created, True, True
        except ValidationError as exc:
            if "name" not in getattr(exc, "error_dict", {}):
                raise
            current = client.call_action("package_show", {"id": entry.ckan.name})
    if current.get("state") == "deleted" or _differs(current, wanted):
        patched = client.call_action("package_patch", {"id": current["id"], "state": "active", **wanted})
        log.info("updated metadata of dataset %s", entry.ckan.name)
        return patched, False, True
    return current, False, False


def upsert_resource(client, package: dict, item: PublishFile, provenance: dict[str, str]) -> dict[str, Any]:
    """Create or update the resource named ``item.name``; skip the upload when the hash matches."""
    digest = f"sha256:{sha256_of(item.path)}"
    existing = [r for r in package.get("resources", []) if r.get("name") == item.name]
    fields = {
        "name": item.name,
        "format": item.format,
        "mimetype": item.mimetype,
        "description": item.description,
        "hash": digest,
        **provenance,
    }
    if existing and existing[0].get("hash") == digest:
        log.info("resource %r unchanged (%s): not uploaded", item.name, digest[:19])
        return {"id": existing[0]["id"], "url": existing[0]["url"], "hash": digest,
                "bytes_uploaded": 0, "action": "unchanged"}
    size = item.path.stat().st_size
    with item.path.open("rb") as fh:
        if existing:
            res = client.call_action("resource_patch", {"id": existing[0]["id"], **fields},
                                     files={"upload": (item.path.name, fh)})
            action = "updated"
        else:
            res = client.call_action("resource_create", {"package_id": package["id"], **fields},
                                     files={"upload": (item.path.name, fh)})
            action = "created"
    log.info("resource %r %s: %d bytes uploaded", item.name, action, size)
    return {"id": res["id"], "url": res["url"], "hash": digest, "bytes_uploaded": size, "action": action}


def publish_dataset(
    client,
    portal_url: str,
    entry: DatasetEntry,
    files: list[PublishFile],
    dataset_extras: dict[str, str],
    provenance: dict[str, str],
) -> PublishResult:
    """Bring the dataset on the portal to the state of ``files``; safe to repeat."""
    org = ensure_organization(client, entry)
    package, created, changed = ensure_dataset(client, entry, org["id"], dataset_extras)
    result = PublishResult(
        dataset_id=package["id"],
        dataset_name=package["name"],
        dataset_url=f"{portal_url.rstrip('/')}/dataset/{package['name']}",
        created=created,
        metadata_changed=changed,
    )
    for item in files:
        result.resources[item.name] = upsert_resource(client, package, item, provenance)
    return result
