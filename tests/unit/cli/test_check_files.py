"""The steward CLI reads file-export datasets with the DAG's own readers."""

from datetime import date

import pytest

from devstack.samples.agencies import write_exports
from satudata.__main__ import main


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    landing = tmp_path_factory.mktemp("landing")
    write_exports(landing, [date(2026, 10, 1)], [(2026, 1)])
    return landing


def test_disdukcapil_export_is_publishable(exports, tmp_path, capsys):
    path = exports / "dukcapil" / "layanan_dukcapil_2026-10.csv"
    code = main(["check", "dukcapil_dokumen_bulanan", str(path), "--period", "2026-10",
                 "--report-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "PUBLISHABLE" in out and "Personal data: none found" in out
    assert (tmp_path / "report.html").exists()


def test_text_in_a_numeric_column_names_file_row_and_column(exports, tmp_path, capsys):
    source = exports / "dukcapil" / "layanan_dukcapil_2026-10.csv"
    lines = source.read_bytes().decode("cp1252").splitlines()
    cells = lines[3].split(";")
    cells[7] = "empat jam"
    lines[3] = ";".join(cells)
    bad = tmp_path / "layanan_dukcapil_2026-10.csv"
    bad.write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    code = main(["check", "dukcapil_dokumen_bulanan", str(bad), "--period", "2026-10",
                 "--report-dir", str(tmp_path / "r")])
    err = capsys.readouterr()
    message = err.out + err.err
    assert code == 2, message
    assert str(bad) in message and "Lama Proses (jam)" in message and "empat jam" in message
    assert "row 4" in message or "baris 4" in message
