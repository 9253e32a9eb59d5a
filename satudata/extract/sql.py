"""SQL sources: one parameterised query bounded by the run's interval, streamed in chunks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pandas as pd
import sqlalchemy as sa

from satudata.extract.archive import archive_chunks
from satudata.extract.staging import Extracted, SourceError, stage_file

if TYPE_CHECKING:
    from satudata.run import RunContext

# Rows fetched per round trip of the server-side cursor; memory follows the chunk, not the period.
CHUNK_ROWS = 50_000


def read_sql_chunks(engine: sa.Engine, query: str, params: dict[str, Any], chunk_rows: int = CHUNK_ROWS,
                    ) -> Iterator[pd.DataFrame]:
    """Run ``query`` with bind ``params`` and yield the rows in chunks (server-side cursor)."""
    with engine.connect() as conn:
        conn = conn.execution_options(stream_results=True, max_row_buffer=chunk_rows)
        yield from pd.read_sql_query(sa.text(query), conn, params=params, chunksize=chunk_rows)


def read_interval(engine: sa.Engine, query: str, run: RunContext, chunk_rows: int = CHUNK_ROWS,
                  ) -> Iterator[pd.DataFrame]:
    """The query's rows for the run's period (``:start`` inclusive, ``:end`` exclusive), in chunks."""
    return read_sql_chunks(engine, query, {"start": run.period.start, "end": run.period.end}, chunk_rows)


def _declared(chunks: Iterator[pd.DataFrame], run: RunContext) -> Iterator[pd.DataFrame]:
    """The chunks, after checking that the query returns every declared field."""
    declared = [f.name for f in run.entry.source.fields]
    for chunk in chunks:
        missing = [name for name in declared if name not in chunk.columns]
        if missing:
            raise SourceError(f"{run.label}: source {run.entry.source.system!r}: the query returns no column(s) "
                              f"{missing}; it returns {list(chunk.columns)}")
        yield chunk


def extract_sql(run: RunContext, engine: sa.Engine) -> Extracted:
    """Archive the period's rows as returned by the database, then stage them for the transform."""
    source = run.entry.source
    assert source.kind == "sql"
    manifest = {
        "dataset": run.entry.id,
        "source": source.system,
        "conn_id": source.conn_id,
        "interval_start": run.period.start.isoformat(),
        "interval_end": run.period.end.isoformat(),
        "run_id": run.run_id,
    }
    chunks = _declared(read_interval(engine, source.query, run), run)
    raw, rows = archive_chunks(chunks, run.owner_only_dir("raw"), manifest)
    # The rows are stored as the database typed them; staging shares the file instead of copying it.
    return Extracted(stage_file(run, raw), rows, raw.with_suffix(".json"))
