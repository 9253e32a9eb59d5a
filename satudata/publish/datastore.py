"""Load a dataset's rows into the CKAN DataStore table of its CSV resource.

The table's column types and primary key come from the catalog schema (never guessed from
the data); the fields' ``info`` carries each column's description and unit, which CKAN shows
as the resource's data dictionary. Rows are upserted by primary key, so a repeated load of a
period replaces that period's rows instead of appending them; the period's rows the new file no
longer has are deleted. Loading one period is right only for a table holding the file's previous
version: the caller says when it does not (``reload``), and the full history then replaces the
table's rows.

When the deployment grants the DataStore's write database (``write_dsn``), the table is still
created through ``datastore_create`` (CKAN keeps its metadata, types, key and dictionary) but the
rows load with PostgreSQL ``COPY`` in one transaction, as ckanext-xloader does; ``_full_text`` is
computed in the same INSERT, to the value CKAN's ``zfulltext`` trigger gives it.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from typing import TYPE_CHECKING, Any

import pandas as pd

from satudata.catalog import DatasetEntry
from satudata.publish import CkanClient, DataStoreLoadError

if TYPE_CHECKING:
    from psycopg2.extensions import cursor
    from psycopg2.sql import Composed

log = logging.getLogger(__name__)


DATASTORE_TYPES = {"string": "text", "int64": "int8", "float64": "float8", "date": "date", "bool": "bool"}
# DataStore reads are capped at 32,000 rows per call.
READ_LIMIT = 32000


def datastore_fields(entry: DatasetEntry) -> list[dict[str, Any]]:
    """DataStore field definitions with the data dictionary in ``info``."""
    fields = []
    for c in entry.table.columns:
        notes = c.description + (f" (satuan: {c.unit})" if c.unit else "")
        info = {"label": c.name, "notes": notes, "unit": c.unit or ""}
        fields.append({"id": c.name, "type": DATASTORE_TYPES[c.type], "info": info})
    return fields


def _json_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    return value


def to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: missing values as null, dates as ISO strings, numbers as numbers."""
    # Column by column: numeric and boolean columns become Python numbers in one call; only
    # the others (text, dates, categories) take one call per cell.
    columns = []
    for name in frame.columns:
        column = frame[name]
        values = column.astype(object).tolist()
        if column.dtype.kind not in "iufb":
            values = [_json_value(v) for v in values]
        missing = column.isna().to_numpy()
        if missing.any():
            values = [None if m else v for v, m in zip(values, missing, strict=True)]
        columns.append(values)
    names = [str(n) for n in frame.columns]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


# What bounds one datastore_upsert call on CKAN 2.12: CKAN sets no body limit of its own (Flask's
# MAX_CONTENT_LENGTH is unset; MAX_FORM_MEMORY_SIZE applies to forms, and ckanapi sends JSON) and
# the DataStore takes any number of records per call. The limits are in front of it: nginx's
# client_max_body_size (1 MB by default, 140 MB in ckan-docker's proxy) and the ckan-base image's
# uwsgi, which kills a request after UWSGI_HARAKIRI = 50 s. So a batch is bounded in bytes
# (settings.datastore_load: request_mb) and in rows (batch_rows: 20,000 rows take
# ~5-10 s as an insert on this project's devstack, far from 50 s and from the client timeout).
def batch_rows(sample: list[dict[str, Any]], max_rows: int, max_bytes: float) -> int:
    """Rows per API call: at most ``max_rows``, and a body under ``max_bytes`` judged from a sample."""
    if not sample:
        return max_rows
    per_row = len(json.dumps(sample)) / len(sample)
    # A margin for rows longer than the sample's and for the request's other fields.
    return max(1, min(max_rows, int(max_bytes * 0.8 / per_row)))


def _has_table(client: CkanClient, resource_id: str) -> bool:
    from ckanapi import NotFound

    try:
        client.call_action("datastore_search", {"resource_id": resource_id, "limit": 0})
        return True
    except NotFound:
        return False


