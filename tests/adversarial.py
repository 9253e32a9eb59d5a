"""Adversarial text cells for the output-safety tests, and what a spreadsheet would make of a cell.

The judge here is written from Unicode itself (``unicodedata``), not from the patterns of
``transforms.tables``, so the tests check the writer against an independent reading.
"""

from __future__ import annotations

import unicodedata

from hypothesis import strategies as st

# Cells that broke, or could break, a reader or a spreadsheet: row splitters, quotes and
# delimiters, controls, formula starts behind blanks and invisible characters, look-alikes.
CELLS = [
    "biasa", "", 'kutip "ganda"', "koma, di tengah", "baris\nbaru", "cr\rsaja", "crlf\r\ndi tengah",
    "x\r=2+3", "x\r\n@SUM(1;2)", "\r=1+1", "\n=1+1", "\t=1+1", " =1+1", "\u00a0+1", "\u3000-1",
    "\u200b=1", "\ufeff@x", "\u00ad=1", "\x00=1+1", "=1+1\x00", "nul\x00di tengah", "\x07bel", "\x1b[31m",
    "del\x7f", "c1\x9b", "nel\x85baris", "ls\u2028baris", "ps\u2029baris", "vt\x0bff\x0c",
    "=HYPERLINK(\"http://x.example\",\"klik\")", "+62 811", "-", "-5", "@SUM(A1)", "\uff1d1+1", "\uff0b1",
    "\uff0d1", "\uff201", "\ufe66\u0031", "'=sudah aman", "Ünïcödé ✓", "漢字", "😀=", "a\t=1", "a;=1",
    "=cmd|' /C calc'!A0", "\"=1+1\"", ",=1", "\\\\", "\t", "\r", "\n",
]

# Letters drawn mostly from the characters above, with anything Unicode now and then.
ALPHABET = st.one_of(
    st.sampled_from(list("aZ09 ,;\"'\r\n\t\x00\x01\x0b\x0c\x1f\x7f\x85\x9f\u00a0\u00ad\u200b\u2028\u2029"
                         "\u3000\ufeff=+-@\uff1d\uff0b\uff0d\uff20\ufe66\u207c|!()ÜŉĳéΩЖ漢😀")),
    st.characters(codec="utf-8"),
)
CELL = st.text(ALPHABET, max_size=12)


def runs_as_formula(cell: str) -> bool:
    """Whether a spreadsheet that trims blanks and folds look-alikes could run ``cell`` as a formula."""
    rest = cell.lstrip("".join(c for c in set(cell) if c.isspace() or unicodedata.category(c) in ("Cc", "Cf")))
    return not cell.startswith("'") and unicodedata.normalize("NFKC", rest[:1])[:1] in ("=", "+", "-", "@")


def has_controls(cell: str) -> bool:
    """Whether ``cell`` holds a control character other than tab and LF, or a Unicode line separator."""
    return any((unicodedata.category(c) == "Cc" and c not in "\t\n") or c in "\u2028\u2029" for c in cell)
