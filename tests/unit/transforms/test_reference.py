"""The region reference: one declaration, names as agencies write them, codes in a declared system."""

from __future__ import annotations

import random

import pandas as pd
import pytest

from transforms import reference
from transforms.limits import masked
from transforms.readers import SourceParseError
from transforms.reference import (
    KABUPATEN_KOTA,
    KODE_PROVINSI,
    NAMA_PROVINSI,
    REGIONS,
    AmbiguousRegion,
    RegionNotFound,
    RegionValueError,
    add_region,
    region_by_code,
    region_by_name,
    with_region_names,
)

KUKAR = "Kabupaten Kutai Kartanegara"


def test_the_declaration_gives_the_mappings_other_code_reads():
    assert (KODE_PROVINSI, NAMA_PROVINSI) == ("64", "Kalimantan Timur")
    assert KABUPATEN_KOTA == {
        "64.01": "Kabupaten Paser", "64.02": KUKAR, "64.03": "Kabupaten Berau",
        "64.07": "Kabupaten Kutai Barat", "64.08": "Kabupaten Kutai Timur",
        "64.09": "Kabupaten Penajam Paser Utara", "64.11": "Kabupaten Mahakam Ulu",
        "64.71": "Kota Balikpapan", "64.72": "Kota Samarinda", "64.74": "Kota Bontang",
    }
    assert len(REGIONS) == 11 and len({r.kemendagri for r in REGIONS}) == len({r.bps for r in REGIONS}) == 11


def test_kinds_follow_the_kemendagri_numbering():
    # Kab/kota 01-69 are kabupaten, 71-99 are kota.
    for r in REGIONS:
        if r.kind == "provinsi":
            assert r.kemendagri == r.bps == "64"
        else:
            assert r.kind == ("kota" if int(r.kemendagri[3:]) >= 71 else "kabupaten"), r
            assert r.name.startswith("Kota " if r.kind == "kota" else "Kabupaten ")


def test_bps_numbers_four_regencies_differently():
    differ = {r.kemendagri: r.bps for r in REGIONS if r.kemendagri.replace(".", "") != r.bps}
    assert differ == {"64.02": "6403", "64.03": "6405", "64.07": "6402", "64.08": "6404"}


@pytest.mark.parametrize("text, name", [
    ("Kab. Kutai Kartanegara", KUKAR),
    ("Kabupaten Kutai Kartanegara", KUKAR),
    ("KUTAI KARTANEGARA", KUKAR),
    ("Kukar", KUKAR),
    ("KUKAR", KUKAR),
    ("Kab. Kukar", KUKAR),
    ("Kab Kutai  Kartanegara", KUKAR),
    ("  kab.kutai-kartanegara ", KUKAR),
    ("Kubar", "Kabupaten Kutai Barat"),
    ("Kutim", "Kabupaten Kutai Timur"),
    ("PPU", "Kabupaten Penajam Paser Utara"),
    ("Penajam Paser Utara", "Kabupaten Penajam Paser Utara"),
    ("Mahulu", "Kabupaten Mahakam Ulu"),
    ("Mahakam Ulu", "Kabupaten Mahakam Ulu"),
    ("Paser", "Kabupaten Paser"),
    ("Kab. Paser", "Kabupaten Paser"),
    ("Berau", "Kabupaten Berau"),
    ("Kota Samarinda", "Kota Samarinda"),
    ("Samarinda", "Kota Samarinda"),
    ("Kot. Samarinda", "Kota Samarinda"),
    ("KOTA  BALIKPAPAN", "Kota Balikpapan"),
    ("Balikpapan", "Kota Balikpapan"),
    ("bontang", "Kota Bontang"),
    ("Kalimantan Timur", "Kalimantan Timur"),
    ("Provinsi Kalimantan Timur", "Kalimantan Timur"),
    ("Prov. Kaltim", "Kalimantan Timur"),
])
def test_names_as_agencies_write_them(text, name):
    assert region_by_name(text).name == name


