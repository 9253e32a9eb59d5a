"""Load a dataset's rows into the CKAN DataStore table of its CSV resource.

The table's column types and primary key come from the catalog schema (never guessed from
the data); the fields' ``info`` carries each column's description and unit, which CKAN shows
as the resource's data dictionary. Rows are upserted by primary key, so a repeated load of a
period replaces that period's rows instead of appending them.

When the deployment grants the DataStore's write database (``write_dsn``), the table is still
created through ``datastore_create`` (CKAN keeps its metadata, types, key and dictionary) but the
rows load with PostgreSQL ``COPY`` in one transaction, as ckanext-xloader does; the table's own
``zfulltext`` trigger fills ``_full_text``.
"""

from __future__ import annotations

import csv
import io
import logging
from typing import Any

import pandas as pd

from satudata.catalog import DatasetEntry

log = logging.getLogger(__name__)

DATASTORE_TYPES = {"string": "text", "int64": "int8", "float64": "float8", "date": "date", "bool": "bool"}
# DataStore reads are capped at 32,000 rows per call.
READ_LIMIT = 32000
# 10,000 rows of ten columns are ~1-2 MB of JSON a call: few requests for a large table, yet
# well under the body limits that proxies in front of CKAN commonly set (10 MB and more).
UPSERT_CHUNK_ROWS = 10000


def datastore_fields(entry: DatasetEntry) -> list[dict[str, Any]]:
    """DataStore field definitions with the data dictionary in ``info``."""
    fields = []
    for c in entry.table.columns:
        notes = c.description + (f" (satuan: {c.unit})" if c.unit else "")
        info = {"label": c.name, "notes": notes, "unit": c.unit or ""}
        fields.append({"id": c.name, "type": DATASTORE_TYPES[c.type], "info": info})
    return fields


def to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: missing values as null, dates as ISO strings, numbers as numbers."""
    out = []
    for row in frame.astype(object).where(frame.notna(), None).to_dict("records"):
        clean = {}
        for key, value in row.items():
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            elif hasattr(value, "item"):
                value = value.item()
            clean[key] = value
        out.append(clean)
    return out


def _has_table(client, resource_id: str) -> bool:
    from ckanapi import NotFound

    try:
        client.call_action("datastore_search", {"resource_id": resource_id, "limit": 0})
        return True
    except NotFound:
        return False


def _delete_stale(client, resource_id: str, entry: DatasetEntry, period_filters: dict[str, Any],
                  frame: pd.DataFrame) -> int:
    """Delete the period's rows that the new version no longer has (upsert alone keeps them)."""
    key = list(entry.table.primary_key)
    found = client.call_action(
        "datastore_search",
        {"resource_id": resource_id, "filters": period_filters, "fields": key, "limit": READ_LIMIT},
    )["records"]
    wanted = {tuple(str(v) for v in r) for r in frame[key].astype(object).itertuples(index=False, name=None)}
    stale = [r for r in found if tuple(str(r[k]) for k in key) not in wanted]
    for row in stale:
        client.call_action("datastore_delete",
                           {"resource_id": resource_id, "filters": {k: row[k] for k in key}, "force": True})
    return len(stale)


def datastore_write_dsn(conn_id: str) -> str | None:
    """libpq DSN of the optional Airflow connection to the DataStore write database, or None."""
    from airflow.sdk.bases.hook import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException
    from psycopg2.extensions import make_dsn

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    return make_dsn(host=conn.host or "127.0.0.1", port=conn.port or 5432, dbname=conn.schema,
                    user=conn.login, password=conn.password or None)


def ensure_datatables_view(client, resource: dict) -> bool:
    """Give the resource its table preview; CKAN adds none when the table comes after the upload."""
    views = client.call_action("resource_view_list", {"id": resource["id"]})
    if any(v.get("view_type") == "datatables_view" for v in views):
        return False
    # CKAN decides from the resource's datastore_active flag: send the current resource.
    current = client.call_action("resource_show", {"id": resource["id"]})
    client.call_action("resource_create_default_resource_views",
                       {"resource": current, "create_datastore_views": True})
    return True


def _copy_text(frame: pd.DataFrame, columns: list[str]) -> io.StringIO:
    """The rows as CSV for COPY; a missing value is an empty unquoted field, which COPY reads as NULL."""
    buf = io.StringIO()
    frame[columns].to_csv(buf, index=False, header=False, na_rep="", quoting=csv.QUOTE_MINIMAL,
                          date_format="%Y-%m-%d", lineterminator="\n")
    buf.seek(0)
    return buf


