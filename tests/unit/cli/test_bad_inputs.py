"""The bad-input corpus: each broken file ends in a named error (or is published neutralised).

Every case goes through the steward CLI (``python -m satudata check``), which runs the same
reader, transform, suite and personal-data scan as the DAG. The DAG cases, which plant bad rows
in the SQL source and run the real DAG against the real CKAN test portal, are in
tests/integration/test_bad_inputs_dag.py.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from satudata.__main__ import main
from satudata.catalog import get_entry
from tests.adversarial import has_controls, runs_as_formula

DATASET = "dpmptsp_izin_terbit_bulanan"
NIK = "6472015203850012"  # synthetic, valid structure (a woman born 12-03-1985 in Samarinda)

RAW = """kode_wilayah,kode_jenis_izin,nama_jenis_izin,standar_hari,tanggal_pengajuan,tanggal_terbit
64.72,PBG,Persetujuan Bangunan Gedung,28,2026-09-20,2026-10-01
64.72,PBG,Persetujuan Bangunan Gedung,28,2026-09-01,2026-10-10
64.72,PBG,Persetujuan Bangunan Gedung,28,2026-10-01,2026-10-31
64.72,SIPA,Surat Izin Praktik Apoteker,5,2026-10-02,2026-10-05
64.71,SIPA,Surat Izin Praktik Apoteker,5,2026-10-02,2026-10-12
64.71,PBG,Persetujuan Bangunan Gedung,28,2026-10-03,2026-10-20
"""

TABLE = """kode_provinsi,nama_provinsi,kode_kabupaten_kota,nama_kabupaten_kota,tahun,bulan,kode_jenis_izin,\
jenis_izin,jumlah_izin_terbit,rata_rata_hari_proses,median_hari_proses,persentil_90_hari_proses,\
standar_pelayanan_hari,persentase_sesuai_standar
64,Kalimantan Timur,64.72,Kota Samarinda,2026,10,PBG,Persetujuan Bangunan Gedung,12,19.5,20.0,27.1,28,91.67
64,Kalimantan Timur,64.71,Kota Balikpapan,2026,10,PBG,Persetujuan Bangunan Gedung,9,22.0,21.0,30.0,28,77.78
64,Kalimantan Timur,64.71,Kota Balikpapan,2026,10,SIPA,Surat Izin Praktik Apoteker,4,3.5,3.0,5.0,5,100.0
"""


def _set(text: str, row: int, column: str, value: str) -> str:
    """``text`` (CSV) with data row ``row`` (1-based) of ``column`` set to ``value``."""
    rows = list(csv.reader(io.StringIO(text)))
    rows[row][rows[0].index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue()


def _quoted(text: str, row: int, column: str, value: str) -> str:
    """``_set`` with every field quoted, as spreadsheets export a cell holding a carriage return."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL).writerows(csv.reader(io.StringIO(_set(text, row,
                                                                                                      column, "x"))))
    return out.getvalue().replace('"x"', '"' + value.replace('"', '""') + '"', 1)


def _utf8(text: str) -> bytes:
    return text.encode("utf-8")


@dataclass(frozen=True)
class Case:
    name: str
    content: Callable[[], bytes]
    exit_code: int
    message: str  # regex the output must contain (file, row, column or the failing check)
    transformed: bool = False
    period: str = "2026-10"


