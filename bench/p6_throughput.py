"""P6: N small datasets end to end on the CeleryExecutor with 2 workers vs one plain Python loop.

Both sides run the same catalog (copies of the bundled entries: SQL, agency API and export-file
sources), the same extract, gate, write and CKAN calls (``satudata.steps``), and publish to the
same local portal (devstack instance ``bench``), each under CKAN names of its own, from an empty
data zone. The loop runs the datasets one after the other in this process; Airflow runs them
through the real api-server, scheduler, dag-processor and two Celery workers
(``devstack/airflow_cluster.py``), timed from the first trigger until every run has finished.
Then every dataset of the Airflow side is checked: run succeeded, no resource name twice.
Goal: Airflow's wall time <= 3x the loop's, no task failures, no duplicate resources.

    .venv/bin/python bench/p6_throughput.py [--datasets 200] [--workers 2] [--concurrency 2]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from argparse import Namespace
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO / "plugins"), str(REPO)]


def make_catalog(folder: Path, suites: Path, datasets: int, suffix: str) -> None:
    """``datasets`` entries, copies of the bundled ones in turn, ids ``<id>_<n>``, CKAN names ``<name>-<n><suffix>``."""
    folder.mkdir(parents=True)
    suites.mkdir(parents=True, exist_ok=True)
    templates = sorted((REPO / "catalog").glob("*.yaml"))
    for i in range(datasets):
        src = templates[i % len(templates)]
        data = yaml.safe_load(src.read_text(encoding="utf-8"))
        data["id"] = f"{data['id']}_{i:03d}"
        data["ckan"]["name"] = f"{data['ckan']['name']}-{i:03d}{suffix}"[:100]
        (folder / f"{data['id']}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        shutil.copy(REPO / "expectations" / f"{src.stem}.json", suites / f"{data['id']}.json")


def run_loop(now: datetime) -> tuple[float, dict[str, str]]:
    """Every catalog entry's latest complete period through the steps, one after the other."""
    from pipeline_clients import close, datastore_write_dsn, portal, source_client

    from satudata import steps
    from satudata.catalog import load_catalog
    from satudata.periods import Period
    from satudata.run import RunContext

    states: dict[str, str] = {}
    start = time.monotonic()
    for entry in load_catalog():
        run = RunContext(entry, Period.latest_complete(entry.schedule, now), f"loop__{now.isoformat()}")
        try:
            source = source_client(entry)
            try:
                staged = steps.extract(run, source)
            finally:
                close(source)
            written = steps.write_outputs(run, steps.validate(run, steps.transform(run, staged)))
            steps.publish(run, written, portal(), datastore_write_dsn())
            states[entry.id] = "success"
        except Exception as exc:  # noqa: BLE001 - a failed dataset is counted, the loop goes on
            states[entry.id] = f"failed: {type(exc).__name__}"
    return time.monotonic() - start, states


