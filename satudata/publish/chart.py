"""The chart for policymakers: the dataset's main measure per period, as a PNG.

Which measure, how its rows combine and what the lines are is ``chart_choice.chart_for``; this
module draws it: Indonesian words and number format (1.234,5), a readable scale (ribu, juta),
the periods covered in the title, the legend below the plot. Same data, same bytes.
"""

from __future__ import annotations

import math
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd

from satudata import settings
from satudata.catalog import Chart, DatasetEntry
from satudata.periods import Period, PeriodKeyError
from satudata.publish.chart_choice import (
    MAX_LINES,
    OTHERS,
    chart_for,
    chart_title,
    measure_label,
    period_keys,
    tick_text,
)
from transforms.writing import replacing

TOTAL = "Total"
MAX_TICKS = 12  # x labels shown; beyond that every n-th period is labelled
MAX_ANNOTATED = 24  # a single line's points carry their value up to this many periods
_COLORS = ["#1f5fa8", "#e07b1a", "#2a9d4a", "#c4383a", "#7b5ea7", "#8c564b", "#d45fa8", "#17a2b8", "#b8a01a",
           "#4a4a4a"]
_OTHERS_COLOR = "#9e9e9e"

settings.quiet_library_logs()


def _indonesian(value: float, decimals: int) -> str:
    """1.234,5: the number format the chart's readers use (dot groups, comma decimals)."""
    text = f"{value:,.{decimals}f}"
    text = text.replace(",", " ").replace(".", ",").replace(" ", ".")
    return text[1:] if text.startswith("-") and not any(ch in "123456789" for ch in text) else text  # no -0


def number_text(value: float, max_decimals: int = 2) -> str:
    """A number with as few decimals as it needs (at most ``max_decimals``): 2.000, 2,5, 0,25."""
    for decimals in range(max_decimals + 1):
        if abs(round(value, decimals) - value) < 1e-9 * max(1.0, abs(value)):
            return _indonesian(value, decimals)
    return _indonesian(value, max_decimals)


def scale_of(largest: float) -> tuple[float, str]:
    """Divisor and word of the axis: values from 10.000 in ribu, from 1.000.000 in juta."""
    if largest >= 1_000_000:
        return 1_000_000.0, "juta"
    if largest >= 10_000:
        return 1_000.0, "ribu"
    return 1.0, ""


def _all_periods(keys: list[str]) -> list[str]:
    """Every period from the first key to the last (a period without rows still has its place)."""
    try:
        period, last = Period.from_key(keys[0]), Period.from_key(keys[-1])
    except PeriodKeyError:
        return keys
    out: list[str] = []
    while period.start <= last.start and len(out) <= 10_000:
        out.append(period.key)
        period = Period.containing(period.schedule, period.end)
    return out if set(keys) <= set(out) else keys


def _line_names(frame: pd.DataFrame, chart: Chart) -> pd.Series:
    """Each row's line: its group (the largest MAX_LINES - 1 groups, the others as one), or the total."""
    if chart.by is None:
        return pd.Series(TOTAL, index=frame.index)
    groups = frame[chart.by].astype("string").fillna("(tidak diketahui)")
    if groups.nunique() <= MAX_LINES:
        return groups
    sizes = frame[chart.measure].abs().groupby(groups).sum()
    ranked = sorted(sizes.index, key=lambda g: (-float(sizes[g]), str(g)))
    kept = set(ranked[: MAX_LINES - 1])
    return groups.where(groups.isin(kept), OTHERS)


def chart_values(frame: pd.DataFrame, entry: DatasetEntry, chart: Chart | None = None,
                 span: tuple[str, str] | None = None) -> pd.DataFrame:
    """The measure per period (rows, in order) and line (columns, largest first; Lainnya last).

    Every period from the first to the last (of the rows, or of ``span`` when it is wider) has a
    row: a sum over no rows is 0 (nothing counted); a mean over no rows is a gap.
    """
    chart = chart or chart_for(entry)
    if chart is None:
        raise ValueError(f"{entry.id}: no chart (no numeric column with a unit)")
    data = pd.DataFrame({
        "periode": period_keys(frame, entry).to_numpy(),
        "garis": _line_names(frame, chart).to_numpy(),
        "nilai": pd.to_numeric(frame[chart.measure], errors="coerce").astype("float64").to_numpy(),
    })
    grouped = data.groupby(["periode", "garis"], sort=True)["nilai"]
    values = grouped.sum(min_count=1) if chart.aggregate == "sum" else grouped.mean()
    table = values.unstack("garis")
    table = table.reindex(_all_periods(sorted({str(k) for k in table.index} | set(span or ()))))
    if chart.aggregate == "sum":
        table = table.fillna(0.0)
    totals = table.abs().sum()
    order = sorted(table.columns, key=lambda g: (g == OTHERS, -float(totals[g]), str(g)))
    return table[order].astype("float64")


