"""The raw, quarantine and report zones are the pipeline user's only, whatever the umask.

They hold input as the agency sent it (personal data included, before the gate), input that was
refused, and the gate's findings. Runs under umask 0o022 (a common default, which would leave
them readable by every user): folders must be 0o700 and files 0o600 all the same.
"""

from __future__ import annotations

import os
import stat
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from devstack.samples.tables import penumpang_history_csv
from satudata import steps
from satudata.catalog import get_entry
from satudata.extract import SourceError
from satudata.extract.files import LandingFolder
from satudata.periods import Period
from satudata.run import OWNER_ONLY_ZONES, RunContext


@pytest.fixture
def umask_022():
    before = os.umask(0o022)
    yield
    os.umask(before)


def _modes(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root.parent)): stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}


def _assert_owner_only(data_root: Path) -> None:
    for zone in sorted(OWNER_ONLY_ZONES):
        modes = _modes(data_root / zone)
        assert len(modes) > 2, f"nothing was written in the {zone} zone"
        wrong = {path: oct(mode) for path, mode in modes.items()
                 if mode != (0o700 if (data_root / path).is_dir() else 0o600)}
        assert wrong == {}, f"{zone} zone: not owner-only"


def test_files_of_a_run_and_of_refused_input_are_owner_only(tmp_path, umask_022, sample_sqlite):
    root = tmp_path / "data"
    root.mkdir()
    # An export file read, checked and passed by the gate: raw zone, reports zone.
    entry = get_entry("dishub_penumpang_bulanan")
    landing = tmp_path / "landing"
    (landing / entry.source.path).parent.mkdir(parents=True)
    (landing / entry.source.path).write_bytes(penumpang_history_csv(date(2024, 1, 1), date(2024, 3, 1)))
    run = RunContext(entry, Period.from_key("2024-01", "monthly"), "manual__1", data_root=root)
    steps.validate(run, steps.transform(run, steps.extract(run, LandingFolder(landing))))
    # A file that cannot be read as declared: raw zone, quarantine.
    (landing / entry.source.path).write_bytes(b"Bulan;Pelabuhan\nbukan bulan;?\n")
    refused = RunContext(entry, Period.from_key("2024-02", "monthly"), "manual__2", data_root=root)
    with pytest.raises(SourceError):
        steps.extract(refused, LandingFolder(landing))
    # Rows of a database query: raw zone.
    permits = get_entry("dpmptsp_izin_terbit_bulanan")
    query_run = RunContext(permits, Period.from_key("2024-01", "monthly"), "manual__3", data_root=root)
    engine = sa.create_engine(f"sqlite:///{sample_sqlite}")
    try:
        steps.extract(query_run, engine)
    finally:
        engine.dispose()

    _assert_owner_only(root)
    # The published files are not the zones' business: they keep the umask's mode.
    staged = root / "staging" / entry.id / "2024-01" / "transformed.parquet"
    assert stat.S_IMODE(staged.stat().st_mode) == 0o644


def test_a_zone_made_before_with_the_umask_is_made_owner_only(tmp_path, umask_022):
    entry = get_entry("dishub_penumpang_bulanan")
    root = tmp_path / "data"
    run = RunContext(entry, Period.from_key("2024-01", "monthly"), "manual__1", data_root=root)
    (root / "raw" / entry.id).mkdir(parents=True)  # as an older version left it: 0o755
    folder = run.owner_only_dir("raw")
    assert {oct(stat.S_IMODE(p.stat().st_mode)) for p in (folder, folder.parent, folder.parent.parent)} == {"0o700"}
    assert stat.S_IMODE(root.stat().st_mode) == 0o755  # the data dir itself is not a zone
