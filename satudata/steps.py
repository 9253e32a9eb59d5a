"""The pipeline's steps, one function per DAG task: extract, transform, validate, write, publish.

Steps pass file paths, keyed by the dataset and the period of the run's data interval, so a
re-run or a backfill of a period lands in the same place. Each step records what it did in
the period's run record (``data/runs/<dataset>/<period>.json``), which the demo summarises.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import Any

from satudata import __version__, settings
from satudata.catalog import DatasetEntry
from satudata.periods import Period

log = logging.getLogger(__name__)


def _zone(zone: str, entry: DatasetEntry) -> Path:
    return settings.zone_dir(zone, entry.id)


def run_record_path(entry: DatasetEntry, period: Period) -> Path:
    return _zone("runs", entry) / f"{period.key}.json"


def record(entry: DatasetEntry, period: Period, **facts: Any) -> dict[str, Any]:
    """Merge ``facts`` into the period's run record and return it."""
    path = run_record_path(entry, period)
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    current.update({"dataset": entry.id, "period": period.key, **facts})
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(current, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)
    return current


def extract(entry: DatasetEntry, period: Period, run_id: str) -> str:
    """Read the source rows of ``period`` and archive the raw input unchanged in the raw zone."""
    if entry.source.kind == "sql":
        return _extract_sql(entry, period, run_id)
    from satudata import sources

    try:
        extracted = sources.READERS[entry.source.kind](entry, period, run_id)
    except sources.SourceError as exc:
        record(entry, period, run_id=run_id, status="quarantined", error=str(exc),
               raw_file=str(exc.raw_manifest), quarantine_report=str(exc.quarantine_report))
        raise
    record(entry, period, run_id=run_id, source_rows=extracted.rows,
           raw_file=str(extracted.raw_manifest), status="extracted")
    return str(extracted.path)


def _extract_sql(entry: DatasetEntry, period: Period, run_id: str) -> str:
    from agency_sql_hook import AgencySqlHook

    from satudata.extract import archive_chunks

    source = entry.source
    hook = AgencySqlHook(source.conn_id)
    chunks = hook.read_interval(source.query, period.start, period.end)
    manifest = {
        "dataset": entry.id,
        "source": source.system,
        "conn_id": source.conn_id,
        "interval_start": period.start.isoformat(),
        "interval_end": period.end.isoformat(),
        "run_id": run_id,
    }
    path = archive_chunks(chunks, _zone("raw", entry) / period.key, manifest)
    rows = json.loads(path.with_suffix(".json").read_text())["rows"]
    record(entry, period, run_id=run_id, source_rows=rows, raw_file=str(path), status="extracted")
    return str(path)


# Source rows are read back this many at a time; memory then follows the batch, not the period.
TRANSFORM_BATCH_ROWS = 65_536


def transform(entry: DatasetEntry, period: Period, raw_path: str) -> str:
    """Apply the catalog's transform and conform the result to the declared schema.

    A transform with a chunked form reads the staged source rows in batches, so memory does not
    grow with the source; the others read the whole file.
    """
    import pyarrow.parquet as pq

    from transforms import get_streaming, get_transform
    from transforms.tables import conform, write_parquet

    streaming = get_streaming(entry.transform)
    source = pq.ParquetFile(raw_path)
    rows = source.metadata.num_rows
    result = None
    if streaming is not None:
        result = streaming.run(b.to_pandas() for b in source.iter_batches(batch_size=TRANSFORM_BATCH_ROWS))
    if result is None:
        result = get_transform(entry.transform)(source.read().to_pandas())
    frame = conform(result, entry.table.columns, source=raw_path)
    staged = _zone("staging", entry) / period.key / "transformed.parquet"
    write_parquet(frame, entry.table.columns, staged)
    log.info("%s %s: %d source rows -> %d output rows", entry.id, period.key, rows, len(frame))
    record(entry, period, rows=len(frame), status="transformed")
    return str(staged)