def _wrapped(title: str, width: int = 95) -> str:
    """One line when it fits; else the periods covered (after the last comma) on a line of their own."""
    if len(title) <= width:
        return title
    head, _, span = title.rpartition(", ")
    return "\n".join([*textwrap.wrap(head + ",", width, break_long_words=False), span])


def _x_axis(ax: Any, keys: list[str], daily: bool) -> None:
    step = max(1, math.ceil(len(keys) / MAX_TICKS))
    positions = list(range(0, len(keys), step))
    rotate = daily or step > 1 or len(keys) > 8
    ax.set_xticks(positions, [tick_text(keys[i]) for i in positions], rotation=45 if rotate else 0,
                  ha="right" if rotate else "center", rotation_mode="anchor", fontsize=8)
    ax.set_xlim(-0.5, len(keys) - 0.5)


def _annotate(ax: Any, values: list[float], divisor: float, word: str, decimals: int) -> None:
    for x, y in enumerate(values):
        if math.isnan(y):
            continue
        text = f"{number_text(y / divisor, 1)} {word}" if word else _indonesian(y, decimals)
        # A dip's value goes below its point, clear of the lines rising on each side.
        dip = 0 < x < len(values) - 1 and y < values[x - 1] and y < values[x + 1]
        ax.annotate(text, (x, y), textcoords="offset points", xytext=(0, -9 if dip else 7), ha="center",
                    va="top" if dip else "bottom",
                    fontsize=7.5, color="#333333",
                    bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none", "alpha": 0.85})


def write_chart(frame: pd.DataFrame, entry: DatasetEntry, out: Path, chart: Chart | None = None,
                span: tuple[str, str] | None = None) -> Path:
    """Draw the measure per period as a PNG; same data, same bytes.

    ``chart`` is ``chart_for(entry)`` when not given; ``span`` (first and last period key) widens
    the x axis to the periods published, so the title names the same periods as the description.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    settings.quiet_library_logs()
    chart = chart or chart_for(entry)
    if chart is None:
        raise ValueError(f"{entry.id}: no chart (no numeric column with a unit)")
    table = chart_values(frame, entry, chart, span)
    keys = [str(k) for k in table.index]
    largest = float(table.abs().max().max()) if table.size else 0.0
    divisor, word = scale_of(0.0 if math.isnan(largest) else largest)
    fig, ax = plt.subplots(figsize=(10, 5.4), dpi=100, layout="constrained")
    many = len(table.columns) > 1
    for i, name in enumerate(table.columns):
        color = _OTHERS_COLOR if name == OTHERS else _COLORS[i % len(_COLORS)]
        ax.plot(range(len(keys)), table[name].to_numpy(), color=color, label=str(name),
                linewidth=1.6 if many else 2.2, marker="o" if len(keys) <= 40 else None, markersize=3.5)
    if not many and len(keys) <= MAX_ANNOTATED:
        _annotate(ax, table.iloc[:, 0].tolist(), divisor, word, 0 if chart.aggregate == "sum" else 1)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 5, 10], integer=chart.aggregate == "sum"))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: number_text(v / divisor)))
    _x_axis(ax, keys, "date" in entry.period_columns)
    title = chart_title(entry, chart, keys[0], keys[-1]) if keys else chart.title or entry.ckan.title
    ax.set_title(_wrapped(title), fontsize=11, loc="left")
    ax.set_ylabel(measure_label(entry, chart, word), fontsize=9)
    ax.grid(True, axis="y", alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    # From 0, with room above the highest point for its value.
    lowest = float(table.min().min()) if table.size else 0.0
    ax.set_ylim(min(0.0, lowest * 1.15) if not math.isnan(lowest) else 0.0,
                largest * 1.15 if largest > 0 else 1.0)
    if many:
        fig.legend(loc="outside lower center", ncols=min(4, len(table.columns)), frameon=False, fontsize=8)
    try:
        with replacing(out) as tmp:
            # No software/date metadata: the file's hash must only change when the data does.
            fig.savefig(tmp, format="png", metadata={"Software": None})
    finally:
        plt.close(fig)
    return out
