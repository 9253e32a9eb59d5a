"""Extraction: read a source for one data interval and archive the raw rows unchanged."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa

log = logging.getLogger(__name__)


def read_sql_chunks(engine: sa.Engine, query: str, params: dict[str, Any], chunk_rows: int) -> Iterator[pd.DataFrame]:
    """Run ``query`` with bind ``params`` and yield the rows in chunks (server-side cursor)."""
    with engine.connect() as conn:
        conn = conn.execution_options(stream_results=True, max_row_buffer=chunk_rows)
        yield from pd.read_sql_query(sa.text(query), conn, params=params, chunksize=chunk_rows)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def archive_chunks(chunks: Iterable[pd.DataFrame], raw_dir: Path, manifest: dict[str, Any]) -> Path:
    """Store the extracted rows as a new raw Parquet file with a manifest; never overwrites.

    Returns the path of the raw file. The manifest (same name, ``.json``) records source,
    interval, row count and the file's sha256.
    """
    raw_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    path = raw_dir / f"extract-{stamp}.parquet"
    tmp = path.with_suffix(".parquet.tmp")
    writer = None
    rows = 0
    schema = None
    try:
        for chunk in chunks:
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:
                schema = table.schema
                writer = pq.ParquetWriter(tmp, schema, compression="zstd")
            writer.write_table(table.cast(schema))
            rows += len(chunk)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        # No rows and hence no schema from the database: an empty file still records the run.
        pq.write_table(pa.table({}), tmp)
    tmp.rename(path)
    manifest = {**manifest, "rows": rows, "file": path.name, "sha256": sha256_of(path),
                "extracted_at": stamp}
    path.with_suffix(".json").write_text(json.dumps(manifest, indent=2, default=str), encoding="utf-8")
    log.info("archived %d raw rows from %s to %s (sha256 %s)", rows, manifest.get("source"), path,
             manifest["sha256"][:12])
    return path
