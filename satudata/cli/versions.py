"""``python -m satudata versions <dataset_id>`` and ``rollback <dataset_id> --to <version>``.

The portal is reached as the DAG reaches it: the CKAN hook of the Airflow connection
``SATUDATA_CKAN_CONN_ID`` (default ``ckan_default``; outside a deployment, an
``AIRFLOW_CONN_CKAN_DEFAULT`` environment variable), with the same transport (timeouts,
retries); the DataStore write connection, when it exists, loads the table by COPY.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, TextIO

from satudata import settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _plugins_on_path() -> None:
    """The Airflow plugins folder (the hooks) importable, as it is inside Airflow."""
    folder = os.environ.get("AIRFLOW__CORE__PLUGINS_FOLDER") or str(settings.airflow_home() / "plugins")
    for candidate in (Path(folder), settings.REPO_ROOT / "plugins"):
        if (candidate / "pipeline_clients.py").exists() and str(candidate) not in sys.path:
            sys.path.insert(0, str(candidate))
            return


def _clients() -> Any:
    import importlib

    _plugins_on_path()
    return importlib.import_module("pipeline_clients")


def portal() -> Any:
    """The CKAN portal of the pipeline's connection."""
    return _clients().portal()


def write_dsn() -> str | None:
    """The DataStore write database's DSN when that connection exists (the table then loads by COPY)."""
    dsn: str | None = _clients().datastore_write_dsn()
    return dsn


def _published_version(entry: Any, out: TextIO) -> str | None:
    """The ``satudata_versi`` the portal shows now, or None (said on ``out``) when it cannot be read."""
    from satudata.publish.ckan import extras_of, find_dataset
    from satudata.publish.release import VERSION_KEY

    try:
        package = find_dataset(portal().client, entry.ckan.name)
    except Exception as exc:  # the listing is still useful without the portal
        out.write(f"(portal not read: {type(exc).__name__}: {exc}; 'di portal' unknown)\n")
        return None
    return extras_of(package).get(VERSION_KEY) if package else ""


def _entry(dataset_id: str, out: TextIO) -> Any:
    """The catalog entry of ``dataset_id``, or None with the catalog's error written on ``out``."""
    from satudata.catalog import CatalogError, get_entry

    try:
        return get_entry(dataset_id)
    except CatalogError as exc:
        out.write(f"{exc}\n")
        return None


def run_versions(dataset_id: str, out: TextIO | None = None, read_portal: bool = True) -> int:
    """Print the dataset's stored versions, oldest first, and which one the portal shows."""
    out = out or sys.stdout
    from satudata.publish.versions import version_store

    entry = _entry(dataset_id, out)
    if entry is None:
        return EXIT_USAGE
    store = version_store()
    versions = store.versions(entry.id)
    if not versions:
        out.write(f"{entry.id}: no version in {store.url}\n")
        return EXIT_OK
    current = _published_version(entry, out) if read_portal else None
    header = ["versi", "waktu (UTC)", "run id", "periode", "baris", "mutu", "keterangan", "di portal"]
    rows = []
    for v in versions:
        periods = f"{v.periods[0]}..{v.periods[-1]} ({len(v.periods)})" if v.periods else ""
        note = f"rollback ke {v.rollback_of}" if v.rollback_of else ""
        shown = "?" if current is None else ("ya" if v.satudata_versi == current else "")
        rows.append([v.id, v.created, v.run_id, periods, str(v.rows), v.quality, note, shown])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() + "\n")
    out.write(f"{len(versions)} version(s) in {store.url}\n")
    return EXIT_OK


def run_rollback(dataset_id: str, to: str, out: TextIO | None = None) -> int:
    """Put the portal back to version ``to``; prints what was done."""
    out = out or sys.stdout
    from satudata.publish.versions import VersionNotFound, version_store
    from satudata.rollback import rollback

    entry = _entry(dataset_id, out)
    if entry is None:
        return EXIT_USAGE
    try:
        store = version_store()
        store.find(entry.id, to)  # an unknown version is said before the portal is reached
        done = rollback(entry, to, portal(), write_dsn(), store=store)
    except VersionNotFound as exc:
        out.write(f"{exc}\n")
        return EXIT_USAGE
    out.write(f"{entry.id}: rolled back to version {done['rolled_back_to']} (from {done['rolled_back_from']})"
              f"{'; it was already: nothing new recorded' if done['repeat'] else ''}\n"
              f"now version {done['version_id']} ({done['version']}), {done['rows']} rows, "
              f"{done['bytes_uploaded']} bytes uploaded: {done['dataset_url']}\n")
    return EXIT_OK
