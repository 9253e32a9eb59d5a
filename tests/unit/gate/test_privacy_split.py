"""Identifiers typed over adjacent columns: a NIK as 6472 | 0152 | 0385 | 0012, a phone as (0812) | 3456 7890.

Hypothesis splits valid NIK, NPWP, NIP and mobile numbers over 2-4 adjacent text columns placed
among ordinary columns and asserts every split is found; it also builds ordinary statistical
tables (region codes, years, months, quarters, counts, amounts, school and postal codes, permit
numbers) in any column order and asserts no split identifier is reported in them.
"""

from __future__ import annotations

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from satudata.gate.privacy import is_nip, scan_frame
from tests.unit.gate.test_privacy_formats import mobile, nik, npwp

PART_NAMES = ["nomor_a", "nomor_b", "nomor_c", "nomor_d"]


@st.composite
def nip(draw) -> str:
    born = draw(st.dates(pd.Timestamp("1960-01-01").date(), pd.Timestamp("1995-12-31").date()))
    hired = draw(st.integers(born.year + 20, 2024)), draw(st.integers(1, 12))
    value = f"{born:%Y%m%d}{hired[0]}{hired[1]:02d}{draw(st.sampled_from('12'))}{draw(st.integers(1, 999)):03d}"
    assert is_nip(value)
    return value


IDENTIFIERS = {"nik": nik(), "npwp": npwp(), "telepon": mobile(), "nip": nip()}
EXPECTED = {"nik": {"nik", "no_kk"}, "npwp": {"npwp"}, "telepon": {"telepon"}, "nip": {"nip"}}


@st.composite
def split(draw, value: str, parts: int) -> list[str]:
    """``value`` cut into ``parts`` pieces of two digits or more, each written as a person would."""
    plus = value.startswith("+")
    digits = value.lstrip("+")
    cuts = sorted(draw(st.sets(st.integers(2, len(digits) - 2), min_size=parts - 1, max_size=parts - 1)
                       .filter(lambda s: all(b - a >= 2 for a, b in zip(sorted(s), sorted(s)[1:], strict=False)))))
    pieces = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    style = draw(st.sampled_from(["plain", "fullwidth", "bracket", "spaced"]))
    if style == "fullwidth":
        pieces = ["".join(chr(ord(c) + 0xFEE0) for c in p) for p in pieces]
    elif style == "bracket":
        pieces[0] = f"({pieces[0]})"
    elif style == "spaced" and len(pieces[-1]) >= 4:
        pieces[-1] = f"{pieces[-1][:2]} {pieces[-1][2:]}"
    if plus:
        pieces[0] = f"(+{pieces[0][1:]}" if pieces[0].startswith("(") else "+" + pieces[0]
    return pieces


def ordinary_column(draw, name: str, rows: int) -> pd.Series:
    """One column of an ordinary statistical table, by its kind (the name says which)."""
    ints = lambda lo, hi: draw(st.lists(st.integers(lo, hi), min_size=rows, max_size=rows))  # noqa: E731
    text = lambda values: pd.Series(values, dtype="string")  # noqa: E731
    kind = name.split(":")[0]
    if kind == "tahun":
        return pd.Series(ints(2015, 2030), dtype="int64")
    if kind == "tahun_teks":
        return text([str(v) for v in ints(2015, 2030)])
    if kind == "bulan":
        return text([f"{v:02d}" for v in ints(1, 12)])
    if kind == "triwulan":
        return pd.Series(ints(1, 4), dtype="int64")
    if kind in ("jumlah", "anggaran"):
        return pd.Series(ints(0, 10**6) if kind == "jumlah" else ints(10**6, 10**13), dtype="int64")
    if kind == "persen":
        return pd.Series([v / 7 for v in ints(0, 700)], dtype="float64")
    if kind in ("kode_wilayah", "wilayah"):  # Kemendagri codes, also under a name that does not say code
        depth = draw(st.integers(1, 3))
        return text([".".join(["64", f"{r % 20 + 1:02d}", f"{r % 30 + 1:02d}", str(1001 + r)][: depth + 1])
                     for r in ints(0, 999)])
    if kind == "kode_bps":
        return text([f"64{v:02d}" for v in ints(1, 74)])
    if kind == "npsn":
        return text([f"{draw(st.sampled_from(['30', '69']))}{v:06d}" for v in ints(0, 999999)])
    if kind == "kode_pos":
        return text([f"75{v:03d}" for v in ints(100, 999)])
    if kind == "nomor_izin":
        return text([f"503/{v}/DPMPTSP/2024" for v in ints(1, 9999)])
    return text([draw(st.sampled_from(["Kota Samarinda", "Kab. Paser", "Puskesmas Temindung"])) for _ in range(rows)])


