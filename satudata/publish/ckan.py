"""The portal's objects, found by name before anything is created: organization, dataset, resources.

Everything is looked up before it is created, so a re-run (or a retry after a crash) never
duplicates anything; a create whose answer was lost is looked up before it is repeated; a
file whose sha256 matches the resource's ``hash`` is not uploaded again. On a portal with the
Satu Data schema (ckanext-scheming) the dataset's keys are schema fields, else free extras. Takes any client with
ckanapi's ``call_action``; it never imports Airflow.
"""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from ckanapi import CKANAPIError, NotAuthorized, NotFound, ValidationError

from satudata.catalog import DatasetEntry
from satudata.extract.archive import sha256_of
from satudata.publish import CkanClient, PublishError, ResourceTooLarge
from satudata.publish.metadata import SCHEMA_FIELDS, license_id

log = logging.getLogger(__name__)

CREATE_ATTEMPTS = 3

# A resource's checksum as DCAT-AP wants it: hex digits in ``hash``, the algorithm's SPDX IRI beside it.
SPDX_SHA256 = "http://spdx.org/rdf/terms#checksumAlgorithm_sha256"
# Format and media type as the IRIs DCAT-AP expects (ckanext-dcat serialises URIs as URIs).
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
IANA_MEDIA_TYPE = "https://www.iana.org/assignments/media-types/"

_schemas: weakref.WeakKeyDictionary[Any, frozenset[str] | None] = weakref.WeakKeyDictionary()


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


def _answer_lost(exc: Exception) -> bool:
    """True when the request may or may not have been acted on (timeout, reset, 5xx)."""
    if isinstance(exc, requests.RequestException):
        return True
    return type(exc) is CKANAPIError


def refused(action: str, exc: ValidationError, subject: str) -> PublishError:
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
    return ensure_named_organization(client, {"name": org.name, "title": org.title, "description": org.description})


def ensure_named_organization(client: CkanClient, data: dict[str, Any]) -> dict[str, Any]:
    """The organization ``data["name"]``, created from ``data`` when missing."""
    name = data["name"]

    def find() -> dict[str, Any] | None:
        try:
            shown: dict[str, Any] = client.call_action("organization_show", {"id": name})
            return shown
        except NotFound:
            return None

    found = find()
    if found is not None:
        return found
    try:
        created, _ = create_once(client, "organization_create", data, find)
    except ValidationError:
        # Created by an earlier attempt whose answer was lost: use it.
        existing: dict[str, Any] = client.call_action("organization_show", {"id": name})
        return existing
    log.info("created organization %s", name)
    return created


def satudata_schema(client: CkanClient) -> frozenset[str] | None:
    """The dataset fields of the portal's Satu Data schema (ckanext-scheming), or None if it has none.

    Asked once per client: a portal without ckanext-scheming does not know the action, one with
    another schema lacks the pipeline's fields; both get the free extras.
    """
    try:
        return _schemas[client]
    except (KeyError, TypeError):
        pass
    try:
        schema = client.call_action("scheming_dataset_schema_show", {"type": "dataset"})
        names = frozenset(f["field_name"] for f in schema.get("dataset_fields", []))
        fields = names if "satudata_versi" in names else None
    except NotFound:
        fields = None
    except CKANAPIError as exc:
        # CKAN answers an action it does not know with HTTP 400 "Action name not known".
        if "not known" not in str(exc).lower() and "not found" not in str(exc).lower():
            raise
        fields = None
    try:
        _schemas[client] = fields
    except TypeError:
        pass
    return fields


def as_fields(extras: dict[str, str], schema: frozenset[str] | None) -> dict[str, Any]:
    """The package fields that hold ``extras``: free extras on a portal without the Satu Data
    schema; with it, its fields (DCAT's structured ones for dates, area and standards) and, for
    a key it does not know, an extra."""
    if schema is None:
        return {"extras": [{"key": k, "value": v} for k, v in sorted(extras.items())]}
    rest = dict(extras)
    fields: dict[str, Any] = {}
    start, end = rest.pop("temporal_start", None), rest.pop("temporal_end", None)
    if start or end:
        fields["temporal_coverage"] = [{k: v for k, v in (("start", start), ("end", end)) if v}]
    uri, text = rest.pop("spatial_uri", None), rest.pop("spatial_text", None)
    if uri or text:
        fields["spatial_coverage"] = [{k: v for k, v in (("uri", uri), ("text", text)) if v}]
    if "conforms_to" in rest:
        fields["conforms_to"] = json.loads(rest.pop("conforms_to"))
    for key in [k for k in rest if k in schema]:
        fields[key] = rest.pop(key)
    # A patch replaces free extras whole but keeps a schema field it leaves out: a key no longer
    # written (a rollback's, once corrected) is cleared, as dropping it from the extras did.
    for key in SCHEMA_FIELDS:
        if key in schema and key not in fields:
            fields[key] = ""
    for key in ("temporal_coverage", "spatial_coverage", "conforms_to"):
        if key in schema and key not in fields:
            fields[key] = []
    fields["extras"] = [{"key": k, "value": v} for k, v in sorted(rest.items())]
    return fields


