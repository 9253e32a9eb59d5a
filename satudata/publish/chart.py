"""The chart for policymakers: the dataset's main measure per period, as a PNG."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from satudata.catalog import DatasetEntry


def measure_per_period(frame: pd.DataFrame, entry: DatasetEntry) -> pd.Series:
    """The chart's measure combined over the rows of each period, in period order."""
    chart = entry.ckan.chart
    assert chart is not None
    keys = [entry.period_columns[k] for k in ("year", "semester", "month", "day", "date")
            if k in entry.period_columns]
    grouped = frame.groupby(keys, sort=True)[chart.measure]
    values = grouped.sum() if chart.aggregate == "sum" else grouped.mean()
    labels = ["-".join(f"{int(v):02d}" if not isinstance(v, str) else v for v in (k if isinstance(k, tuple) else (k,)))
              for k in values.index]
    return pd.Series(values.to_numpy(dtype="float64"), index=labels, name=chart.measure)


def _indonesian(value: float, decimals: int) -> str:
    """1.234,5: the number format the chart's readers use (dot groups, comma decimals)."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", " ").replace(".", ",").replace(" ", ".")


def write_chart(frame: pd.DataFrame, entry: DatasetEntry, out: Path) -> Path:
    """Draw the measure per period as a PNG; same data, same bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chart = entry.ckan.chart
    assert chart is not None
    series = measure_per_period(frame, entry)
    unit = next((c.unit for c in entry.table.columns if c.name == chart.measure), None)
    fig, ax = plt.subplots(figsize=(9, 4.5), dpi=100)
    ax.plot(series.index, series.to_numpy(), marker="o", color="#1f5fa8")
    for x, y in zip(series.index, series.to_numpy(), strict=True):
        ax.annotate(_indonesian(y, 0 if chart.aggregate == "sum" else 1), (x, y),
                    textcoords="offset points", xytext=(0, 6), ha="center", fontsize=8)
    ax.set_title(chart.title or entry.ckan.title, fontsize=11)
    ax.set_ylabel(f"{chart.measure} ({unit})" if unit else chart.measure)
    ax.set_xlabel("periode")
    ax.grid(True, alpha=0.3)
    ax.set_ylim(bottom=0)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    # No software/date metadata: the file's hash must only change when the data does.
    fig.savefig(out, format="png", metadata={"Software": None})
    plt.close(fig)
    return out