ORDINARY = ["tahun", "tahun_teks", "bulan", "triwulan", "jumlah", "anggaran", "persen", "kode_wilayah", "wilayah",
            "kode_bps", "npsn", "kode_pos", "nomor_izin", "nama"]


def _frame(columns: dict[str, pd.Series]) -> pd.DataFrame:
    return pd.DataFrame({name.split(":")[0] + ("" if ":" not in name else "_" + name.split(":")[1]): col
                         for name, col in columns.items()})


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_an_identifier_split_over_adjacent_columns_is_found(data):
    kind = data.draw(st.sampled_from(sorted(IDENTIFIERS)))
    parts = data.draw(st.integers(2, 4))
    rows = data.draw(st.integers(1, 5))
    values = [data.draw(IDENTIFIERS[kind]) for _ in range(rows)]
    pieces = [data.draw(split(v, parts)) for v in values]
    before = data.draw(st.lists(st.sampled_from(ORDINARY), max_size=3, unique=True))
    after = data.draw(st.lists(st.sampled_from(ORDINARY), max_size=3, unique=True))
    columns = {f"{k}:{i}": ordinary_column(data.draw, k, rows) for i, k in enumerate(before)}
    columns |= {PART_NAMES[p]: pd.Series([row[p] for row in pieces], dtype="string") for p in range(parts)}
    columns |= {f"{k}:{i + 10}": ordinary_column(data.draw, k, rows) for i, k in enumerate(after)}
    scan = scan_frame(_frame(columns))
    label = "+".join(PART_NAMES[:parts])
    assert {f.kind for f in scan.findings if f.column == label} & EXPECTED[kind], (pieces, scan.findings)
    assert all(not f.allowed for f in scan.findings)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_ordinary_statistical_tables_hold_no_split_identifier(data):
    rows = data.draw(st.integers(1, 6))
    kinds = data.draw(st.lists(st.sampled_from(ORDINARY), min_size=2, max_size=8))
    frame = _frame({f"{k}:{i}": ordinary_column(data.draw, k, rows) for i, k in enumerate(kinds)})
    split_findings = [f for f in scan_frame(frame).findings if "+" in f.column]
    assert split_findings == [], frame.to_dict("list")


def test_split_findings_name_the_columns_and_count_rows_never_values():
    frame = pd.DataFrame({
        "tahun": [2024, 2024],
        "nik_awal": pd.Series(["6472", "6472"], dtype="string"),
        "nik_tengah": pd.Series(["0152", "0241"], dtype="string"),
        "nik_akhir": pd.Series(["03850012", "03950007"], dtype="string"),
        "jumlah": [3, 4],
    })
    scan = scan_frame(frame)
    assert [(f.column, f.kind, f.cells) for f in scan.findings] == [("nik_awal+nik_tengah+nik_akhir", "nik", 2)]
    assert "6472" not in scan.summary() and not scan.success


def test_a_phone_split_into_area_code_and_number_is_found():
    frame = pd.DataFrame({"kontak_kode": ["(0812)", "0821"], "kontak_nomor": ["3456 7890", "1234567"]}, dtype="string")
    assert {(f.column, f.kind) for f in scan_frame(frame).findings} == {("kontak_kode+kontak_nomor", "telepon")}


def test_region_code_hierarchy_side_by_side_is_not_an_identifier():
    # 11.01.01 next to 11.01.01.2001 joins to 1101011101012001, which has the NIK structure.
    frame = pd.DataFrame({"kecamatan": ["11.01.01"], "desa": ["11.01.01.2001"], "tahun": ["2024"], "bulan": ["03"]},
                         dtype="string")
    assert scan_frame(frame).findings == []


def test_postal_codes_side_by_side_are_not_an_npwp():
    # 751007543075100 passes the NPWP check (Luhn on nine digits): Hypothesis found it in one row.
    frame = pd.DataFrame({"kode_pos_0": ["75100"], "kode_pos_1": ["75430"], "kode_pos_2": ["75100"]}, dtype="string")
    assert [f for f in scan_frame(frame).findings if "+" in f.column] == []
