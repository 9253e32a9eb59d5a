#!/usr/bin/env python3
"""Local CKAN 2.12 dev portal: install, configure, start, stop (stdlib only).

    python3 devstack/ckanstack.py up     [--instance NAME] [--port N] [--solr-port N] [--with-xloader]
    python3 devstack/ckanstack.py down   [--instance NAME] [--purge]
    python3 devstack/ckanstack.py status [--instance NAME] [--json]

`up` is idempotent.  It ensures the shared CKAN virtualenv (.devstack/ckan-venv,
pinned by devstack/ckan-requirements.lock), checks PostgreSQL and Redis (starting
them when installed but stopped), creates the instance's roles and databases,
writes .devstack/<instance>/ckan.ini, initialises the DB, creates the sysadmin
`ckan_admin` with an API token, starts the Solr stand-in and `ckan run`, waits
for /api/3/action/status_show and prints ONE JSON line on stdout:

    {"url": ..., "api_token": ..., "instance": ..., "solr_url": ..., ...}

Progress goes to stderr.  Runtime state lives in .devstack/<instance>/ (PID
files, logs, storage, Solr index, api_token, admin_password).
"""
from __future__ import annotations

import argparse
import configparser
import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

CKAN_VERSION = "2.12.0"
CKAN_SPEC = f"ckan[requirements]=={CKAN_VERSION}"
# The portal's extensions, installed beside CKAN (their dependencies pinned in the lock too).
EXTENSION_SPECS = ("ckanext-scheming==3.1.0", "ckanext-dcat==2.4.4")

DEVSTACK_DIR = Path(__file__).resolve().parent
REPO_ROOT = DEVSTACK_DIR.parent
STATE_DIR = Path(os.environ.get("DEVSTACK_STATE_DIR", REPO_ROOT / ".devstack"))
VENV_DIR = STATE_DIR / "ckan-venv"
LOCK_FILE = DEVSTACK_DIR / "ckan-requirements.lock"
# ckanext-xloader (the DataStore loader the P1 bench compares with) runs only in instances started
# with `up --with-xloader`, from a virtualenv of their own: the shared one stays as its lock says.
XLOADER_LOCK = DEVSTACK_DIR / "ckan-xloader.lock"
XLOADER_VENV_DIR = STATE_DIR / "ckan-xloader-venv"
STANDIN = DEVSTACK_DIR / "solr_standin.py"

PG_HOST = os.environ.get("DEVSTACK_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("DEVSTACK_PG_PORT", "5432"))
REDIS_HOST = os.environ.get("DEVSTACK_REDIS_HOST", "127.0.0.1")
REDIS_PORT = int(os.environ.get("DEVSTACK_REDIS_PORT", "6379"))
REDIS_DB = int(os.environ.get("DEVSTACK_REDIS_DB", "0"))

ADMIN_USER = "ckan_admin"
TOKEN_NAME = "devstack"
DEFAULT_PORT = 5000
SOLR_PORT_OFFSET = 3983          # 5000 -> 8983 (Solr's usual port), 5055 -> 9038
PLAIN_PLUGINS = "activity datastore datatables_view image_view text_view"
# The Satu Data portal: its dataset schema (ckanext-scheming) and DCAT (ckanext-dcat).
# satudata_i18n (the portal's own, deploy/ckan/ckanext-satudata): the English title and notes on /en/.
DEFAULT_PLUGINS = PLAIN_PLUGINS + " scheming_datasets dcat dcat_json_interface structured_data satudata_i18n"
SCHEMA_FILE = REPO_ROOT / "deploy" / "ckan" / "satudata_schema.yaml"
SATUDATA_PLUGIN_DIR = REPO_ROOT / "deploy" / "ckan" / "ckanext-satudata"
EU_FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
DEFAULT_VIEWS = "image_view text_view datatables_view"
DEFAULT_MAX_RESOURCE_MB = 100
START_TIMEOUT = 180
LOG_ROTATE_BYTES = 50 * 1024 * 1024

T0 = time.time()


class StackError(Exception):
    pass


# ---------------------------------------------------------------- utilities

def say(msg: str) -> None:
    print(f"[ckanstack {time.time() - T0:5.1f}s] {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], *, check: bool = True, capture: bool = True,
        input_text: str | None = None, cwd: Path | None = None,
        env: dict[str, str] | None = None, timeout: float | None = None
        ) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, input=input_text, text=True, cwd=cwd, env=env, timeout=timeout,
                         stdout=subprocess.PIPE if capture else sys.stderr,
                         stderr=subprocess.PIPE if capture else sys.stderr,
                         stdin=None if input_text is not None else subprocess.DEVNULL)
    if check and res.returncode != 0:
        detail = ""
        if capture:
            detail = "\n" + ((res.stdout or "") + (res.stderr or ""))[-4000:]
        raise StackError(f"command failed ({res.returncode}): {' '.join(cmd)}{detail}")
    return res


