"""``make demo``'s terminal: one line per dataset and the summary; Airflow's full log in the file it names.

Runs the demo runner (``python -m devstack.samples.demo``, what ``make demo`` runs) on a catalog
of one dataset, publishing to the CKAN test portal, in a fresh Airflow home and data zone.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.integration.local_airflow import one_entry_catalog

pytestmark = pytest.mark.integration

DATASET = "dpmptsp_izin_terbit_bulanan"


def test_demo_prints_a_line_per_dataset_and_writes_airflows_log_to_the_file_it_names(tmp_path, ckan_portal):
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW", "SATUDATA_"))}
    env.update({
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "SATUDATA_DATA_DIR": str(tmp_path / "data"),
        "SATUDATA_CATALOG_DIR": str(one_entry_catalog(tmp_path, DATASET)),
        "AIRFLOW_CONN_CKAN_DEFAULT": json.dumps(
            {"conn_type": "ckan", "host": ckan_portal["url"], "password": ckan_portal["api_token"]}),
    })
    done = subprocess.run([sys.executable, "-m", "devstack.samples.demo"], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    lines = done.stdout.splitlines()
    named = re.fullmatch(r"Running 1 datasets with dag\.test\(\); Airflow's full log: (\S+)", lines[0])
    assert named, lines[0]
    log = Path(named.group(1))
    assert log.parent == tmp_path / "data" / "logs"
    assert re.fullmatch(rf"\[1/1\] {DATASET} \d{{4}}-\d{{2}}: success, \d+ rows, validation passed \(\d+ s\)",
                        lines[1]), lines[1]
    assert lines[-1] == f"Airflow's full log: {log}"
    # The summary table: a blank line, its header, a rule, the dataset's row; nothing else.
    assert lines[2] == "" and lines[3].split() == ["dataset", "period", "state", "rows", "validation", "url"]
    assert set(lines[4]) == {"-"} and lines[5].startswith(DATASET) and lines[6] == ""
    assert len(lines) == 8
    # Airflow's own output went to the log, none of it to the terminal.
    text = log.read_text(encoding="utf-8")
    for task in ("extract", "transform", "validate", "write", "publish"):
        assert f"task_id={task}" in text, task
    assert "source rows extracted" in text and "gate passed" in text
    assert "source rows extracted" not in done.stdout + done.stderr
    assert len(done.stderr.splitlines()) < 30, done.stderr
