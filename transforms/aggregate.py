"""Exact grouped statistics over source rows read in chunks: per-group histograms of values.

Median and quantiles do not combine from per-chunk figures, but the values summarised here
(whole days, minutes, hours to one decimal) repeat a lot, so a group's histogram (value ->
count) is small whatever the number of rows and holds everything the statistics need. Partials
of consecutive chunks merge by adding counts; ``finish`` computes size, mean, median and
quantiles from the histogram with the arithmetic pandas and NumPy use on the whole column
(linear interpolation), so a streamed result equals the whole-frame one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
import pandas as pd

_N = "__n"


@dataclass(frozen=True)
class Partial:
    """One or more chunks summarised: per-group attributes and per-group value histograms."""

    groups: pd.DataFrame  # keys, size, first non-null of each ``first`` column, sum of each ``sums`` column
    histogram: pd.DataFrame  # keys, value, count (non-null values only)


@dataclass(frozen=True)
class GroupedStats:
    """Statistics of the ``value`` column per ``keys`` group, computed chunk by chunk."""

    keys: Sequence[str]
    value: str
    first: Sequence[str] = field(default_factory=tuple)
    sums: Sequence[str] = field(default_factory=tuple)

    def partial(self, rows: pd.DataFrame) -> Partial:
        """Summarise one chunk of rows (rows whose key has a null are dropped, as groupby does)."""
        keys = list(self.keys)
        rows = rows.dropna(subset=keys)
        grouped = rows.groupby(keys, sort=False)
        groups = grouped.size().rename(_N).to_frame()
        for column in self.first:
            groups[column] = grouped[column].first()
        for column in self.sums:
            groups[column] = grouped[column].sum()
        values = rows[rows[self.value].notna()]
        histogram = values.groupby([*keys, self.value], sort=False).size().rename(_N)
        return Partial(groups.reset_index(), histogram.reset_index())

    def merge(self, earlier: Partial, later: Partial) -> Partial:
        """The partial of two consecutive runs of chunks (``earlier`` first, for ``first``)."""
        keys = list(self.keys)
        groups = pd.concat([earlier.groups, later.groups], ignore_index=True)
        how = {_N: "sum", **{c: "first" for c in self.first}, **{c: "sum" for c in self.sums}}
        groups = groups.groupby(keys, sort=False).agg(how).reset_index()
        histogram = pd.concat([earlier.histogram, later.histogram], ignore_index=True)
        histogram = histogram.groupby([*keys, self.value], sort=False)[_N].sum().reset_index()
        return Partial(groups, histogram)

    def finish(self, partial: Partial, size: str = "size", mean: str | None = None,
               median: str | None = None, quantiles: dict[str, float] | None = None) -> pd.DataFrame:
        """One row per group, sorted by the keys: size, first/sum columns and the requested statistics."""
        keys = list(self.keys)
        out = partial.groups.sort_values(keys, ignore_index=True).rename(columns={_N: size})
        hist = partial.histogram.sort_values([*keys, self.value], ignore_index=True)
        # Each histogram row's group, as the row number of that group in ``out``.
        position = pd.MultiIndex.from_frame(out[keys]).get_indexer(pd.MultiIndex.from_frame(hist[keys]))
        values = hist[self.value].to_numpy(dtype="float64")
        counts = hist[_N].to_numpy(dtype="int64")
        n = np.bincount(position, weights=counts, minlength=len(out)).astype("int64")
        ends = np.cumsum(counts)
        starts = np.concatenate([[0], np.cumsum(n)[:-1]])

        def nth(k: np.ndarray) -> np.ndarray:
            # The k-th smallest value of each group (0-based), found through the cumulative counts.
            at = np.searchsorted(ends, starts + k, side="right")
            return values[np.minimum(at, len(values) - 1)] if len(values) else np.full(len(k), np.nan)

        has = n > 0
        if mean is not None:
            out[mean] = _exact_means(position, values, counts, n)
        if median is not None:
            lo, hi = nth((n - 1) // 2), nth(n // 2)
            # pandas' groupby median: the middle value, or the mean of the two middle values.
            out[median] = np.where(has, np.where(n % 2 == 1, lo, (lo + hi) / 2), np.nan)
        for column, q in (quantiles or {}).items():
            out[column] = np.where(has, _linear_quantile(nth, n, q), np.nan)
        return out


def _exact_means(position: np.ndarray, values: np.ndarray, counts: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Per-group sum / count with the sum exact before its one rounding, as a compensated sum gives."""
    means = np.full(len(n), np.nan)
    whole = bool(np.all(values == np.round(values))) and float(np.abs(values) @ counts) < 2.0**53
    if whole:
        # Whole values: every product and partial sum is an exact float.
        sums = np.bincount(position, weights=values * counts, minlength=len(n))
        np.divide(sums, n, out=means, where=n > 0)
        return means
    totals = [Fraction(0)] * len(n)
    for g, v, c in zip(position.tolist(), values.tolist(), counts.tolist(), strict=True):
        totals[g] += Fraction(v) * c
    for g, total in enumerate(totals):
        if n[g]:
            means[g] = float(total) / float(n[g])
    return means


def _linear_quantile(nth: Callable[[np.ndarray], np.ndarray], n: np.ndarray, q: float) -> np.ndarray:
    """NumPy's default quantile (linear interpolation between the two neighbouring order statistics)."""
    virtual = (np.maximum(n, 1) - 1) * q
    previous = np.floor(virtual)
    gamma = virtual - previous
    below = previous.astype("int64")
    above = np.minimum(below + 1, np.maximum(n, 1) - 1)
    a, b = nth(below), nth(above)
    diff = b - a
    # NumPy's _lerp: interpolate from the nearer end so that gamma = 1 gives b exactly.
    quantiles: np.ndarray = np.where(gamma >= 0.5, b - diff * (1 - gamma), a + diff * gamma)
    return quantiles
