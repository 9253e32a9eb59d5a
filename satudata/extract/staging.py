"""The staging zone's source rows, and the failure path of every reader (quarantine, SourceError)."""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from satudata.extract.archive import RawArchive, quarantine
from transforms.readers import SourceParseError, arrow_schema
from transforms.writing import replacing, temporary_beside

if TYPE_CHECKING:
    from satudata.run import RunContext

SOURCE_ROWS = "source-rows.parquet"


class SourceError(RuntimeError):
    """The source's input is missing, refused or unreadable; retrying will not help."""

    def __init__(self, message: str, quarantine_report: Path | None = None, raw_manifest: Path | None = None,
                 detail: str | None = None):
        super().__init__(message)
        self.quarantine_report, self.raw_manifest = quarantine_report, raw_manifest
        # What is wrong with the input (file, row, column), without the run and the archive's paths.
        self.detail = detail or message


@dataclass(frozen=True)
class Extracted:
    """Rows read for a period: staged as Parquet (declared fields only), and where their raw input is archived."""

    path: Path
    rows: int
    raw_manifest: Path

    @property
    def frame(self) -> pd.DataFrame:
        """The staged rows as one frame (for inspection; the pipeline reads the file in batches)."""
        import pyarrow.parquet as pq

        return pq.read_table(self.path).to_pandas()


def staged_rows_path(run: RunContext) -> Path:
    """Where the period's source rows are staged for the transform."""
    return run.period_dir("staging") / SOURCE_ROWS


def stage_file(run: RunContext, rows_file: Path) -> Path:
    """Stage an already written Parquet file of source rows (a hard link where the zones share a disk)."""
    path = staged_rows_path(run)
    with replacing(path) as tmp:
        tmp.unlink()  # its name is ours alone; the link takes it
        try:
            os.link(rows_file, tmp)
        except OSError:
            shutil.copyfile(rows_file, tmp)
    return path


@dataclass(frozen=True)
class RunField:
    """A source field as one run reads it: its declaration, and for the period field of a file that
    holds one period, the run's period (``within``: first day, day after, key), which each cell must lie in."""

    name: str
    type: str
    required: bool
    column: str | None = None
    values: dict[str, str] | None = None
    format: str | None = None
    default: str | int | float | None = None
    within: tuple[date, date, str] | None = None


def run_fields(run: RunContext) -> list[RunField]:
    """The source's declared fields for this run (the period field bound to the run's period)."""
    source = run.entry.source
    # From a history file the other periods' rows are dropped, not refused (SourceRowsWriter).
    checked = None if getattr(source, "history", False) else getattr(source, "period_field", None)
    bound = (run.period.start, run.period.end, run.period.key)
    return [RunField(**f.model_dump(), within=bound if f.name == checked else None)
            for f in getattr(source, "fields", [])]