CASES = [
    # --- unreadable or mis-shaped files: exit 2, file/row/column named ---
    Case("undecodable_bytes", lambda: _utf8(RAW).replace(b"Apoteker,5,2026-10-02,2026-10-05", b"Apot\xe9ker,5,"
         b"2026-10-02,2026-10-05"), 2, r"row 4 \(line 5\), column 'nama_jenis_izin': byte 0xe9 is not UTF-8"),
    Case("utf16_export", lambda: RAW.encode("utf-16"), 2, r"row 0 \(line 1\).*byte 0xff is not UTF-8"),
    Case("semicolon_delimiter", lambda: _utf8(RAW.replace(",", ";")), 2, r"row 0 \(header\).*separated by ';'"),
    Case("tab_delimiter", lambda: _utf8(RAW.replace(",", "\t")), 2, r"separated by '\\t'"),
    Case("missing_column", lambda: _utf8("\n".join(",".join(line.split(",")[:3] + line.split(",")[4:])
                                                   for line in RAW.splitlines())), 2,
         r"row 0 \(header\): columns differ: missing \['standar_hari'\], unexpected \[\]"),
    Case("renamed_column", lambda: _utf8(RAW.replace("kode_wilayah", "kode_kab", 1)), 2,
         r"missing \['kode_wilayah'\], unexpected \['kode_kab'\]"),
    Case("extra_personal_column", lambda: _utf8("\n".join(
        line + ("," + ("nik_pemohon" if i == 0 else NIK)) for i, line in enumerate(RAW.splitlines()))), 2,
         r"unexpected \['nik_pemohon'\]"),
    Case("duplicate_header", lambda: _utf8(RAW.replace("tanggal_terbit", "tanggal_pengajuan", 1)), 2,
         r"missing \['tanggal_terbit'\]"),
    Case("ragged_row", lambda: _utf8(RAW.replace("2026-10-31\n", "2026-10-31,extra\n")), 2,
         r"Expected 6 fields in line 4, saw 7"),
    Case("text_in_number", lambda: _utf8(_set(RAW, 2, "standar_hari", "dua puluh delapan")), 2,
         r"row 2, column 'standar_hari': 'dua puluh delapan' is not a int64"),
    Case("fraction_in_count", lambda: _utf8(_set(RAW, 3, "standar_hari", "28.5")), 2,
         r"row 3, column 'standar_hari': '28.5' is not a whole number"),
    Case("indonesian_date", lambda: _utf8(_set(RAW, 5, "tanggal_terbit", "12 Oktober 2026")), 2,
         r"row 5, column 'tanggal_terbit': '12 Oktober 2026' is not a date"),
    Case("impossible_date", lambda: _utf8(_set(RAW, 1, "tanggal_pengajuan", "2026-02-30")), 2,
         r"row 1, column 'tanggal_pengajuan': '2026-02-30' is not a date"),
    Case("empty_cell", lambda: _utf8(_set(RAW, 6, "tanggal_terbit", "")), 2,
         r"row 6, column 'tanggal_terbit': empty cell"),
    Case("empty_file", lambda: b"", 2, r"the file is empty"),
    Case("header_only", lambda: _utf8(RAW.splitlines()[0] + "\n"), 2, r"only a header row, no data rows"),
    Case("one_megabyte_cell", lambda: _utf8(_set(RAW, 2, "nama_jenis_izin", "x" * 1_048_576)), 2,
         r"row 2, column 'nama_jenis_izin': cell of 1,048,576 characters"),
    Case("text_in_count_of_table", lambda: _utf8(_set(TABLE, 2, "jumlah_izin_terbit", "sembilan")), 2,
         r"row 2, column 'jumlah_izin_terbit': 'sembilan' is not a int64", transformed=True),
    # --- readable but wrong: exit 1, the failing check and its column named ---
    Case("issued_before_submitted", lambda: _utf8(_set(RAW, 6, "tanggal_pengajuan", "2026-10-25")), 1,
         r"FAIL critical rata_rata_hari_proses +expect_column_values_to_be_between  1 unexpected"),
    Case("unknown_regency_code", lambda: _utf8(_set(RAW, 5, "kode_wilayah", "64.99")), 1,
         r"FAIL critical kode_kabupaten_kota +expect_column_values_to_be_in_set  1 unexpected, e.g. \['64.99'\]"),
    Case("bps_regency_code", lambda: _utf8(_set(RAW, 5, "kode_wilayah", "6471")), 1,
         r"FAIL critical kode_kabupaten_kota +expect_column_values_to_match_regex"),
    Case("rows_of_another_period", lambda: _utf8(RAW), 1,
         r"FAIL critical bulan +expect_column_values_to_be_between", False, "2026-11"),
    Case("standard_days_out_of_range", lambda: _utf8(RAW.replace(",28,", ",400,")), 1,
         r"FAIL critical standar_pelayanan_hari +expect_column_values_to_be_between"),
    Case("duplicate_keys", lambda: _utf8(TABLE + TABLE.splitlines()[1] + "\n"), 1,
         r"FAIL critical \(table\) +expect_compound_columns_to_be_unique", transformed=True),
    Case("negative_count", lambda: _utf8(_set(TABLE, 1, "jumlah_izin_terbit", "-3")), 1,
         r"FAIL critical jumlah_izin_terbit +expect_column_values_to_be_between", transformed=True),
    Case("median_above_p90", lambda: _utf8(_set(TABLE, 1, "median_hari_proses", "40.0")), 1,
         r"persentil_90_hari_proses \+ median_hari_proses expect_column_pair_values_a_to_be_greater_than_b",
         transformed=True),
    Case("nik_in_free_text", lambda: _utf8(_set(RAW, 1, "nama_jenis_izin", f"PBG a.n. {NIK}")), 1,
         r"jenis_izin: 1 cell\(s\) with nik  BLOCKS"),
    Case("phone_in_free_text", lambda: _utf8(RAW.replace("Surat Izin Praktik Apoteker", "SIPA hub. 0812-3456-7890")),
         1, r"jenis_izin: 2 cell\(s\) with telepon  BLOCKS"),
    Case("email_in_free_text", lambda: _utf8(_set(RAW, 1, "nama_jenis_izin", "PBG (budi.santoso@gmail.com)")), 1,
         r"jenis_izin: 1 cell\(s\) with email  BLOCKS"),
    Case("npwp_in_free_text", lambda: _utf8(_set(RAW, 1, "nama_jenis_izin", "PBG NPWP 01.234.567.4-901.000")), 1,
         r"jenis_izin: 1 cell\(s\) with npwp  BLOCKS"),
    Case("nik_in_numeric_column", lambda: _utf8(RAW.replace(",5,", f",{NIK},")), 1,
         r"standar_pelayanan_hari: 2 cell\(s\) with nik  BLOCKS"),
    Case("nik_as_float_in_count", lambda: _utf8(_set(TABLE, 3, "jumlah_izin_terbit", "6.472015203850012E+15")), 1,
         r"jumlah_izin_terbit: 1 cell\(s\) with nik  BLOCKS", transformed=True),
    Case("phone_as_number_in_count", lambda: _utf8(_set(TABLE, 1, "jumlah_izin_terbit", "6281234567890")), 1,
         r"jumlah_izin_terbit: 1 cell\(s\) with telepon  BLOCKS", transformed=True),
    # --- published, with the formula neutralised in the CSV ---
    Case("formula_in_name", lambda: _utf8(_set(RAW, 1, "nama_jenis_izin", '=HYPERLINK("http://x.example","PBG")')),
         0, r"Result +PUBLISHABLE"),
    Case("formula_in_table", lambda: _utf8(_set(TABLE, 3, "jenis_izin", "@SUM(1+1)*cmd|' /C calc'!A0")), 0,
         r"Result +PUBLISHABLE", transformed=True),
    # --- published, control characters cleaned and formulas behind them neutralised ---
    Case("control_cr_before_formula", lambda: _utf8(_quoted(RAW, 1, "nama_jenis_izin", "PBG\r=1+1")), 0,
         r"Result +PUBLISHABLE"),
    Case("control_crlf_before_formula", lambda: _utf8(_quoted(TABLE, 3, "jenis_izin", "SIPA\r\n@SUM(1)")), 0,
         r"Result +PUBLISHABLE", transformed=True),
    Case("control_nul_before_formula", lambda: _utf8(_set(RAW, 1, "nama_jenis_izin", '\x00=HYPERLINK("x")')), 0,
         r"Result +PUBLISHABLE"),
    Case("control_c0_c1_and_separators", lambda: _utf8(_set(RAW, 1, "nama_jenis_izin",
                                                             "PBG\x1b[1m\x85\u2028\u2029\x0b\x7f\x9b")), 0,
         r"Result +PUBLISHABLE"),
    Case("formula_behind_tab", lambda: _utf8(_set(RAW, 1, "nama_jenis_izin", '\t=HYPERLINK("x")')), 0,
         r"Result +PUBLISHABLE"),
    Case("formula_behind_cr", lambda: _utf8(_quoted(TABLE, 3, "jenis_izin", "\r=1+1")), 0,
         r"Result +PUBLISHABLE", transformed=True),
    Case("formula_fullwidth", lambda: _utf8(_set(RAW, 1, "nama_jenis_izin", '\uff1dHYPERLINK("x")')), 0,
         r"Result +PUBLISHABLE"),
    Case("control_nul_inside_nik", lambda: _utf8(_set(RAW, 1, "nama_jenis_izin", f"PBG a.n. {NIK[:6]}\x00{NIK[6:]}")),
         1, r"jenis_izin: 1 cell\(s\) with nik  BLOCKS"),
    Case("formula_behind_invisible_space", lambda: _utf8(_set(TABLE, 3, "jenis_izin", "\u00a0\u200b@SUM(1+1)")), 0,
         r"Result +PUBLISHABLE", transformed=True),
]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_corpus_is_large_enough():
    assert len(CASES) >= 25 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input_outcome(case, tmp_path, data_dir, capsys):
    path = tmp_path / f"{case.name}.csv"
    path.write_bytes(case.content())
    before = _sha(path)
    args = ["check", DATASET, str(path), "--period", case.period, "--report-dir", str(tmp_path / "report")]
    if case.transformed:
        args.append("--transformed")

    code = main(args)

    out, err = capsys.readouterr()
    assert code == case.exit_code, out + err
    assert re.search(case.message, out + err), out + err
    assert _sha(path) == before  # the input is kept as it was
    if case.exit_code == 2:
        assert f"error: {path}" in err or "error: --period" in err
        assert not (tmp_path / "report").exists()
    else:
        report = json.loads((tmp_path / "report" / "validation.json").read_text())
        assert report["publishable"] is (case.exit_code == 0)
    # Reports and messages name what was found, never the personal value itself.
    written = out + err + "".join(p.read_text() for p in (tmp_path / "report").glob("*") if p.is_file())
    assert NIK not in written and "0812-3456-7890" not in written and "budi.santoso" not in written


