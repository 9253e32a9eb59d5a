"""The personal-data scan: what it must find (recall), what it must leave alone (precision)."""

import typing

import numpy as np
import pandas as pd
import pytest

from satudata.catalog import PersonalDataAllowance, PersonalDataKind
from satudata.gate.privacy import KINDS, is_nip, kinds_in_text, nik_kind, redact, scan_frame

# Synthetic identifiers with a valid structure; none belongs to a real person.
NIK_MAN = "6472011203850007"  # Samarinda, born 12-03-1985
NIK_WOMAN = "6472015203850012"  # day 12 + 40 = 52
NIK_KALTARA = "6501015506990003"  # province 65: newer than python-stdnum's list
NIK_PAPUA = "9601010101010001"  # new Papua province code 96
NIP = "198503122010011003"
NPWP_OLD = "01.234.567.4-901.000"
NPWP_BARE = "012345674901000"  # first nine digits pass the Luhn check


@pytest.mark.parametrize(
    "text, kind",
    [
        (NIK_MAN, "nik"),
        (NIK_WOMAN, "nik"),
        (NIK_KALTARA, "nik"),
        (NIK_PAPUA, "nik"),
        (f"Pemohon NIK {NIK_WOMAN}, alamat Jl. Pahlawan", "nik"),
        (NIP, "nip"),
        ("NIP. 19850312 201001 1 003", "nip"),
        (NPWP_OLD, "npwp"),
        (NPWP_BARE, "npwp"),
        ("0" + NPWP_BARE, "npwp"),  # the 16-digit form of an old NPWP
        ("hubungi 081234567890", "telepon"),
        ("+62 812-3456-7890", "telepon"),
        ("62 821 1234 5678", "telepon"),
        ("0852.4567.8901", "telepon"),
        ("budi.santoso@gmail.com", "email"),
        ("Surat ke dinas: pelayanan.dpmptsp@kaltimprov.go.id", "email"),
    ],
)
def test_personal_data_in_text_is_found(text, kind):
    assert kind in kinds_in_text(text)


def test_family_card_number_is_told_from_nik_by_its_column():
    assert nik_kind(NIK_MAN, "no_kk") == "no_kk"
    assert nik_kind(NIK_MAN, "nomor_kartu_keluarga") == "no_kk"
    assert nik_kind(NIK_MAN, "nomor_pemohon") == "nik"
    assert nik_kind(NIK_MAN, "kartu_keluarga") == "no_kk"
    # Only a NIK can carry a day of 41-71, whatever the column is called.
    assert nik_kind(NIK_WOMAN, "no_kk") == "nik"


# Real-looking identifiers and figures that are NOT personal data; none may be flagged.
PRECISION_CORPUS = [
    "DPMPTSP/PBG/2026/000123",
    "503/1234/DPMPTSP-IV/2026",
    "SK-503.2/0812/2026",
    "64.72.01.1001",  # village code, Kemendagri
    "6472011001",  # village code without dots
    "64.72",
    "2026-10-31",
    "31/10/2026",
    "7 Maret 2024",
    "08-12-2026",
    "1.234.567,89",
    "Rp 12.500.000.000",
    "125000000000",
    "81234567",  # eight digits: a count, not a phone number
    "(0541) 741234",  # office landline: institutional, not flagged
    "NIB 1234000012345",  # business id (13 digits)
    "9120012345678",  # OSS NIB
    "6472000000000000",  # zero district and date: not a NIK
    "6472011399850007",  # month 99: not a NIK
    "1234567890123456",  # province 12 exists, but 12/34... has month 90
    "3.14159265358979",
    "0.081234567",  # a small decimal, not a phone number
    "Izin Usaha Perikanan (SIUP) No. 523/0817/DKP",
    "PBG-64.72-2026-0045",
    "ISBN 978-602-8519-93-9",
    "versi 2.12.0",
]


@pytest.mark.parametrize("text", PRECISION_CORPUS)
def test_non_personal_identifiers_are_not_flagged(text):
    assert kinds_in_text(text) == set()


def test_whole_precision_corpus_as_published_columns_passes():
    frame = pd.DataFrame({"keterangan": pd.array(PRECISION_CORPUS, dtype="string")})
    frame["anggaran_rupiah"] = [12_345_678_901_234 + i * 7_919_117 for i in range(len(frame))]  # 14 digits
    frame.loc[3, "anggaran_rupiah"] = 628_123_456_789  # Rp 628 billion, shaped like 62 812-3456-789
    frame["jumlah"] = np.arange(len(frame), dtype="int64") * 1_000_003
    frame["nilai"] = np.linspace(0.5, 99_999_999.5, len(frame))
    scan = scan_frame(frame)
    assert scan.success, scan.findings
    assert scan.columns_scanned == ["keterangan", "anggaran_rupiah", "jumlah", "nilai"]