def tcp_open(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_json(url: str, token: str | None = None, timeout: float = 5.0
              ) -> tuple[int, Any]:
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", token)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read().decode("utf-8"))
        except ValueError:
            return e.code, None
    except (OSError, ValueError):
        return 0, None


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def write_private(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def tail(path: Path, lines: int = 60) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - 64 * 1024))
            data = fh.read().decode("utf-8", "replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(data.splitlines()[-lines:])


# ---------------------------------------------------------------- instance

class Instance:
    def __init__(self, name: str):
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", name):
            raise StackError(f"instance name must match [a-z][a-z0-9_]{{0,30}}: {name!r}")
        self.name = name
        self.dir = STATE_DIR / name
        self.ini = self.dir / "ckan.ini"
        self.meta_path = self.dir / "instance.json"
        self.token_path = self.dir / "api_token"
        self.password_path = self.dir / "admin_password"
        self.ckan_pid = self.dir / "ckan.pid"
        self.solr_pid = self.dir / "solr.pid"
        self.ckan_log = self.dir / "ckan.log"
        self.solr_log = self.dir / "solr.log"
        self.worker_pid = self.dir / "worker.pid"
        self.worker_log = self.dir / "worker.log"
        self.solr_data = self.dir / "solr-data"
        self.storage = self.dir / "storage"
        self.db = f"ckan_{name}"
        self.ds_db = f"datastore_{name}"
        self.role = f"ckan_{name}"
        self.ro_role = f"datastore_ro_{name}"
        self.meta: dict[str, Any] = {}
        if self.meta_path.exists():
            try:
                self.meta = json.loads(self.meta_path.read_text())
            except ValueError:
                self.meta = {}

    def save_meta(self) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        write_private(self.meta_path, json.dumps(self.meta, indent=2, sort_keys=True) + "\n")

    @property
    def port(self) -> int:
        return int(self.meta.get("port", DEFAULT_PORT))

    @property
    def solr_port(self) -> int:
        return int(self.meta.get("solr_port", self.port + SOLR_PORT_OFFSET))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def solr_url(self) -> str:
        return f"http://127.0.0.1:{self.solr_port}/solr/ckan"

    def read_token(self) -> str | None:
        try:
            tok = self.token_path.read_text().strip()
        except OSError:
            return None
        return tok or None


# ---------------------------------------------------------------- processes

def read_pid(path: Path) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def proc_cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return []
    return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]


def is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def ours(pid: int | None, marker: str) -> bool:
    """PID alive and its command line contains what we started it with."""
    if not pid or is_zombie(pid):
        return False
    return marker in " ".join(proc_cmdline(pid))


def ckan_marker(inst: Instance) -> str:
    return f"{inst.ini} run"


def worker_marker(inst: Instance) -> str:
    return f"{inst.ini} jobs worker"


def solr_marker(inst: Instance) -> str:
    return f"--data-dir {inst.solr_data}"


def running_pid(path: Path, marker: str) -> int | None:
    pid = read_pid(path)
    return pid if ours(pid, marker) else None


def stop_process(path: Path, marker: str, what: str, timeout: float = 20.0) -> None:
    pid = read_pid(path)
    if pid is None:
        return
    if not ours(pid, marker):
        say(f"{what}: stale PID file ({path.name}), not touching PID {pid}")
        path.unlink(missing_ok=True)
        return
    say(f"stopping {what} (PID {pid})")

    def signal_it(sig: int) -> None:
        try:
            if os.getpgid(pid) == pid:       # we started it as a session leader
                os.killpg(pid, sig)
            else:
                os.kill(pid, sig)
        except ProcessLookupError:
            pass

    signal_it(signal.SIGTERM)
    deadline = time.time() + timeout
    while time.time() < deadline and ours(pid, marker):
        time.sleep(0.2)
    if ours(pid, marker):
        say(f"{what} did not stop after {timeout:.0f}s: SIGKILL")
        signal_it(signal.SIGKILL)
        for _ in range(50):
            if not ours(pid, marker):
                break
            time.sleep(0.1)
    path.unlink(missing_ok=True)


def spawn(cmd: list[str], log_path: Path, pid_path: Path, cwd: Path,
          env: dict[str, str] | None = None) -> int:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(OSError):
        if log_path.stat().st_size > LOG_ROTATE_BYTES:
            os.replace(log_path, log_path.with_name(log_path.name + ".1"))
    with open(log_path, "ab") as log:
        log.write(("\n===== {} starting: {}\n".format(time.strftime("%Y-%m-%d %H:%M:%S"),
                                                   " ".join(cmd))).encode())
        log.flush()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, cwd=cwd, env=env,
                                start_new_session=True, close_fds=True)
    pid_path.write_text(f"{proc.pid}\n")
    return proc.pid


# ---------------------------------------------------------------- virtualenv

def venv_python() -> Path:
    return VENV_DIR / "bin" / "python"


def ckan_bin() -> Path:
    return VENV_DIR / "bin" / "ckan"


def use_xloader_venv() -> None:
    """Run this instance from the virtualenv that also holds ckanext-xloader."""
    global VENV_DIR
    VENV_DIR = XLOADER_VENV_DIR


def lock_digest() -> str:
    h = hashlib.sha256()
    h.update(CKAN_SPEC.encode())
    for spec in EXTENSION_SPECS:
        h.update(spec.encode())
    if LOCK_FILE.exists():
        h.update(LOCK_FILE.read_bytes())
    if VENV_DIR == XLOADER_VENV_DIR:
        h.update(XLOADER_LOCK.read_bytes())
    return h.hexdigest()


def find_uv() -> str | None:
    if os.environ.get("DEVSTACK_NO_UV"):
        return None
    env_uv = os.environ.get("DEVSTACK_UV")
    for cand in (env_uv, str(REPO_ROOT / ".venv" / "bin" / "uv"), shutil.which("uv")):
        if cand and os.path.isfile(cand) and os.access(cand, os.X_OK):
            return cand
    return None


