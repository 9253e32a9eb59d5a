"""Publish a dataset's files to CKAN: organization, dataset and resources, found by name.

Write-audit-publish: this runs only after validation passed. A new dataset is created private
and made public by the final metadata patch, once every resource is in; that patch also sets
``satudata_versi``, the digest of all resource hashes, so a reader can tell which complete
version the resources belong to.

Everything is looked up before it is created, so a re-run (or a retry after a crash) never
duplicates anything; a create whose answer was lost is looked up before it is repeated; a
file whose sha256 matches the resource's ``hash`` is not uploaded again. Takes any client with
ckanapi's ``call_action``; it never imports Airflow.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests
from ckanapi import CKANAPIError, NotAuthorized, NotFound, ValidationError

from satudata.catalog import DatasetEntry
from satudata.extract.archive import sha256_of
from satudata.publish import CkanClient, PublishError, ResourceTooLarge
from satudata.publish.metadata import license_id

log = logging.getLogger(__name__)

VERSION_KEY = "satudata_versi"
# Extras describing the last run; a failed run updates only these.
OUTCOME_KEYS = ("satudata_last_run_id", "satudata_last_run_status", "satudata_quality_status",
                "satudata_last_validated")
CREATE_ATTEMPTS = 3


def run_outcome(run_id: str, status: str, validated_at: str | None = None) -> dict[str, str]:
    """The extras (OUTCOME_KEYS) describing a run: published, blocked by the gate, or failed.

    A run that reached the gate (published or blocked) also says how the quality check went and when.
    """
    outcome = {"satudata_last_run_id": run_id, "satudata_last_run_status": status}
    if status in ("published", "blocked") and validated_at is not None:
        outcome["satudata_quality_status"] = "passed" if status == "published" else "failed"
        outcome["satudata_last_validated"] = validated_at
    return outcome


@dataclass(frozen=True)
class PublishFile:
    """One file to publish as a resource of the dataset."""

    name: str
    path: Path
    format: str
    description: str
    mimetype: str
    # A file about the run (its quality report) rather than the data: re-uploaded only when
    # the data changed, so a re-run over unchanged sources changes nothing on the portal.
    describes_run: bool = False


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


def _answer_lost(exc: Exception) -> bool:
    """True when the request may or may not have been acted on (timeout, reset, 5xx)."""
    if isinstance(exc, requests.RequestException):
        return True
    return type(exc) is CKANAPIError


def _refused(action: str, exc: ValidationError, subject: str) -> PublishError:
    errors = getattr(exc, "error_dict", exc.args)
    return PublishError(f"{action} for {subject} refused by the portal (HTTP 409): {errors}")


def create_once(client: CkanClient, action: str, data: dict[str, Any],
                find: Callable[[], dict[str, Any] | None],
                files: Callable[[], dict[str, Any]] | None = None) -> tuple[dict[str, Any], bool]:
    """Call a create action; when its answer is lost, look for the object before repeating.

    Returns (object, created). ``find`` returns the object if it exists.
    """
    for attempt in range(1, CREATE_ATTEMPTS + 1):
        try:
            if files is None:
                return client.call_action(action, data), True
            return client.call_action(action, data, files=files()), True
        except (NotFound, NotAuthorized, ValidationError):
            raise
        except Exception as exc:
            if not _answer_lost(exc) or attempt == CREATE_ATTEMPTS:
                raise
            log.warning("%s: answer lost (%s: %s); looking before repeating", action, type(exc).__name__, exc)
            found = find()
            if found is not None:
                log.info("%s had been done before the answer was lost: using it", action)
                return found, False
    raise AssertionError("unreachable")


def ensure_organization(client: CkanClient, entry: DatasetEntry) -> dict[str, Any]:
    """The producing agency's organization, created when missing."""
    org = entry.ckan.organization

    def find() -> dict[str, Any] | None:
        try:
            shown: dict[str, Any] = client.call_action("organization_show", {"id": org.name})
            return shown
        except NotFound:
            return None

    found = find()
    if found is not None:
        return found
    data = {"name": org.name, "title": org.title, "description": org.description}
    try:
        created, _ = create_once(client, "organization_create", data, find)
    except ValidationError:
        # Created by an earlier attempt whose answer was lost: use it.
        existing: dict[str, Any] = client.call_action("organization_show", {"id": org.name})
        return existing
    log.info("created organization %s", org.name)
    return created


