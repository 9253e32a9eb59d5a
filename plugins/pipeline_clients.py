"""The clients each pipeline stage takes, built from Airflow connections (the DAG tasks' side of the seam).

The core (``satudata``) never reads an Airflow connection: a DAG task calls these and hands the
result to the step it runs.
"""

from __future__ import annotations

from typing import Any

from satudata import settings
from satudata.catalog import DatasetEntry


def source_client(entry: DatasetEntry) -> Any:
    """What the entry's source kind reads from: an SQL engine, an agency API client, or export files."""
    source = entry.source
    if source.kind == "sql":
        from agency_sql_hook import AgencySqlHook

        return AgencySqlHook(source.conn_id).get_conn()
    if source.conn_id:
        from agency_api_hook import AgencyApiHook

        return AgencyApiHook(source.conn_id).get_conn()
    from satudata.extract.files import LandingFolder

    return LandingFolder(settings.landing_dir())


def close(client: Any) -> None:
    """Release what ``source_client`` opened (the engine's pool, the HTTP session)."""
    if hasattr(client, "dispose"):
        client.dispose()
    elif hasattr(client, "session"):
        client.session.close()


def portal(conn_id: str | None = None) -> Any:
    """The CKAN portal of the connection (``SATUDATA_CKAN_CONN_ID``, default ``ckan_default``)."""
    from ckan_hook import CkanHook

    return CkanHook(conn_id or settings.ckan_conn_id()).get_portal()


def datastore_write_dsn(conn_id: str | None = None) -> str | None:
    """libpq DSN of the optional connection to the DataStore's write database, or None.

    When it exists, the DataStore table loads by COPY instead of through the API. Its extras
    take libpq's TLS settings (``sslmode``, ``sslrootcert``, ...), as a source connection does.
    """
    from agency_sql_hook import CONNECT_TIMEOUT_S, postgres_tls
    from airflow.sdk.bases.hook import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException
    from psycopg2.extensions import make_dsn

    try:
        conn = BaseHook.get_connection(conn_id or settings.datastore_write_conn_id())
    except AirflowNotFoundException:
        return None
    extras = conn.extra_dejson
    return str(make_dsn(host=conn.host or "127.0.0.1", port=conn.port or 5432, dbname=conn.schema,
                        user=conn.login, password=conn.password or None,
                        connect_timeout=int(extras.get("connect_timeout", CONNECT_TIMEOUT_S)),
                        **postgres_tls(conn.conn_id, extras)))