def dataset_fields(entry: DatasetEntry, org_id: str, extras: dict[str, str],
                   schema: frozenset[str] | None = None) -> dict[str, Any]:
    """The dataset's metadata as CKAN fields, from the catalog plus run-derived extras.

    ``schema``: the portal's Satu Data schema fields (``satudata_schema``), None for free extras.
    """
    meta = entry.ckan
    fields = {
        "name": meta.name,
        "title": meta.title,
        "notes": meta.notes.strip(),
        "owner_org": org_id,
        "license_id": license_id(entry),
        "maintainer": meta.maintainer,
        "maintainer_email": meta.maintainer_email or "",
        "tags": [{"name": t} for t in meta.tags],
        **as_fields(extras, schema),
    }
    if schema is not None and "contact" in schema:
        # DCAT's contact point: the walidata, who answers questions about the dataset.
        contact = {"name": meta.extras.get("walidata") or meta.maintainer}
        if meta.maintainer_email:
            contact["email"] = meta.maintainer_email
        fields["contact"] = [contact]
    return fields


def metadata_differs(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
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


def extras_of(package: dict[str, Any]) -> dict[str, str]:
    """The dataset's Satu Data and pipeline keys, as free extras or as schema fields (``as_fields``)."""
    extras = {e["key"]: e["value"] for e in package.get("extras", [])}
    for key in SCHEMA_FIELDS:
        if isinstance(package.get(key), str) and package[key] != "":
            extras[key] = package[key]
    temporal = (package.get("temporal_coverage") or [{}])[0]
    spatial = (package.get("spatial_coverage") or [{}])[0]
    for key, value in (("temporal_start", temporal.get("start")), ("temporal_end", temporal.get("end")),
                       ("spatial_uri", spatial.get("uri")), ("spatial_text", spatial.get("text"))):
        if value:
            extras[key] = value
    if isinstance(package.get("conforms_to"), list) and package["conforms_to"]:
        extras["conforms_to"] = json.dumps(package["conforms_to"], ensure_ascii=False)
    return extras


def resource_digest(resource: dict[str, Any]) -> str:
    """A resource's file hash as ``sha256:<hex>``, whether the portal holds it so (before DCAT-AP
    checksums) or as hex digits beside ``hash_algorithm``; "" when it has none."""
    value = str(resource.get("hash") or "")
    if not value or value.startswith("sha256:"):
        return value
    return f"sha256:{value}"


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
    wanted = {**dataset_fields(entry, org_id, extras, satudata_schema(client)), "private": True}
    try:
        created, _ = create_once(client, "package_create", wanted, lambda: find_dataset(client, name))
    except ValidationError as exc:
        if "name" not in getattr(exc, "error_dict", {}):
            raise refused("package_create", exc, name) from exc
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
    keep = next((r for r in same if resource_digest(r) == digest), same[0])
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
        "hash": digest.removeprefix("sha256:"),
        "hash_algorithm": SPDX_SHA256,
        **provenance,
    }
    if satudata_schema(client) is not None:
        fields["format"] = EU_FILE_TYPE + item.format.upper()
        fields["mimetype"] = IANA_MEDIA_TYPE + item.mimetype
    if existing and resource_digest(existing[0]) == digest:
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
            if not made and resource_digest(res) != digest:
                res = client.call_action("resource_patch", {"id": res["id"], **fields}, files=upload())
    except ValidationError as exc:
        errors = getattr(exc, "error_dict", {})
        if "upload" in errors and "too large" in str(errors["upload"]).lower():
            limit = f"{max_bytes / 1048576:g} MB" if max_bytes else "its ckan.max_resource_size"
            raise ResourceTooLarge(
                f"{item.path} ({size / 1048576:.1f} MB) refused by the portal: larger than "
                f"ckan.max_resource_size ({limit}); CKAN said {errors}"
            ) from exc
        raise refused("resource upload", exc, item.name) from exc
    log.info("resource %r %s: %d bytes uploaded", item.name, action, size)
    return {"id": res["id"], "url": res["url"], "hash": digest, "bytes_uploaded": size, "action": action,
            "resource": res}
