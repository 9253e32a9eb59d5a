"""The pipeline's steps, one function per DAG task: extract, transform, validate, write, publish.

Each step takes the run (``RunContext``: dataset, period, run id) and the clients it needs, built
by the caller (the DAG from Airflow connections, the steward CLI from local files). Steps pass
file paths keyed by the dataset and the period, so a re-run or a backfill of a period lands in
the same place, and typed values (counts are ints). Each step adds what it did to the period's
run record, which is written for people and tools and never read back.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections import Counter
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, NotRequired, TypedDict

from satudata import __version__
from satudata.run import RunContext
from transforms.writing import replacing

if TYPE_CHECKING:
    from satudata.publish.versions import VersionStore

log = logging.getLogger(__name__)

# Source rows are read back this many at a time; memory then follows the batch, not the period.
TRANSFORM_BATCH_ROWS = 65_536


class GateOutput(TypedDict):
    """What ``validate`` hands on: the publishable rows and the run's reports."""

    publishable: str
    report_json: str
    report_html: str
    suppression_note: str


class Written(TypedDict):
    """What ``write_outputs`` hands on: the written files by kind, and what they hold."""

    csv: str
    parquet: str
    curated: str
    datapackage: str
    rows: int
    period_rows: int
    first_period: str
    last_period: str
    report_json: NotRequired[str]
    report_html: NotRequired[str]
    chart: NotRequired[str]
    xlsx: NotRequired[str]
    # The CSV's hash as this run wrote it, and of the CSV it replaced ("" for the first): the
    # DataStore takes only this period's rows when it holds the replaced CSV and no other
    # period's run rebuilt the files since (``rebuilt_since``, set by ``as_published``).
    csv_hash: NotRequired[str]
    base_csv_hash: NotRequired[str]
    rebuilt_since: NotRequired[bool]
    # The revision log (Catatan Revisi) against the last stored version.
    revision_csv: NotRequired[str]
    revision_html: NotRequired[str]
    # Why the DataStore table must be replaced whole whatever it holds (a rollback).
    reload_reason: NotRequired[str]


def extract(run: RunContext, source: Any) -> str:
    """Read the period from ``source`` (the client of the entry's source kind); archive the raw input.

    Returns the staged source rows. A SourceError (input refused, unreadable) is recorded and raised.
    """
    from satudata.extract import SourceError, reader_for

    try:
        extracted = reader_for(run.entry.source.kind)(run, source)
    except SourceError as exc:
        run.record(run_id=run.run_id, status="quarantined", error=str(exc),
                   raw_file=str(exc.raw_manifest), quarantine_report=str(exc.quarantine_report))
        raise
    run.record(run_id=run.run_id, source_rows=extracted.rows, raw_file=str(extracted.raw_manifest),
               status="extracted")
    log.info("%s: %d source rows extracted from %s (%s), raw input kept", run.label, extracted.rows,
             run.entry.source.system, run.entry.source.kind)
    return str(extracted.path)


def transform(run: RunContext, staged_source: str, rows_from: tuple[str, int] | None = None) -> str:
    """Add the catalog's region columns, apply its transform, conform the result to the declared schema.

    A transform with a chunked form reads the staged source rows in batches, so memory does not
    grow with the source; the others read the whole file. The ``region`` step runs on the source
    rows, before the transform, where a row is still the input's row: an unknown or ambiguous
    region quarantines the input and raises SourceError naming file, row and column.
    ``rows_from`` (label, first row's number) says how to name the rows when the staged rows do
    not come from the entry's source as the DAG reads it (the steward's check of a CSV extract).
    """
    import pyarrow.parquet as pq

    from satudata.extract import fail_staged
    from transforms import get_streaming, get_transform
    from transforms.reference import RegionValueError
    from transforms.tables import conform, write_parquet

    entry = run.entry
    streaming = get_streaming(entry.transform)
    source = pq.ParquetFile(staged_source)
    rows = source.metadata.num_rows
    regions = _RegionRows(run, staged_source, rows_from)
    result = None
    try:
        if streaming is not None:
            batches = source.iter_batches(batch_size=TRANSFORM_BATCH_ROWS)
            result = streaming.run(regions.add(b.to_pandas()) for b in batches)
        if result is None:
            result = get_transform(entry.transform)(regions.add(source.read().to_pandas()))
    except RegionValueError as exc:
        error = fail_staged(run, Path(staged_source), exc)
        run.record(run_id=run.run_id, status="quarantined", error=str(error),
                   quarantine_report=str(error.quarantine_report))
        raise error from None
    frame = conform(with_period_columns(result, run), entry.table.columns, source=staged_source, drop_extra=True)
    staged = run.period_dir("staging") / "transformed.parquet"
    write_parquet(frame, entry.table.columns, staged)
    log.info("%s: %d source rows -> %d output rows", run.label, rows, len(frame))
    run.record(rows=len(frame), status="transformed")
    return str(staged)


