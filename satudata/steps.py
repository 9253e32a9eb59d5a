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
    return settings.data_dir() / zone / entry.id


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
    """Read the source rows of ``period`` and archive them unchanged in the raw zone."""
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


def transform(entry: DatasetEntry, period: Period, raw_path: str) -> str:
    """Apply the catalog's transform and conform the result to the declared schema."""
    import pyarrow.parquet as pq

    from transforms import get_transform
    from transforms.tables import conform, write_parquet

    raw = pq.read_table(raw_path).to_pandas()
    frame = conform(get_transform(entry.transform)(raw), entry.table.columns, source=raw_path)
    staged = _zone("staging", entry) / period.key / "transformed.parquet"
    write_parquet(frame, entry.table.columns, staged)
    log.info("%s %s: %d source rows -> %d output rows", entry.id, period.key, len(raw), len(frame))
    record(entry, period, rows=len(frame), status="transformed")
    return str(staged)


def validate(entry: DatasetEntry, period: Period, staged_path: str, run_id: str) -> dict[str, str]:
    """Run the publication gate (suite, small-cell suppression, personal-data scan) and keep its report.

    Returns the paths of the JSON and HTML reports and of the frame that may be published;
    raises ValidationFailed (PersonalDataFound for personal data) after writing the report.
    """
    from satudata.gate import run_gate
    from transforms.tables import read_parquet, write_parquet

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
    write_parquet(gate.publishable, entry.table.columns, publishable)
    return {**paths, "publishable": str(publishable),
            "suppression_note": report.suppression.get("note", "")}


def write_outputs(entry: DatasetEntry, period: Period, staged_path: str) -> dict[str, str]:
    """Store the validated period and rebuild the full-history Parquet and CSV from all periods."""
    import pandas as pd

    from transforms.tables import read_parquet, write_csv, write_parquet

    columns = entry.table.columns
    curated = _zone("curated", entry) / f"{period.key}.parquet"
    write_parquet(read_parquet(Path(staged_path)), columns, curated)
    frames = [read_parquet(p) for p in sorted(curated.parent.glob("*.parquet"))]
    history = pd.concat(frames, ignore_index=True).sort_values(entry.table.primary_key, ignore_index=True)
    out_dir = _zone("published", entry)
    meta = {"dataset": entry.id, "primary_key": entry.table.primary_key, "pipeline_version": __version__}
    parquet = write_parquet(history, columns, out_dir / f"{entry.ckan.name}.parquet", table_meta=meta)
    csv = write_csv(history, out_dir / f"{entry.ckan.name}.csv")
    periods = sorted(p.stem for p in curated.parent.glob("*.parquet"))
    log.info("%s: %d rows over %d period(s) written to %s", entry.id, len(history), len(periods), out_dir)
    record(entry, period, published_rows=len(history), status="written")
    return {
        "csv": str(csv),
        "parquet": str(parquet),
        "rows": str(len(history)),
        "first_period": periods[0],
        "last_period": periods[-1],
    }


def publish(entry: DatasetEntry, period: Period, outputs: dict[str, str], run_id: str,
            dag_id: str, ckan_conn_id: str | None = None) -> dict[str, Any]:
    """Publish the written files to the portal of the CKAN connection."""
    from ckan_hook import CkanHook

    from satudata.publish import PublishFile, publish_dataset

    hook = CkanHook(ckan_conn_id or settings.ckan_conn_id())
    name = entry.ckan.name
    files = [
        PublishFile(
            name=f"{name}.csv",
            path=Path(outputs["csv"]),
            format="CSV",
            mimetype="text/csv",
            description="Seluruh periode dalam CSV (UTF-8, baris pertama adalah nama kolom).",
        ),
        PublishFile(
            name=f"{name}.parquet",
            path=Path(outputs["parquet"]),
            format="Parquet",
            mimetype="application/vnd.apache.parquet",
            description="Seluruh periode dalam Apache Parquet, dengan tipe kolom dan deskripsi kolom.",
        ),
    ]
    extras = {"periode_data": f"{outputs['first_period']} s.d. {outputs['last_period']}"}
    provenance = {
        "source_system": entry.source.system,
        "data_interval": f"{period.start.isoformat()}/{period.end.isoformat()}",
        "airflow_dag_id": dag_id,
        "airflow_run_id": run_id,
        "pipeline_version": __version__,
        "row_count": outputs["rows"],
    }
    result = publish_dataset(hook.get_conn(), hook.portal_url, entry, files, extras, provenance)
    log.info(
        "published %s to %s: %d bytes uploaded, resources %s",
        entry.id, result.dataset_url, result.bytes_uploaded,
        {k: v["action"] for k, v in result.resources.items()},
    )
    record(entry, period, status="published", dataset_url=result.dataset_url,
           bytes_uploaded=result.bytes_uploaded)
    return asdict(result)