def dataset_fields(entry: DatasetEntry, org_id: str, extras: dict[str, str]) -> dict[str, Any]:
    """The dataset's metadata as CKAN fields, from the catalog plus run-derived extras."""
    meta = entry.ckan
    return {
        "name": meta.name,
        "title": meta.title,
        "notes": meta.notes.strip(),
        "owner_org": org_id,
        "license_id": license_id(entry),
        "maintainer": meta.maintainer,
        "maintainer_email": meta.maintainer_email or "",
        "tags": [{"name": t} for t in meta.tags],
        "extras": [{"key": k, "value": v} for k, v in sorted(extras.items())],
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
        elif key == "private":
            if bool(have) != bool(value):
                return True
        elif (have or "") != (value or ""):
            return True
    return False


def _extras_of(package: dict[str, Any]) -> dict[str, str]:
    return {e["key"]: e["value"] for e in package.get("extras", [])}


def find_dataset(client: CkanClient, name: str) -> dict[str, Any] | None:
    try:
        package: dict[str, Any] = client.call_action("package_show", {"id": name})
        return package
    except NotFound:
        return None


def ensure_dataset(client: CkanClient, entry: DatasetEntry, org_id: str, extras: dict[str, str],
                   current: dict[str, Any] | None) -> tuple[dict[str, Any], bool]:
    """The dataset ``current`` (as just read), restored or created private when needed; (package, created)."""
    name = entry.ckan.name
    if current is not None and current.get("state") != "deleted":
        return current, False
    if current is not None:
        restored = client.call_action("package_patch", {"id": current["id"], "state": "active", "private": True})
        log.info("restored deleted dataset %s (private until complete)", name)
        return restored, True
    wanted = {**dataset_fields(entry, org_id, extras), "private": True}
    try:
        created, _ = create_once(client, "package_create", wanted, lambda: find_dataset(client, name))
    except ValidationError as exc:
        if "name" not in getattr(exc, "error_dict", {}):
            raise _refused("package_create", exc, name) from exc
        created = client.call_action("package_show", {"id": name})
    log.info("created dataset %s (private until complete)", name)
    return created, True


def _find_resource(client: CkanClient, package_id: str, name: str) -> dict[str, Any] | None:
    package = client.call_action("package_show", {"id": package_id})
    return next((r for r in package.get("resources", []) if r.get("name") == name), None)


def _drop_duplicates(client: CkanClient, package: dict[str, Any], name: str,
                     digest: str) -> list[dict[str, Any]]:
    """Resources named ``name``; if a crash ever left several, keep one and delete the rest."""
    same = [r for r in package.get("resources", []) if r.get("name") == name]
    if len(same) <= 1:
        return same
    keep = next((r for r in same if r.get("hash") == digest), same[0])
    for r in same:
        if r["id"] != keep["id"]:
            client.call_action("resource_delete", {"id": r["id"]})
            log.warning("deleted duplicate resource %r (%s)", name, r["id"])
    return [keep]


def upsert_resource(client: CkanClient, package: dict[str, Any], item: PublishFile, provenance: dict[str, str],
                    max_bytes: int | None = None) -> dict[str, Any]:
    """Create or update the resource named ``item.name``; skip the upload when the hash matches."""
    digest = f"sha256:{sha256_of(item.path)}"
    existing = _drop_duplicates(client, package, item.name, digest)
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
                "bytes_uploaded": 0, "action": "unchanged", "resource": existing[0]}
    size = item.path.stat().st_size
    if max_bytes is not None and size > max_bytes:
        raise ResourceTooLarge(
            f"{item.path} is {size / 1048576:.1f} MB, more than the portal's ckan.max_resource_size of "
            f"{max_bytes / 1048576:g} MB: nothing was uploaded. Raise the portal's limit (and the connection "
            "extra max_resource_size_mb), or publish the file elsewhere and link it as a URL resource."
        )

    def upload() -> dict[str, Any]:
        return {"upload": (item.path.name, item.path.open("rb"))}

    try:
        if existing:
            res = client.call_action("resource_patch", {"id": existing[0]["id"], **fields}, files=upload())
            action = "updated"
        else:
            res, made = create_once(
                client, "resource_create", {"package_id": package["id"], **fields},
                lambda: _find_resource(client, package["id"], item.name), files=upload,
            )
            action = "created"
            if not made and res.get("hash") != digest:
                res = client.call_action("resource_patch", {"id": res["id"], **fields}, files=upload())
    except ValidationError as exc:
        errors = getattr(exc, "error_dict", {})
        if "upload" in errors and "too large" in str(errors["upload"]).lower():
            limit = f"{max_bytes / 1048576:g} MB" if max_bytes else "its ckan.max_resource_size"
            raise ResourceTooLarge(
                f"{item.path} ({size / 1048576:.1f} MB) refused by the portal: larger than "
                f"ckan.max_resource_size ({limit}); CKAN said {errors}"
            ) from exc
        raise _refused("resource upload", exc, item.name) from exc
    log.info("resource %r %s: %d bytes uploaded", item.name, action, size)
    return {"id": res["id"], "url": res["url"], "hash": digest, "bytes_uploaded": size, "action": action,
            "resource": res}