def with_period_columns(frame: Any, run: RunContext) -> Any:
    """``frame`` with the period columns it lacks (``period_columns``: role -> column) filled from the run's period.

    A source that carries no year or month column (a yearly table, a monthly export without a
    date) still publishes its ``tahun``/``bulan``; a column the transform made is left as it is.
    """
    values = run.period.values()
    missing = {column: values[role] for role, column in run.entry.period_columns.items()
               if column not in frame.columns and role in values}
    return frame.assign(**missing) if missing else frame


class _RegionRows:
    """The catalog's ``region`` step on source rows, batch after batch, numbering rows as the input does."""

    def __init__(self, run: RunContext, staged_source: str, rows_from: tuple[str, int] | None) -> None:
        self.region = run.entry.region
        self.file, self.next_row = "", 1
        # The source field as staged: under its published name when the catalog maps it.
        fields = {f.name: f for f in getattr(run.entry.source, "fields", [])}
        source_field = fields.get(self.region.source) if self.region is not None else None
        self.column = (source_field.column or source_field.name) if source_field is not None else ""
        if self.region is not None:
            self.file, self.next_row = rows_from or _rows_origin(run, Path(staged_source))

    def add(self, frame: Any) -> Any:
        """``frame`` with the region's code and name columns (unchanged without a ``region`` key)."""
        region = self.region
        if region is None:
            return frame
        from transforms.reference import add_region

        first, self.next_row = self.next_row, self.next_row + len(frame)
        return add_region(frame, self.column, region.match, region.code_column, region.name_column,
                          file=self.file, first_row=first)


def _rows_origin(run: RunContext, staged_source: Path) -> tuple[str, int]:
    """How messages name the staged rows' input, and the number it gives its first row.

    An export file is named as its reader names it and numbered as the file shows it (the
    header is line/row 1); query results and API records are numbered from 1.
    """
    import json

    from satudata.extract.staging import raw_manifest_of

    source = run.entry.source
    if source.kind != "file":
        return source.origin, 1
    label = source.file_for(run.period.key)
    manifest = raw_manifest_of(staged_source)
    if manifest is not None and manifest.exists():
        files = json.loads(manifest.read_text(encoding="utf-8")).get("files", [])
        label = files[0].get("landing_file", label) if files else label
    return label, 2


def validate(run: RunContext, staged_path: str) -> GateOutput:
    """Run the publication gate (suite, small-cell suppression, personal-data scan) and keep its report.

    Returns the paths of the JSON and HTML reports and of the frame that may be published;
    raises ValidationFailed (PersonalDataFound for personal data) after writing the report.
    """
    from satudata.gate import run_gate
    from transforms.tables import has_schema, read_parquet, write_parquet

    entry = run.entry
    frame = read_parquet(Path(staged_path))
    # The previous period as published; with suppression its sum counts emptied cells as 0.
    previous_path = run.zone("curated") / f"{run.period.previous().key}.parquet"
    previous = read_parquet(previous_path) if previous_path.exists() else None
    gate = run_gate(entry, frame, run.period, previous, run_id=run.run_id, source=staged_path)
    safe_run = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in run.run_id)
    paths = gate.report.write(run.owner_only_dir("reports") / safe_run)
    report = gate.report
    run.record(
        validation="passed" if report.critical_failures == 0 else "failed",
        validation_warnings=report.warnings,
        personal_data="none" if report.privacy["success"] else "found",
        validation_report=paths["report_json"],
        validation_report_html=paths["report_html"],
        status="validated" if report.publishable else "blocked",
    )
    log.info("%s: gate %s: %d rows, %d expectations (%d critical failures, %d warnings), personal data %s, "
             "%d cells suppressed", run.label, "passed" if report.publishable else "blocked", report.rows,
             len(report.expectations), report.critical_failures, report.warnings,
             "none" if report.privacy["success"] else "found",
             sum(report.suppression.get("cells_suppressed", {}).values()))
    if not report.publishable:
        raise gate.error(Path(paths["report_json"]))
    publishable = run.period_dir("staging") / "publishable.parquet"
    if gate.publishable is frame and has_schema(Path(staged_path), entry.table.columns):
        # Nothing suppressed: the staged file already is the publishable one, byte for byte.
        with replacing(publishable) as tmp:
            shutil.copyfile(staged_path, tmp)
    else:
        write_parquet(gate.publishable, entry.table.columns, publishable)
    return {"report_json": paths["report_json"], "report_html": paths["report_html"],
            "publishable": str(publishable), "suppression_note": report.suppression.get("note", "")}


