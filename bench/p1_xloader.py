"""P1 against the peer: the same rows into the DataStore by ckanext-xloader, the fast path, the API path, and the floor.

One run, one devstack instance started with ckanext-xloader (``ckanstack.py up --with-xloader``),
the rows of ``bench/p1_datastore_load.py``:
  floor      CKAN's table in plain SQL: CREATE TABLE as datastore_create makes it (``_id`` serial
             primary key, ``_full_text`` tsvector, typed columns), COPY, one UPDATE setting
             ``_full_text`` with the expression of CKAN's ``populate_full_text_trigger``, the GiST
             index on ``_full_text``; the unique index of the primary key is timed apart
  xloader    ckanext-xloader 2.6.0, defaults: a resource whose URL is the CSV served on loopback,
             its automatic ``xloader_submit``, the jobs worker; ``xloader_status`` polled until
             complete; its phases from the job's log
  fast path  satudata.publish.datastore.sync_datastore with the DataStore write database (COPY)
  API path   sync_datastore through datastore_upsert, on ``--api-rows`` (0: skipped)
Then filtered ``datastore_search`` calls on the fast path's table without and with B-tree
indexes on the period columns and the region code: build time, size, time per query.

    .venv/bin/python bench/p1_xloader.py [--rows 200000] [--rounds 3] [--api-rows 0] [--keep]
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.server
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from p1_datastore_load import COLUMNS, rows, table_entry, write_dsn  # noqa: E402

INSTANCE, PORT = "xlbench", 5243
# What CKAN's zfulltext trigger computes for a row (ckanext/datastore/set_permissions.sql).
TRIGGER_EXPRESSION = ("(SELECT to_tsvector(string_agg(value, ' ')) FROM json_each_text(row_to_json(t.*)) "
                      "WHERE key NOT LIKE '\\_%')")
# Phases of an xloader job: (label, first log message starting it, log message ending it).
XLOADER_PHASES = [
    ("download", "Fetching from", "Downloaded ok"),
    ("COPY", "Copying to database", "...copying done"),
    ("full-text vectors (UPDATE)", "Creating search index", "...search index created"),
    ("indexes (create_column_indexes)", "Creating column indexes", "...column indexes created"),
]
FILTERS = {"period (tahun, bulan)": {"tahun": 2024, "bulan": 5},
           "region (kode_kabupaten_kota)": {"kode_kabupaten_kota": "64.72"}}
INDEXES = {"period (tahun, bulan)": ["tahun", "bulan"], "region (kode_kabupaten_kota)": ["kode_kabupaten_kota"]}


def portal(instance: str, port: int) -> dict:
    import json

    proc = subprocess.run([sys.executable, str(REPO / "devstack" / "ckanstack.py"), "up", "--instance", instance,
                           "--port", str(port), "--with-xloader"], stdout=subprocess.PIPE, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def serve(folder: str) -> http.server.ThreadingHTTPServer:
    """A loopback HTTP server for the folder holding the CSV, in a thread."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=folder, **kw)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def floor_sql(dsn: str, buf, method: str) -> dict[str, float]:
    """CKAN's DataStore table in plain SQL, each step timed; the table is dropped after."""
    import psycopg2
    from psycopg2 import sql

    from satudata.publish.datastore import DATASTORE_TYPES

    table = sql.Identifier("bench_p1_floor")
    times: dict[str, float] = {}
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        def step(label: str, statement, data=None) -> None:
            started = time.perf_counter()
            if data is None:
                cur.execute(statement)
            else:
                cur.copy_expert(statement.as_string(cur), data)
            times[label] = time.perf_counter() - started

        cur.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(table))
        columns = sql.SQL(", ").join(sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(DATASTORE_TYPES[t]))
                                     for n, t in COLUMNS)
        step("create", sql.SQL('CREATE TABLE {} ("_id" serial primary key, "_full_text" tsvector, {})')
             .format(table, columns))
        names = sql.SQL(", ").join(sql.Identifier(n) for n, _ in COLUMNS)
        step("COPY", sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(table, names), buf)
        step("UPDATE _full_text", sql.SQL("UPDATE {} AS t SET _full_text = " + TRIGGER_EXPRESSION).format(table))
        step(f"{method} index on _full_text", sql.SQL("CREATE INDEX ON {} USING " + method + " (_full_text)")
             .format(table))
        step("unique index on the key", sql.SQL("CREATE UNIQUE INDEX ON {} (id_baris)").format(table))
        cur.execute(sql.SQL("DROP TABLE {}").format(table))
    conn.close()
    return times


