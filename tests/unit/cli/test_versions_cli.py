"""``python -m satudata versions`` and ``rollback`` without a portal: the listing and the refusals."""

from __future__ import annotations

import io

from satudata.__main__ import main
from satudata.cli.versions import run_rollback, run_versions
from satudata.publish.versions import VersionStore

DATASET = "dpmptsp_izin_terbit_bulanan"


def test_versions_are_listed_oldest_first_and_an_unknown_one_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SATUDATA_VERSION_STORE", str(tmp_path / "store"))
    store = VersionStore(str(tmp_path / "store"))
    data = tmp_path / "x.csv"
    data.write_text("a\n1\n")
    for seq, periods in ((1, ["2026-09"]), (2, ["2026-09", "2026-10"])):
        store.record(DATASET, [("csv", data)], satudata_versi=f"sha256:{seq:064x}", run_id=f"run-{seq}",
                     periods=periods, period_rows={p: 3 for p in periods}, rows=3 * len(periods), quality="passed")
    out = io.StringIO()
    assert run_versions(DATASET, out, read_portal=False) == 0
    lines = out.getvalue().splitlines()
    assert lines[0].split()[:2] == ["versi", "waktu"]
    assert lines[1].startswith("0001-000000000000") and "2026-09..2026-09 (1)" in lines[1] and "run-1" in lines[1]
    assert lines[2].startswith("0002-") and "2026-09..2026-10 (2)" in lines[2] and lines[2].rstrip().endswith("?")
    assert lines[3] == f"2 version(s) in {tmp_path / 'store'}"

    out = io.StringIO()
    assert run_rollback(DATASET, "7", out) == 2
    assert "no version matches '7'" in out.getvalue() and "0001-" in out.getvalue()
    assert main(["versions", "tidak_ada"]) == 2
    assert "tidak_ada" in capsys.readouterr().out