def ensure_venv() -> None:
    marker = VENV_DIR / ".devstack-installed"
    if ckan_bin().exists() and marker.exists() and marker.read_text().strip() == lock_digest():
        return
    with file_lock(STATE_DIR / ".ckan-venv.lock"):
        if ckan_bin().exists() and marker.exists() and \
                marker.read_text().strip() == lock_digest():
            return
        if not shutil.which("pg_config") and not (VENV_DIR / "bin" / "ckan").exists():
            raise StackError("pg_config not found: psycopg2 (a CKAN dependency) is built "
                             "from source. Install it: apt-get install -y libpq-dev gcc")
        t = time.time()
        uv = find_uv()
        constraint = ["-c", str(LOCK_FILE)] if LOCK_FILE.exists() else []
        if not LOCK_FILE.exists():
            say(f"WARNING: {LOCK_FILE} missing; installing unpinned")
        base_python = getattr(sys, "_base_executable", None) or sys.executable
        packages = [CKAN_SPEC, *EXTENSION_SPECS]
        if VENV_DIR == XLOADER_VENV_DIR:
            # Both locks name every package: installed as pinned, without resolving, since
            # xloader's metadata asks for newer urllib3/certifi/idna than CKAN pins.
            packages, constraint = ["--no-deps", "-r", str(LOCK_FILE), "-r", str(XLOADER_LOCK)], []
        if uv:
            say(f"installing {CKAN_SPEC} into {VENV_DIR} with uv ({uv})")
            if not venv_python().exists():
                run([uv, "venv", "--python", base_python, str(VENV_DIR)], capture=True)
            run([uv, "pip", "install", "--python", str(venv_python())] + constraint +
                packages, capture=False)
        else:
            say(f"installing {CKAN_SPEC} into {VENV_DIR} with pip (uv not found; slower)")
            if not venv_python().exists():
                run([base_python, "-m", "venv", str(VENV_DIR)], capture=True)
            run([str(venv_python()), "-m", "pip", "install", "--disable-pip-version-check",
                 "-q"] + constraint + packages, capture=False)
        run([str(venv_python()), "-c", "import ckan, psycopg2, pysolr, ckanext.scheming, ckanext.dcat"],
            capture=True)
        marker.write_text(lock_digest() + "\n")
        say("CKAN virtualenv ready (%.1fs)" % (time.time() - t))