def _delete_stale(client: CkanClient, resource_id: str, entry: DatasetEntry, period_filters: dict[str, Any],
                  frame: pd.DataFrame, page_rows: int = READ_LIMIT) -> int:
    """Delete the period's rows that the new version no longer has (upsert alone keeps them).

    Reads the period's keys a page at a time in ``_id`` order (each page starts after the last
    ``_id`` seen, so deleting never shifts a page) and deletes each page's stale rows by ``_id``
    in one call: any number of rows, one read and at most one delete per page. It stops at an
    empty page, so a portal whose ``ckan.datastore.search.rows_max`` is below ``page_rows``
    (and answers shorter pages) is read to the end too.
    """
    key = list(entry.table.primary_key)
    wanted = {tuple(str(v) for v in r) for r in frame[key].astype(object).itertuples(index=False, name=None)}
    deleted = 0
    last = 0
    while page := client.call_action("datastore_search", {
        "resource_id": resource_id, "filters": {**period_filters, "_id": {"gt": last}},
        "fields": ["_id", *key], "sort": "_id", "limit": page_rows, "include_total": False,
    })["records"]:
        stale = [r["_id"] for r in page if tuple(str(r[k]) for k in key) not in wanted]
        if stale:
            client.call_action("datastore_records_delete",
                               {"resource_id": resource_id, "filters": {"_id": stale}, "force": True})
            deleted += len(stale)
        last = page[-1]["_id"]
    return deleted


def _clear_table(client: CkanClient, resource_id: str) -> None:
    """Delete every row of the table, keeping the table, its fields and its dictionary."""
    client.call_action("datastore_records_delete", {"resource_id": resource_id, "filters": {}, "force": True,
                                                    "calculate_record_count": False})


def ensure_datatables_view(client: CkanClient, resource: dict[str, Any]) -> bool:
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


def _full_text_sql(cur: cursor, table: str, columns: list[str]) -> Composed | None:
    """SQL computing ``_full_text`` exactly as CKAN's ``zfulltext`` trigger does, or None if it cannot.

    The trigger joins, in table order, the JSON text of every column not starting with ``_``
    and runs ``to_tsvector`` on it (NULLs skipped; no value at all gives NULL). Computed in
    the INSERT itself, the value is set, so the trigger returns at once for each row.
    """
    from psycopg2 import sql

    cur.execute("SELECT attname FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 "
                "AND NOT attisdropped ORDER BY attnum", [sql.Identifier(table).as_string(cur)])
    text_columns = [name for (name,) in cur.fetchall() if not name.startswith("_")]
    if set(text_columns) != set(columns):
        # A column the load does not fill would be in the trigger's text: let the trigger work.
        return None
    values = sql.SQL(", ").join(sql.SQL("to_json({})#>>'{{}}'").format(sql.Identifier(c)) for c in text_columns)
    present = sql.SQL(", ").join(map(sql.Identifier, text_columns))
    return sql.SQL("CASE WHEN num_nonnulls({}) > 0 THEN to_tsvector(concat_ws(' ', {})) END").format(present, values)


