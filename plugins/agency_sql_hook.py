"""Airflow hook that reads an agency's SQL database (SQLite, PostgreSQL or MariaDB/MySQL).

The connection decides the database; ``get_conn`` gives the SQLAlchemy engine the core's SQL
reader (``satudata.extract.sql``) runs the catalog's query on, with bind parameters (never
string formatting) and a server-side cursor.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from airflow.sdk.bases.hook import BaseHook

_DRIVERS = {
    "postgres": "postgresql+psycopg2",
    "postgresql": "postgresql+psycopg2",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}


class AgencySqlHook(BaseHook):
    """Read rows of an agency database named by an Airflow connection."""

    conn_name_attr = "sql_conn_id"
    default_conn_name = "agency_sql_default"
    hook_name = "Agency SQL database"

    def __init__(self, sql_conn_id: str = default_conn_name) -> None:
        super().__init__()
        self.sql_conn_id = sql_conn_id

    def sqlalchemy_url(self) -> Any:
        import sqlalchemy as sa

        conn = self.get_connection(self.sql_conn_id)
        if conn.conn_type == "sqlite":
            path = conn.host or conn.schema
            if not path:
                raise ValueError(f"connection {self.sql_conn_id!r}: a sqlite connection needs the file path")
            return sa.URL.create("sqlite", database=path)
        driver = _DRIVERS.get(conn.conn_type)
        if driver is None:
            raise ValueError(
                f"connection {self.sql_conn_id!r} has type {conn.conn_type!r}; "
                f"supported: sqlite, {', '.join(sorted(_DRIVERS))}"
            )
        query: dict[str, Any] = {}
        if driver.startswith("mysql"):
            query["charset"] = "utf8mb4"
        return sa.URL.create(
            driver,
            username=conn.login or None,
            password=conn.password or None,
            host=conn.host or None,
            port=conn.port or None,
            database=conn.schema or None,
            query=query,
        )

    def get_conn(self) -> Any:
        """A SQLAlchemy engine for the source database."""
        import sqlalchemy as sa

        return sa.create_engine(self.sqlalchemy_url(), pool_pre_ping=True)

    def read_interval(self, query: str, start: date, end: date, chunk_rows: int = 50_000) -> Iterator[Any]:
        """Yield DataFrames of ``query`` for ``start <= t < end``, ``chunk_rows`` at a time."""
        from satudata.extract.sql import read_sql_chunks

        engine = self.get_conn()
        try:
            yield from read_sql_chunks(engine, query, {"start": start, "end": end}, chunk_rows)
        finally:
            engine.dispose()