@pytest.mark.parametrize("case", [c for c in CASES if c.name.startswith(("formula_", "control_")) and c.exit_code == 0],
                         ids=lambda c: c.name)
def test_formula_is_neutralised_in_the_published_csv(case, tmp_path):
    from satudata.cli.check import read_table
    from transforms import get_transform
    from transforms.tables import conform, write_csv

    entry = get_entry(DATASET)
    path = tmp_path / "in.csv"
    path.write_bytes(case.content())
    if case.transformed:
        frame = read_table(path, {c.name: c.type for c in entry.table.columns}, required=False, progress=False)
    else:
        types = {f.name: f.type for f in entry.source.fields}
        frame = get_transform(entry.transform)(read_table(path, types, required=True, progress=False))
    frame = conform(frame, entry.table.columns, drop_extra=True)
    # Read as bytes: read_text would turn a bare CR into a line end and hide it.
    written = write_csv(frame, tmp_path / "out.csv").read_bytes().decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(written, newline="")))
    assert len(rows) == len(frame) and all(None not in (*row, *row.values()) for row in rows)  # none split
    names = [row["jenis_izin"] for row in rows]
    assert not [n for n in names if runs_as_formula(n) or has_controls(n)], names
    if case.name.startswith("formula_"):
        assert any(n.startswith("'") and runs_as_formula(n[1:]) for n in names), names