def duplicates(client, names: list[str]) -> dict[str, list[str]]:
    """Datasets whose resources repeat a name."""
    found = {}
    for name in names:
        counts = Counter(r["name"] for r in client.action.package_show(id=name)["resources"])
        if any(n > 1 for n in counts.values()):
            found[name] = [k for k, n in counts.items() if n > 1]
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2, help="task slots per Celery worker")
    parser.add_argument("--port", type=int, default=5098, help="the bench portal's port")
    parser.add_argument("--keep-portal", action="store_true", help="leave the bench portal's datasets")
    parser.add_argument("--no-preload", action="store_true",
                        help="workers without plugins/satudata_celery.py: every task imports its libraries")
    args = parser.parse_args()

    from ckanapi import RemoteCKAN

    from devstack import airflow_cluster as cluster
    from devstack.samples.demo import ckan_connection, land_exports, licensing_db, local_portal, start_agency_api, stop
    from devstack.samples.licensing import ensure_licensing_sqlite
    from satudata import settings

    work = Path(tempfile.mkdtemp(prefix="bench-p6-"))
    portal_info = local_portal("bench", args.port)
    client = RemoteCKAN(portal_info["url"], apikey=portal_info["api_token"])
    os.environ.update({"AIRFLOW_CONN_CKAN_DEFAULT": ckan_connection(portal_info),
                       "SATUDATA_EXPECTATIONS_DIR": str(work / "expectations"), "GX_ANALYTICS_ENABLED": "False",
                       "SATUDATA_RETRY_DELAY_SECONDS": "5"})
    now = datetime.now(UTC)
    names: dict[str, list[str]] = {}
    try:
        # The loop: its own data zone, sources set up as the demo sets them up.
        os.environ["SATUDATA_DATA_DIR"] = str(work / "loop-data")
        os.environ["SATUDATA_CATALOG_DIR"] = str(work / "catalog-loop")
        make_catalog(work / "catalog-loop", work / "expectations", args.datasets, "-l")
        os.environ["AIRFLOW_CONN_DPMPTSP_PERIZINAN"] = json.dumps(
            {"conn_type": "sqlite", "host": str(ensure_licensing_sqlite(licensing_db()))})
        land_exports(now.astimezone().date())
        api = start_agency_api()
        try:
            loop_seconds, loop_states = run_loop(now)
        finally:
            stop(api)
        names["loop"] = [yaml.safe_load(p.read_text())["ckan"]["name"] for p in (work / "catalog-loop").glob("*.yaml")]

        # Airflow: the same datasets under other CKAN names, from an empty data zone.
        os.environ["SATUDATA_CATALOG_DIR"] = str(work / "catalog-airflow")
        make_catalog(work / "catalog-airflow", work / "expectations", args.datasets, "-a")
        os.environ.pop("AIRFLOW_CONN_DPMPTSP_PERIZINAN")
        cluster_args = Namespace(executor="celery", workers=args.workers, concurrency=args.concurrency,
                                 ckan_url=portal_info["url"], ckan_token=portal_info["api_token"],
                                 data_dir=str(work / "airflow-data"), run_dir=str(work / "cluster"), redis_db=8,
                                 logical_date=now.isoformat(), timeout=7200, preload=not args.no_preload)
        result = cluster.run_cluster(cluster_args)
        names["airflow"] = [yaml.safe_load(p.read_text())["ckan"]["name"]
                            for p in (work / "catalog-airflow").glob("*.yaml")]
        # record_failure is skipped when nothing failed.
        failed_tasks = sum(t["state"] not in ("success", "skipped") for tis in result["tasks"].values()
                           for t in tis.values())
        repeated = duplicates(client, names["airflow"])

        print(f"P6 throughput: {args.datasets} datasets, {settings.TIMEZONE} period of {now:%Y-%m-%d}, "
              f"CeleryExecutor with {args.workers} workers x {args.concurrency} slots, "
              f"{'no preload' if args.no_preload else 'libraries preloaded in the workers'}")
        print(f"  plain loop (one process)      {loop_seconds:8.1f} s   "
              f"{sum(s == 'success' for s in loop_states.values())}/{args.datasets} succeeded")
        print(f"  Airflow (trigger -> all done) {result['seconds']:8.1f} s   "
              f"{sum(s == 'success' for s in result['states'].values())}/{args.datasets} runs succeeded, "
              f"{failed_tasks} task(s) not successful, {len(repeated)} dataset(s) with a repeated resource")
        ratio = result["seconds"] / loop_seconds
        print(f"  ratio Airflow : loop   {ratio:.2f}x   (goal <= 3x: {'met' if ratio <= 3 else 'NOT met'})")
        return 0
    finally:
        if not args.keep_portal:
            for side in names.values():
                for name in side:
                    try:
                        client.action.dataset_purge(id=name)
                    except Exception:  # noqa: BLE001, S110 - a dataset the run did not make
                        pass
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
