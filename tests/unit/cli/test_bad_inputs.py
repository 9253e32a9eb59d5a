"""The bad-input corpus: each broken file ends in a named error (or is published neutralised).

Every case goes through the steward CLI (``python -m satudata check``), which runs the same
reader, transform, suite and personal-data scan as the DAG. The DAG cases, which plant bad rows
in the SQL source and run the real DAG against the real CKAN test portal, are in
tests/integration/test_bad_inputs_dag.py.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

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
    dataset: str = DATASET
    suffix: str = ".csv"
    env: tuple[tuple[str, str], ...] = ()  # input limits lowered for the case


# --- agency exports read by the DAG's own readers: the civil-registry CSV and the survey XLSX ---
DUKCAPIL, SKM = "dukcapil_dokumen_bulanan", "skm_ikm_semester"


@functools.cache
def _dukcapil_lines() -> tuple[str, ...]:
    from devstack.samples.agencies import dukcapil_export

    return tuple(dukcapil_export(date(2026, 10, 1)).decode("cp1252").split("\r\n")[:-1])


def _dk(lines: list[str] | None = None, encoding: str = "cp1252", eol: str = "\r\n") -> bytes:
    """The civil-registry export (``;``, Windows-1252, CRLF) from ``lines``, by default as sent."""
    return (eol.join(lines if lines is not None else _dukcapil_lines()) + eol).encode(encoding)


def _dk_set(row: int, column: str, value: str, encoding: str = "cp1252") -> bytes:
    """The export with data row ``row`` (1-based) of ``column`` set to ``value``."""
    lines = list(_dukcapil_lines())
    header = lines[0].split(";")
    cells = lines[row].split(";")
    cells[header.index(column)] = value
    lines[row] = ";".join(cells)
    return _dk(lines, encoding)


def _dk_header(old: str, new: str) -> bytes:
    lines = list(_dukcapil_lines())
    lines[0] = lines[0].replace(old, new, 1)
    return _dk(lines)


def _dk_lines(edit: Callable[[list[str]], list[str]], encoding: str = "cp1252", eol: str = "\r\n") -> bytes:
    return _dk(edit(list(_dukcapil_lines())), encoding, eol)


def _mixed_line_ends(lines: list[str]) -> bytes:
    ends = ["\r\n", "\n", "\r\n", "\n"]
    return "".join(line + ends[i % 4] for i, line in enumerate(lines)).encode("cp1252")


@functools.cache
def _skm_rows() -> tuple[tuple, ...]:
    from devstack.samples.agencies import skm_respondents

    return tuple(tuple(r) for r in skm_respondents(2026, 1))


def _skm(edit: Callable[[Any], None] | None = None, rows: list[list] | None = None, title: str = "Data Responden",
         header: list[str] | None = None) -> bytes:
    """The survey export (title rows above the header), with ``edit(worksheet)`` applied before saving."""
    from openpyxl import Workbook

    from devstack.samples.agencies import skm_header

    book = Workbook()
    ws = book.active
    ws.title = title
    for line in (["REKAPITULASI SURVEI KEPUASAN MASYARAKAT"], ["Pemerintah Provinsi Kalimantan Timur"],
                 ["Periode: Semester I Tahun 2026"], []):
        ws.append(line)
    ws.append(header or skm_header())
    for row in rows if rows is not None else _skm_rows():
        ws.append(list(row))
    if edit is not None:
        edit(ws)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _skm_cell(row: int, column: str, value: Any) -> bytes:
    """The survey export with data row ``row`` (1-based, below the header on sheet row 5) of ``column`` set."""
    from devstack.samples.agencies import skm_header

    def edit(ws: Any) -> None:
        ws.cell(row=5 + row, column=skm_header().index(column) + 1, value=value)
    return _skm(edit)


def _with_zip_member(xlsx: bytes, name: str, body: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(info, source.read(info.filename))
        target.writestr(name, body)
    return out.getvalue()


def _declared_dimension(xlsx: bytes, ref: str | None) -> bytes:
    """The workbook with its sheet declaring the dimension ``ref`` (a 5 KB file may claim a whole sheet),
    or none (``None``: the reader learns the sheet's size only by reading it)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(xlsx)) as source, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == "xl/worksheets/sheet1.xml":
                new = f'<dimension ref="{ref}"/>'.encode() if ref else b""
                body = re.sub(rb'<dimension ref="[^"]*"\s*/>', new, body)
            target.writestr(info, body)
    return out.getvalue()


def _far_cell(ws: Any) -> None:
    ws.cell(row=1_048_576, column=16_384, value=1)


def _footnote(ws: Any) -> None:
    ws.append([])
    ws.append(["Catatan: data sementara, dapat berubah"])


def _merged_title(ws: Any) -> None:
    ws.merge_cells("A1:R1")
    ws.merge_cells("A2:R2")


def _formula_in_unit(ws: Any) -> None:
    ws["C6"] = '=CONCATENATE("U","01")'  # saved without a computed value: read as an empty cell


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
         r"row 2, column 'standar_hari': text of 17 characters \(letters, spaces\) is not a int64"),
    Case("fraction_in_count", lambda: _utf8(_set(RAW, 3, "standar_hari", "28.5")), 2,
         r"row 3, column 'standar_hari': text of 4 characters \(digits, symbols\) is not a whole number"),
    Case("indonesian_date", lambda: _utf8(_set(RAW, 5, "tanggal_terbit", "12 Oktober 2026")), 2,
         r"row 5, column 'tanggal_terbit': text of 15 characters \(digits, letters, spaces\) is not a date"),
    Case("impossible_date", lambda: _utf8(_set(RAW, 1, "tanggal_pengajuan", "2026-02-30")), 2,
         r"row 1, column 'tanggal_pengajuan': text of 10 characters \(digits, symbols\) is not a date"),
    Case("empty_cell", lambda: _utf8(_set(RAW, 6, "tanggal_terbit", "")), 2,
         r"row 6, column 'tanggal_terbit': empty cell"),
    Case("empty_file", lambda: b"", 2, r"the file is empty"),
    Case("header_only", lambda: _utf8(RAW.splitlines()[0] + "\n"), 2, r"only a header row, no data rows"),
    Case("one_megabyte_cell", lambda: _utf8(_set(RAW, 2, "nama_jenis_izin", "x" * 1_048_576)), 2,
         r"row 2, column 'nama_jenis_izin': a cell of 1,048,576 characters \(input limit max_cell_chars = 32,767, "
         r"setting SATUDATA_INPUT_MAX_CELL_CHARS\)"),
    Case("text_in_count_of_table", lambda: _utf8(_set(TABLE, 2, "jumlah_izin_terbit", "sembilan")), 2,
         r"row 2, column 'jumlah_izin_terbit': text of 8 characters \(letters\) is not a int64", transformed=True),
    # --- readable but wrong: exit 1, the failing check and its column named ---
    Case("issued_before_submitted", lambda: _utf8(_set(RAW, 6, "tanggal_pengajuan", "2026-10-25")), 1,
         r"FAIL critical rata_rata_hari_proses +expect_column_values_to_be_between  1 unexpected"),
    Case("unknown_regency_code", lambda: _utf8(_set(RAW, 5, "kode_wilayah", "64.99")), 1,
         r"FAIL critical kode_kabupaten_kota +expect_column_values_to_be_in_set  1 unexpected, "
         r"e.g. \['text of 5 characters \(digits, symbols\)'\]"),
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
    # --- agency CSV export (civil registry: ';', Windows-1252, Indonesian numbers and dates) ---
    Case("dk_as_sent", lambda: _dk(), 0, r"Result +PUBLISHABLE", dataset=DUKCAPIL),
    Case("dk_utf8_with_bom", lambda: b"\xef\xbb\xbf" + _dk(encoding="utf-8"), 0, r"Result +PUBLISHABLE",
         dataset=DUKCAPIL),
    Case("dk_mixed_line_ends", lambda: _mixed_line_ends(list(_dukcapil_lines())), 0, r"Result +PUBLISHABLE",
         dataset=DUKCAPIL),
    Case("dk_blank_rows", lambda: _dk_lines(lambda ls: ls[:5] + ["", ";;;;;;;;", "   "] + ls[5:]), 0,
         r"Result +PUBLISHABLE", dataset=DUKCAPIL),
    Case("dk_comma_separated", lambda: _dk_lines(lambda ls: [line.replace(",", ".").replace(";", ",")
                                                              for line in ls]), 2,
         r"column 'Lama Proses \(jam\)': text of \d+ characters \(digits, symbols\) is not a number", dataset=DUKCAPIL),
    Case("dk_trailing_footnote", lambda: _dk_lines(lambda ls: [*ls, "", "Catatan: data sementara"]), 2,
         r"row 497, column 'Kode Wilayah': required value is empty", dataset=DUKCAPIL),
    Case("dk_thousands_separator_dot", lambda: _dk_set(3, "Lama Proses (jam)", "1.234,5"), 0, r"Result +PUBLISHABLE",
         dataset=DUKCAPIL),
    Case("dk_thousands_separator_comma", lambda: _dk_set(3, "Lama Proses (jam)", "1,234.5"), 2,
         r"row 4, column 'Lama Proses \(jam\)': text of 7 characters \(digits, symbols\) is not a number",
         dataset=DUKCAPIL),
    Case("dk_grouped_thousands_space", lambda: _dk_set(3, "Lama Proses (jam)", "1 234,5"), 0, r"Result +PUBLISHABLE",
         dataset=DUKCAPIL),
    Case("dk_no_break_space_in_number", lambda: _dk_set(3, "Lama Proses (jam)", "1\xa0234,5", "utf-8"), 2,
         r"row 4, column 'Lama Proses \(jam\)': text of 7 characters \(digits, spaces, symbols\) is not a number",
         dataset=DUKCAPIL),
    Case("dk_month_abbreviation", lambda: _dk_set(2, "Tanggal Terbit", "19 Okt 2026"), 0, r"Result +PUBLISHABLE",
         dataset=DUKCAPIL),
    Case("dk_month_name_misspelt", lambda: _dk_set(2, "Tanggal Terbit", "19 Oktobre 2026"), 2,
         r"row 3, column 'Tanggal Terbit': text of 15 characters \(digits, letters, spaces\) names an unknown month",
         dataset=DUKCAPIL),
    Case("dk_excel_serial_date", lambda: _dk_set(2, "Tanggal Terbit", "46314"), 2,
         r"row 3, column 'Tanggal Terbit': text of 5 characters \(digits\) is not a date", dataset=DUKCAPIL),
    Case("dk_day_first_slash_date", lambda: _dk_set(2, "Tanggal Terbit", "19/10/2026"), 0, r"Result +PUBLISHABLE",
         dataset=DUKCAPIL),
    Case("dk_impossible_date", lambda: _dk_set(2, "Tanggal Terbit", "31 November 2026"), 2,
         r"row 3, column 'Tanggal Terbit': day is out of range for month", dataset=DUKCAPIL),
    Case("dk_header_typo", lambda: _dk_header("Jenis Dokumen", "Jenis Dokumem"), 2,
         r"row 1, column 'Jenis Dokumen': missing column\(s\) \['Jenis Dokumen'\]", dataset=DUKCAPIL),
    Case("dk_header_case_and_spaces", lambda: _dk_header("Jenis Dokumen", "  Jenis Dokumen "), 0,
         r"Result +PUBLISHABLE", dataset=DUKCAPIL),
    Case("dk_duplicated_header", lambda: _dk_header("Petugas", "Jenis Dokumen"), 2,
         r"row 1, column 'Jenis Dokumen': the header names this column 2 times", dataset=DUKCAPIL),
    Case("dk_duplicated_unread_header", lambda: _dk_header("Petugas", "NIK"), 0, r"Result +PUBLISHABLE",
         dataset=DUKCAPIL),
    Case("dk_empty_file", lambda: b"", 2, r"the file is empty", dataset=DUKCAPIL),
    Case("dk_only_header", lambda: _dk(list(_dukcapil_lines())[:1]), 2, r"header but no data rows",
         dataset=DUKCAPIL),
    Case("dk_only_blank_lines", lambda: b"\r\n\r\n  \r\n", 2, r"the file is empty", dataset=DUKCAPIL),
    Case("dk_text_in_hours", lambda: _dk_set(3, "Lama Proses (jam)", "empat jam"), 2,
         r"row 4, column 'Lama Proses \(jam\)': text of 9 characters \(letters, spaces\) is not a number",
         dataset=DUKCAPIL),
    Case("dk_thousand_digit_number", lambda: _dk_set(3, "Lama Proses (jam)", "9" * 400), 2,
         r"row 4, column 'Lama Proses \(jam\)': text of 400 characters \(digits\) is not a finite number",
         dataset=DUKCAPIL),
    Case("dk_huge_cell_in_declared_column", lambda: _dk_set(3, "Jenis Dokumen", "KTP" * 40_000), 2,
         r"row 4, column 'Jenis Dokumen': a cell of 120,000 characters \(input limit max_cell_chars = 32,767, "
         r"setting SATUDATA_INPUT_MAX_CELL_CHARS\)", dataset=DUKCAPIL),
    Case("dk_huge_cell_in_unread_column", lambda: _dk_set(3, "Nama Pemohon", "x" * 300_000), 2,
         r"row 4, column 'Nama Pemohon': a cell of 300,000 characters \(input limit max_cell_chars", dataset=DUKCAPIL),
    Case("dk_huge_cell_in_header", lambda: _dk_header("Petugas", "P" * 200_000), 2,
         r"row 1, column '#9': a cell of 200,000 characters \(input limit max_cell_chars", dataset=DUKCAPIL),
    Case("dk_deeply_nested_quotes", lambda: _dk_set(3, "Petugas", '"' + '""' * 5_000 + 'Siti' + '""' * 5_000 + '"'),
         0, r"Result +PUBLISHABLE", dataset=DUKCAPIL),
    Case("dk_unclosed_quote", lambda: _dk_set(3, "Jenis Dokumen", '"KTP-el'), 2,
         r"row 4, column 'Jenis Dokumen': a cell of [\d,]+ characters \(input limit max_cell_chars", dataset=DUKCAPIL),
    Case("dk_quoted_line_break_in_name", lambda: _dk_set(3, "Petugas", '"Siti\r\nAminah"'), 0,
         r"Result +PUBLISHABLE", dataset=DUKCAPIL),
    Case("dk_row_of_600_columns", lambda: _dk_set(3, "Petugas", "x;" * 600), 2,
         r"row 4: a row of 609 columns \(input limit max_columns = 500, setting SATUDATA_INPUT_MAX_COLUMNS\)",
         dataset=DUKCAPIL),
    Case("dk_columns_over_a_lowered_limit", lambda: _dk(), 2,
         r"row 1: a header of 9 columns \(input limit max_columns = 8, setting SATUDATA_INPUT_MAX_COLUMNS\)",
         dataset=DUKCAPIL, env=(("SATUDATA_INPUT_MAX_COLUMNS", "8"),)),
    Case("dk_rows_over_a_lowered_limit", lambda: _dk(), 2,
         r"more than 100 data rows \(input limit max_rows = 100, setting SATUDATA_INPUT_MAX_ROWS\)",
         dataset=DUKCAPIL, env=(("SATUDATA_INPUT_MAX_ROWS", "100"),)),
    Case("dk_utf16_unicode_text", lambda: _dk_lines(lambda ls: [line.replace(";", "\t") for line in ls], "utf-16"), 0,
         r"Result +PUBLISHABLE", dataset=DUKCAPIL),
    Case("dk_utf16_broken", lambda: _dk(encoding="utf-16")[:-1], 2,
         r"row 1: starts as UTF-16 text but is not UTF-16 throughout", dataset=DUKCAPIL),
    Case("dk_undecodable_byte", lambda: _dk_set(3, "Jenis Dokumen", "KTP-el").replace(b"KTP-el", b"KTP\x81el", 1), 2,
         r"row \d+: byte 0x81 at offset \d+ is neither UTF-8 nor Windows-1252", dataset=DUKCAPIL),
    Case("dk_nul_byte_in_cell", lambda: _dk_set(3, "Jenis Dokumen", "KTP\x00el"), 1,
         r"FAIL critical jenis_dokumen", dataset=DUKCAPIL),
    # --- agency XLSX export (satisfaction survey: title rows above the header, sheet named) ---
    Case("skm_as_sent", lambda: _skm(), 0, r"Result +PUBLISHABLE", dataset=SKM, suffix=".xlsx", period="2026-S1"),
    Case("skm_wrong_sheet", lambda: _skm(title="Sheet1"), 2, r"no sheet 'Data Responden'; sheets: \['Sheet1'\]",
         dataset=SKM, suffix=".xlsx", period="2026-S1"),
    Case("skm_merged_title_cells", lambda: _skm(_merged_title), 0, r"Result +PUBLISHABLE", dataset=SKM,
         suffix=".xlsx", period="2026-S1"),
    Case("skm_trailing_footnote", lambda: _skm(_footnote), 0, r"Result +PUBLISHABLE", dataset=SKM, suffix=".xlsx",
         period="2026-S1"),
    Case("skm_formula_without_value", lambda: _skm(_formula_in_unit), 2,
         r"row 6, column 'Kode Unit': required value is empty", dataset=SKM, suffix=".xlsx", period="2026-S1"),
    Case("skm_excel_serial_date_as_number", lambda: _skm_cell(1, "Tanggal Survei", 46100), 2,
         r"row 6, column 'Tanggal Survei': text of 5 characters \(digits\) is not a date",
         dataset=SKM, suffix=".xlsx", period="2026-S1"),
    Case("skm_text_in_score", lambda: _skm_cell(2, "Persyaratan", "empat"), 2,
         r"row 7, column 'Persyaratan': text of 5 characters \(letters\) is not a number", dataset=SKM,
         suffix=".xlsx", period="2026-S1"),
    Case("skm_header_typo", lambda: _skm(header=[h.replace("Kode Unit", "Kode  Unit") for h in __import__(
        "devstack.samples.agencies", fromlist=["skm_header"]).skm_header()]), 2,
         r"missing column\(s\) \['Kode Unit'\]", dataset=SKM, suffix=".xlsx", period="2026-S1"),
    Case("skm_only_header", lambda: _skm(rows=[]), 2, r"the sheet has a header but no data rows", dataset=SKM,
         suffix=".xlsx", period="2026-S1"),
    Case("skm_empty_file", lambda: b"", 2, r"the file is empty", dataset=SKM, suffix=".xlsx", period="2026-S1"),
    Case("skm_csv_named_xlsx", lambda: _dk(), 2, r"not a readable XLSX workbook", dataset=SKM, suffix=".xlsx",
         period="2026-S1"),
    # openpyxl itself cuts a cell at Excel's 32,767 characters: the limit is lowered to see it work.
    Case("skm_huge_cell", lambda: _skm_cell(3, "Unit Layanan", "Dinas " * 1_000), 2,
         r"row 8, column 'D': a cell of 6,000 characters \(input limit max_cell_chars = 1,000", dataset=SKM,
         suffix=".xlsx", period="2026-S1", env=(("SATUDATA_INPUT_MAX_CELL_CHARS", "1000"),)),
    Case("skm_declares_the_whole_sheet", lambda: _declared_dimension(_skm(rows=_skm_rows()[:3]), "A1:XFD1048576"), 2,
         r"the sheet declares 16,384 columns \(up to XFD\) \(input limit max_columns = 500", dataset=SKM,
         suffix=".xlsx", period="2026-S1"),
    Case("skm_declares_too_many_cells", lambda: _declared_dimension(_skm(rows=_skm_rows()[:3]), "A1:BZ1048576"), 2,
         r"the sheet declares 1,048,576 rows x 78 columns \(input limit xlsx_max_cells = 50,000,000", dataset=SKM,
         suffix=".xlsx", period="2026-S1"),
    Case("skm_cell_at_the_last_row_and_column", lambda: _declared_dimension(_skm(_far_cell), None), 2,
         r"row 1048576: a cell in column XFD \(input limit max_columns = 500", dataset=SKM, suffix=".xlsx",
         period="2026-S1"),
    Case("skm_zip_bomb", lambda: _with_zip_member(_skm(rows=_skm_rows()[:3]), "xl/media/padding.bin",
                                                  b"\0" * 50_000_000), 2,
         r"part xl/media/padding\.bin inflates [\d,]+ times \(input limit xlsx_max_compression_ratio = 200",
         dataset=SKM, suffix=".xlsx", period="2026-S1"),
    Case("skm_inflates_over_a_lowered_limit", lambda: _skm(), 2,
         r"the workbook inflates to \d+ MB \(input limit xlsx_max_uncompressed_mb = 0\.1", dataset=SKM,
         suffix=".xlsx", period="2026-S1", env=(("SATUDATA_INPUT_XLSX_MAX_UNCOMPRESSED_MB", "0.1"),)),
    Case("skm_rows_over_a_lowered_limit", lambda: _skm(), 2,
         r"the sheet goes on past row 50 \(input limit max_rows = 50", dataset=SKM, suffix=".xlsx",
         period="2026-S1", env=(("SATUDATA_INPUT_MAX_ROWS", "50"),)),
    # --- the project's own table CSV, shapes of hand-edited files ---
    Case("table_utf8_with_bom", lambda: b"\xef\xbb\xbf" + _utf8(TABLE), 0, r"Result +PUBLISHABLE", transformed=True),
    Case("table_crlf_line_ends", lambda: _utf8(TABLE.replace("\n", "\r\n")), 0, r"Result +PUBLISHABLE",
         transformed=True),
    Case("table_header_typo", lambda: _utf8(TABLE.replace("jumlah_izin_terbit", "jumlah_izin_terbt", 1)), 2,
         r"missing \['jumlah_izin_terbit'\], unexpected \['jumlah_izin_terbt'\]", transformed=True),
    Case("table_thousands_separator", lambda: _utf8(_set(TABLE, 1, "jumlah_izin_terbit", "1.200")), 2,
         r"row 1, column 'jumlah_izin_terbit': text of 5 characters \(digits, symbols\) is not a whole number",
         transformed=True),
    Case("table_huge_cell", lambda: _utf8(_set(TABLE, 2, "jenis_izin", "PBG " * 10_000)), 2,
         r"row 2, column 'jenis_izin': a cell of 40,000 characters \(input limit max_cell_chars", transformed=True),
    Case("table_deeply_nested_quotes", lambda: _utf8(_set(TABLE, 2, "jenis_izin", '"' * 2_000 + "PBG" + '"' * 2_000)),
         1, r"FAIL critical jenis_izin", transformed=True),
]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_corpus_is_large_enough():
    assert len(CASES) >= 80 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_bad_input_outcome(case, tmp_path, data_dir, capsys, monkeypatch):
    for name, value in case.env:
        monkeypatch.setenv(name, value)
    path = tmp_path / f"{case.name}{case.suffix}"
    path.write_bytes(case.content())
    before = _sha(path)
    args = ["check", case.dataset, str(path), "--period", case.period, "--report-dir", str(tmp_path / "report")]
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


