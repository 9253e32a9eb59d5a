"""The SQL source hook reads the same rows from SQLite, PostgreSQL and MariaDB.

PostgreSQL and MariaDB are the real servers on 127.0.0.1; each test database is created here
and dropped afterwards.
"""

import json
import uuid
from datetime import date

import pandas as pd
import pytest
import sqlalchemy as sa

from devstack.samples.licensing import load_licensing_db
from satudata.catalog import get_entry

OCTOBER = (date(2026, 10, 1), date(2026, 11, 1))


@pytest.fixture(scope="module")
def postgres_db():
    name = f"satudata_src_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine("postgresql+psycopg2://postgres@127.0.0.1:5432/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    engine = sa.create_engine(f"postgresql+psycopg2://postgres@127.0.0.1:5432/{name}")
    load_licensing_db(engine)
    engine.dispose()
    yield {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432, "login": "postgres", "schema": name}
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="module")
def mariadb_db():
    name = f"satudata_src_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    engine = sa.create_engine(f"mysql+pymysql://root@127.0.0.1:3306/{name}")
    load_licensing_db(engine)
    engine.dispose()
    yield {"conn_type": "mysql", "host": "127.0.0.1", "port": 3306, "login": "root", "schema": name}
    with admin.connect() as conn:
        conn.execute(sa.text(f"DROP DATABASE `{name}`"))
    admin.dispose()


def _read(monkeypatch, conn: dict, chunk_rows: int = 50_000) -> pd.DataFrame:
    from agency_sql_hook import AgencySqlHook

    monkeypatch.setenv("AIRFLOW_CONN_LICENSING_UNDER_TEST", json.dumps(conn))
    query = get_entry("dpmptsp_izin_terbit_bulanan").source.query
    chunks = list(AgencySqlHook("licensing_under_test").read_interval(query, *OCTOBER, chunk_rows=chunk_rows))
    frame = pd.concat(chunks, ignore_index=True)
    for column in ("tanggal_pengajuan", "tanggal_terbit"):
        frame[column] = pd.to_datetime(frame[column]).dt.strftime("%Y-%m-%d")
    frame["standar_hari"] = frame["standar_hari"].astype("int64")
    return frame


@pytest.fixture(scope="module")
def sqlite_frame(sample_sqlite):
    mp = pytest.MonkeyPatch()
    try:
        yield _read(mp, {"conn_type": "sqlite", "host": str(sample_sqlite)})
    finally:
        mp.undo()


def test_sqlite_reads_only_the_interval(sqlite_frame):
    assert len(sqlite_frame) > 500
    assert sqlite_frame["tanggal_terbit"].min() >= "2026-10-01"
    assert sqlite_frame["tanggal_terbit"].max() <= "2026-10-31"
    assert "nik_pemohon" not in sqlite_frame.columns


def test_postgres_gives_the_same_rows(monkeypatch, postgres_db, sqlite_frame):
    pd.testing.assert_frame_equal(_read(monkeypatch, postgres_db), sqlite_frame)


def test_mariadb_gives_the_same_rows(monkeypatch, mariadb_db, sqlite_frame):
    pd.testing.assert_frame_equal(_read(monkeypatch, mariadb_db), sqlite_frame)


def test_reading_in_small_chunks_streams_the_same_rows(monkeypatch, postgres_db, sqlite_frame):
    from agency_sql_hook import AgencySqlHook

    monkeypatch.setenv("AIRFLOW_CONN_LICENSING_UNDER_TEST", json.dumps(postgres_db))
    query = get_entry("dpmptsp_izin_terbit_bulanan").source.query
    sizes = [len(c) for c in AgencySqlHook("licensing_under_test").read_interval(query, *OCTOBER, chunk_rows=100)]
    assert max(sizes) == 100 and len(sizes) == -(-len(sqlite_frame) // 100)


def test_bind_parameters_are_not_interpolated(monkeypatch, sample_sqlite):
    from agency_sql_hook import AgencySqlHook

    monkeypatch.setenv("AIRFLOW_CONN_LICENSING_UNDER_TEST",
                       json.dumps({"conn_type": "sqlite", "host": str(sample_sqlite)}))
    query = "SELECT count(*) AS n FROM permohonan_izin WHERE tanggal_terbit >= :start AND tanggal_terbit < :end"
    hostile = "9999' OR '1'='1"  # interpolated, this would match every row
    frames = list(AgencySqlHook("licensing_under_test").read_interval(query, hostile, "99999"))
    assert frames[0]["n"].iloc[0] == 0


def test_unsupported_connection_type_is_explained(monkeypatch):
    from agency_sql_hook import AgencySqlHook

    monkeypatch.setenv("AIRFLOW_CONN_LICENSING_UNDER_TEST", json.dumps({"conn_type": "oracle", "host": "x"}))
    with pytest.raises(ValueError, match="has type 'oracle'; supported: sqlite"):
        AgencySqlHook("licensing_under_test").sqlalchemy_url()