def write_outputs(run: RunContext, gate: GateOutput) -> Written:
    """Store the validated period and rebuild every published file from all periods.

    Full-history Parquet, CSV and XLSX, the data dictionary (datapackage.json), the chart, and the
    run's validation report as HTML and JSON; all from the same validated run. Runs of other
    periods of the dataset wait (``RunContext.publishing_lock``), so the files are rebuilt from
    a settled set of periods and the last run's files hold every period.
    """
    with run.publishing_lock():
        return _write_outputs(run, gate)


def _write_outputs(run: RunContext, gate: GateOutput) -> Written:
    import pyarrow as pa

    from satudata.publish.resources import data_file_names, write_artifacts
    from satudata.publish.revisions import write_revision_log
    from satudata.publish.versions import version_store
    from transforms.tables import read_table, sort_rows, write_csv, write_parquet

    # Arrow from file to file: the full history is rebuilt every run and may hold millions of rows.
    entry = run.entry
    columns = entry.table.columns
    curated = run.zone("curated") / f"{run.period.key}.parquet"
    current = read_table(Path(gate["publishable"]), columns)
    write_parquet(current, columns, curated)
    files = sorted(curated.parent.glob("*.parquet"))
    tables = [current if p == curated else read_table(p, columns) for p in files]
    history = sort_rows(pa.concat_tables(tables), entry.table.primary_key)
    if len({t.schema.metadata.get(b"pandas") if t.schema.metadata else None for t in tables}) > 1:
        history = history.replace_schema_metadata(None)  # periods disagree on pandas dtypes: let pandas decide
    out_dir = run.zone("published")
    base = _csv_hash(out_dir / "datapackage.json") if (out_dir / "datapackage.json").exists() else ""
    names = data_file_names(entry)
    periods = [p.stem for p in files]
    meta = {"dataset": entry.id, "primary_key": entry.table.primary_key, "pipeline_version": __version__,
            "first_period": periods[0], "last_period": periods[-1]}
    parquet = write_parquet(history, columns, out_dir / names["parquet"], table_meta=meta)
    csv = write_csv(history, out_dir / names["csv"])
    extra = write_artifacts(entry, history, csv, periods, out_dir, Path(gate["report_json"]),
                            Path(gate["report_html"]))
    # The CSV's hash as write_artifacts recorded it in the data dictionary: the CSV is read once.
    csv_hash = _csv_hash(Path(extra["datapackage"]))
    extra.update(write_revision_log(entry, version_store(run.data_root), {p.stem: p for p in files},
                                    entry.table.column_names, csv_hash.removeprefix("sha256:"), out_dir))
    log.info("%s: %d rows over %d period(s) written to %s", run.label, history.num_rows, len(periods), out_dir)
    run.record(published_rows=history.num_rows, status="written")
    written: Written = {
        "csv": str(csv),
        "parquet": str(parquet),
        "curated": str(curated),
        "datapackage": extra["datapackage"],
        "rows": history.num_rows,
        "period_rows": tables[periods.index(run.period.key)].num_rows,
        "first_period": periods[0],
        "last_period": periods[-1],
        "csv_hash": csv_hash,
        "base_csv_hash": base,
    }
    for kind in ("report_json", "report_html", "chart", "xlsx", "revision_csv", "revision_html"):
        if kind in extra:
            written[kind] = extra[kind]
    return written


