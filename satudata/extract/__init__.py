"""Extraction: read one period of a source, archive the raw input unchanged, stage typed rows.

One reader per source kind (``READERS``), each taking the run and the client its kind needs
(an SQL engine, an agency API client, or the export files to read from); the DAG builds the
clients from Airflow connections, the steward CLI from a local file. Every reader leaves the
same thing behind: the raw input in the raw zone and the period's rows as typed Parquet in the
staging zone, or a quarantined input and a SourceError naming file, row and column.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from satudata.extract.staging import Extracted, SourceError, fail_staged

__all__ = ["READERS", "Extracted", "SourceError", "fail_staged", "reader_for"]


def _sql(run: Any, client: Any) -> Extracted:
    from satudata.extract.sql import extract_sql

    return extract_sql(run, client)


def _rest(run: Any, client: Any) -> Extracted:
    from satudata.extract.rest import extract_rest

    return extract_rest(run, client)


def _file(run: Any, client: Any) -> Extracted:
    from satudata.extract.files import extract_file

    return extract_file(run, client)


# Source kind -> reader(run, client) -> Extracted. A new source kind adds its reader here.
READERS: dict[str, Callable[[Any, Any], Extracted]] = {"sql": _sql, "rest": _rest, "file": _file}


def reader_for(kind: str) -> Callable[[Any, Any], Extracted]:
    """The reader of source kind ``kind``."""
    try:
        return READERS[kind]
    except KeyError:
        raise ValueError(f"no reader for source kind {kind!r}; known: {sorted(READERS)}") from None