@pytest.mark.parametrize("text", ["Kutai", "kab. kutai", "KUTAI "])
def test_kutai_alone_is_ambiguous_and_names_the_three(text):
    with pytest.raises(AmbiguousRegion) as err:
        region_by_name(text)
    assert {r.name for r in err.value.candidates} == {KUKAR, "Kabupaten Kutai Barat", "Kabupaten Kutai Timur"}
    for name in ("Kutai Barat", "Kutai Kartanegara", "Kutai Timur"):
        assert name in str(err.value)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize("text, suggested", [
    ("Kartanegara", KUKAR),
    ("Paser Utara", "Kabupaten Penajam Paser Utara"),
    ("Kab. Samarinda", "Kota Samarinda"),  # the kind must agree
    ("Kota Paser", "Kabupaten Paser"),
    ("Kota Smd", None),  # abbreviations not declared are not guessed
    ("Bpp", None),
    ("Kutai Selatan", None),
    ("Kalimantan Barat", None),
    ("Kabupaten", None),
    ("", None),
    ("   ", None),
])
def test_unknown_names_are_errors(text, suggested):
    with pytest.raises(RegionNotFound) as err:
        region_by_name(text)
    assert isinstance(err.value, ValueError)
    if suggested:
        assert f"did you mean {suggested}?" in str(err.value)
    else:
        assert "did you mean" not in str(err.value)


def test_a_value_that_looks_like_an_identifier_is_not_repeated():
    with pytest.raises(RegionNotFound) as err:
        region_by_name("6472015203850012")
    assert "6472015203850012" not in str(err.value)


def _variants(name: str, kind: str, rng: random.Random) -> str:
    """``name`` written as an agency might: random case, spacing, and the kind's prefix or abbreviation."""
    base = name.removeprefix("Kabupaten ").removeprefix("Kota ")
    prefixes = {"kabupaten": ["", "Kab.", "Kab", "Kabupaten", "KAB .", "kab."],
                "kota": ["", "Kota", "Kot.", "KOTA", "kota"], "provinsi": ["", "Provinsi", "Prov."]}[kind]
    words = [rng.choice(prefixes), *base.split()]
    text = "".join(w + " " * rng.randint(1, 3) for w in words if w)
    text = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in text)
    return " " * rng.randint(0, 2) + text


@pytest.mark.parametrize("region", REGIONS, ids=lambda r: r.kemendagri)
def test_any_official_name_with_random_case_spacing_and_prefix_resolves(region):
    rng = random.Random(region.kemendagri)
    for _ in range(200):
        text = _variants(region.name, region.kind, rng)
        assert region_by_name(text) == region, text


@pytest.mark.parametrize("code, system, name", [
    ("64.72", "kemendagri", "Kota Samarinda"),
    ("6472", "kemendagri", "Kota Samarinda"),
    (" 64.72 ", "kemendagri", "Kota Samarinda"),
    (6472, "kemendagri", "Kota Samarinda"),
    ("6472", "bps", "Kota Samarinda"),
    (6472, "bps", "Kota Samarinda"),
    ("64", "kemendagri", "Kalimantan Timur"),
    ("64", "bps", "Kalimantan Timur"),
    # The four regencies BPS numbers differently.
    ("64.02", "kemendagri", KUKAR), ("6403", "bps", KUKAR),
    ("64.03", "kemendagri", "Kabupaten Berau"), ("6405", "bps", "Kabupaten Berau"),
    ("64.07", "kemendagri", "Kabupaten Kutai Barat"), ("6402", "bps", "Kabupaten Kutai Barat"),
    ("64.08", "kemendagri", "Kabupaten Kutai Timur"), ("6404", "bps", "Kabupaten Kutai Timur"),
])
def test_codes_in_their_system(code, system, name):
    assert region_by_code(code, system).name == name


def test_a_bare_code_is_read_in_the_declared_system_only():
    assert region_by_code("6402", "kemendagri").name == KUKAR
    assert region_by_code("6402", "bps").name == "Kabupaten Kutai Barat"
    assert region_by_code("64.02").name == KUKAR  # Kemendagri is the default


@pytest.mark.parametrize("code, system, message", [
    ("64.05", "kemendagri", "as a BPS code, 6405 is Kabupaten Berau"),
    ("6407", "bps", "as a Kemendagri code, 64.07 is Kabupaten Kutai Barat"),
    ("64.02", "bps", "not a BPS region code"),
    ("65.01", "kemendagri", r"has Kemendagri code text of 5 characters \(digits, symbols\)"),
    ("64.7", "kemendagri", "not a Kemendagri region code"),
    ("Samarinda", "bps", "not a BPS region code"),
    (64.72, "kemendagri", "not a Kemendagri region code"),
])
def test_unknown_codes_are_errors(code, system, message):
    with pytest.raises(RegionNotFound, match=message):
        region_by_code(code, system)