def period_filters(run: RunContext) -> dict[str, Any] | None:
    """DataStore filters selecting the period's rows, or None if its columns do not say.

    A weekly table is filtered by ISO year and week (``year`` + ``week``); one naming its weeks
    otherwise (say, by their first day) is not filtered.
    """
    roles = {"daily": ("date",), "monthly": ("year", "month"), "semiannual": ("year", "semester"),
             "annual": ("year",), "quarterly": ("year", "quarter"), "weekly": ("year", "week")}
    needed = roles.get(run.period.schedule, ())
    columns = run.entry.period_columns
    if not needed or any(r not in columns for r in needed):
        return None
    values = run.period.values()
    return {columns[r]: values[r] for r in needed}


def _utc_iso(path: Path) -> str:
    stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC) if path.exists() else datetime.now(UTC)
    return stamp.isoformat(timespec="seconds")


def publish(run: RunContext, written: Written, portal: Any, write_dsn: str | None = None) -> dict[str, Any]:
    """Publish the written files, load the DataStore and make the new version public.

    ``portal`` is a ``satudata.publish.ckan.Portal``; with ``write_dsn`` (the DataStore's write
    database) the table loads by COPY, else through the API. Runs of other periods of the dataset
    wait (``RunContext.publishing_lock``): no ``write`` changes the files while they are published.
    """
    with run.publishing_lock():
        published = as_published(written)
        result = _publish(run, published, portal, write_dsn)
        record_version(run, published, result)
        return result


def as_published(written: Written) -> Written:
    """``written`` with the history's row count and periods as the published files hold them now.

    A run of a later period may have rebuilt the files between this run's ``write`` and its
    ``publish``; what is published then describes the files, not this run's older view of them.
    """
    import pyarrow.parquet as pq

    parquet = pq.ParquetFile(written["parquet"])
    meta = json.loads((parquet.schema_arrow.metadata or {}).get(b"satudata", b"{}"))
    now: Written = {**written, "rows": parquet.metadata.num_rows}
    if "first_period" in meta and "last_period" in meta:
        now["first_period"], now["last_period"] = meta["first_period"], meta["last_period"]
    # Rebuilt by another period's run since this run's write: that run's rows are in it too.
    now["rebuilt_since"] = _csv_hash(Path(written["datapackage"])) != written.get("csv_hash")
    return now


def _csv_hash(datapackage: Path) -> str:
    """The CSV's hash (``sha256:<hex>``, as a CKAN resource's) as the data dictionary beside it records it."""
    package = json.loads(datapackage.read_text(encoding="utf-8"))
    return str(package["resources"][0]["hash"])


def record_version(run: RunContext, written: Written, result: dict[str, Any], rollback_of: str | None = None,
                   outcome: dict[str, str] | None = None, extra: dict[str, str] | None = None,
                   store: VersionStore | None = None) -> str:
    """Keep the version just committed in ``store`` (the run's version store when not given), unless
    it is the last one there; prune.

    Its files are the published zone's files of ``written`` and the curated periods they were
    built from. Called inside the publishing lock, after the commit. Returns the version's id.
    """
    import pyarrow.parquet as pq

    from satudata import settings
    from satudata.publish.versions import version_store

    store = store or version_store(run.data_root)
    entry = run.entry
    latest = store.latest(entry.id)
    if latest is not None and latest.satudata_versi == result["version"] and rollback_of is None:
        return latest.id
    out_dir = Path(written["csv"]).parent
    published = [(kind, Path(value)) for kind, value in written.items()
                 if kind != "curated" and isinstance(value, str) and Path(value).parent == out_dir
                 and Path(value).is_file()]
    curated = sorted(run.zone("curated").glob("*.parquet"))
    period_rows = {p.stem: pq.ParquetFile(p).metadata.num_rows for p in curated}
    outcome = outcome or {}
    version = store.record(
        entry.id, [*published, *(("curated", p) for p in curated)], satudata_versi=result["version"],
        run_id=run.run_id, periods=sorted(period_rows), period_rows=period_rows, rows=int(written["rows"]),
        quality=outcome.get("satudata_quality_status", "passed"), rollback_of=rollback_of,
        extra={"columns": entry.table.column_names, "pipeline_version": __version__,
               "validated": outcome.get("satudata_last_validated", _utc_iso(Path(written.get("report_json", "")))),
               **(extra or {})},
    )
    store.prune(entry.id, settings.version_keep(), published=[result["version"]])
    run.record(version_id=version.id)
    return version.id