class SourceRowsWriter:
    """Appends chunks of source rows, typed as the catalog declares, to the staging zone's Parquet file.

    Columns are staged under their published names (a field's ``column``). From a history file
    only the rows of the run's period are kept. Rows go to a temporary file that replaces
    ``source-rows.parquet`` only when every chunk was read, so a failed extraction leaves no
    partial staged rows.
    """

    def __init__(self, run: RunContext, archive: RawArchive) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.path = staged_rows_path(run)
        self.tmp = temporary_beside(self.path)
        fields = getattr(run.entry.source, "fields", [])
        self.read_schema = arrow_schema(fields)
        self.names = [f.column or f.name for f in fields]
        schema = pa.schema([field.with_name(name) for field, name in zip(self.read_schema, self.names, strict=True)])
        schema = schema.with_metadata({"satudata_raw_manifest": json.dumps(str(archive.manifest_path))})
        try:
            self.writer = pq.ParquetWriter(self.tmp, schema, compression="zstd")
        except BaseException:
            self.tmp.unlink(missing_ok=True)
            raise
        source = run.entry.source
        self.history = getattr(source, "period_field", None) if getattr(source, "history", False) else None
        self.period = run.period
        self.rows = self.rows_read = 0

    def write(self, chunk: Any) -> None:
        """Append a DataFrame of declared fields, or an Arrow table with the declared schema."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if isinstance(chunk, pd.DataFrame):
            chunk = pa.Table.from_pandas(chunk, schema=self.read_schema, preserve_index=False)
        chunk = chunk.cast(self.read_schema)
        self.rows_read += chunk.num_rows
        if self.history is not None:
            when = chunk.column(self.history)
            mine = pc.and_(pc.greater_equal(when, pa.scalar(self.period.start, pa.date32())),
                           pc.less(when, pa.scalar(self.period.end, pa.date32())))
            chunk = chunk.filter(pc.fill_null(mine, False))
        if chunk.num_rows:
            self.writer.write_table(chunk.rename_columns(self.names).cast(self.writer.schema))
            self.rows += chunk.num_rows

    def close(self) -> Path:
        """Finish the file and put it in place."""
        try:
            self.writer.close()
            self.tmp.replace(self.path)
        except BaseException:
            self.tmp.unlink(missing_ok=True)
            raise
        return self.path

    def abandon(self) -> None:
        """Drop the partial file after a failed extraction."""
        try:
            self.writer.close()
        finally:
            self.tmp.unlink(missing_ok=True)


def manifest_of(run: RunContext, **facts: Any) -> dict[str, Any]:
    """The raw archive's manifest header: which dataset, source, interval and run."""
    return {
        "dataset": run.entry.id,
        "source": run.entry.source.system,
        "source_kind": run.entry.source.kind,
        "interval_start": run.period.start.isoformat(),
        "interval_end": run.period.end.isoformat(),
        "run_id": run.run_id,
        **facts,
    }


def fail(run: RunContext, archive: RawArchive, message: str, offending: Path | None,
         error: SourceParseError | None = None) -> SourceError:
    """Close the archive as failed, quarantine the offending input, and the SourceError to raise."""
    manifest = archive.close(status="failed", error=message)
    report = {
        "dataset": run.entry.id,
        "period": run.period.key,
        "source": run.entry.source.system,
        "file": error.file if error else (offending.name if offending else None),
        "row": error.row if error else None,
        "column": error.column if error else None,
        "error": message,
        "raw_manifest": str(manifest),
    }
    path = quarantine(run.owner_only_dir("quarantine"), report, offending)
    return SourceError(
        f"{run.label}: source {run.entry.source.system!r}: {message} "
        f"(raw kept: {manifest}; quarantined: {path})",
        quarantine_report=path, raw_manifest=manifest, detail=message,
    )


def raw_manifest_of(staged: Path) -> Path | None:
    """The raw archive's manifest the staged rows were read from, when the staging recorded it."""
    import pyarrow.parquet as pq

    meta = pq.read_schema(staged).metadata or {}
    recorded = meta.get(b"satudata_raw_manifest")
    return Path(json.loads(recorded)) if recorded else None


def fail_staged(run: RunContext, staged: Path, error: SourceParseError) -> SourceError:
    """Quarantine input whose staged rows a later step refused (a row's value); the SourceError to raise.

    The raw archive is closed already and stays as it is; the quarantine gets the report (file,
    row, column) and, when the input was one file, a copy of it for the steward.
    """
    manifest = raw_manifest_of(staged)
    offending = None
    if manifest is not None and manifest.exists():
        files = json.loads(manifest.read_text(encoding="utf-8")).get("files", [])
        if len(files) == 1 and (manifest.with_suffix("") / files[0]["name"]).is_file():
            offending = manifest.with_suffix("") / files[0]["name"]
    report = {
        "dataset": run.entry.id,
        "period": run.period.key,
        "source": run.entry.source.system,
        "file": error.file,
        "row": error.row,
        "column": error.column,
        "error": str(error),
        "raw_manifest": str(manifest) if manifest else None,
    }
    path = quarantine(run.owner_only_dir("quarantine"), report, offending)
    return SourceError(f"{run.label}: source {run.entry.source.system!r}: {error} (quarantined: {path})",
                       quarantine_report=path, raw_manifest=manifest, detail=str(error))
