"""Personal data written the way people write it: grouped, bracketed, glued to a prefix, fullwidth, invisible.

Hypothesis builds valid NIK, No. KK, NPWP, mobile numbers and e-mail addresses, writes them in
everyday spreadsheet habits inside free text, and asserts the scan finds every one; it also
builds legitimate look-alikes (amounts, decimals, dates, years, region codes, permit numbers,
ISBN) and asserts none of them blocks.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from satudata.gate.privacy import PROVINCE_CODES, _luhn_ok, kinds_in_text, scan_frame

SEPARATORS = [" ", ".", "-", " - ", "\u00a0", ". "]
INVISIBLE = ["", "\u200b", "\u00ad", "\u2060"]
PREFIXES = ["", "NIK ", "NIK: ", "No. ", "a.n. Budi ", "WA", "Telp. ", "HP:", "wa.me/", "(", "Kontak: "]
SUFFIXES = ["", ")", " (pemohon)", ", Samarinda", ".", " ya"]


@st.composite
def nik(draw) -> str:
    province = draw(st.sampled_from(sorted(PROVINCE_CODES)))
    regency, district = draw(st.integers(1, 99)), draw(st.integers(1, 99))
    day = draw(st.integers(1, 28)) + draw(st.sampled_from([0, 40]))
    month, year, serial = draw(st.integers(1, 12)), draw(st.integers(0, 99)), draw(st.integers(1, 9999))
    return f"{province:02d}{regency:02d}{district:02d}{day:02d}{month:02d}{year:02d}{serial:04d}"


@st.composite
def npwp(draw) -> str:
    while True:
        digits = "".join(str(draw(st.integers(0, 9))) for _ in range(15))
        if _luhn_ok(digits[:9]):
            return digits


@st.composite
def mobile(draw) -> str:
    rest = "".join(str(draw(st.integers(0, 9))) for _ in range(draw(st.integers(7, 10))))
    prefix = draw(st.sampled_from(["0", "62", "+62"]))
    return f"{prefix}8{draw(st.sampled_from('1235789'))}{rest}"


@st.composite
def written(draw, digits: str) -> str:
    """``digits`` written as people do: grouped with separators, bracketed, fullwidth, with invisible characters."""
    plus = digits.startswith("+")
    digits = digits.lstrip("+")
    # Groups of two digits or more, as people group them (a single "." or "," reads as a decimal).
    cuts = sorted(draw(st.sets(st.integers(1, len(digits) // 2 - 1).map(lambda i: 2 * i), max_size=5)))
    groups = [digits[a:b] for a, b in zip([0, *cuts], [*cuts, len(digits)], strict=True)]
    sep = draw(st.sampled_from(SEPARATORS if len(groups) != 2 else [" ", "-", " - ", "\u00a0"]))
    if len(groups) > 1 and draw(st.booleans()):
        groups[0] = f"({groups[0]})"
    text = ("+" if plus else "") + sep.join(groups)
    if draw(st.booleans()):
        text = "".join(chr(ord(c) + 0xFEE0) if c.isdigit() else c for c in text)  # fullwidth digits
    invisible = draw(st.sampled_from(INVISIBLE))
    if invisible:
        at = draw(st.integers(1, len(text) - 1))
        text = text[:at] + invisible + text[at:]
    return draw(st.sampled_from(PREFIXES)) + text + draw(st.sampled_from(SUFFIXES))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_nik_however_written_is_found(data):
    value = data.draw(nik())
    cell = data.draw(written(value))
    assert kinds_in_text(cell, "keterangan") & {"nik", "no_kk"}, (value, cell)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_an_npwp_however_written_is_found(data):
    value = data.draw(npwp())
    cell = data.draw(written(value))
    assert "npwp" in kinds_in_text(cell, "keterangan"), (value, cell)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_a_mobile_number_however_written_is_found(data):
    value = data.draw(mobile())
    cell = data.draw(written(value))
    assert "telepon" in kinds_in_text(cell, "keterangan"), (value, cell)


@given(st.sampled_from(["budi.santoso", "siti_rahma", "agus99"]), st.sampled_from(["gmail.com", "kaltimprov.go.id"]),
       st.sampled_from(["@", "\uff20", "\ufe6b", "\u200b@"]))
def test_an_email_with_a_unicode_at_sign_is_found(user, domain, at):
    assert "email" in kinds_in_text(f"hubungi {user}{at}{domain} untuk info")


AMOUNTS = st.integers(1, 10**17).map(lambda n: f"Rp {n:,}".replace(",", "."))
DECIMALS = st.floats(0, 10**9, allow_nan=False).map(lambda f: f"{f:.6f}".replace(".", ","))
DATES = st.dates(date(1900, 1, 1), date(2100, 12, 31)).map(
    lambda d: f"{d:%d-%m-%Y}, {d:%d/%m/%Y} {d.year}-{d.year + 4}")
REGION_CODES = st.tuples(st.sampled_from(["64.01", "64.72", "64.74"]), st.integers(1, 30), st.integers(1001, 2999)).map(
    lambda t: f"{t[0]}.{t[1]:02d}.{t[2]}")
PERMITS = st.tuples(st.integers(100, 999), st.integers(1, 99999), st.integers(2000, 2030)).map(
    lambda t: f"{t[0]}/{t[1]}/DPMPTSP/{t[2]}")
ISBN = st.tuples(st.integers(100, 999), st.integers(100, 999), st.integers(0, 9)).map(
    lambda t: f"ISBN 978-602-{t[0]}-{t[1]}-{t[2]}")


@settings(max_examples=300, deadline=None)
@given(st.one_of(AMOUNTS, DECIMALS, DATES, REGION_CODES, PERMITS, ISBN))
def test_legitimate_look_alikes_do_not_block(cell):
    assert kinds_in_text(cell, "keterangan") == set(), cell


def test_the_frame_scan_finds_formatted_identifiers_in_text_columns():
    frame = pd.DataFrame({"catatan": ["NIK 6472 0152 0385 0012", "WA0812-3456-7890", "biasa", "budi\uff20gmail.com"],
                          "jumlah": [1, 2, 3, 4]})
    found = {(f.column, f.kind) for f in scan_frame(frame).findings}
    assert found == {("catatan", "nik"), ("catatan", "telepon"), ("catatan", "email")}


def test_a_nik_grouped_like_a_date_is_still_found():
    # 11.01.0101 reads as day.month.year; the year is no year and digits follow, so it is groups of a NIK.
    assert "nik" in kinds_in_text("11.01.0101.01000001", "keterangan")
    assert "nik" in kinds_in_text("11.01.2001.01000001", "keterangan")
    assert kinds_in_text("lahir 01-01-2001, 2 anak", "keterangan") == set()