def test_numeric_columns_are_scanned_too():
    frame = pd.DataFrame(
        {
            "nik_int": pd.array([int(NIK_MAN), int(NIK_WOMAN), 12], dtype="Int64"),
            "nik_float": [float(NIK_MAN), 3.0, 4.0],
            "hp": pd.array([6281234567890, 5, 6], dtype="Int64"),
            "hp_tanpa_nol": pd.array([81234567890, 82156781234, None], dtype="Int64"),
            "nip": pd.array([int(NIP), 1, 2], dtype="Int64"),
        }
    )
    found = {(f.column, f.kind): f.cells for f in scan_frame(frame).findings}
    assert found == {
        ("nik_int", "nik"): 2,
        ("nik_float", "nik"): 1,
        ("hp", "telepon"): 1,
        ("hp_tanpa_nol", "telepon"): 2,
        ("nip", "nip"): 1,
    }


def test_amount_columns_with_phone_shaped_values_pass():
    # One in a thousand random rupiah amounts starts with 628...; they are amounts, not phones.
    amounts = pd.Series(np.random.default_rng(7).integers(10**9, 10**14, 20_000))
    amounts.iloc[:5] = [628_123_456_789, 81_234_567_890, 6_281_234_567_890, 812_345_678_901, 62_812_345_678]
    assert scan_frame(pd.DataFrame({"anggaran_rupiah": amounts})).success


def test_leading_zero_phone_rule_needs_a_column_of_them():
    # One 11-digit amount among ordinary amounts is money, not a phone number.
    frame = pd.DataFrame({"pagu_rupiah": [81_234_567_890, 1_250_000_000, 730_000_000, 990_000_000]})
    assert scan_frame(frame).success


def test_findings_name_column_kind_and_count_never_values():
    frame = pd.DataFrame({"catatan": [f"NIK {NIK_MAN}", "ok", f"kontak {NIK_WOMAN} / 081234567890"]})
    scan = scan_frame(frame)
    assert not scan.success
    summary = scan.summary()
    assert summary == "column 'catatan': 2 cell(s) with nik; column 'catatan': 1 cell(s) with telepon"
    assert NIK_MAN not in str(scan.to_dict()) and "081234567890" not in str(scan.to_dict())


def test_allowance_lets_a_column_through_for_that_kind_only():
    frame = pd.DataFrame({"nomor_izin": [NIK_MAN, f"{NIK_WOMAN} hubungi 081234567890"]})
    allow = [PersonalDataAllowance(column="nomor_izin", kind="nik", reason="Nomor izin lama 16 digit, bukan NIK")]
    scan = scan_frame(frame, allow)
    assert [(f.kind, f.allowed) for f in scan.findings] == [("nik", True), ("telepon", False)]
    assert not scan.success
    assert scan.findings[0].reason.startswith("Nomor izin lama")


def test_nip_structure():
    assert is_nip(NIP)
    assert not is_nip("198513122010011003")  # month 13
    assert not is_nip("198503122010013003")  # sex digit 3


def test_redact_hides_only_personal_values():
    assert redact(NIK_MAN) == "[disamarkan: nik]"
    assert redact(int(NIK_MAN)) == "[disamarkan: nik]"
    assert redact("64.99") == "64.99"
    assert redact([NIK_MAN, "PBG"]) == ["[disamarkan: nik]", "PBG"]


def test_catalog_allows_exactly_the_kinds_the_scan_reports():
    assert typing.get_args(PersonalDataKind) == KINDS


def test_arrow_and_object_text_columns_give_the_same_findings():
    # Arrow strings are pre-filtered with RE2, other text with Python's re; \d there means any
    # Unicode digit, so a NIK in Arabic-Indic digits must pass both pre-filters.
    arabic_nik = NIK_MAN.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    cells = [*PRECISION_CORPUS, f"NIK {NIK_WOMAN}", "hp 0812-3456-7890", "surel a.b@contoh.go.id", NPWP_OLD,
             arabic_nik, None, ""]
    findings = {}
    for dtype in ("string[pyarrow]", "string[python]", object):
        frame = pd.DataFrame({"keterangan": pd.Series(cells * 3, dtype=dtype)})
        findings[str(dtype)] = [(f.kind, f.cells) for f in scan_frame(frame).findings]
    assert findings["string[pyarrow]"] == findings["string[python]"] == findings["<class 'object'>"]
    assert dict(findings["string[pyarrow]"]) == {"nik": 6, "npwp": 3, "telepon": 3, "email": 3}


def test_date_columns_hold_no_personal_data():
    from datetime import date

    frame = pd.DataFrame({"tanggal": [date(2026, 10, 1), None], "catatan": ["ok", NIK_MAN]})
    scan = scan_frame(frame)
    assert scan.columns_scanned == ["tanggal", "catatan"]
    assert [(f.column, f.kind) for f in scan.findings] == [("catatan", "nik")]


def test_vectorised_npwp_check_is_the_per_value_check():
    from satudata.gate.privacy import _npwp_numbers, is_npwp_digits

    rng = np.random.default_rng(11)
    fifteen = [str(v) for v in rng.integers(10**14, 10**15, 5_000)] + [NPWP_BARE]
    fourteen = [str(v) for v in rng.integers(10**13, 10**14, 5_000)] + [NPWP_BARE[1:]]
    assert _npwp_numbers(pd.Series(fifteen), lost_zero=False).tolist() == [is_npwp_digits(d) for d in fifteen]
    assert _npwp_numbers(pd.Series(fourteen), lost_zero=True).tolist() == [is_npwp_digits("0" + d) for d in fourteen]
    assert _npwp_numbers(pd.Series(fourteen), lost_zero=True)[-1]