def _publish(run: RunContext, written: Written, portal: Any, write_dsn: str | None,
             more_extras: dict[str, str] | None = None, outcome: dict[str, str] | None = None) -> dict[str, Any]:
    from satudata.publish.datastore import sync_datastore
    from satudata.publish.metadata import dataset_extras
    from satudata.publish.release import commit, mark_table_loaded, run_outcome, upload_resources
    from satudata.publish.resources import publish_files
    from transforms.tables import read_parquet

    entry, period = run.entry, run.period
    provenance = {
        "source_system": entry.source.system,
        "data_interval": f"{period.start.isoformat()}/{period.end.isoformat()}",
        "airflow_dag_id": entry.id,
        "airflow_run_id": run.run_id,
        "pipeline_version": __version__,
        "row_count": str(written["rows"]),
    }
    outcome = outcome or run_outcome(run.run_id, "published", _utc_iso(Path(written.get("report_json", ""))))
    extras = {**dataset_extras(entry, written["first_period"], written["last_period"]), **(more_extras or {})}
    files = publish_files(written, entry)
    publication = upload_resources(portal, entry, files, extras, provenance,
                                   table_resource=Path(written["csv"]).name)
    table = publication.table_to_load
    if table is not None:
        # Only this period's rows when the table holds the CSV this run's write started from;
        # else (an earlier load failed, another period's run wrote in between, or its publish
        # has not loaded yet) the full history replaces the table's rows.
        reload = written.get("reload_reason") or publication.table_reload
        if reload is None and written.get("rebuilt_since"):
            reload = "another period's run rebuilt the files since this run's write"
        elif reload is None and table.get("datastore_hash") != written.get("base_csv_hash"):
            reload = "the table does not hold the file this run's write started from"
        publication.result.datastore = sync_datastore(
            portal.client, table, entry, read_parquet(Path(written["curated"])),
            read_parquet(Path(written["parquet"])), period_filters(run), write_dsn=write_dsn, reload=reload)
        mark_table_loaded(portal, publication)
    result = commit(portal, entry, publication, extras, outcome)
    actions = Counter(r["action"] for r in result.resources.values())
    loaded = result.datastore
    log.info("%s: published %d rows to %s: %d resources (%s), %d bytes uploaded; DataStore %s",
             run.label, written["rows"], result.dataset_url, len(result.resources),
             ", ".join(f"{n} {action}" for action, n in sorted(actions.items())), result.bytes_uploaded,
             f"{loaded['rows_upserted']} rows loaded, {loaded['rows_deleted']} deleted" if loaded else "unchanged")
    run.record(status="published", dataset_url=result.dataset_url, bytes_uploaded=result.bytes_uploaded,
               version=result.version, changed=result.changed)
    return {**asdict(result), "rows": written["rows"], "changed": result.changed,
            "bytes_uploaded": result.bytes_uploaded}


def record_failure(run: RunContext, portal: Any, blocked_report: str | None = None) -> dict[str, str]:
    """After a failed run: show its outcome in the dataset's extras; data and resources stay.

    ``blocked_report`` is the gate's report when the gate blocked the run (status ``blocked``);
    without it the run failed for another reason (status ``failed``).
    """
    from satudata.publish.release import record_outcome, run_outcome

    if blocked_report:
        outcome = run_outcome(run.run_id, "blocked", _utc_iso(Path(blocked_report)))
    else:
        outcome = run_outcome(run.run_id, "failed")
    shown = record_outcome(portal.client, run.entry, outcome)
    run.record(outcome_on_portal=shown)
    log.info("%s: run %s %s; %s", run.label, run.run_id, outcome["satudata_last_run_status"],
             "outcome shown on the portal, the published data unchanged" if shown
             else "the dataset is not on the portal yet: nothing shown")
    return outcome