def validate(entry: DatasetEntry, period: Period, staged_path: str, run_id: str) -> dict[str, str]:
    """Run the publication gate (suite, small-cell suppression, personal-data scan) and keep its report.

    Returns the paths of the JSON and HTML reports and of the frame that may be published;
    raises ValidationFailed (PersonalDataFound for personal data) after writing the report.
    """
    import shutil

    from satudata.gate import run_gate
    from transforms.tables import has_schema, read_parquet, write_parquet

    frame = read_parquet(Path(staged_path))
    # The previous period as published; with suppression its sum counts emptied cells as 0.
    previous_path = _zone("curated", entry) / f"{period.previous().key}.parquet"
    previous = read_parquet(previous_path) if previous_path.exists() else None
    gate = run_gate(entry, frame, period.key, period.parameters(), previous, run_id=run_id, source=staged_path)
    safe_run = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in run_id)
    paths = gate.report.write(_zone("reports", entry) / period.key / safe_run)
    report = gate.report
    record(
        entry, period,
        validation="passed" if report.critical_failures == 0 else "failed",
        validation_warnings=report.warnings,
        personal_data="none" if report.privacy["success"] else "found",
        validation_report=paths["report_json"],
        validation_report_html=paths["report_html"],
        status="validated" if report.publishable else "blocked",
    )
    if not report.publishable:
        raise gate.error(Path(paths["report_json"]))
    publishable = _zone("staging", entry) / period.key / "publishable.parquet"
    if gate.publishable is frame and has_schema(Path(staged_path), entry.table.columns):
        # Nothing suppressed: the staged file already is the publishable one, byte for byte.
        tmp = publishable.with_suffix(".parquet.tmp")
        shutil.copyfile(staged_path, tmp)
        tmp.replace(publishable)
    else:
        write_parquet(gate.publishable, entry.table.columns, publishable)
    return {**paths, "publishable": str(publishable),
            "suppression_note": report.suppression.get("note", "")}


def write_outputs(entry: DatasetEntry, period: Period, staged_path: str,
                  report_json: str | None = None, report_html: str | None = None) -> dict[str, str]:
    """Store the validated period and rebuild every published file from all periods.

    Full-history Parquet and CSV, the data dictionary (datapackage.json), the chart, and the
    run's validation report as HTML and JSON; all from the same validated run.
    """
    import pyarrow as pa

    from satudata.artifacts import write_artifacts
    from transforms.tables import read_table, sort_rows, write_csv, write_parquet

    # Arrow from file to file: the full history is rebuilt every run and may hold millions of rows.
    columns = entry.table.columns
    curated = _zone("curated", entry) / f"{period.key}.parquet"
    current = read_table(Path(staged_path), columns)
    write_parquet(current, columns, curated)
    files = sorted(curated.parent.glob("*.parquet"))
    tables = [current if p == curated else read_table(p, columns) for p in files]
    history = sort_rows(pa.concat_tables(tables), entry.table.primary_key)
    if len({t.schema.metadata.get(b"pandas") if t.schema.metadata else None for t in tables}) > 1:
        history = history.replace_schema_metadata(None)  # periods disagree on pandas dtypes: let pandas decide
    out_dir = _zone("published", entry)
    meta = {"dataset": entry.id, "primary_key": entry.table.primary_key, "pipeline_version": __version__}
    parquet = write_parquet(history, columns, out_dir / f"{entry.ckan.name}.parquet", table_meta=meta)
    csv = write_csv(history, out_dir / f"{entry.ckan.name}.csv")
    periods = [p.stem for p in files]
    extra = write_artifacts(entry, history, csv, periods, out_dir,
                            Path(report_json) if report_json else None, Path(report_html) if report_html else None)
    log.info("%s: %d rows over %d period(s) written to %s", entry.id, history.num_rows, len(periods), out_dir)
    record(entry, period, published_rows=history.num_rows, status="written")
    return {
        "csv": str(csv),
        "parquet": str(parquet),
        "curated": str(curated),
        "rows": str(history.num_rows),
        "period_rows": str(tables[periods.index(period.key)].num_rows),
        "first_period": periods[0],
        "last_period": periods[-1],
        **extra,
    }


def _period_filters(entry: DatasetEntry, period: Period) -> dict[str, Any] | None:
    """DataStore filters selecting the period's rows, or None if its columns do not say."""
    values = {"year": period.year, "month": period.month, "semester": 1 if period.month <= 6 else 2,
              "date": period.start.isoformat()}
    if period.schedule == "daily" and "date" not in entry.period_columns:
        return None
    roles = {"daily": ("date",), "monthly": ("year", "month"), "semiannual": ("year", "semester")}
    needed = roles.get(period.schedule, ())
    if not needed or any(r not in entry.period_columns for r in needed):
        return None
    return {entry.period_columns[r]: values[r] for r in needed}