def test_an_unknown_code_system_is_refused():
    with pytest.raises(ValueError, match="unknown code system"):
        region_by_code("64.72", "dukcapil")  # type: ignore[arg-type]


def test_add_region_fills_code_and_name_and_leaves_the_input_alone():
    frame = pd.DataFrame({"Kabupaten/Kota": ["Kab. Kukar", "Samarinda", None, "KUKAR"], "jumlah": [1, 2, 3, 4]})
    before = frame.copy()
    out = add_region(frame, "Kabupaten/Kota")
    pd.testing.assert_frame_equal(frame, before)
    assert out["kode_kabupaten_kota"].tolist() == ["64.02", "64.72", None, "64.02"]
    assert out["nama_kabupaten_kota"].tolist() == [KUKAR, "Kota Samarinda", None, KUKAR]
    assert out["jumlah"].tolist() == [1, 2, 3, 4]


def test_add_region_reads_bps_codes_from_an_integer_column_into_kemendagri():
    frame = pd.DataFrame({"kode_bps": pd.Series([6402, 6403, 6472], dtype="int64")})
    out = add_region(frame, "kode_bps", "bps", code_column="kode", name_column="nama")
    assert out["kode"].tolist() == ["64.07", "64.02", "64.72"]
    assert out["nama"].tolist() == ["Kabupaten Kutai Barat", KUKAR, "Kota Samarinda"]


def test_add_region_may_replace_the_source_column():
    frame = pd.DataFrame({"kode_kabupaten_kota": ["6403", "6405"]})
    out = add_region(frame, "kode_kabupaten_kota", "bps")
    assert out["kode_kabupaten_kota"].tolist() == ["64.02", "64.03"]


def test_add_region_resolves_each_distinct_value_once(monkeypatch):
    calls: list[object] = []
    real = reference.resolve_region

    def counting(value, match):
        calls.append(value)
        return real(value, match)

    monkeypatch.setattr(reference, "resolve_region", counting)
    add_region(pd.DataFrame({"w": ["Kukar", "Samarinda"] * 5_000}), "w")
    assert sorted(calls) == ["Kukar", "Samarinda"]


@pytest.mark.parametrize("values, row, value, error", [
    (["Samarinda", "Kukar", "Kutai", "Bontang", "Nowhere"], 4, "Kutai", AmbiguousRegion),
    (["Samarinda", "Kota Smd", "Kutai"], 3, "Kota Smd", RegionNotFound),
    (["Nowhere", "Kutai"], 2, "Nowhere", RegionNotFound),
])
def test_add_region_names_file_row_column_and_shape_of_the_first_bad_row(values, row, value, error):
    frame = pd.DataFrame({"Kabupaten/Kota": values})
    with pytest.raises(RegionValueError) as err:
        add_region(frame, "Kabupaten/Kota", file="dinas/2026-10.csv", first_row=2)
    exc = err.value
    assert isinstance(exc, SourceParseError) and isinstance(exc.reason, error)
    assert (exc.file, exc.row, exc.column, exc.value) == ("dinas/2026-10.csv", row, "Kabupaten/Kota", value)
    assert str(exc).startswith(f"dinas/2026-10.csv, row {row}, column 'Kabupaten/Kota': ")
    assert repr(value) not in str(exc) and masked(value) in str(exc)


def test_add_region_rows_count_from_first_row():
    frame = pd.DataFrame({"kode": ["6472"] * 10 + ["6407"]})
    with pytest.raises(RegionValueError) as err:
        add_region(frame, "kode", "bps", first_row=101)
    assert err.value.row == 111


def test_with_region_names_still_names_kemendagri_codes():
    out = with_region_names(pd.DataFrame({"kode_kabupaten_kota": ["64.02", "64.99"]}))
    assert out["nama_kabupaten_kota"].tolist()[0] == KUKAR and pd.isna(out["nama_kabupaten_kota"][1])
    assert set(out["kode_provinsi"]) == {"64"} and set(out["nama_provinsi"]) == {"Kalimantan Timur"}