def plugin_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in SATUDATA_PLUGIN_DIR.rglob("*") if p.is_file() and
                       "__pycache__" not in p.parts and ".egg-info" not in str(p)):
        h.update(str(path.relative_to(SATUDATA_PLUGIN_DIR)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def satudata_plugin_current() -> bool:
    marker = VENV_DIR / ".devstack-satudata-plugin"
    return marker.exists() and marker.read_text().strip() == plugin_digest()


def ensure_satudata_plugin() -> bool:
    """Install the portal's own plugin (ckanext-satudata) into the CKAN virtualenv, again when it changed.

    A plain install (no deps: CKAN is its only one), not an editable one: the virtualenv may be
    another checkout's (DEVSTACK_STATE_DIR), and a changed plugin is installed again anyway.
    True when it was installed now (a running CKAN has the old one loaded).
    """
    marker = VENV_DIR / ".devstack-satudata-plugin"
    if satudata_plugin_current():
        return False
    with file_lock(STATE_DIR / ".ckan-venv.lock"):
        digest = plugin_digest()
        if marker.exists() and marker.read_text().strip() == digest:
            return False
        uv = find_uv()
        # A fresh copy each time: setuptools' build/ and .egg-info left in the source tree would
        # otherwise carry files the plugin no longer has.
        with tempfile.TemporaryDirectory() as tmp:
            source = Path(tmp) / SATUDATA_PLUGIN_DIR.name
            shutil.copytree(SATUDATA_PLUGIN_DIR, source,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
            if uv:
                run([uv, "pip", "install", "--python", str(venv_python()), "--no-deps", "--reinstall-package",
                     "ckanext-satudata", str(source)])
            else:
                run([str(venv_python()), "-m", "pip", "install", "--disable-pip-version-check", "-q",
                     "--no-deps", "--force-reinstall", str(source)])
        run([str(venv_python()), "-c", "import ckanext.satudata.plugin"], capture=True)
        marker.write_text(digest + "\n")
        say("ckanext-satudata installed")
        return True


def ckan_package_dir() -> Path:
    found = sorted(VENV_DIR.glob("lib/python3*/site-packages/ckan/config/solr/schema.xml"))
    if found:
        return found[-1].parents[2]
    res = run([str(venv_python()), "-c", "import ckan, os; print(os.path.dirname(ckan.__file__))"])
    return Path(res.stdout.strip())


def ckan_env() -> dict[str, str]:
    env = dict(os.environ)
    for k in ("CKAN_INI", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
        env.pop(k, None)
    env["PATH"] = "{}:{}".format(VENV_DIR / "bin", env.get("PATH", "/usr/bin:/bin"))
    env["PYTHONUNBUFFERED"] = "1"
    return env


def ckan_cli(inst: Instance, *args: str, check: bool = True, timeout: float = 600
             ) -> subprocess.CompletedProcess:
    return run([str(ckan_bin()), "-c", str(inst.ini)] + list(args), check=check,
               cwd=inst.dir, env=ckan_env(), timeout=timeout)


# ---------------------------------------------------------------- services

def pg_superusers() -> list[str]:
    env_user = os.environ.get("DEVSTACK_PG_SUPERUSER")
    return [env_user] if env_user else ["postgres", "root"]


_PG_SUPER: str | None = None


def psql(sql: str, db: str = "postgres", check: bool = True) -> str:
    global _PG_SUPER
    if _PG_SUPER is None:
        errors = []
        for user in pg_superusers():
            res = run(["psql", "-h", PG_HOST, "-p", str(PG_PORT), "-U", user, "-d", "postgres",
                       "-qAtX", "-c", "select rolsuper from pg_roles where rolname = current_user"],
                      check=False)
            if res.returncode == 0 and res.stdout.strip() == "t":
                _PG_SUPER = user
                break
            errors.append(f"{user}: {(res.stderr or res.stdout).strip()}")
        else:
            tried = ", ".join(pg_superusers())
            raise StackError(f"no PostgreSQL superuser reachable on {PG_HOST}:{PG_PORT} without a "
                             f"password (tried {tried}). Set DEVSTACK_PG_SUPERUSER.\n"
                             + "\n".join(errors))
    res = run(["psql", "-h", PG_HOST, "-p", str(PG_PORT), "-U", _PG_SUPER, "-d", db,
               "-v", "ON_ERROR_STOP=1", "-qAtX"], input_text=sql, check=check)
    return res.stdout


def redis_ping() -> bool:
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(64).startswith(b"+PONG")
    except OSError:
        return False


def ensure_services() -> None:
    missing = []
    if not shutil.which("psql"):
        missing.append("the psql client (apt-get install -y postgresql-client)")
    if not tcp_open(PG_HOST, PG_PORT):
        clusters = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
        if clusters and shutil.which("pg_ctlcluster"):
            for ver in clusters:
                say(f"PostgreSQL is down: starting cluster {ver}/main")
                run(["pg_ctlcluster", "--skip-systemctl-redirect", ver, "main", "start"],
                    check=False)
            for _ in range(30):
                if tcp_open(PG_HOST, PG_PORT):
                    break
                time.sleep(0.5)
        if not tcp_open(PG_HOST, PG_PORT):
            missing.append(
                f"PostgreSQL on {PG_HOST}:{PG_PORT} (installed? start it with: pg_ctlcluster "
                "--skip-systemctl-redirect $(ls /etc/postgresql) main start; install with "
                "apt-get install -y postgresql)")
    if not redis_ping():
        if shutil.which("redis-server"):
            say("Redis is down: starting redis-server")
            os.makedirs("/var/lib/redis", exist_ok=True)
            os.makedirs("/var/log/redis", exist_ok=True)
            run(["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port",
                 str(REDIS_PORT), "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis",
                 "--logfile", "/var/log/redis/ci.log"], check=False)
            for _ in range(40):
                if redis_ping():
                    break
                time.sleep(0.25)
        if not redis_ping():
            missing.append(
                f"Redis on {REDIS_HOST}:{REDIS_PORT} (start it with: redis-server --daemonize yes "
                "--bind 127.0.0.1 -::1 --port 6379 --save \"\" --appendonly no --dir /var/lib/redis "
                "--logfile /var/log/redis/ci.log; install with apt-get install -y redis-server)")
    if missing:
        raise StackError("missing services:\n  - " + "\n  - ".join(missing))


def sql_literal(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def ensure_databases(inst: Instance) -> dict[str, bool]:
    """Create roles and DBs if missing; returns which DBs were created now."""
    pw = inst.meta["db_password"]
    for role in (inst.role, inst.ro_role):
        name, secret = sql_literal(role), sql_literal(pw)
        psql(f"DO $$BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = {name}) THEN "
             f"CREATE ROLE {role} LOGIN PASSWORD {secret}; "
             f"ELSE ALTER ROLE {role} LOGIN PASSWORD {secret}; END IF; END$$;")
    created = {}
    for db in (inst.db, inst.ds_db):
        exists = psql(f"SELECT 1 FROM pg_database WHERE datname = {sql_literal(db)};").strip()
        if not exists:
            say(f"creating database {db}")
            psql(f"CREATE DATABASE {db} OWNER {inst.role} ENCODING 'UTF8' TEMPLATE template0;")
        created[db] = not exists
    return created


def drop_databases(inst: Instance) -> None:
    for db in (inst.db, inst.ds_db):
        psql(f"DROP DATABASE IF EXISTS {db} WITH (FORCE);")
    for role in (inst.ro_role, inst.role):
        exists = psql(f"SELECT 1 FROM pg_roles WHERE rolname = {sql_literal(role)};").strip()
        if exists:
            # drop anything it still owns or was granted in other DBs (normally nothing)
            psql(f"DROP ROLE IF EXISTS {role};", check=False)
    say(f"dropped databases {inst.db}, {inst.ds_db} and roles {inst.role}, {inst.ro_role}")


def redis_purge(site: str) -> int:
    """Delete the instance's Redis keys: CKAN's rq queues are named ckan:<site_id>:<queue>."""
    def cmd(s: socket.socket, f: Any, *parts: str) -> Any:
        out = b"*%d\r\n" % len(parts)
        for p in parts:
            b = p.encode()
            out += b"$%d\r\n%s\r\n" % (len(b), b)
        s.sendall(out)
        return _resp(f)

    def scan(s: socket.socket, f: Any, pattern: str) -> list[str]:
        found, cursor = [], "0"
        while True:
            cursor_b, keys = cmd(s, f, "SCAN", cursor, "MATCH", pattern, "COUNT", "1000")
            cursor = cursor_b.decode()
            found.extend(k.decode() for k in keys)
            if cursor == "0":
                return found

    queue_prefix = f"ckan:{site}:"
    deleted = 0
    try:
        with socket.create_connection((REDIS_HOST, REDIS_PORT), timeout=5) as s:
            f = s.makefile("rb")
            cmd(s, f, "SELECT", str(REDIS_DB))
            doomed = scan(s, f, f"*{queue_prefix}*")
            for key in scan(s, f, "rq:job:*"):
                origin = cmd(s, f, "HGET", key, "origin")
                if origin and origin.decode().startswith(queue_prefix):
                    job_id = key[len("rq:job:"):]
                    doomed += [key, key + ":dependents", "rq:results:" + job_id]
            for i in range(0, len(doomed), 500):
                deleted += int(cmd(s, f, "DEL", *doomed[i:i + 500]))
            for q in cmd(s, f, "SMEMBERS", "rq:queues") or []:
                if q.decode().startswith("rq:queue:" + queue_prefix):
                    cmd(s, f, "SREM", "rq:queues", q.decode())
    except (OSError, ValueError) as e:
        say(f"WARNING: Redis clean-up incomplete: {e}")
    return deleted


def _resp(f: Any) -> Any:
    line = f.readline()
    t, rest = line[:1], line[1:].rstrip(b"\r\n")
    if t == b"+":
        return rest
    if t == b"-":
        raise ValueError(rest.decode())
    if t == b":":
        return int(rest)
    if t == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        return data[:-2]
    if t == b"*":
        return [_resp(f) for _ in range(int(rest))]
    raise ValueError(f"bad redis reply {line!r}")


# ---------------------------------------------------------------- config

def site_id(inst: Instance) -> str:
    return f"devstack_{inst.name}"


def write_config(inst: Instance, args: argparse.Namespace) -> tuple[bool, bool]:
    """(Re)writes the ini: (a new ini with a new secret key was generated, settings changed)."""
    fresh = False
    if not inst.ini.exists():
        say(f"generating {inst.ini}")
        run([str(ckan_bin()), "generate", "config", str(inst.ini)], env=ckan_env(), cwd=inst.dir)
        fresh = True
    pw = inst.meta["db_password"]
    pg = f"{PG_HOST}:{PG_PORT}"
    settings = {
        "sqlalchemy.url": f"postgresql://{inst.role}:{pw}@{pg}/{inst.db}",
        "ckan.datastore.write_url": f"postgresql://{inst.role}:{pw}@{pg}/{inst.ds_db}",
        "ckan.datastore.read_url": f"postgresql://{inst.ro_role}:{pw}@{pg}/{inst.ds_db}",
        "ckan.site_url": inst.url,
        "ckan.site_id": site_id(inst),
        "ckan.site_title": f"Open Data devstack ({inst.name})",
        "ckan.plugins": plugins_of(inst),
        "ckan.views.default_views": DEFAULT_VIEWS,
        "ckan.storage_path": str(inst.storage),
        "ckan.max_resource_size": str(inst.meta.get("max_resource_size",
                                                    DEFAULT_MAX_RESOURCE_MB)),
        "ckan.redis.url": f"redis://{REDIS_HOST}:{REDIS_PORT}/{REDIS_DB}",
        "solr_url": inst.solr_url,
        "ckan.devserver.host": "127.0.0.1",
        "ckan.devserver.port": str(inst.port),
        "ckan.devserver.threaded": "true",
        "ckan.devserver.multiprocess": "1",
    }
    if not inst.meta.get("plain"):
        settings.update(satudata_settings())
    if inst.meta.get("xloader") and inst.read_token():
        # xloader's jobs call the API as this user (the token exists after the first start).
        settings["ckanext.xloader.api_token"] = inst.read_token() or ""
    for item in args.set or []:
        key, sep, value = item.partition("=")
        if not sep:
            raise StackError(f"--set expects KEY=VALUE, got {item!r}")
        settings[key.strip()] = value.strip()
    current = read_ini(inst.ini)
    changed = {k: v for k, v in settings.items() if current.get(k) != v}
    if changed:
        say("ckan config-tool: {}".format(", ".join(sorted(changed))))
        run([str(ckan_bin()), "config-tool", str(inst.ini)] +
            ["{}={}".format(*kv) for kv in changed.items()], env=ckan_env(), cwd=inst.dir)
    return fresh, bool(changed) and not fresh


def plugins_of(inst: Instance) -> str:
    default = PLAIN_PLUGINS if inst.meta.get("plain") else DEFAULT_PLUGINS
    return str(inst.meta.get("plugins", default + (" xloader" if inst.meta.get("xloader") else "")))


def satudata_settings() -> dict[str, str]:
    """The Satu Data portal's settings: schema, DCAT-AP 3, Indonesian interface (docker-compose: the same)."""
    return {
        "scheming.dataset_schemas": SCHEMA_FILE.as_uri(),
        "scheming.presets": "ckanext.scheming:presets.json ckanext.dcat.schemas:presets.yaml",
        "scheming.dataset_fallback": "false",
        "ckanext.dcat.rdf.profiles": "euro_dcat_ap_3",  # scheming-aware: it includes euro_dcat_ap_scheming
        "ckan.site_description": "Portal Satu Data: data terbuka perangkat daerah, diterbitkan oleh walidata.",
        "ckan.locale_default": "id",
        "ckan.locales_offered": "id en",
        # Resource formats are EU file-type IRIs (DCAT-AP): the chart keeps its image view and
        # the JSON files their text view (CKAN compares formats lower-cased).
        "ckan.preview.image_formats": f"png jpeg jpg gif {EU_FILE_TYPE}png",
        "ckan.preview.json_formats": f"json {EU_FILE_TYPE}json",
    }


def read_ini(path: Path) -> dict[str, str]:
    """The [app:main] options of a CKAN ini (raw, no interpolation)."""
    cp = configparser.ConfigParser(interpolation=None, strict=False)
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    try:
        cp.read(path)
        return dict(cp.items("app:main"))
    except (configparser.Error, OSError):
        return {}


# ---------------------------------------------------------------- steps

def parallel(*fns: Any) -> None:
    """Run blocking steps (each mostly a `ckan` CLI start-up) side by side."""
    errors: list[BaseException] = []

    def wrap(fn: Any) -> None:
        try:
            fn()
        except BaseException as e:  # noqa: BLE001 - re-raised below
            errors.append(e)

    threads = [threading.Thread(target=wrap, args=(fn,)) for fn in fns if fn]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def ckan_answers(inst: Instance, timeout: float = 3.0) -> bool:
    code, body = http_json(inst.url + "/api/3/action/status_show", timeout=timeout)
    return code == 200 and isinstance(body, dict) and body.get("success") is True


def token_valid(inst: Instance, token: str | None) -> bool:
    if not token:
        return False
    # config_option_list is sysadmin-only: 200 means the token is a live sysadmin token
    code, body = http_json(inst.url + "/api/3/action/config_option_list", token=token,
                           timeout=10)
    return code == 200 and isinstance(body, dict) and body.get("success") is True


def create_token(inst: Instance) -> str:
    say(f"creating API token for {ADMIN_USER}")
    res = ckan_cli(inst, "user", "token", "add", ADMIN_USER, TOKEN_NAME, "--quiet")
    lines = [ln.strip() for ln in res.stdout.splitlines() if ln.strip()]
    if not lines or not lines[-1].count(".") == 2:
        raise StackError(f"ckan user token add printed no token:\n{(res.stdout + res.stderr)[-2000:]}")
    write_private(inst.token_path, lines[-1] + "\n")
    return lines[-1]


def ensure_token(inst: Instance) -> str:
    """The stored token if CKAN accepts it, else a new one (needs CKAN running)."""
    token = inst.read_token()
    if token_valid(inst, token):
        return token  # type: ignore[return-value]
    if token:
        say("stored API token is not valid any more")
    token = create_token(inst)
    if not token_valid(inst, token):
        raise StackError("the new API token is not accepted by CKAN")
    return token


def ensure_admin(inst: Instance) -> None:
    has = psql(f"SELECT sysadmin FROM \"user\" WHERE name = {sql_literal(ADMIN_USER)} "
               "AND state = 'active';", db=inst.db).strip()
    if has == "t":
        return
    if not inst.password_path.exists():
        write_private(inst.password_path, secrets.token_urlsafe(12) + "\n")
    password = inst.password_path.read_text().strip()
    say(f"creating sysadmin {ADMIN_USER}")
    ckan_cli(inst, "sysadmin", "add", ADMIN_USER, "--create",
             f"email={ADMIN_USER}@localhost.invalid", f"password={password}",
             "fullname=CKAN devstack admin")
    inst.token_path.unlink(missing_ok=True)


def set_datastore_permissions(inst: Instance) -> None:
    say("ckan datastore set-permissions | psql")
    sql = ckan_cli(inst, "datastore", "set-permissions").stdout
    if "GRANT" not in sql.upper():
        raise StackError(f"unexpected output of `ckan datastore set-permissions`:\n{sql[-2000:]}")
    psql(sql, db=inst.ds_db)
    inst.meta["datastore_permissions"] = True


def start_solr(inst: Instance, schema_path: Path) -> None:
    if running_pid(inst.solr_pid, solr_marker(inst)):
        return
    if tcp_open("127.0.0.1", inst.solr_port):
        raise StackError(f"port {inst.solr_port} (Solr stand-in of instance {inst.name}) is in use "
                         "by another process; choose --solr-port")
    inst.solr_data.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, str(STANDIN), "--host", "127.0.0.1", "--port", str(inst.solr_port),
           "--data-dir", str(inst.solr_data), "--schema", str(schema_path),
           "--log-file", str(inst.solr_log)]
    pid = spawn(cmd, inst.dir / "solr.out", inst.solr_pid, inst.dir)
    say(f"Solr stand-in started (PID {pid}) on {inst.solr_url}")
    deadline = time.time() + 20
    while time.time() < deadline:
        code, _ = http_json(inst.solr_url + "/admin/ping", timeout=2)
        if code == 200:
            return
        # Give up early only when the process is gone; a busy machine may be slow to start it.
        if is_zombie(pid):
            break
        time.sleep(0.1)
    out = inst.dir / "solr.out"
    raise StackError(f"Solr stand-in did not answer on {inst.solr_url}\n"
                     f"--- {inst.solr_log} ---\n{tail(inst.solr_log, 30)}\n"
                     f"--- {out} ---\n{tail(out, 30)}")


def reindex_if_needed(inst: Instance) -> None:
    """Index datasets the Solr stand-in lacks (e.g. its index file was deleted)."""
    in_db = psql("SELECT count(*) FROM package WHERE state <> 'deleted';", db=inst.db).strip()
    q = urllib.parse.urlencode({"q": "*:*", "rows": "0", "wt": "json",
                                "fq": f'+site_id:"{site_id(inst)}"'})
    code, body = http_json(f"{inst.solr_url}/select?{q}")
    in_solr = body["response"]["numFound"] if code == 200 and body else -1
    if in_db.isdigit() and 0 <= in_solr < int(in_db):
        say(f"search index has {in_solr} of {in_db} datasets: ckan search-index rebuild -o")
        ckan_cli(inst, "search-index", "rebuild", "-o")


def spawn_ckan(inst: Instance) -> int:
    if tcp_open("127.0.0.1", inst.port):
        raise StackError(f"port {inst.port} is in use by another process; choose --port")
    cmd = [str(ckan_bin()), "-c", str(inst.ini), "run", "--disable-reloader", "--threaded",
           "-H", "127.0.0.1", "-p", str(inst.port)]
    pid = spawn(cmd, inst.ckan_log, inst.ckan_pid, inst.dir, env=ckan_env())
    say(f"CKAN started (PID {pid}), waiting for {inst.url}/api/3/action/status_show")
    return pid


def wait_ckan(inst: Instance, pid: int, timeout: float) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if ckan_answers(inst, timeout=3):
            return
        if not ours(pid, ckan_marker(inst)):
            raise StackError(f"CKAN exited during start-up. Last lines of {inst.ckan_log}:\n"
                             + tail(inst.ckan_log))
        time.sleep(0.2)
    raise StackError(f"CKAN did not answer within {timeout:.0f}s. Last lines of {inst.ckan_log}:\n"
                     + tail(inst.ckan_log))


def start_worker(inst: Instance) -> None:
    if running_pid(inst.worker_pid, worker_marker(inst)):
        return
    cmd = [str(ckan_bin()), "-c", str(inst.ini), "jobs", "worker"]
    pid = spawn(cmd, inst.worker_log, inst.worker_pid, inst.dir, env=ckan_env())
    say(f"background jobs worker started (PID {pid})")


def healthy(inst: Instance) -> bool:
    return bool(running_pid(inst.ckan_pid, ckan_marker(inst))
                and running_pid(inst.solr_pid, solr_marker(inst))
                and (not inst.meta.get("worker", True)
                     or running_pid(inst.worker_pid, worker_marker(inst)))
                and ckan_answers(inst))


def result_line(inst: Instance, token: str) -> str:
    return json.dumps({"url": inst.url, "api_token": token, "instance": inst.name,
                       "solr_url": inst.solr_url, "ini": str(inst.ini),
                       "token_file": str(inst.token_path), "admin_user": ADMIN_USER})


def stop_all(inst: Instance, solr: bool = True) -> None:
    stop_process(inst.worker_pid, worker_marker(inst), "jobs worker")
    stop_process(inst.ckan_pid, ckan_marker(inst), "CKAN")
    if solr:
        stop_process(inst.solr_pid, solr_marker(inst), "Solr stand-in")


def cmd_up(args: argparse.Namespace) -> int:
    inst = Instance(args.instance)
    with file_lock(STATE_DIR / (f".{inst.name}.lock")):
        return _up(inst, args)


def _up(inst: Instance, args: argparse.Namespace) -> int:
    if inst.meta.get("xloader") or args.with_xloader:
        use_xloader_venv()
    ckan_running = running_pid(inst.ckan_pid, ckan_marker(inst))
    if ckan_running and args.port and args.port != inst.port:
        raise StackError(f"instance {inst.name} is running on port {inst.port}; "
                         f"run `down --instance {inst.name}` first")
    reconfigure = bool(args.set or args.plugins or args.max_resource_size or args.solr_port
                       or args.no_worker or args.with_xloader or bool(args.plain) != bool(inst.meta.get("plain"))
                       or read_ini(inst.ini).get("ckan.plugins") != plugins_of(inst)
                       or not satudata_plugin_current())
    if ckan_running and not reconfigure and healthy(inst):
        token = inst.read_token()
        if not token_valid(inst, token):
            token = ensure_token(inst)
        say(f"instance {inst.name} already running (CKAN PID {ckan_running}) at {inst.url}")
        print(result_line(inst, token), flush=True)  # type: ignore[arg-type]
        return 0

    # settings: command line > recorded > defaults
    meta = inst.meta
    meta["instance"] = inst.name
    if args.port:
        meta["port"] = args.port
    meta.setdefault("port", DEFAULT_PORT)
    if args.solr_port:
        meta["solr_port"] = args.solr_port
    elif args.port or "solr_port" not in meta:
        meta["solr_port"] = int(meta["port"]) + SOLR_PORT_OFFSET
    if args.max_resource_size:
        meta["max_resource_size"] = args.max_resource_size
    if args.plugins:
        meta["plugins"] = args.plugins
    meta["worker"] = not args.no_worker
    meta["plain"] = bool(args.plain)
    if args.with_xloader:
        meta["xloader"] = True
    if meta.get("xloader"):
        use_xloader_venv()
    meta.setdefault("db_password", secrets.token_hex(12))
    meta.setdefault("created", time.strftime("%Y-%m-%dT%H:%M:%S"))
    inst.dir.mkdir(parents=True, exist_ok=True)
    inst.storage.mkdir(parents=True, exist_ok=True)
    inst.save_meta()

    ensure_venv()
    plugin_installed = ensure_satudata_plugin()
    ensure_services()
    created = ensure_databases(inst)
    if created[inst.db]:
        meta.pop("db_initialized", None)
    if created[inst.ds_db]:
        meta.pop("datastore_permissions", None)
    fresh_ini, changed = write_config(inst, args)
    if fresh_ini:
        inst.token_path.unlink(missing_ok=True)   # it was signed with the old secret key
    if changed or plugin_installed:
        say("configuration or ckanext-satudata changed: restarting the instance's processes")
        stop_all(inst)
    elif running_pid(inst.solr_pid, solr_marker(inst)) and not tcp_open(
            "127.0.0.1", inst.solr_port):
        stop_process(inst.solr_pid, solr_marker(inst), "Solr stand-in")

    schema_path = ckan_package_dir() / "config" / "solr" / "schema.xml"
    start_solr(inst, schema_path)

    if meta.get("db_initialized") != CKAN_VERSION:
        say("ckan db init")
        ckan_cli(inst, "db", "init")
        meta["db_initialized"] = CKAN_VERSION
        inst.save_meta()
    reindex_if_needed(inst)
    parallel(None if meta.get("datastore_permissions") else
             (lambda: set_datastore_permissions(inst)),
             lambda: ensure_admin(inst))
    inst.save_meta()

    ckan_pid = running_pid(inst.ckan_pid, ckan_marker(inst))
    if ckan_pid and not ckan_answers(inst):
        say(f"CKAN (PID {ckan_pid}) does not answer: restarting it")
        stop_process(inst.ckan_pid, ckan_marker(inst), "CKAN")
        ckan_pid = None
    if not ckan_pid:
        pid = spawn_ckan(inst)
        # a first token can be made while the server boots
        parallel(lambda: wait_ckan(inst, pid, args.timeout),
                 None if inst.read_token() else (lambda: create_token(inst)))
    if meta.get("worker", True):
        start_worker(inst)
    else:
        stop_process(inst.worker_pid, worker_marker(inst), "jobs worker")
    token = ensure_token(inst)
    if meta.get("xloader") and read_ini(inst.ini).get("ckanext.xloader.api_token") != token:
        # The first start made the token xloader needs: write it and restart with it.
        write_config(inst, args)
        stop_all(inst, solr=False)
        pid = spawn_ckan(inst)
        wait_ckan(inst, pid, args.timeout)
        start_worker(inst)
    say(f"instance {inst.name} is up at {inst.url} (admin user {ADMIN_USER}, token in {inst.token_path})")
    print(result_line(inst, token), flush=True)
    return 0


def cmd_down(args: argparse.Namespace) -> int:
    inst = Instance(args.instance)
    with file_lock(STATE_DIR / (f".{inst.name}.lock")):
        stop_all(inst)
        if args.purge:
            if shutil.which("psql") and tcp_open(PG_HOST, PG_PORT):
                drop_databases(inst)
            else:
                say(f"WARNING: PostgreSQL not reachable; databases {inst.db}, {inst.ds_db} not dropped")
            n = redis_purge(site_id(inst))
            if n:
                say(f"deleted {n} Redis keys")
            if inst.dir.exists():
                shutil.rmtree(inst.dir)
                say(f"removed {inst.dir}")
        say("instance {} is down{}".format(inst.name, " and purged" if args.purge else ""))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    inst = Instance(args.instance)
    ckan_pid = running_pid(inst.ckan_pid, ckan_marker(inst))
    solr_pid = running_pid(inst.solr_pid, solr_marker(inst))
    worker_pid = running_pid(inst.worker_pid, worker_marker(inst))
    answers = bool(ckan_pid) and ckan_answers(inst)
    info = {"instance": inst.name, "running": answers, "url": inst.url,
            "ckan_pid": ckan_pid, "solr_pid": solr_pid, "worker_pid": worker_pid,
            "solr_url": inst.solr_url, "state_dir": str(inst.dir), "exists": inst.dir.exists()}
    if args.json:
        print(json.dumps(info))
    elif answers:
        print(f"{inst.name}: running at {inst.url} (CKAN PID {ckan_pid}; Solr stand-in PID "
              f"{solr_pid} at {inst.solr_url}; jobs worker PID {worker_pid})")
    else:
        print(f"{inst.name}: not running (CKAN PID {ckan_pid}, Solr stand-in PID {solr_pid}, "
              f"worker PID {worker_pid}; would serve {inst.url})")
    return 0 if answers else 3


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=f"Local CKAN {CKAN_VERSION} dev portal")
    sub = ap.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="install/configure/start an instance (idempotent)")
    up.add_argument("--instance", default="demo")
    up.add_argument("--port", type=int, help="CKAN port (default 5000, or the recorded one)")
    up.add_argument("--solr-port", type=int,
                    help=f"Solr stand-in port (default CKAN port + {SOLR_PORT_OFFSET})")
    up.add_argument("--max-resource-size", type=int,
                    help=f"ckan.max_resource_size in MB (default {DEFAULT_MAX_RESOURCE_MB})")
    up.add_argument("--plugins", help=f"ckan.plugins (default: {DEFAULT_PLUGINS})")
    up.add_argument("--plain", action="store_true",
                    help="CKAN without the Satu Data schema, DCAT and the Indonesian default "
                         "(a portal as the pipeline meets it without those extensions)")
    up.add_argument("--no-worker", action="store_true",
                    help="do not run the background jobs worker (`ckan jobs worker`)")
    up.add_argument("--with-xloader", action="store_true",
                    help="also run ckanext-xloader (its own virtualenv, pinned by devstack/ckan-xloader.lock)")
    up.add_argument("--set", action="append", metavar="KEY=VALUE",
                    help="extra ckan.ini setting (repeatable)")
    up.add_argument("--timeout", type=float, default=START_TIMEOUT,
                    help="seconds to wait for CKAN to answer")
    up.set_defaults(func=cmd_up)

    down = sub.add_parser("down", help="stop an instance")
    down.add_argument("--instance", default="demo")
    down.add_argument("--purge", action="store_true",
                      help="also drop its databases and delete its state directory")
    down.set_defaults(func=cmd_down)

    st = sub.add_parser("status", help="is an instance running?")
    st.add_argument("--instance", default="demo")
    st.add_argument("--json", action="store_true")
    st.set_defaults(func=cmd_status)

    args = ap.parse_args(argv)
    try:
        return args.func(args)
    except StackError as e:
        say(f"ERROR: {e}")
        return 1
    except KeyboardInterrupt:
        say("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())