def _public_text(case: Case) -> str:
    """What the catalog entry, its suite and the run's period say anyway: names, codes, labels, dates."""
    from satudata.periods import Period

    entry = get_entry(case.dataset)
    period = Period.from_key(case.period, entry.schedule)
    return (entry.model_dump_json() + entry.suite_path().read_text(encoding="utf-8")
            + json.dumps(period.parameters(), default=str))


def _input_cells(data: bytes, suffix: str) -> set[str]:
    """Every cell of the input, as text: the values no message, record or report may show."""
    from transforms.readers import any_field_size, detect_delimiter, detect_encoding

    if suffix == ".xlsx":
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(data), read_only=True)
        except Exception:
            return set()
        ws = book.worksheets[0]
        ws.reset_dimensions()
        rows = [[c for c in row if c is not None] for _, row in zip(range(2_000), ws.iter_rows(values_only=True),
                                                                     strict=False)]
        book.close()
        rows = rows[5:]  # title rows and the header: column names, which messages name
    else:
        try:
            text = data.decode(detect_encoding(data))
        except ValueError:
            text = data.decode("cp1252", errors="replace")
        with any_field_size():
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=detect_delimiter(text)))[1:]
    return {str(c).strip() for row in rows for c in row}


def test_no_cell_value_of_the_input_is_shown(tmp_path, data_dir, capsys, monkeypatch):
    """Every corpus case: the CLI's output, the run record, the quarantine and gate reports show no cell.

    A cell is what the steward's file holds beyond the catalog's own words (column names, codes,
    labels of the suite). Short numbers are left out (a count, a size or a timestamp in a report
    may hold the same digits by chance); a number of eight digits or more, which may identify
    someone, is not.
    """
    import contextlib

    import satudata.cli.check as check

    shown: dict[str, list[str]] = {}
    for case in CASES:
        work = tmp_path / case.name / "work"
        work.mkdir(parents=True)
        with monkeypatch.context() as patch:
            for name, value in case.env:
                patch.setenv(name, value)
            # The check's working folder (run record, quarantine, raw archive) is kept to be read.
            patch.setattr(check, "tempfile", type("Kept", (), {"TemporaryDirectory": staticmethod(
                lambda prefix, work=work: contextlib.nullcontext(str(work)))}))
            data = case.content()
            path = tmp_path / case.name / f"input{case.suffix}"
            path.write_bytes(data)
            report = tmp_path / case.name / "report"
            main(["check", case.dataset, str(path), "--period", case.period, "--report-dir", str(report),
                  *(["--transformed"] if case.transformed else [])])
        out, err = capsys.readouterr()
        records = [p for p in (*work.rglob("*"), *report.rglob("*"))
                   if p.is_file() and p.suffix in (".json", ".html", ".txt")]
        written = out + err + "".join(p.read_text(encoding="utf-8") for p in records)
        public = _public_text(case)
        cells = {c for c in _input_cells(data, case.suffix) if len(c) > 3 and c not in public
                 and (any(ch.isalpha() for ch in c) or sum(ch.isdigit() for ch in c) >= 8)}
        leaked = sorted(c[:40] for c in cells if c in written)
        if leaked:
            shown[case.name] = leaked[:5]
    assert not shown, json.dumps(shown, indent=1)
