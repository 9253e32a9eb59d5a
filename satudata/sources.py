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
from transforms.readers import SourceParseError, arrow_schema, iter_csv_tables, read_records, read_xlsx_bytes

log = logging.getLogger(__name__)


class SourceError(RuntimeError):
    """The source's input is missing, refused or unreadable; retrying will not help."""

    def __init__(self, message: str, quarantine_report: Path | None = None, raw_manifest: Path | None = None):
        super().__init__(message)
        self.quarantine_report, self.raw_manifest = quarantine_report, raw_manifest


@dataclass(frozen=True)
class Extracted:
    """Rows read for a period: staged as Parquet (declared fields only), and where their raw payload is archived."""

    path: Path
    rows: int
    raw_manifest: Path

    @property
    def frame(self) -> pd.DataFrame:
        """The staged rows as one frame (for inspection; the pipeline reads the file in batches)."""
        import pyarrow.parquet as pq

        return pq.read_table(self.path).to_pandas()


class SourceRowsWriter:
    """Appends chunks of source rows, typed as the catalog declares, to the staging zone's Parquet file.

    Rows go to a temporary file that replaces ``source-rows.parquet`` only when every chunk was
    read, so a failed extraction leaves no partial staged rows.
    """

    def __init__(self, entry: DatasetEntry, period: Period, archive: RawArchive) -> None:
        import pyarrow.parquet as pq

        self.path = _zone("staging", entry, period) / "source-rows.parquet"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = self.path.with_suffix(".parquet.tmp")
        schema = arrow_schema(entry.source.fields).with_metadata(
            {"satudata_raw_manifest": json.dumps(str(archive.manifest_path))})
        self.writer = pq.ParquetWriter(self.tmp, schema, compression="zstd")
        self.rows = 0

    def write(self, chunk: Any) -> None:
        """Append a DataFrame of declared fields, or an Arrow table with the declared schema."""
        import pyarrow as pa

        if isinstance(chunk, pd.DataFrame):
            chunk = pa.Table.from_pandas(chunk, schema=self.writer.schema, preserve_index=False)
        if chunk.num_rows:
            self.writer.write_table(chunk.cast(self.writer.schema))
            self.rows += chunk.num_rows

    def close(self) -> Path:
        """Finish the file and put it in place."""
        self.writer.close()
        self.tmp.replace(self.path)
        return self.path

    def abandon(self) -> None:
        """Drop the partial file after a failed extraction."""
        self.writer.close()
        self.tmp.unlink(missing_ok=True)


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
    staged = SourceRowsWriter(entry, period, archive)
    try:
        for page in AgencyApiHook(source.conn_id).iter_pages(
            source.endpoint, params, source.pagination, source.records_key
        ):
            path = archive.add(f"page-{page.number:04d}.json", page.body, url=page.url)
            try:
                # Page by page: memory holds one page of rows, not the period.
                staged.write(read_records(page.payload[source.records_key], source.fields, path.name))
            except SourceParseError as exc:
                raise _fail(entry, period, archive, str(exc), path, exc) from None
    except MalformedPayload as exc:
        staged.abandon()
        path = archive.add(f"page-{exc.page:04d}.json", exc.body, url=exc.url)
        raise _fail(entry, period, archive, str(exc), path,
                    SourceParseError(path.name, str(exc), row=None)) from None
    except AgencyApiError as exc:
        staged.abandon()
        if exc.status in (401, 403, 404):
            raise _fail(entry, period, archive, str(exc), None) from None
        archive.close(status="failed", error=str(exc))
        raise
    except BaseException:
        staged.abandon()
        raise
    path = staged.close()
    manifest = archive.close(status="extracted", rows=staged.rows, pages=len(archive.manifest["files"]))
    return Extracted(path, staged.rows, manifest)


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
    staged = SourceRowsWriter(entry, period, archive)
    try:
        if source.format == "csv":
            # Block by block: the parsed rows of the whole export are never in memory at once.
            for table in iter_csv_tables(body, source.fields, relative, source.number_format):
                staged.write(table)
        else:
            staged.write(read_xlsx_bytes(body, source.fields, relative, source.sheet, source.number_format))
    except SourceParseError as exc:
        staged.abandon()
        raise _fail(entry, period, archive, str(exc), path, exc) from None
    except BaseException:
        staged.abandon()
        raise
    path = staged.close()
    manifest = archive.close(status="extracted", rows=staged.rows)
    return Extracted(path, staged.rows, manifest)


READERS = {"rest": extract_rest, "file": extract_file}

