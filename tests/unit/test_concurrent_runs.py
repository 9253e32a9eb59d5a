"""Periods of one dataset written at once, as a backfill runs them: every period once, files intact.

Each thread runs ``steps.write_outputs`` for its own period of one dataset, all released
together; whatever order they finish in, the published CSV and Parquet hold every period's rows
exactly once, the CSV parses cleanly and matches its data dictionary, and no temporary file is
left behind.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pandas as pd
import pyarrow.parquet as pq
import pytest

from satudata import steps
from satudata.catalog import get_entry
from satudata.periods import Period
from satudata.run import RunContext
from transforms.tables import conform, write_parquet

MONTHS = [f"2025-{m:02d}" for m in range(1, 7)]
REGENCIES = [("64.72", "Kota Samarinda"), ("64.71", "Kota Balikpapan"), ("64.11", "Kabupaten Mahakam Ulu"),
             ("64.02", "Kabupaten Kutai Kartanegara")]
PERMIT_TYPES = [(f"P{i:02d}", f"Jenis izin {i}") for i in range(40)]


def _publishable(entry, run: RunContext) -> steps.GateOutput:
    """What the gate hands on for one period: its rows (as many as a real month) and its reports."""
    values = run.period.values()
    rows = [["64", "Kalimantan Timur", code, name, values["year"], values["month"], kode, jenis,
             10 + i, 19.5, 20.0, 27.1, 28, 91.67]
            for code, name in REGENCIES for i, (kode, jenis) in enumerate(PERMIT_TYPES)]
    frame = conform(pd.DataFrame(rows, columns=entry.table.column_names), entry.table.columns)
    publishable = write_parquet(frame, entry.table.columns, run.period_dir("staging") / "publishable.parquet")
    reports = run.owner_only_dir("reports") / run.run_id
    reports.mkdir()
    (reports / "validation.json").write_text(json.dumps({"period": run.period.key}), encoding="utf-8")
    (reports / "report.html").write_text(f"<p>{run.period.key}</p>", encoding="utf-8")
    return {"publishable": str(publishable), "report_json": str(reports / "validation.json"),
            "report_html": str(reports / "report.html"), "suppression_note": ""}


def test_periods_written_at_once_all_end_in_the_published_files(tmp_path):
    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    runs = [RunContext(entry, Period.from_key(key, "monthly"), f"backfill__{key}", data_root=tmp_path)
            for key in MONTHS]
    gates = [_publishable(entry, run) for run in runs]
    start = threading.Barrier(len(runs))

    def write(run: RunContext, gate: steps.GateOutput) -> steps.Written:
        start.wait()
        return steps.write_outputs(run, gate)

    with ThreadPoolExecutor(len(runs)) as pool:
        written = list(pool.map(write, runs, gates))  # re-raises the first failure of any thread

    per_period = len(REGENCIES) * len(PERMIT_TYPES)
    published = tmp_path / "published" / entry.id
    text = (published / f"{entry.ckan.name}.csv").read_text(encoding="utf-8")
    header, *records = list(csv.reader(io.StringIO(text, newline="")))
    assert header == entry.table.column_names
    assert all(len(r) == len(header) for r in records), "a CSV line does not have the header's field count"
    year, month = header.index("tahun"), header.index("bulan")
    assert Counter(f"{r[year]}-{int(r[month]):02d}" for r in records) == dict.fromkeys(MONTHS, per_period)
    keys = [tuple(r[header.index(c)] for c in entry.table.primary_key) for r in records]
    assert len(set(keys)) == len(keys), "a row is in the CSV twice"
    frame = pd.read_csv(io.StringIO(text), dtype=str)
    assert len(frame) == len(MONTHS) * per_period

    parquet = pq.read_table(published / f"{entry.ckan.name}.parquet")
    assert parquet.num_rows == len(MONTHS) * per_period
    # The data dictionary describes the CSV that is there, not one another run wrote before it.
    package = json.loads((published / "datapackage.json").read_text(encoding="utf-8"))
    resource = package["resources"][0]
    assert resource["hash"] == "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    assert resource["rows"] == len(MONTHS) * per_period
    assert package["temporal"]["start"].startswith("2025-01") and package["temporal"]["end"].startswith("2025-06")

    leftovers = [p for p in tmp_path.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []

    # Whichever run publishes last describes the files as they are, not as its write left them.
    for facts in written:
        now = steps.as_published(facts)
        assert (now["rows"], now["first_period"], now["last_period"]) == (len(MONTHS) * per_period, MONTHS[0],
                                                                         MONTHS[-1])
    # Only the last write's files are as their run left them; the others' publish loads every period.
    assert sum(not steps.as_published(facts)["rebuilt_since"] for facts in written) == 1


def test_a_failed_write_leaves_the_file_and_no_temporary_file(tmp_path):
    from transforms.writing import replacing

    target = tmp_path / "data.csv"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(RuntimeError), replacing(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise RuntimeError("writer failed")
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_two_writers_of_one_path_get_their_own_temporary_files(tmp_path):
    from transforms.writing import replacing

    target = tmp_path / "data.csv"
    with replacing(target) as first, replacing(target) as second:
        assert first != second and first.parent == second.parent == tmp_path
        first.write_text("first\n", encoding="utf-8")
        second.write_text("second\n", encoding="utf-8")
    # The later replace wins whole; nothing of the other is mixed in, nothing is left over.
    assert target.read_text(encoding="utf-8") == "first\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.csv"]


def test_a_run_of_another_period_waits_for_the_lock(tmp_path):
    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    one, other = (RunContext(entry, Period.from_key(k, "monthly"), k, data_root=tmp_path) for k in MONTHS[:2])
    order = []

    def other_run() -> None:
        with other.publishing_lock():
            order.append("other")

    with one.publishing_lock():
        waiting = threading.Thread(target=other_run)
        waiting.start()
        waiting.join(0.5)
        assert waiting.is_alive(), "the other period's run went ahead while the lock was held"
        order.append("one")
    waiting.join(5)
    assert order == ["one", "other"]