def publish_files(entry: DatasetEntry, outputs: dict[str, str]) -> list:
    """The resources of a dataset, in the order they are published."""
    from satudata.publish import PublishFile

    name = entry.ckan.name
    files = [
        PublishFile(f"{name}.csv", Path(outputs["csv"]), "CSV", "Seluruh periode dalam CSV (UTF-8, baris "
                    "pertama adalah nama kolom); tabelnya juga ada di DataStore.", "text/csv"),
        PublishFile(f"{name}.parquet", Path(outputs["parquet"]), "Parquet", "Seluruh periode dalam Apache "
                    "Parquet, dengan tipe kolom dan deskripsi kolom.", "application/vnd.apache.parquet"),
        PublishFile("datapackage.json", Path(outputs["datapackage"]), "JSON", "Kamus data (nama, tipe, "
                    "deskripsi dan satuan setiap kolom) sebagai Frictionless Data Package.", "application/json"),
    ]
    if outputs.get("report_html"):
        files += [
            PublishFile("laporan-validasi.html", Path(outputs["report_html"]), "HTML", "Laporan validasi mutu "
                        "data dari proses yang menerbitkan versi ini.", "text/html", describes_run=True),
            PublishFile("laporan-validasi.json", Path(outputs["report_json"]), "JSON", "Laporan validasi mutu "
                        "data (JSON, setiap pemeriksaan dan hasilnya).", "application/json", describes_run=True),
        ]
    if outputs.get("chart"):
        files.append(PublishFile(Path(outputs["chart"]).name, Path(outputs["chart"]), "PNG",
                                 "Grafik ukuran utama per periode.", "image/png"))
    return files


def _utc_iso(path: Path) -> str:
    from datetime import UTC, datetime

    stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC) if path.exists() else datetime.now(UTC)
    return stamp.isoformat(timespec="seconds")


def publish(entry: DatasetEntry, period: Period, outputs: dict[str, str], run_id: str,
            dag_id: str, ckan_conn_id: str | None = None) -> dict[str, Any]:
    """Publish the written files, load the DataStore and make the new version public."""
    from ckan_hook import CkanHook

    from satudata.datastore import datastore_write_dsn, sync_datastore
    from satudata.metadata import dataset_extras
    from satudata.publish import publish_dataset
    from transforms.tables import read_parquet

    hook = CkanHook(ckan_conn_id or settings.ckan_conn_id())
    provenance = {
        "source_system": entry.source.system,
        "data_interval": f"{period.start.isoformat()}/{period.end.isoformat()}",
        "airflow_dag_id": dag_id,
        "airflow_run_id": run_id,
        "pipeline_version": __version__,
        "row_count": outputs["rows"],
    }
    outcome = {
        "satudata_last_run_id": run_id,
        "satudata_last_run_status": "published",
        "satudata_quality_status": "passed",
        "satudata_last_validated": _utc_iso(Path(outputs.get("report_json", ""))),
    }

    def load_datastore(client, resource: dict) -> dict:
        history = read_parquet(Path(outputs["parquet"]))
        period_rows = read_parquet(Path(outputs["curated"]))
        return sync_datastore(client, resource, entry, period_rows, history, _period_filters(entry, period),
                              write_dsn=datastore_write_dsn(settings.datastore_write_conn_id()))

    result = publish_dataset(
        hook.get_conn(), hook.portal_url, entry, publish_files(entry, outputs),
        dataset_extras(entry, outputs["first_period"], outputs["last_period"]), provenance,
        outcome=outcome, datastore=load_datastore, datastore_resource=f"{entry.ckan.name}.csv",
        max_bytes=hook.max_resource_bytes,
    )
    log.info(
        "published %s to %s: %d bytes uploaded, resources %s",
        entry.id, result.dataset_url, result.bytes_uploaded,
        {k: v["action"] for k, v in result.resources.items()},
    )
    record(entry, period, status="published", dataset_url=result.dataset_url,
           bytes_uploaded=result.bytes_uploaded, version=result.version, changed=result.changed)
    return {**asdict(result), "rows": int(outputs["rows"]), "changed": result.changed,
            "bytes_uploaded": result.bytes_uploaded}


def record_failure(entry: DatasetEntry, period: Period, run_id: str,
                   ckan_conn_id: str | None = None) -> dict[str, str]:
    """After a failed run: show its outcome in the dataset's extras; data and resources stay."""
    from ckan_hook import CkanHook

    from satudata.publish import record_outcome

    path = run_record_path(entry, period)
    facts = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    this_run = facts.get("run_id") == run_id
    blocked = this_run and facts.get("status") == "blocked"
    outcome = {
        "satudata_last_run_id": run_id,
        "satudata_last_run_status": "blocked" if blocked else "failed",
    }
    if blocked:
        outcome["satudata_quality_status"] = "failed"
        outcome["satudata_last_validated"] = _utc_iso(Path(facts.get("validation_report", "")))
    hook = CkanHook(ckan_conn_id or settings.ckan_conn_id())
    shown = record_outcome(hook.get_conn(), entry, outcome)
    record(entry, period, outcome_on_portal=shown)
    return outcome
