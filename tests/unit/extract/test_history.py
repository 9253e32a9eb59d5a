"""A history file (one export, many periods) publishes the same files as one export per period would."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from devstack.samples.tables import penumpang_history_csv
from satudata import steps
from satudata.catalog import get_entry
from satudata.extract.files import LandingFolder
from satudata.periods import Period
from satudata.run import RunContext

MONTHS = ["2024-01", "2024-02", "2024-03"]


def publish_months(entry, files: LandingFolder, root: Path) -> dict[str, bytes]:
    for key in MONTHS:
        run = RunContext(entry, Period.from_key(key, entry.schedule), f"t-{key}", data_root=root)
        staged = steps.transform(run, steps.extract(run, files))
        steps.write_outputs(run, steps.validate(run, staged))
    published = root / "published" / entry.id
    return {p.name: p.read_bytes() for p in published.iterdir() if not p.name.startswith("laporan-validasi")}


def test_history_backfill_gives_the_files_of_period_by_period_runs(tmp_path):
    entry = get_entry("dishub_penumpang_bulanan")
    history = tmp_path / "history"
    (history / "dishub").mkdir(parents=True)
    # Months beyond the backfilled ones are in the file too; a run takes only its own.
    body = penumpang_history_csv(date(2023, 11, 1), date(2024, 5, 1))
    (history / entry.source.path).write_bytes(body)
    from_history = publish_months(entry, LandingFolder(history), tmp_path / "a")

    per_period = entry.model_copy(update={"source": entry.source.model_copy(update={
        "history": False, "path": "dishub/penumpang_{period}.csv"})})
    landing = tmp_path / "monthly"
    (landing / "dishub").mkdir(parents=True)
    header, *lines = body.decode("utf-8-sig").splitlines()
    names = {"2024-01": "Januari 2024", "2024-02": "Februari 2024", "2024-03": "Maret 2024"}
    for key, name in names.items():
        month = [line for line in lines if line.startswith(name)]
        (landing / "dishub" / f"penumpang_{key}.csv").write_text("\n".join([header, *month]) + "\n", encoding="utf-8")
    from_months = publish_months(per_period, LandingFolder(landing), tmp_path / "b")

    assert sorted(from_history) == sorted(from_months)
    for name in from_history:
        assert from_history[name] == from_months[name], name
    assert from_history["dishub-penumpang-kapal-bulanan.csv"].count(b"\n") == 1 + 3 * 4