def version_of(resource_hashes: dict[str, str]) -> str:
    """The digest naming one complete version: all resource names with their hashes."""
    text = "\n".join(f"{name}={digest}" for name, digest in sorted(resource_hashes.items()))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def commit_dataset(client: CkanClient, entry: DatasetEntry, package: dict[str, Any], extras: dict[str, str],
                   outcome: dict[str, str], resources_changed: bool) -> tuple[dict[str, Any], bool]:
    """Last step: metadata, version and outcome in one patch, which also makes the dataset public.

    A re-run that changed nothing leaves the dataset untouched (its metadata_modified too).
    """
    current_outcome = {k: v for k, v in _extras_of(package).items() if k in OUTCOME_KEYS}
    as_is = {**dataset_fields(entry, package["owner_org"], {**extras, **current_outcome}), "private": False}
    if (not resources_changed and not _differs(package, as_is)
            and current_outcome.get("satudata_last_run_status") == "published"):
        return package, False
    wanted = {**dataset_fields(entry, package["owner_org"], {**extras, **outcome}), "private": False}
    try:
        patched = client.call_action("package_patch", {"id": package["id"], **wanted})
    except ValidationError as exc:
        raise _refused("package_patch", exc, entry.ckan.name) from exc
    log.info("committed dataset %s at version %s", entry.ckan.name, extras.get(VERSION_KEY, "")[:19])
    return patched, True


def record_outcome(client: CkanClient, entry: DatasetEntry, outcome: dict[str, str]) -> bool:
    """Show a run's outcome in the dataset's extras, touching neither data nor resources.

    Returns False when the dataset is not on the portal yet (nothing public to annotate).
    """
    package = find_dataset(client, entry.ckan.name)
    if package is None or package.get("state") == "deleted":
        return False
    extras = {**_extras_of(package), **outcome}
    client.call_action("package_patch", {
        "id": package["id"],
        "extras": [{"key": k, "value": v} for k, v in sorted(extras.items())],
    })
    log.info("dataset %s: recorded run outcome %s", entry.ckan.name, outcome)
    return True


def _unfinished_version(package: dict[str, Any], files: list[PublishFile]) -> bool:
    """True when the portal's resources are not the complete version ``satudata_versi`` names."""
    committed = _extras_of(package).get(VERSION_KEY)
    if not committed:
        return False
    hashes = {r.get("name"): r.get("hash") or "" for r in package.get("resources", [])}
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


def _ensure_package(portal: Portal, entry: DatasetEntry,
                    dataset_extras: dict[str, str]) -> tuple[dict[str, Any], bool]:
    # One read answers an unchanged re-run: the dataset, its organization and its resources' hashes.
    current = find_dataset(portal.client, entry.ckan.name)
    org = (current or {}).get("organization") or {}
    if current is None or current.get("state") == "deleted" or org.get("name") != entry.ckan.organization.name:
        org = ensure_organization(portal.client, entry)
    return ensure_dataset(portal.client, entry, org["id"], dataset_extras, current)


def _kept(resource: dict[str, Any]) -> dict[str, Any]:
    return {"id": resource["id"], "url": resource["url"], "hash": resource["hash"], "bytes_uploaded": 0,
            "action": "unchanged", "resource": resource}


def upload_resources(portal: Portal, entry: DatasetEntry, files: list[PublishFile], dataset_extras: dict[str, str],
                     provenance: dict[str, str], table_resource: str | None = None) -> Publication:
    """Bring the dataset's resources to the state of ``files`` (the dataset stays as it was until ``commit``).

    Safe to repeat: an unchanged file is not uploaded again. ``table_resource`` names the
    resource whose DataStore table is loaded; the publication says when it must be (re)loaded:
    its file changed, or its last load did not finish.
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
    return publication


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
