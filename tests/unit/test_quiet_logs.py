"""Task logs keep what matters: the libraries' chatter below WARNING is held back, their warnings are not.

Great Expectations logs hundreds of INFO lines as it is imported and runs a suite, matplotlib its
font and category notes; ``settings.quiet_library_logs`` (called where each library is used) sets
those loggers to ``SATUDATA_LIBRARY_LOG_LEVEL``. Each case runs in a fresh interpreter, as a task
does, with the root logger at INFO like Airflow's task logging.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys

import pytest

from satudata import settings
from tests.conftest import REPO

SCRIPT = """
import logging, sys
logging.basicConfig(level=logging.INFO, stream=sys.stdout, format="%(levelname)s|%(name)s|%(message)s")
import pandas as pd
from satudata.catalog import get_entry
from satudata.gate.suite import validate_frame
from pathlib import Path
from satudata.publish.chart import write_chart
from transforms.tables import conform
entry = get_entry("dpmptsp_izin_terbit_bulanan")
rows = [["64", "Kalimantan Timur", "64.72", "Kota Samarinda", 2026, 10, "PBG", "Persetujuan Bangunan Gedung",
         12, 19.5, 20.0, 27.1, 28, 91.67]]
frame = conform(pd.DataFrame(rows, columns=entry.table.column_names), entry.table.columns)
validate_frame(frame, entry.suite_path(), entry.id, {"period_year": 2026, "period_month": 10})
write_chart(frame, entry, Path(sys.argv[1]))
logging.getLogger("great_expectations.core").warning("a warning of the library")
logging.getLogger("satudata.steps").info("the pipeline's own line")
"""


def run_script(tmp_path, level: str | None) -> list[tuple[str, str]]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")])}
    env.pop("SATUDATA_LIBRARY_LOG_LEVEL", None)
    if level:
        env["SATUDATA_LIBRARY_LOG_LEVEL"] = level
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path / "chart.png")], env=env, cwd=REPO,
                          capture_output=True, text=True, check=False, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return [tuple(line.split("|", 2)[:2]) for line in done.stdout.splitlines() if line.count("|") >= 2]


def chatty(records: list[tuple[str, str]], below: int = logging.WARNING) -> list[tuple[str, str]]:
    return [(level, name) for level, name in records
            if name.startswith(settings.CHATTY_LIBRARIES) and logging.getLevelName(level) < below]


def test_library_chatter_is_held_back_and_their_warnings_and_our_lines_pass(tmp_path):
    records = run_script(tmp_path, None)
    assert chatty(records) == []
    assert ("WARNING", "great_expectations.core") in records
    assert ("INFO", "satudata.steps") in records


def test_the_setting_brings_the_chatter_back(tmp_path):
    # The same script at INFO: proves the first test would see the chatter if it were there.
    records = run_script(tmp_path, "info")
    assert len([r for r in chatty(records) if r[1].startswith("great_expectations")]) > 20


def test_a_misspelt_level_is_refused(monkeypatch):
    monkeypatch.setenv("SATUDATA_LIBRARY_LOG_LEVEL", "LOUD")
    with pytest.raises(ValueError, match="SATUDATA_LIBRARY_LOG_LEVEL"):
        settings.quiet_library_logs()
