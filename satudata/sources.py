"""Extraction from agency APIs and file exports: archive the raw payload, then read it.

The raw payload is stored byte for byte before anything parses it. Input that cannot be read
as the catalog declares is copied to quarantine with an error report, and the run fails with a
SourceError naming the source, file, row and column. Only the declared fields are kept, so
personal data in the raw payload (NIK, names, phone numbers) stays in the raw zone.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from satudata import settings
from satudata.catalog import DatasetEntry, FileSource, RestSource
from satudata.extract import RawArchive, quarantine
from satudata.periods import Period
from transforms.readers import SourceParseError, read_csv_bytes, read_records, read_xlsx_bytes

log = logging.getLogger(__name__)


class SourceError(RuntimeError):
    """The source's input is missing, refused or unreadable; retrying will not help."""

    def __init__(self, message: str, quarantine_report: Path | None = None, raw_manifest: Path | None = None):
        super().__init__(message)
        self.quarantine_report, self.raw_manifest = quarantine_report, raw_manifest


@dataclass(frozen=True)
class Extracted:
    """Rows read for a period, and where their raw payload is archived."""

    frame: pd.DataFrame
    raw_manifest: Path


def _zone(zone: str, entry: DatasetEntry, period: Period) -> Path:
    return settings.zone_dir(zone, entry.id) / period.key


def _manifest(entry: DatasetEntry, period: Period, run_id: str) -> dict[str, Any]:
    return {
        "dataset": entry.id,
        "source": entry.source.system,
        "source_kind": entry.source.kind,
        "interval_start": period.start.isoformat(),
        "interval_end": period.end.isoformat(),
        "run_id": run_id,
    }


def _fail(entry: DatasetEntry, period: Period, archive: RawArchive, message: str,
          offending: Path | None, error: SourceParseError | None = None) -> SourceError:
    manifest = archive.close(status="failed", error=message)
    report = {
        "dataset": entry.id,
        "period": period.key,
        "source": entry.source.system,
        "file": error.file if error else (offending.name if offending else None),
        "row": error.row if error else None,
        "column": error.column if error else None,
        "error": message,
        "raw_manifest": str(manifest),
    }
    path = quarantine(_zone("quarantine", entry, period), report, offending)
    return SourceError(
        f"{entry.id} {period.key}: source {entry.source.system!r}: {message} "
        f"(raw kept: {manifest}; quarantined: {path})",
        quarantine_report=path, raw_manifest=manifest,
    )


def extract_rest(entry: DatasetEntry, period: Period, run_id: str) -> Extracted:
    """Fetch every page of the period from the agency API; archive each page before reading it."""
    from agency_api_hook import AgencyApiError, AgencyApiHook, MalformedPayload

    source = entry.source
    assert isinstance(source, RestSource)
    archive = RawArchive(_zone("raw", entry, period), {**_manifest(entry, period, run_id),
                                                       "conn_id": source.conn_id, "endpoint": source.endpoint})
    params = {source.interval_params.start: period.start.isoformat(),
              source.interval_params.end: period.end.isoformat()}
    frames = []
    try:
        for page in AgencyApiHook(source.conn_id).iter_pages(
            source.endpoint, params, source.pagination, source.records_key
        ):
            path = archive.add(f"page-{page.number:04d}.json", page.body, url=page.url)
            try:
                frames.append(read_records(page.payload[source.records_key], source.fields, path.name))
            except SourceParseError as exc:
                raise _fail(entry, period, archive, str(exc), path, exc) from None
    except MalformedPayload as exc:
        path = archive.add(f"page-{exc.page:04d}.json", exc.body, url=exc.url)
        raise _fail(entry, period, archive, str(exc), path,
                    SourceParseError(path.name, str(exc), row=None)) from None
    except AgencyApiError as exc:
        if exc.status in (401, 403, 404):
            raise _fail(entry, period, archive, str(exc), None) from None
        archive.close(status="failed", error=str(exc))
        raise
    frame = (pd.concat(frames, ignore_index=True) if frames
             else read_records([], source.fields, "no pages"))
    manifest = archive.close(status="extracted", rows=len(frame), pages=len(archive.manifest["files"]))
    return Extracted(frame, manifest)


def extract_file(entry: DatasetEntry, period: Period, run_id: str) -> Extracted:
    """Archive the period's export file (landing folder or HTTP), then read it."""
    source = entry.source
    assert isinstance(source, FileSource)
    relative = source.file_for(period.key)
    archive = RawArchive(_zone("raw", entry, period), {**_manifest(entry, period, run_id),
                                                       "file": relative, "conn_id": source.conn_id})
    if source.conn_id:
        from agency_api_hook import AgencyApiError, AgencyApiHook

        try:
            url, body = AgencyApiHook(source.conn_id).fetch_file(relative)
        except AgencyApiError as exc:
            if exc.status in (401, 403, 404):
                raise _fail(entry, period, archive, str(exc), None) from None
            archive.close(status="failed", error=str(exc))
            raise
        path = archive.add(Path(relative).name, body, url=url)
    else:
        landed = settings.landing_dir() / relative
        if not landed.is_file():
            raise _fail(entry, period, archive,
                        f"no export file {relative} in the landing folder {settings.landing_dir()}", None)
        body = landed.read_bytes()
        path = archive.add(landed.name, body, landing_file=relative)
    try:
        if source.format == "csv":
            frame = read_csv_bytes(body, source.fields, relative, source.number_format)
        else:
            frame = read_xlsx_bytes(body, source.fields, relative, source.sheet, source.number_format)
    except SourceParseError as exc:
        raise _fail(entry, period, archive, str(exc), path, exc) from None
    manifest = archive.close(status="extracted", rows=len(frame))
    return Extracted(frame, manifest)


READERS = {"rest": extract_rest, "file": extract_file}


def write_source_rows(extracted: Extracted, entry: DatasetEntry, period: Period) -> Path:
    """The declared fields of the source rows, as Parquet in the staging zone (no personal data)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = _zone("staging", entry, period) / "source-rows.parquet"
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pandas(extracted.frame, preserve_index=False)
    table = table.replace_schema_metadata({"satudata_raw_manifest": json.dumps(str(extracted.raw_manifest))})
    pq.write_table(table, path)
    return path
