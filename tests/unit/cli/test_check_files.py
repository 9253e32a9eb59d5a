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
    assert str(bad) in message and "Lama Proses (jam)" in message and "empat jam" not in message
    assert "text of 9 characters (letters, spaces) is not a number" in message
    assert "row 4" in message or "baris 4" in message


def _with_schedule(schedule: str, period_columns: dict[str, str]):
    from satudata.catalog import get_entry

    entry = get_entry("dpmptsp_izin_terbit_bulanan")
    return entry.model_copy(update={"schedule": schedule, "period_columns": period_columns})


@pytest.mark.parametrize("schedule, columns, key", [
    ("monthly", {"year": "tahun", "month": "bulan"}, "2024-02"),
    ("annual", {"year": "tahun"}, "2024"),
    ("quarterly", {"year": "tahun", "quarter": "triwulan"}, "2024-Q1"),
    ("quarterly", {"year": "tahun", "month": "bulan"}, None),
    ("weekly", {"year": "tahun", "week": "minggu"}, None),
    ("semiannual", {"year": "tahun", "semester": "semester"}, None),
])
def test_period_inferred_from_the_rows(schedule, columns, key):
    import pandas as pd

    from satudata.cli.check import infer_period

    frame = pd.DataFrame({"tahun": [2024, 2024, 2023], "bulan": [2, 2, 11], "triwulan": [1, 1, 4],
                          "minggu": [5, 5, 45], "semester": [1, 1, 2]})
    period = infer_period(_with_schedule(schedule, columns), frame)
    assert (period.key if period else None) == key


TABLE = """kode_provinsi,nama_provinsi,kode_kabupaten_kota,nama_kabupaten_kota,tahun,bulan,kode_jenis_izin,\
jenis_izin,jumlah_izin_terbit,rata_rata_hari_proses,median_hari_proses,persentil_90_hari_proses,\
standar_pelayanan_hari,persentase_sesuai_standar
64,Kalimantan Timur,64.72,Kota Samarinda,2024,1,PBG,Persetujuan Bangunan Gedung,12,19.5,20.0,27.1,28,91.67
"""


@pytest.mark.parametrize("schedule, args, shown", [
    ("annual", ["--period", "2024"], "2024\n"),
    ("annual", [], "2024 (inferred from the rows"),
    ("quarterly", ["--period", "2024-Q1"], "2024-Q1\n"),
    ("weekly", ["--period", "2024-W05"], "2024-W05\n"),
])
def test_check_takes_the_new_period_keys(tmp_path, capsys, monkeypatch, schedule, args, shown):
    import satudata.cli.check as check

    entry = _with_schedule(schedule, {"year": "tahun"})
    monkeypatch.setattr(check, "get_entry", lambda _: entry)
    table = tmp_path / "table.csv"
    table.write_text(TABLE, encoding="utf-8")
    code = main(["check", entry.id, str(table), "--transformed", *args, "--report-dir", str(tmp_path / "r")])
    out, err = capsys.readouterr()
    assert code in (0, 1), out + err
    assert f"Period    {shown}" in out


def test_check_refuses_a_key_of_another_schedule(tmp_path, capsys):
    table = tmp_path / "table.csv"
    table.write_text(TABLE, encoding="utf-8")
    assert main(["check", "dpmptsp_izin_terbit_bulanan", str(table), "--transformed", "--period", "2024-Q1"]) == 2
    assert "--period '2024-Q1' is not a monthly period key (e.g. 2026-10)" in capsys.readouterr().err
