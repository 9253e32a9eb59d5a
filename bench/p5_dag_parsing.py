"""P5: time the dag-processor takes to parse dags/ with N catalog datasets vs one empty DAG file.

Each parse runs the way Airflow 3's dag-processor runs it: the Airflow modules a DAG file imports
are imported first (``_pre_import_airflow_modules``, not timed), then a forked child parses the
file with the processor's own ``_parse_file`` (stability check, DagBag, serialization of every
DAG) and encodes the result message it would send back. The child times only that. The folders
take turns in each round so that load on the machine hits all alike; a first round (compiling
bytecode) is not counted. Also measured: the same DAGs written by hand with no catalog
(Airflow's own cost for them). Goal: dags/ <= 2x the empty DAG file.

    .venv/bin/python bench/p5_dag_parsing.py [--datasets 50] [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent

EMPTY_DAG = '''
from datetime import datetime
from airflow.sdk import dag, task

@dag(dag_id="empty", schedule=None, start_date=datetime(2024, 1, 1))
def empty():
    @task
    def noop():
        pass
    noop()

empty()
'''

# The DAGs of dags/ (tasks, dependencies, retries, timetable, outlet, trigger rule) with no
# catalog, no documentation and empty task bodies: Airflow's own cost for this many DAGs.
SAME_SHAPE_DAGS = '''
from datetime import datetime, timedelta
from airflow.sdk import Asset, CronDataIntervalTimetable, dag, task

def alert(context):
    pass

for i in range({n}):
    asset = Asset(name=f"dataset-{{i}}", uri=f"ckan://org/dataset-{{i}}")

    @dag(dag_id=f"dataset_{{i}}", start_date=datetime(2024, 1, 1), catchup=False, max_active_runs=1,
         schedule=CronDataIntervalTimetable("0 0 1 * *", timezone="Asia/Makassar"), tags=["satudata"],
         default_args={{"owner": "satudata", "retries": 3, "retry_delay": timedelta(seconds=120),
                       "retry_exponential_backoff": True, "max_retry_delay": timedelta(minutes=30),
                       "on_failure_callback": alert}})
    def pipeline():
        @task
        def extract(data_interval_start=None, data_interval_end=None, run_id=None) -> str:
            return ""

        @task
        def transform(raw_path: str, data_interval_start=None, data_interval_end=None) -> str:
            return ""

        @task
        def validate(staged_path: str, data_interval_start=None, data_interval_end=None, run_id=None) -> dict:
            return {{}}

        @task
        def write(gate: dict, data_interval_start=None, data_interval_end=None) -> dict:
            return {{}}

        @task(outlets=[asset])
        def publish(outputs: dict, data_interval_start=None, data_interval_end=None, run_id=None) -> dict:
            return {{}}

        @task(trigger_rule="one_failed")
        def record_failure(data_interval_start=None, data_interval_end=None, run_id=None) -> dict:
            return {{}}

        gate = validate(transform(extract()))
        publish(write(gate))
        gate >> record_failure()

    pipeline()
'''


# Airflow's default [dag_processor] min_file_process_interval, and docker-compose.yml's.
PARSE_INTERVALS = (30, 180)


def make_catalog(work: Path, datasets: int) -> tuple[Path, Path]:
    """A catalog of ``datasets`` entries (copies of the bundled ones) and their suites."""
    catalog, suites = work / "catalog", work / "expectations"
    catalog.mkdir(), suites.mkdir()
    templates = sorted((REPO / "catalog").glob("*.yaml"))
    for i in range(datasets):
        src = templates[i % len(templates)]
        data = yaml.safe_load(src.read_text(encoding="utf-8"))
        data["id"] = f"{data['id']}_{i:03d}"
        data["ckan"]["name"] = f"{data['ckan']['name']}-{i:03d}"
        (catalog / f"{data['id']}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        shutil.copy(REPO / "expectations" / f"{src.stem}.json", suites / f"{data['id']}.json")
    return catalog, suites


def dag_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.py"))


def timed(func, spent: list[float]):
    """``func``, adding the seconds each call takes to ``spent[0]``."""

    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - start

    return wrapper


def parse_file(path: Path, folder: Path, env: dict[str, str]) -> dict:
    """What one dag-processor child does with one file, timed; runs in the forked child."""
    import structlog
    from airflow.dag_processing import processor
    from airflow.sdk.execution_time.comms import _RequestFrame

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)  # the DagBag logs each file it fills from
    os.environ.update(env)
    # Airflow puts the plugins folder on sys.path in every component; the DAG file imports from it.
    sys.path.insert(0, str(REPO / "plugins"))
    spent = [0.0]
    processor._serialize_dags = timed(processor._serialize_dags, spent)
    wall, cpu = time.perf_counter(), time.process_time()
    request = processor.DagFileParseRequest(file=str(path), bundle_path=folder, bundle_name="dags-folder")
    result = processor._parse_file(request, structlog.get_logger(logger_name="task"))
    frame = _RequestFrame(id=0, body=result.model_dump()).as_bytes()
    return {"seconds": time.perf_counter() - wall, "cpu": time.process_time() - cpu, "serialize": spent[0],
            "dags": len(result.serialized_dags), "bytes": len(frame), "errors": result.import_errors}


def parse_in_child(folder: Path, env: dict[str, str]) -> dict:
    """Parse every DAG file of ``folder`` as the dag-processor does, each in a forked child."""
    total = {"seconds": 0.0, "cpu": 0.0, "serialize": 0.0, "dags": 0, "bytes": 0}
    for path in dag_files(folder):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: one file, like one DagFileProcessorProcess
            try:
                os.close(read_end)
                os.write(write_end, json.dumps(parse_file(path, folder, env)).encode())
            finally:
                os._exit(0)  # never back into the parent's loop, whatever happened
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        os.waitpid(pid, 0)
        if not data:
            raise SystemExit(f"{path}: the parsing child failed")
        out = json.loads(data)
        if out.pop("errors"):
            raise SystemExit(f"{path}: import errors while parsing: {out}")
        for key in total:
            total[key] += out[key]
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-p5-"))
    try:
        catalog, suites = make_catalog(work, args.datasets)
        empty, shape = work / "empty_dags", work / "same_shape_dags"
        empty.mkdir(), shape.mkdir()
        (empty / "empty.py").write_text(EMPTY_DAG, encoding="utf-8")
        (shape / "same_shape.py").write_text(SAME_SHAPE_DAGS.format(n=args.datasets), encoding="utf-8")
        os.environ.update({"AIRFLOW_HOME": str(work / "airflow"), "SATUDATA_CATALOG_DIR": str(catalog),
                           "SATUDATA_EXPECTATIONS_DIR": str(suites), "SATUDATA_DATA_DIR": str(work / "data"),
                           "AIRFLOW__CORE__LOAD_EXAMPLES": "False"})
        # A deployment keeps compiled bytecode; without it every parse would recompile every module.
        sys.dont_write_bytecode = False
        import structlog
        from airflow.dag_processing import processor

        # "nocache": dags/ with the catalog cache unwritable, every YAML file parsed at every parse.
        folders = {"empty": (empty, {}), "ours": (REPO / "dags", {}), "shape": (shape, {}),
                   "nocache": (REPO / "dags", {"SATUDATA_CACHE_DIR": "/dev/null/no-cache"})}
        for folder, _ in folders.values():
            for path in dag_files(folder):
                processor._pre_import_airflow_modules(str(path), structlog.get_logger())
        runs: dict[str, list[dict]] = {name: [] for name in folders}
        for round_ in range(args.repeat + 1):
            for name, (folder, env) in folders.items():
                result = parse_in_child(folder, env)
                if round_:
                    runs[name].append(result)

        # dags/ also holds the project's own DAGs (the delivery monitor, the weekly digest).
        if runs["ours"][0]["dags"] != args.datasets + 2:
            raise SystemExit(f"dags/ gave {runs['ours'][0]['dags']} DAGs for {args.datasets} datasets")

        def median(name: str, key: str) -> float:
            return statistics.median(r[key] for r in runs[name])

        print(f"P5 DAG parsing as the dag-processor parses a file ({args.repeat} runs each, median, "
              "wall / CPU ms; serialization part of wall)")
        labels = {"empty": "empty DAG file (floor)", "ours": f"dags/, {args.datasets} catalog datasets",
                  "shape": "same DAGs by hand, no catalog", "nocache": "dags/, no catalog cache"}
        for name, label in labels.items():
            print(f"  {label:32s} {median(name, 'seconds') * 1000:8.1f} / {median(name, 'cpu') * 1000:7.1f}"
                  f"   serialize {median(name, 'serialize') * 1000:6.1f}   ({runs[name][0]['dags']} DAGs, "
                  f"{runs[name][0]['bytes']:,} bytes sent)")
        wall = median("ours", "seconds") / median("empty", "seconds")
        cpu = median("ours", "cpu") / median("empty", "cpu")
        print(f"  ratio dags/ : empty   {wall:.2f}x wall, {cpu:.2f}x CPU  (goal <= 2x)")
        wall = median("shape", "seconds") / median("empty", "seconds")
        cpu = median("shape", "cpu") / median("empty", "cpu")
        print(f"  ratio hand-written : empty   {wall:.2f}x wall, {cpu:.2f}x CPU  (what Airflow alone costs)")
        per_dataset = median("ours", "cpu") / median("shape", "cpu")
        print(f"  per dataset, dags/ : by hand   {per_dataset:.2f}x CPU  (goal <= 1x); without the catalog "
              f"cache {median('nocache', 'cpu') / median('shape', 'cpu'):.2f}x")
        shares = ", ".join(f"{interval} s: {median('ours', 'cpu') / interval:.1%}" for interval in PARSE_INTERVALS)
        print(f"  dag-processor busy, share of one core (parse CPU / min_file_process_interval): {shares}"
              "  (goal <= 10%)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
