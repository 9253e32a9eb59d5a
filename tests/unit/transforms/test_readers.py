"""Readers of agency exports: encodings, separators, Indonesian numbers and dates, XLSX titles."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date

import pytest

from devstack.samples import agencies as sample_agencies
from transforms.cells import parse_id_date, parse_id_number
from transforms.readers import (
    SourceParseError,
    detect_delimiter,
    detect_encoding,
    read_csv_bytes,
    read_records,
    read_xlsx_bytes,
)


@dataclass(frozen=True)
class F:
    name: str
    type: str
    required: bool = True


FIELDS = [F("Nama", "string"), F("Tanggal", "date"), F("Jumlah", "float64")]


@pytest.mark.parametrize(
    "text, value",
    [("1.234,5", 1234.5), ("12", 12.0), ("0,75", 0.75), ("1.234.567,89", 1234567.89), ("-3,5", -3.5),
     ("1.234", 1234.0)],
)
def test_indonesian_numbers(text, value):
    assert parse_id_number(text) == value


@pytest.mark.parametrize("text", ["1,234.5", "dua", "1.23,4", ""])
def test_not_indonesian_numbers(text):
    with pytest.raises(ValueError):
        parse_id_number(text)


@pytest.mark.parametrize(
    "text, value",
    [("7 Maret 2024", date(2024, 3, 7)), ("31 Desember 2025", date(2025, 12, 31)), ("1 Agu 2024", date(2024, 8, 1)),
     ("07/03/2024", date(2024, 3, 7)), ("2024-03-07", date(2024, 3, 7)),
     ("2026-10-05T23:30:00+08:00", date(2026, 10, 5))],
)
def test_indonesian_dates(text, value):
    assert parse_id_date(text) == value


def test_unknown_month_name_is_an_error():
    with pytest.raises(ValueError, match="Maret"):
        parse_id_date("7 Marets 2024")


def test_encodings():
    text = "Nama;Jumlah\r\nThéresia;1.234,5\r\n"
    assert detect_encoding(text.encode("utf-8")) == "utf-8"
    assert detect_encoding(b"\xef\xbb\xbf" + text.encode("utf-8")) == "utf-8-sig"
    assert detect_encoding(text.encode("cp1252")) == "cp1252"
    with pytest.raises(SourceParseError, match=r"row 2.*0x81"):
        detect_encoding(b"Nama;Jumlah\r\nA\x81;1\r\n", "x.csv")


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_delimiters(sep):
    text = sep.join(["Nama", "Tanggal", "Jumlah"]) + "\n" + sep.join(["Agus", "7 Maret 2024", '"1,5"']) + "\n"
    assert detect_delimiter(text) == sep


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252"])
def test_csv_reads_every_encoding_the_same(encoding):
    body = "Nama;Tanggal;Jumlah;NIK\r\nThéresia Wulandari;7 Maret 2024;1.234,5;6472014101900001\r\n"
    frame = read_csv_bytes(body.encode(encoding), FIELDS, "t.csv")
    assert list(frame.columns) == ["Nama", "Tanggal", "Jumlah"]  # NIK is not declared, so not read
    assert frame.iloc[0].tolist() == ["Théresia Wulandari", date(2024, 3, 7), 1234.5]


def test_the_disdukcapil_export_decodes_correctly():
    """The generated Windows-1252 `;` export: names with diacritics and thousands survive."""
    month = date(2026, 10, 1)
    body = sample_agencies.dukcapil_export(month)
    assert body.decode("cp1252").startswith("No;NIK;")
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")  # really Windows-1252, as the agency's Excel writes it
    rows = sample_agencies.dukcapil_rows(month)
    fields = [F("Nama Pemohon", "string"), F("Tanggal Terbit", "date"), F("Lama Proses (jam)", "float64")]
    frame = read_csv_bytes(body, fields, "layanan.csv")
    assert len(frame) == len(rows)
    accented = next(i for i, r in enumerate(rows) if any(ch in r[2] for ch in "éè"))
    assert frame["Nama Pemohon"][accented] == rows[accented][2]
    assert any(ch in frame["Nama Pemohon"][accented] for ch in "éè")
    big = next(i for i, r in enumerate(rows) if "." in r[7])  # e.g. "1.234,5" hours
    assert frame["Lama Proses (jam)"][big] == float(rows[big][7].replace(".", "").replace(",", ".")) > 1000


def test_csv_errors_name_file_row_and_column():
    body = b"Nama;Tanggal;Jumlah\nAgus;7 Maret 2024;1,5\n\nSiti;8 Maret 2024;dua\n"
    with pytest.raises(SourceParseError) as err:
        read_csv_bytes(body, FIELDS, "landing/x.csv")
    assert (err.value.file, err.value.row, err.value.column) == ("landing/x.csv", 4, "Jumlah")
    assert "text of 3 characters (letters) is not a number" in str(err.value) and "dua" not in str(err.value)


@pytest.mark.parametrize(
    "body, message",
    [(b"", "empty"), (b"  \r\n", "empty"), (b"Nama;Tanggal;Jumlah\r\n", "no data rows"),
     (b"Nama;Tgl;Jumlah\r\nA;7 Maret 2024;1\r\n", r"missing column\(s\) \['Tanggal'\]")],
)
def test_csv_structure_errors(body, message):
    with pytest.raises(SourceParseError, match=message):
        read_csv_bytes(body, FIELDS, "x.csv")


def test_required_value_missing():
    with pytest.raises(SourceParseError, match=r"row 2, column 'Tanggal': required value is empty"):
        read_csv_bytes(b"Nama;Tanggal;Jumlah\nAgus;;1\n", FIELDS, "x.csv")


def _xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_with_title_rows_above_the_header():
    body = _xlsx([["REKAPITULASI"], ["Periode: Semester I"], [], ["Nama", "Tanggal", "Jumlah", "NIK"],
                  ["Agus", "7 Maret 2024", 3], ["Siti", "8 Maret 2024", "1.234,5"]])
    frame = read_xlsx_bytes(body, FIELDS, "skm.xlsx")
    assert frame.values.tolist() == [["Agus", date(2024, 3, 7), 3.0], ["Siti", date(2024, 3, 8), 1234.5]]


def test_xlsx_error_uses_the_sheet_row_number():
    body = _xlsx([["Judul"], [], ["Nama", "Tanggal", "Jumlah"], ["Agus", "7 Maret 2024", 3], [],
                  ["Siti", "bukan tanggal", 1]])
    with pytest.raises(SourceParseError) as err:
        read_xlsx_bytes(body, FIELDS, "skm.xlsx")
    assert (err.value.row, err.value.column) == (6, "Tanggal")


def test_broken_xlsx():
    with pytest.raises(SourceParseError, match="not a readable XLSX"):
        read_xlsx_bytes(b"PK\x03\x04 truncated", FIELDS, "skm.xlsx")


def test_records_keep_declared_fields_only():
    records = [{"Nama": "Agus", "Tanggal": "2024-03-07", "Jumlah": 2.5, "pelapor": {"nik": "6472014101900001"}}]
    frame = read_records(records, FIELDS, "page-0001.json")
    assert list(frame.columns) == ["Nama", "Tanggal", "Jumlah"]
    with pytest.raises(SourceParseError, match=r"page-0001.json, row 2, column 'Jumlah'"):
        read_records([*records, {"Nama": "B", "Tanggal": "2024-03-07"}], FIELDS, "page-0001.json")


@pytest.mark.parametrize("month", [date(2026, 8, 1), date(2026, 10, 1), date(2025, 2, 1)])
def test_block_reader_gives_what_the_cell_by_cell_reader_gives(month):
    """The vectorized reader, in small blocks, against the cell-by-cell reader on the Disdukcapil export."""
    import pandas as pd

    from transforms.readers import _read_csv_python, iter_csv_tables

    fields = [F("Kode Wilayah", "string"), F("Nama Pemohon", "string"), F("Tanggal Terbit", "date"),
              F("Lama Proses (jam)", "float64"), F("No", "int64")]
    body = sample_agencies.dukcapil_export(month)
    tables = list(iter_csv_tables(body, fields, "x.csv", block_bytes=4096))
    assert len(tables) > 3  # really read in blocks
    expected = _read_csv_python(body, fields, "x.csv", "indonesian")
    pd.testing.assert_frame_equal(read_csv_bytes(body, fields, "x.csv"), expected)
    assert sum(t.num_rows for t in tables) == len(expected)


def test_blank_rows_quoted_newlines_and_bom_read_as_before():
    body = ('\ufeffNama;Tanggal;Jumlah;Catatan\r\n"Agus\r\nSantoso";7 Maret 2024;1.234,5;x\r\n\r\n;;;\r\n'
            'Siti;08/03/2024;  2 ;"a;b"\r\nBudi;2024-03-09T10:00:00+08:00;;\r\n').encode("utf-8")
    frame = read_csv_bytes(body, [F("Nama", "string"), F("Tanggal", "date"), F("Jumlah", "float64", False)], "x.csv")
    assert frame.values.tolist() == [["Agus\r\nSantoso", date(2024, 3, 7), 1234.5],
                                     ["Siti", date(2024, 3, 8), 2.0], ["Budi", date(2024, 3, 9), None]]


@pytest.mark.parametrize(
    "body, row, column",
    [(b'Nama;Tanggal;Jumlah\n"A\nB";7 Maret 2024;1\n\nC;8 Maret 2024;x\n', 5, "Jumlah"),
     (b"Nama;Tanggal;Jumlah\nA;7 Maret 2024;1\n;;;\nB;31/02/2024;2\n", 4, "Tanggal"),
     (b"Nama;Tanggal;Jumlah\nA;7 Maret 2024;1\nB;;2\n", 3, "Tanggal"),
     (b"Nama;Tanggal;Jumlah\nA;7 Maret 2024;1;extra\nB;8 Maret 2024;1,5x\n", 3, "Jumlah")],
)
def test_errors_after_the_vectorized_pass_name_the_line(body, row, column):
    """A bad cell found by a column conversion is located on its line, quoted newlines and blank lines counted."""
    with pytest.raises(SourceParseError) as err:
        read_csv_bytes(body, FIELDS, "x.csv")
    assert (err.value.file, err.value.row, err.value.column) == ("x.csv", row, column)


def test_ragged_row_is_read_as_the_cell_by_cell_reader_reads_it():
    """pyarrow refuses a row with an extra cell; the file is then read cell by cell, as before."""
    body = b"Nama;Tanggal;Jumlah\nA;7 Maret 2024;1\nB;8 Maret 2024;2;extra\nC;9 Maret 2024\n"
    fields = [F("Nama", "string"), F("Tanggal", "date"), F("Jumlah", "float64", False)]
    assert read_csv_bytes(body, fields, "x.csv")["Jumlah"].tolist() == [1.0, 2.0, None]