def xloader_load(client, package_id: str, url: str, timeout: float) -> tuple[float, dict]:
    """Create the resource (xloader submits it on creation) and wait for its job; (seconds, status)."""
    started = time.perf_counter()
    res = client.call_action("resource_create", {"package_id": package_id, "name": "xloader.csv", "url": url,
                                                 "format": "CSV"})
    status: dict = {}
    while time.perf_counter() - started < timeout:
        try:
            status = client.call_action("xloader_status", {"resource_id": res["id"]})
        except Exception:  # noqa: BLE001 - no task yet
            status = {}
        if status.get("status") in ("complete", "error"):
            break
        time.sleep(0.25)
    elapsed = time.perf_counter() - started
    status["resource_id"] = res["id"]
    return elapsed, status


def xloader_phases(status: dict) -> list[tuple[str, float]]:
    """Seconds of each phase found in the job's log (timestamps of its start and end messages)."""
    logs = (status.get("task_info") or {}).get("logs") or []
    found = []
    for label, first, last in XLOADER_PHASES:
        start = next((e for e in logs if e["message"].startswith(first)), None)
        end = next((e for e in logs if e["message"].startswith(last)), None)
        if start and end:
            delta = dt.datetime.fromisoformat(end["timestamp"]) - dt.datetime.fromisoformat(start["timestamp"])
            found.append((label, delta.total_seconds()))
    if logs:
        total = (dt.datetime.fromisoformat(logs[-1]["timestamp"])
                 - dt.datetime.fromisoformat(logs[0]["timestamp"])).total_seconds()
        found.append(("job, first to last log line", total))
    return found


def table_indexes(dsn: str, resource_id: str) -> list[tuple[str, str]]:
    """(definition, size) of each index of a DataStore table."""
    import psycopg2

    with psycopg2.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("SELECT pg_get_indexdef(indexrelid), pg_size_pretty(pg_relation_size(indexrelid)) "
                    "FROM pg_index WHERE indrelid = %s::regclass ORDER BY 1", [f'"{resource_id}"'])
        found = [(d.split(" ON ", 1)[1] if " ON " in d else d, s) for d, s in cur.fetchall()]
        cur.execute("SELECT tgname, tgenabled FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal",
                    [f'"{resource_id}"'])
        found += [(f"trigger {name}: {'enabled' if state == 'O' else 'DISABLED'}", "")
                  for name, state in cur.fetchall()]
        return found


