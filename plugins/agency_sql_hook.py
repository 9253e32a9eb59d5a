"""Airflow hook that reads an agency's SQL database (SQLite, PostgreSQL or MariaDB/MySQL).

The connection decides the database; ``get_conn`` gives the SQLAlchemy engine the core's SQL
reader (``satudata.extract.sql``) runs the catalog's query on, with bind parameters (never
string formatting) and a server-side cursor.

TLS comes from the connection's extras, with the names Airflow's own providers use:
PostgreSQL takes libpq's ``sslmode``, ``sslrootcert``, ``sslcert``, ``sslkey`` and ``sslcrl``;
MariaDB/MySQL takes ``ssl`` (an object, or its JSON text, with ``ca``, ``cert``, ``key``,
``verify_cert`` and ``verify_identity``) or the same keys as flat ``ssl_ca`` ... extras. A misspelt
TLS extra is an error rather than a silently unencrypted connection. Every connection has a
connect timeout (extra ``connect_timeout``, seconds; 30 by default).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import date
from typing import Any

from airflow.sdk.bases.hook import BaseHook

_DRIVERS = {
    "postgres": "postgresql+psycopg2",
    "postgresql": "postgresql+psycopg2",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}

CONNECT_TIMEOUT_S = 30
_PG_TLS = ("sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl")
_PG_SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")
# PyMySQL's keyword for each key of the ``ssl`` extra (and of the flat ``ssl_<key>`` extras).
_MYSQL_TLS = {"ca": "ssl_ca", "cert": "ssl_cert", "key": "ssl_key", "verify_cert": "ssl_verify_cert",
              "verify_identity": "ssl_verify_identity", "disabled": "ssl_disabled"}


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _unknown_tls(conn_id: str, extras: Mapping[str, Any], known: tuple[str, ...]) -> None:
    unknown = sorted(k for k in extras if k.lower().startswith("ssl") and k not in known)
    if unknown:
        raise ValueError(f"connection {conn_id!r}: unknown TLS extra(s) {unknown}; known: {sorted(known)}")


def postgres_tls(conn_id: str, extras: Mapping[str, Any]) -> dict[str, str]:
    """libpq TLS parameters from a PostgreSQL connection's extras."""
    _unknown_tls(conn_id, extras, _PG_TLS)
    params = {k: str(extras[k]) for k in _PG_TLS if extras.get(k) not in (None, "")}
    if "sslmode" in params and params["sslmode"] not in _PG_SSLMODES:
        raise ValueError(f"connection {conn_id!r}: sslmode must be one of {list(_PG_SSLMODES)}")
    return params


def mysql_tls(conn_id: str, extras: Mapping[str, Any]) -> dict[str, Any]:
    """PyMySQL TLS keywords from a MariaDB/MySQL connection's extras."""
    flat = tuple(_MYSQL_TLS.values())
    _unknown_tls(conn_id, extras, ("ssl", *flat))
    nested = extras.get("ssl") or {}
    if isinstance(nested, str):
        try:
            nested = json.loads(nested)
        except ValueError:
            raise ValueError(f"connection {conn_id!r}: extra 'ssl' is not a JSON object") from None
    if not isinstance(nested, dict) or set(nested) - set(_MYSQL_TLS):
        raise ValueError(f"connection {conn_id!r}: extra 'ssl' takes the keys {sorted(_MYSQL_TLS)}")
    args: dict[str, Any] = {}
    for key, keyword in _MYSQL_TLS.items():
        value = extras.get(keyword, nested.get(key))
        if value in (None, ""):
            continue
        args[keyword] = _flag(value) if key in ("verify_cert", "verify_identity", "disabled") else str(value)
    return args


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
        else:
            query.update(postgres_tls(self.sql_conn_id, conn.extra_dejson))
        return sa.URL.create(
            driver,
            username=conn.login or None,
            password=conn.password or None,
            host=conn.host or None,
            port=conn.port or None,
            database=conn.schema or None,
            query=query,
        )

    def connect_args(self) -> dict[str, Any]:
        """The driver's keyword arguments: connect timeout and, for MariaDB/MySQL, TLS."""
        conn = self.get_connection(self.sql_conn_id)
        if conn.conn_type == "sqlite":
            return {}
        extras = conn.extra_dejson
        timeout = int(extras.get("connect_timeout", CONNECT_TIMEOUT_S))
        if _DRIVERS.get(conn.conn_type, "").startswith("mysql"):
            return {"connect_timeout": timeout, **mysql_tls(self.sql_conn_id, extras)}
        return {"connect_timeout": timeout}

    def get_conn(self) -> Any:
        """A SQLAlchemy engine for the source database."""
        import sqlalchemy as sa

        return sa.create_engine(self.sqlalchemy_url(), connect_args=self.connect_args(), pool_pre_ping=True)

    def read_interval(self, query: str, start: date, end: date, chunk_rows: int = 50_000) -> Iterator[Any]:
        """Yield DataFrames of ``query`` for ``start <= t < end``, ``chunk_rows`` at a time."""
        from satudata.extract.sql import read_sql_chunks

        engine = self.get_conn()
        try:
            yield from read_sql_chunks(engine, query, {"start": start, "end": end}, chunk_rows)
        finally:
            engine.dispose()