def _copy_rows(write_dsn: str, resource_id: str, entry: DatasetEntry, rows: pd.DataFrame,
               period_filters: dict[str, Any] | None, new_table: bool) -> int:
    """Load rows with COPY in one transaction; same result as the upsert path. Returns rows deleted."""
    import psycopg2
    from psycopg2 import sql

    columns = [c.name for c in entry.table.columns]
    key = list(entry.table.primary_key)
    table = sql.Identifier(resource_id)
    cols = sql.SQL(", ").join(map(sql.Identifier, columns))
    copy = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)")
    deleted = 0
    conn = psycopg2.connect(write_dsn)
    try:
        with conn, conn.cursor() as cur:
            if new_table:
                # An empty table just made by datastore_create: COPY straight in.
                cur.copy_expert(copy.format(table, cols).as_string(cur), _copy_text(rows, columns))
            else:
                # Stage, then replace: the period's rows (stale ones too) and any row whose key
                # comes back, exactly what upsert + delete-stale leaves through the API.
                stage = sql.Identifier(f"satudata_stage_{resource_id}"[:63])
                cur.execute(sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA")
                            .format(stage, cols, table))
                cur.copy_expert(copy.format(stage, cols).as_string(cur), _copy_text(rows, columns))
                keys = sql.SQL(", ").join(map(sql.Identifier, key))
                match = sql.SQL("({}) IN (SELECT {} FROM {})").format(keys, keys, stage)
                if period_filters:
                    period = sql.SQL(" AND ").join(
                        sql.SQL("{} = %s").format(sql.Identifier(k)) for k in period_filters)
                    cur.execute(sql.SQL("DELETE FROM {} WHERE ({}) AND NOT {}").format(table, period, match),
                                list(period_filters.values()))
                    deleted = cur.rowcount
                cur.execute(sql.SQL("DELETE FROM {} WHERE {}").format(table, match))
                cur.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(table, cols, cols, stage))
            # datastore_search's total and the planner read the statistics: refresh them.
            cur.execute(sql.SQL("ANALYZE {}").format(table))
    finally:
        conn.close()
    return deleted


def sync_datastore(client, resource: dict, entry: DatasetEntry, period_rows: pd.DataFrame,
                   history: pd.DataFrame, period_filters: dict[str, Any] | None,
                   write_dsn: str | None = None) -> dict[str, Any]:
    """Create the table when missing (and load the full history), else upsert the period's rows.

    With ``write_dsn`` (the DataStore write database) the rows load by COPY, else through the API.
    """
    resource_id = resource["id"]
    new_table = not _has_table(client, resource_id)
    # Without records, datastore_create on an existing table only updates fields and their info.
    client.call_action("datastore_create", {
        "resource_id": resource_id,
        "force": True,
        "fields": datastore_fields(entry),
        "primary_key": list(entry.table.primary_key),
    })
    rows = history if new_table or period_filters is None else period_rows
    if write_dsn:
        deleted = _copy_rows(write_dsn, resource_id, entry, rows, period_filters, new_table)
        view_created = ensure_datatables_view(client, resource)
        log.info("DataStore of %s: %s by COPY, %d rows loaded, %d stale rows deleted",
                 resource_id, "table created" if new_table else "table updated", len(rows), deleted)
        return {"table_created": new_table, "rows_upserted": len(rows), "rows_deleted": deleted,
                "view_created": view_created, "path": "copy"}
    # A new table is empty: plain inserts (one multi-row statement each) are correct and far
    # cheaper than upsert, which CKAN runs as one UPDATE-then-INSERT per record.
    method = "insert" if new_table else "upsert"
    for start in range(0, len(rows), UPSERT_CHUNK_ROWS):
        client.call_action("datastore_upsert", {
            "resource_id": resource_id,
            "force": True,
            "method": method,
            "records": to_records(rows.iloc[start:start + UPSERT_CHUNK_ROWS]),
        })
    deleted = 0
    if not new_table and period_filters is not None:
        deleted = _delete_stale(client, resource_id, entry, period_filters, period_rows)
    view_created = ensure_datatables_view(client, resource)
    log.info("DataStore of %s: %s, %d rows upserted, %d stale rows deleted",
             resource_id, "table created" if new_table else "table updated", len(rows), deleted)
    return {"table_created": new_table, "rows_upserted": len(rows), "rows_deleted": deleted,
            "view_created": view_created, "path": "api"}
