"""Small-cell suppression: counts from 1 to k could identify people, so they are not published.

The marker is an empty cell (null). Declared types stay as they are: an ``int64`` count column
becomes a nullable int64 in Parquet and an empty field in CSV. This is unambiguous because the
suite runs before suppression and requires every count to be present, so in a suppressed column
an empty cell means "between 1 and k" and nothing else; the dataset metadata says so (the catalog
adds the ``penyamaran_sel_kecil`` extra). Columns derived from the same few people (e.g. the mean
processing days of one permit) are emptied in the same rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

import pandas as pd


class SuppressionRule(Protocol):
    k: int
    columns: list[str]
    also_blank: list[str]


@dataclass
class SuppressionResult:
    applied: bool
    k: int | None = None
    columns: list[str] = field(default_factory=list)
    also_blank: list[str] = field(default_factory=list)
    rows_suppressed: int = 0
    cells_suppressed: dict[str, int] = field(default_factory=dict)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """What was suppressed, as plain data for the report."""
        return asdict(self)


def suppression_note(rule: SuppressionRule) -> str:
    """The sentence the dataset metadata carries about suppressed cells (Indonesian, for the public)."""
    columns = ", ".join(rule.columns)
    blanked = f"; kolom {', '.join(rule.also_blank)} pada baris yang sama juga dikosongkan" if rule.also_blank else ""
    return (
        f"Nilai 1 sampai {rule.k} pada kolom {columns} dikosongkan untuk melindungi data pribadi "
        f"(penyamaran sel kecil){blanked}. Sel kosong pada kolom tersebut berarti 1-{rule.k}, bukan data hilang."
    )


def suppress_small_cells(frame: pd.DataFrame, rule: SuppressionRule | None) -> tuple[pd.DataFrame, SuppressionResult]:
    """Return ``frame`` with counts 1..k (and the rows' derived columns) emptied, and what was done."""
    if rule is None:
        return frame, SuppressionResult(applied=False)
    out = frame.copy()
    small = pd.Series(False, index=out.index)
    cells: dict[str, int] = {}
    for name in rule.columns:
        values = pd.to_numeric(out[name], errors="coerce")
        hit = (values >= 1) & (values <= rule.k)
        hit = hit.fillna(False).astype(bool)
        cells[name] = int(hit.sum())
        small |= hit
        out[name] = out[name].mask(hit)
    for name in rule.also_blank:
        cells[name] = int((small & out[name].notna()).sum())
        out[name] = out[name].mask(small)
    return out, SuppressionResult(
        applied=True,
        k=rule.k,
        columns=list(rule.columns),
        also_blank=list(rule.also_blank),
        rows_suppressed=int(small.sum()),
        cells_suppressed=cells,
        note=suppression_note(rule),
    )
