"""Source database connections honour the TLS settings in the Airflow connection's extras.

PostgreSQL: a private server started here with TLS on (its own throwaway CA), so the test sees a
verified, encrypted session and a refused one. MariaDB: the machine's server has TLS disabled,
so a connection whose extras ask for TLS must fail instead of silently going unencrypted.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
import sqlalchemy as sa

PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)), None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _make_ca(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.key", folder / f"{name}.crt"
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", f"/CN={name}",
             "-keyout", str(key), "-out", str(cert))
    return key, cert


@pytest.fixture(scope="module")
def tls_postgres():
    """A PostgreSQL server on 127.0.0.1 that speaks TLS with a certificate of its own CA."""
    if PG_BIN is None or shutil.which("openssl") is None or shutil.which("runuser") is None or os.geteuid() != 0:
        pytest.skip("needs PostgreSQL's server binaries, openssl, and root to run the server as 'postgres'")
    # Not under pytest's private temp folder: the server runs as 'postgres' and must reach its files.
    root = Path(tempfile.mkdtemp(prefix="satudata-tls-pg-"))
    root.chmod(0o755)
    ca_key, ca_cert = _make_ca(root, "agency-ca")
    server_key, server_csr, server_cert = root / "server.key", root / "server.csr", root / "server.crt"
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", str(server_key),
             "-out", str(server_csr))
    ext = root / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    _openssl("x509", "-req", "-in", str(server_csr), "-CA", str(ca_cert), "-CAkey", str(ca_key),
             "-CAcreateserial", "-days", "2", "-extfile", str(ext), "-out", str(server_cert))
    data = root / "data"
    data.mkdir()
    for path in (data, server_key, server_cert):
        shutil.chown(path, "postgres", "postgres")
    server_key.chmod(0o600)
    as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_postgres, str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres"],
                   check=True, capture_output=True)
    port = _free_port()
    options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={data} -c ssl=on "
               f"-c ssl_cert_file={server_cert} -c ssl_key_file={server_key}")
    subprocess.run([*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data), "-o", options, "-l",
                    str(data / "server.log"), "-w", "start"], check=True, capture_output=True)
    try:
        yield {"port": port, "ca": ca_cert, "other_ca": _make_ca(root, "other-ca")[1]}
    finally:
        subprocess.run([*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       check=False, capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _hook(monkeypatch, conn: dict):
    from agency_sql_hook import AgencySqlHook

    monkeypatch.setenv("AIRFLOW_CONN_SOURCE_UNDER_TEST", json.dumps(conn))
    return AgencySqlHook("source_under_test")


def _session_is_encrypted(hook) -> bool:
    engine = hook.get_conn()
    try:
        with engine.connect() as conn:
            return bool(conn.execute(sa.text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")).scalar())
    finally:
        engine.dispose()


def _pg(tls_postgres, **extra) -> dict:
    return {"conn_type": "postgres", "host": "127.0.0.1", "port": tls_postgres["port"], "login": "postgres",
            "schema": "postgres", "extra": extra}


def test_postgres_verify_full_with_the_agency_ca_is_encrypted(monkeypatch, tls_postgres):
    hook = _hook(monkeypatch, _pg(tls_postgres, sslmode="verify-full", sslrootcert=str(tls_postgres["ca"])))
    assert _session_is_encrypted(hook)


def test_postgres_refuses_a_server_its_root_certificate_does_not_vouch_for(monkeypatch, tls_postgres):
    hook = _hook(monkeypatch, _pg(tls_postgres, sslmode="verify-ca", sslrootcert=str(tls_postgres["other_ca"])))
    with pytest.raises(sa.exc.OperationalError, match="certificate verify failed"):
        _session_is_encrypted(hook)


def test_postgres_sslmode_disable_is_honoured_too(monkeypatch, tls_postgres):
    assert not _session_is_encrypted(_hook(monkeypatch, _pg(tls_postgres, sslmode="disable")))


def test_mariadb_asked_for_tls_never_falls_back_to_plain_text(monkeypatch):
    admin = sa.create_engine("mysql+pymysql://root@127.0.0.1:3306/")
    with admin.connect() as conn:
        have_ssl = conn.execute(sa.text("SHOW VARIABLES LIKE 'have_ssl'")).fetchone()
    admin.dispose()
    if have_ssl is not None and have_ssl[1] == "YES":
        pytest.skip("this MariaDB speaks TLS; the test needs one that does not")
    hook = _hook(monkeypatch, {"conn_type": "mysql", "host": "127.0.0.1", "port": 3306, "login": "root",
                               "extra": {"ssl": {"verify_cert": True}}})
    engine = hook.get_conn()
    try:
        with pytest.raises(sa.exc.OperationalError, match="(?i)ssl"), engine.connect():
            pass
    finally:
        engine.dispose()


def test_datastore_write_connection_takes_the_same_tls_extras(monkeypatch, tls_postgres):
    import psycopg2
    from pipeline_clients import datastore_write_dsn

    conn = _pg(tls_postgres, sslmode="verify-full", sslrootcert=str(tls_postgres["ca"]))
    monkeypatch.setenv("AIRFLOW_CONN_DATASTORE_UNDER_TEST", json.dumps(conn))
    dsn = datastore_write_dsn("datastore_under_test")
    with psycopg2.connect(dsn) as db, db.cursor() as cur:
        cur.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert cur.fetchone() == (True,)
    db.close()
    monkeypatch.setenv("AIRFLOW_CONN_DATASTORE_UNDER_TEST", json.dumps(
        _pg(tls_postgres, sslmode="verify-ca", sslrootcert=str(tls_postgres["other_ca"]))))
    with pytest.raises(psycopg2.OperationalError, match="certificate verify failed"):
        psycopg2.connect(datastore_write_dsn("datastore_under_test"))


def test_misspelt_tls_extra_is_an_error_not_a_plain_connection(monkeypatch):
    hook = _hook(monkeypatch, {"conn_type": "postgres", "host": "127.0.0.1", "extra": {"ssl_mode": "require"}})
    with pytest.raises(ValueError, match=r"unknown TLS extra\(s\) \['ssl_mode'\]"):
        hook.sqlalchemy_url()
    hook = _hook(monkeypatch, {"conn_type": "mysql", "host": "127.0.0.1", "extra": {"ssl": {"capath": "/x"}}})
    with pytest.raises(ValueError, match="extra 'ssl' takes the keys"):
        hook.connect_args()


def test_connections_have_a_connect_timeout(monkeypatch):
    hook = _hook(monkeypatch, {"conn_type": "postgres", "host": "127.0.0.1"})
    assert hook.connect_args() == {"connect_timeout": 30}
    hook = _hook(monkeypatch, {"conn_type": "mysql", "host": "127.0.0.1",
                               "extra": {"connect_timeout": "5", "ssl_ca": "/etc/ca.pem"}})
    assert hook.connect_args() == {"connect_timeout": 5, "ssl_ca": "/etc/ca.pem"}