def search_seconds(client, resource_id: str, filters: dict, repeat: int, q: str | None = None) -> float:
    """Median seconds of one datastore_search with these filters (total counted, 100 rows)."""
    times = []
    query = {"resource_id": resource_id, "filters": filters, "limit": 100, **({"q": q} if q else {})}
    for _ in range(repeat):
        started = time.perf_counter()
        client.call_action("datastore_search", query)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def column_indexes(client, dsn: str, resource_id: str, repeat: int) -> list[str]:
    """Filtered searches without and with a B-tree index on the filtered columns; lines to print."""
    import psycopg2
    from psycopg2 import sql

    lines = []
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        for label, filters in FILTERS.items():
            cur.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
                sql.Identifier(resource_id),
                sql.SQL(" AND ").join(sql.SQL("{} = %s").format(sql.Identifier(k)) for k in filters)),
                list(filters.values()))
            matched = (cur.fetchone() or [0])[0]
            client.call_action("datastore_search", {"resource_id": resource_id, "filters": filters, "limit": 100})
            before = search_seconds(client, resource_id, filters, repeat)
            name = f"bench_{resource_id[:8]}_{'_'.join(INDEXES[label])}"
            started = time.perf_counter()
            cur.execute(sql.SQL("CREATE INDEX {} ON {} ({})").format(
                sql.Identifier(name), sql.Identifier(resource_id),
                sql.SQL(", ").join(map(sql.Identifier, INDEXES[label]))))
            built = time.perf_counter() - started
            cur.execute("SELECT pg_relation_size(%s::regclass)", [name])
            size = (cur.fetchone() or [0])[0]
            client.call_action("datastore_search", {"resource_id": resource_id, "filters": filters, "limit": 100})
            after = search_seconds(client, resource_id, filters, repeat)
            cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            lines.append(f"  {label:<30} {matched:>8,} rows match   index: built {built:6.2f} s, "
                         f"{size / 2**20:6.1f} MiB   search: {before * 1000:7.1f} ms -> {after * 1000:7.1f} ms "
                         f"({before / after:.1f}x)")
        cur.execute(sql.SQL("SELECT pg_relation_size({}), pg_indexes_size({})").format(
            sql.Literal(f'"{resource_id}"'), sql.Literal(f'"{resource_id}"')))
        heap, indexes = cur.fetchone() or (0, 0)
        lines.append(f"  table {heap / 2**20:.1f} MiB, all its indexes {indexes / 2**20:.1f} MiB")
    conn.close()
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--api-rows", type=int, default=0, help="rows for the API path (0: not measured)")
    parser.add_argument("--instance", default=INSTANCE)
    parser.add_argument("--port", type=int, default=PORT)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the three loads (medians printed)")
    parser.add_argument("--repeat", type=int, default=7, help="searches per median")
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the xloader job")
    parser.add_argument("--keep", action="store_true", help="leave the bench CKAN instance running")
    args = parser.parse_args()

    from ckanapi import RemoteCKAN

    from satudata.publish.datastore import _copy_text, sync_datastore

    info = portal(args.instance, args.port)
    workdir = tempfile.TemporaryDirectory(prefix="p1-xloader-")
    server = None
    try:
        client = RemoteCKAN(info["url"], apikey=info["api_token"])
        dsn = write_dsn(info["ini"])
        from configparser import RawConfigParser

        ini = RawConfigParser(strict=False)
        ini.read(info["ini"])
        method = ini.get("app:main", "ckan.datastore.default_fts_index_method", fallback="gist") or "gist"
        entry = table_entry()
        frame = rows(args.rows)
        names = [n for n, _ in COLUMNS]
        csv_path = Path(workdir.name) / "p1.csv"
        with open(csv_path, "w", encoding="utf-8") as out:
            out.write(",".join(names) + "\n")
            out.write(_copy_text(frame, names).getvalue())
        server = serve(workdir.name)
        url = f"http://127.0.0.1:{server.server_address[1]}/p1.csv"
        print(f"P1 against xloader: {args.rows:,} rows x {len(COLUMNS)} columns "
              f"(CSV {csv_path.stat().st_size / 1e6:.1f} MB) into CKAN at {info['url']}")
        for org in ("bench-p1-org",):
            try:
                client.call_action("organization_create", {"name": org})
            except Exception:  # noqa: BLE001 - kept from an earlier run
                pass
        try:
            client.call_action("dataset_purge", {"id": "bench-p1x"})
        except Exception:  # noqa: BLE001 - not there yet
            pass
        pkg = client.call_action("package_create", {"name": "bench-p1x", "owner_org": "bench-p1-org"})

        # Rounds on a shared machine: the three loads alternate (their order turns each round) so
        # that contention and the autovacuum one load leaves behind fall on each in turn.
        floors: list[dict[str, float]] = []
        xloads: list[tuple[float, dict]] = []
        fasts: list[tuple[float, str]] = []

        def run_floor() -> None:
            floors.append(floor_sql(dsn, _copy_text(frame, names), method))

        def run_xloader() -> None:
            seconds, status = xloader_load(client, pkg["id"], url, args.timeout)
            if status.get("status") != "complete":
                raise SystemExit(f"xloader job: {status.get('status')!r} after {seconds:.1f} s; "
                                 f"error {(status.get('task_info') or {}).get('error')}")
            total = client.call_action("datastore_search", {"resource_id": status["resource_id"], "limit": 0})
            assert total["total"] == args.rows, f"xloader: {total['total']} rows in the DataStore"
            xloads.append((seconds, status))

        def run_fast() -> None:
            # Not a format xloader takes: it leaves this resource to the project's load.
            res = client.call_action("resource_create", {"package_id": pkg["id"], "name": "fast",
                                                         "url": "http://example.invalid/fast", "format": "bench"})
            started = time.perf_counter()
            sync_datastore(client, res, entry, frame, frame, None, write_dsn=dsn)
            fasts.append((time.perf_counter() - started, res["id"]))
            assert client.call_action("datastore_search", {"resource_id": res["id"], "limit": 0})["total"] == args.rows
            assert client.call_action("datastore_search", {"resource_id": res["id"], "q": "Trayek",
                                                           "limit": 0})["total"] > 0

        loads = [run_floor, run_xloader, run_fast]
        for turn in range(args.rounds):
            for load in loads[turn % 3:] + loads[:turn % 3]:
                load()
        median = statistics.median
        floor = {k: median(f[k] for f in floors) for k in floors[0]}
        floor_totals = [sum(v for k, v in f.items() if k != "unique index on the key") for f in floors]
        xl_seconds = median(x for x, _ in xloads)
        xl_id = xloads[-1][1]["resource_id"]
        fast = median(f for f, _ in fasts)
        fast_id = fasts[-1][1]

        api = None
        if args.api_rows:
            subset = frame.iloc[:args.api_rows]
            api_res = client.call_action("resource_create", {"package_id": pkg["id"], "name": "api",
                                                             "url": "http://example.invalid/api", "format": "bench"})
            started = time.perf_counter()
            sync_datastore(client, api_res, entry, subset, subset, None)
            api = time.perf_counter() - started

        def line(label: str, seconds: float, n: int = args.rows) -> str:
            return f"  {label:<52} {seconds:8.2f} s  {n / seconds:10,.0f} rows/s"

        def each(values: list[float]) -> str:
            return ", ".join(f"{v:.2f}" for v in values)

        print(f"  {args.rounds} rounds, medians below; the rounds: floor {each(floor_totals)} s | "
              f"xloader {each([x for x, _ in xloads])} s | fast path {each([f for f, _ in fasts])} s")
        new_floor = median(floor_totals)
        print(line("(floor) CKAN's table in SQL: create+COPY+UPDATE+index", new_floor))
        for label, seconds in floor.items():
            print(f"      {label:<40} {seconds:8.2f} s")
        print(line("(floor) same + unique index on the key", new_floor + floor["unique index on the key"]))
        print(line("(peer) ckanext-xloader 2.6.0, end to end", xl_seconds))
        phases: dict[str, list[float]] = {}
        for _, status in xloads:
            for label, seconds in xloader_phases(status):
                phases.setdefault(label, []).append(seconds)
        for label, values in phases.items():
            print(f"      {label:<40} {median(values):8.2f} s")
        print(line("(project) fast path: datastore_create + COPY", fast))
        if api is not None:
            print(line(f"(project) API path, {args.api_rows:,} rows", api, args.api_rows))
            print(f"      extrapolated to {args.rows:,} rows: {api * args.rows / args.api_rows:.1f} s")
        print(f"  xloader / fast path   = {xl_seconds / fast:.2f}x   (goal >= 2x: "
              f"{'met' if xl_seconds / fast >= 2 else 'NOT met'})")
        print(f"  fast path / new floor = {fast / new_floor:.2f}x   (goal <= 1.2x: "
              f"{'met' if fast / new_floor <= 1.2 else 'NOT met'})")
        print(f"  fast path / floor with the key index = {fast / (new_floor + floor['unique index on the key']):.2f}x")
        for label, res_id in (("xloader", xl_id), ("fast path", fast_id)):
            print(f"  indexes of the {label}'s table:")
            for definition, size in table_indexes(dsn, res_id):
                print(f"      {size:>8}  {definition}")
        # A rare word (one row's key): what the full-text index is for.
        word = str(args.rows // 3)
        for label, res_id in (("xloader", xl_id), ("fast path", fast_id)):
            found = client.call_action("datastore_search", {"resource_id": res_id, "q": word, "limit": 0})["total"]
            seconds = search_seconds(client, res_id, {}, args.repeat, q=word)
            print(f"  datastore_search q={word} on the {label}'s table: {found} row, {seconds * 1000:.1f} ms "
                  f"(median of {args.repeat})")
        print("  per-column B-tree indexes on the fast path's table, datastore_search with filters "
              f"(median of {args.repeat}):")
        for text in column_indexes(client, dsn, fast_id, args.repeat):
            print(text)
        client.call_action("dataset_purge", {"id": pkg["id"]})
    finally:
        if server is not None:
            server.shutdown()
        workdir.cleanup()
        if not args.keep:
            subprocess.run([sys.executable, str(REPO / "devstack" / "ckanstack.py"), "down", "--instance",
                            args.instance, "--purge"], check=False, stdout=subprocess.DEVNULL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
