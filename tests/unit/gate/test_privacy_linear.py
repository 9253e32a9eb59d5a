"""The personal-data scan takes time in proportion to a cell's length, however hostile the cell.

A regular expression that rescans the rest of a cell from every position, or a loop that copies
what is left at each step, turns a long cell into minutes of work. Each hostile cell is timed at
two lengths, eight times apart: linear work takes about eight times as long, quadratic work about
sixty-four. The bound is generous (sixteen) so a busy machine does not fail it; no absolute timing.
"""

from __future__ import annotations

import time

import pandas as pd
import pytest

from satudata.gate.privacy import kinds_in_text, scan_frame

HOSTILE = [
    "1 ",  # one run of single-digit groups: every window of it is an identifier candidate
    "1.",
    "1-",
    "8 ",
    "1 (",
    "12.",
    "01-01-",
    "a@",  # many @ with no domain
    "a.",  # a long local part: no @ at all, then one at the end (below)
    "x@a.",  # one long domain of one-letter labels
    "\uff11 ",  # fullwidth digits, made ASCII by NFKC
]


def _cell(pattern: str, size: int) -> str:
    cell = (pattern * (size // len(pattern) + 1))[:size]
    return cell[:-1] + "@" if pattern == "a." else cell


def _seconds(cell: str) -> float:
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        kinds_in_text(cell)
        best = min(best, time.perf_counter() - start)
    return best


@pytest.mark.parametrize("pattern", HOSTILE)
def test_scan_time_grows_linearly_with_a_hostile_cell(pattern):
    small, large = _seconds(_cell(pattern, 10_000)), _seconds(_cell(pattern, 80_000))
    # Eight times the length: linear is ~8x, quadratic ~64x; the 10 ms floor absorbs timer noise.
    assert large < 16 * small + 0.01, f"{pattern!r}: {small:.3f} s -> {large:.3f} s"


def test_local_part_without_domain_is_not_an_email_and_a_real_one_after_it_is():
    run = "a" * 50_000 + "@"
    assert "email" not in kinds_in_text(run)
    assert "email" in kinds_in_text(run + " " + "budi.s@contoh.co.id")


def test_one_megabyte_cell_is_scanned():
    frame = pd.DataFrame({"catatan": pd.Series(["9." * 500_000, "6472 0152 0385 0012"], dtype="string")})
    scan = scan_frame(frame)
    assert [(f.column, f.kind, f.cells) for f in scan.findings] == [("catatan", "nik", 1)]
