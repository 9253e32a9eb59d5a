"""P5: time to parse dags/ with N catalog datasets vs one empty DAG file (the floor).

Each measurement is a fresh interpreter that imports Airflow first (not timed) and then times
only the DAG folder's parse by DagBag, as the dag-processor does. Prints the median of several
repetitions and the ratio. Goal: <= 2x the empty DAG file.

    .venv/bin/python bench/p5_dag_parsing.py [--datasets 50] [--repeat 7]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
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

PARSE = r'''
import json, sys, time
from airflow.dag_processing.dagbag import DagBag
t0 = time.perf_counter()
bag = DagBag(dag_folder=sys.argv[1])
elapsed = time.perf_counter() - t0
assert not bag.import_errors, bag.import_errors
print(json.dumps({"seconds": elapsed, "dags": len(bag.dags)}))
'''


def parse_seconds(folder: Path, env: dict[str, str]) -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", PARSE, str(folder)], env=env, capture_output=True, text=True,
                         check=True).stdout.strip().splitlines()[-1]
    result = json.loads(out)
    return result["seconds"], result["dags"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--datasets", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="bench-p5-"))
    try:
        catalog, suites, empty = work / "catalog", work / "expectations", work / "empty_dags"
        catalog.mkdir(), suites.mkdir(), empty.mkdir()
        templates = sorted((REPO / "catalog").glob("*.yaml"))
        for i in range(args.datasets):
            src = templates[i % len(templates)]
            data = yaml.safe_load(src.read_text(encoding="utf-8"))
            data["id"] = f"{data['id']}_{i:03d}"
            data["ckan"]["name"] = f"{data['ckan']['name']}-{i:03d}"
            (catalog / f"{data['id']}.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
            shutil.copy(REPO / "expectations" / f"{src.stem}.json", suites / f"{data['id']}.json")
        (empty / "empty.py").write_text(EMPTY_DAG, encoding="utf-8")
        env = {**os.environ, "AIRFLOW_HOME": str(work / "airflow"), "SATUDATA_CATALOG_DIR": str(catalog),
               "SATUDATA_EXPECTATIONS_DIR": str(suites), "AIRFLOW__CORE__LOAD_EXAMPLES": "False"}
        floor = [parse_seconds(empty, env)[0] for _ in range(args.repeat)]
        ours, dags = [], 0
        for _ in range(args.repeat):
            seconds, dags = parse_seconds(REPO / "dags", env)
            ours.append(seconds)
        f, o = statistics.median(floor), statistics.median(ours)
        print(f"P5 DAG parsing ({args.repeat} runs each, median)")
        print(f"  empty DAG file (floor):        {f * 1000:8.1f} ms  (1 DAG)")
        print(f"  dags/ with {args.datasets} catalog datasets: {o * 1000:8.1f} ms  ({dags} DAGs)")
        print(f"  ratio: {o / f:.2f}x  (goal <= 2x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