def _full_text_indexes(cur: cursor, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes on ``_full_text``; none unless this role owns the table."""
    from psycopg2 import sql

    cur.execute("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
                "JOIN pg_class t ON t.oid = i.indrelid "
                "WHERE i.indrelid = %s::regclass AND a.attname = '_full_text' "
                "AND pg_has_role(t.relowner, 'USAGE')",
                [sql.Identifier(table).as_string(cur)])
    indexes: list[tuple[str, str]] = cur.fetchall()
    return indexes


def _copy_rows(write_dsn: str, resource_id: str, entry: DatasetEntry, rows: pd.DataFrame,
               period_filters: dict[str, Any] | None, new_table: bool, replace: bool = False) -> int:
    """Load rows with COPY in one transaction; same result as the upsert path. Returns rows deleted.

    ``replace``: the rows replace every row the table has (in the same transaction, so readers
    see the old table until the new one is complete).
    """
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
            # COPY into a staging table, then one INSERT ... SELECT that computes _full_text in
            # a set-based expression instead of CKAN's per-row PL/pgSQL trigger.
            stage = sql.Identifier(f"satudata_stage_{resource_id}"[:63])
            cur.execute(sql.SQL("CREATE TEMP TABLE {} ON COMMIT DROP AS SELECT {} FROM {} WITH NO DATA")
                        .format(stage, cols, table))
            cur.copy_expert(copy.format(stage, cols).as_string(cur), _copy_text(rows, columns))
            full_text = _full_text_sql(cur, resource_id, columns)
            target, source = cols, cols
            if full_text is not None:
                target = sql.SQL("_full_text, {}").format(cols)
                source = sql.SQL("{}, {}").format(full_text, cols)
            insert = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(table, target, source, stage)
            if replace:
                cur.execute(sql.SQL("DELETE FROM {}").format(table))
                deleted = cur.rowcount
            if new_table or replace:
                # An empty table: its full-text index is built once after the load, which is
                # cheaper than growing it row by row; same name and definition as CKAN made it.
                indexes = _full_text_indexes(cur, resource_id)
                for name, _ in indexes:
                    cur.execute(sql.SQL("DROP INDEX {}").format(sql.SQL(name)))
                cur.execute(insert)
                for _, definition in indexes:
                    cur.execute(definition)
            else:
                # Replace the period's rows (stale ones too) and any row whose key comes back,
                # exactly what upsert + delete-stale leaves through the API.
                keys = sql.SQL(", ").join(map(sql.Identifier, key))
                match = sql.SQL("({}) IN (SELECT {} FROM {})").format(keys, keys, stage)
                if period_filters:
                    period = sql.SQL(" AND ").join(
                        sql.SQL("{} = %s").format(sql.Identifier(k)) for k in period_filters)
                    cur.execute(sql.SQL("DELETE FROM {} WHERE ({}) AND NOT {}").format(table, period, match),
                                list(period_filters.values()))
                    deleted = cur.rowcount
                cur.execute(sql.SQL("DELETE FROM {} WHERE {}").format(table, match))
                cur.execute(insert)
            # datastore_search's total and the planner read the statistics: refresh them.
            cur.execute(sql.SQL("ANALYZE {}").format(table))
            # CKAN 2.12 caches that total in _table_stats and drops it on each of its own writes;
            # so does this load (the next search counts again).
            cur.execute("SELECT to_regclass('_table_stats') IS NOT NULL")
            if (cur.fetchone() or [False])[0]:
                cur.execute("DELETE FROM _table_stats WHERE resource_id = %s", [resource_id])
    finally:
        conn.close()
    return deleted


def _upsert_batch(client: CkanClient, resource_id: str, method: str, records: list[dict[str, Any]],
                  first_row: int) -> None:
    """One datastore_upsert call; an insert repeated after a lost answer is redone as upsert."""
    from ckanapi import ValidationError

    data = {"resource_id": resource_id, "force": True, "method": method, "records": records,
            # One count at the end of the load, not one background job per call.
            "calculate_record_count": False}
    try:
        client.call_action("datastore_upsert", data)
    except ValidationError as exc:
        if method == "insert" and "duplicate key" in str(exc):
            # The transport retried a call whose first attempt had been applied: upsert is idempotent.
            client.call_action("datastore_upsert", {**data, "method": "upsert"})
            return
        raise DataStoreLoadError(f"datastore_upsert of rows {first_row}-{first_row + len(records) - 1} of "
                                 f"{resource_id} refused by the portal (HTTP 409): {exc}") from exc


def _load_by_api(client: CkanClient, resource_id: str, rows: pd.DataFrame, method: str) -> int:
    """Send the rows in batches sized to the request limit, a bounded number in flight; returns calls made."""
    from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait

    from satudata import settings

    if rows.empty:
        return 0
    load = settings.datastore_load()
    size = batch_rows(to_records(rows.iloc[:1000]), load.batch_rows, load.request_mb * 1024 * 1024)
    workers = load.parallel_requests
    calls = 0
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="datastore") as pool:
        pending: set[Future[None]] = set()
        try:
            for start in range(0, len(rows), size):
                # Convert the next batch while the portal works on those in flight.
                records = to_records(rows.iloc[start:start + size])
                if len(pending) >= workers:
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    for future in done:
                        future.result()
                pending.add(pool.submit(_upsert_batch, client, resource_id, method, records, start))
                calls += 1
            for future in pending:
                future.result()
        except BaseException:
            for future in pending:
                future.cancel()
            raise
    # The record count CKAN keeps for datastore_search's total, once for the whole load.
    client.call_action("datastore_upsert", {"resource_id": resource_id, "force": True, "method": method,
                                            "records": [], "calculate_record_count": True})
    return calls


def sync_datastore(client: CkanClient, resource: dict[str, Any], entry: DatasetEntry, period_rows: pd.DataFrame,
                   history: pd.DataFrame, period_filters: dict[str, Any] | None,
                   write_dsn: str | None = None, reload: str | None = None) -> dict[str, Any]:
    """Create the table when missing (and load the full history), else upsert the period's rows.

    The full history replaces every row of an existing table when the period's rows cannot be
    told apart (no ``period_filters``) or when ``reload`` says why the table cannot be trusted
    to hold the file's previous version (an earlier load failed or was interrupted).
    With ``write_dsn`` (the DataStore write database) the rows load by COPY, else through the API.
    Text goes in as the public CSV has it (``spreadsheet_safe``): CKAN serves the table as CSV too.
    """
    from transforms.tables import spreadsheet_safe

    resource_id = resource["id"]
    new_table = not _has_table(client, resource_id)
    # Without records, datastore_create on an existing table only updates fields and their info.
    client.call_action("datastore_create", {
        "resource_id": resource_id,
        "force": True,
        "fields": datastore_fields(entry),
        "primary_key": list(entry.table.primary_key),
    })
    replace = not new_table and (reload is not None or period_filters is None)
    # Only the frame that is loaded is made safe (the history may hold millions of rows).
    rows = spreadsheet_safe(history if new_table or replace else period_rows)
    state = "table created" if new_table else "table replaced" if replace else "table updated"
    held = 0
    if replace:
        held = client.call_action("datastore_search", {"resource_id": resource_id, "limit": 0})["total"]
        log.warning("DataStore of %s: reloading the full history (%d rows replace the table's %d): %s",
                    resource_id, len(history), held,
                    reload or "the period's rows cannot be told apart (no period columns)")
    if write_dsn:
        deleted = _copy_rows(write_dsn, resource_id, entry, rows, period_filters, new_table, replace)
        view_created = ensure_datatables_view(client, resource)
        log.info("DataStore of %s: %s by COPY, %d rows loaded, %d rows deleted",
                 resource_id, state, len(rows), deleted)
        return {"table_created": new_table, "table_replaced": replace, "rows_upserted": len(rows),
                "rows_deleted": deleted, "view_created": view_created, "path": "copy"}
    deleted = 0
    if replace:
        deleted = held
        _clear_table(client, resource_id)
    # An empty table takes plain inserts, which are correct and far cheaper than upsert: CKAN
    # runs that as one INSERT ... ON CONFLICT statement per record.
    method = "insert" if new_table or replace else "upsert"
    calls = _load_by_api(client, resource_id, rows, method)
    if method == "upsert" and period_filters is not None:
        deleted = _delete_stale(client, resource_id, entry, period_filters, rows)
    view_created = ensure_datatables_view(client, resource)
    log.info("DataStore of %s: %s, %d rows sent in %d calls, %d rows deleted",
             resource_id, state, len(rows), calls, deleted)
    return {"table_created": new_table, "table_replaced": replace, "rows_upserted": len(rows),
            "rows_deleted": deleted, "view_created": view_created, "path": "api"}