def test_cli_runs_as_a_command_with_exit_codes(tmp_path):
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_text(RAW, encoding="utf-8")
    bad.write_text(_set(RAW, 1, "nama_jenis_izin", f"PBG {NIK}"), encoding="utf-8")
    run = [sys.executable, "-m", "satudata", "check", DATASET]
    ok = subprocess.run([*run, str(good), "--report-dir", str(tmp_path / "r1")], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "Period    2026-10 (inferred from the rows" in ok.stdout
    blocked = subprocess.run([*run, str(bad), "--report-dir", str(tmp_path / "r2")], capture_output=True, text=True)
    assert blocked.returncode == 1 and "NOT PUBLISHABLE" in blocked.stdout
    missing = subprocess.run([*run, str(tmp_path / "nope.csv")], capture_output=True, text=True)
    assert missing.returncode == 2 and "nope.csv: no such file" in missing.stderr


def test_large_file_shows_a_progress_bar(tmp_path, data_dir, capsys):
    body = RAW.splitlines()[1:]
    lines = [RAW.splitlines()[0]] + body * (5 * 1024 * 1024 // len("\n".join(body)) + 1)
    path = tmp_path / "large.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert path.stat().st_size > 5 * 1024 * 1024
    code = main(["check", DATASET, str(path), "--period", "2026-10", "--report-dir", str(tmp_path / "r")])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert re.search(r"reading large\.csv \[#{25}\] 100% +5\.\d/5\.\d MB", err), err[-300:]
    assert "Rows      4\n" in out  # four regency x permit-type cells, however many permits


def test_sqlite_copy_of_the_source_is_read_with_the_catalog_query(tmp_path, sample_sqlite, data_dir, capsys):
    code = main(["check", DATASET, str(sample_sqlite), "--period", "2026-09", "--report-dir", str(tmp_path / "r")])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert re.search(r"transform izin_terbit_bulanan: \d{3} source rows", err)
    assert main(["check", DATASET, str(sample_sqlite)]) == 2
    assert "needs --period" in capsys.readouterr().err


def test_volume_collapse_against_the_previous_period_blocks(tmp_path, data_dir, capsys):
    previous = tmp_path / "september.csv"
    september = TABLE.replace(",2026,10,", ",2026,9,")
    for row, count in ((1, "120"), (2, "90"), (3, "40")):
        september = _set(september, row, "jumlah_izin_terbit", count)
    previous.write_text(september, encoding="utf-8")
    table = tmp_path / "oktober.csv"
    table.write_text(TABLE, encoding="utf-8")

    code = main(["check", DATASET, str(table), "--transformed", "--period", "2026-10", "--previous", str(previous),
                 "--report-dir", str(tmp_path / "r")])

    out = capsys.readouterr().out
    assert code == 1, out
    # 25 permits after 250: below a quarter of the previous period.
    assert re.search(r"FAIL critical jumlah_izin_terbit +expect_column_sum_to_be_between +observed 25", out), out
    report = json.loads((tmp_path / "r" / "validation.json").read_text())
    assert report["parameters"]["volume_previous_sum"] == 250.0
