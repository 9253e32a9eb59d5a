"""The files published beside the data: data dictionary, validation report (HTML + JSON), chart."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pyarrow as pa

from satudata.catalog import DatasetEntry
from satudata.extract import sha256_of


def write_artifacts(entry: DatasetEntry, history: pd.DataFrame | pa.Table, csv: Path, periods: list[str], out_dir: Path,
                    report_json: Path | None = None, report_html: Path | None = None) -> dict[str, str]:
    """Write them into ``out_dir``; returns their paths by kind (report_* only with a report)."""
    from satudata.chart import write_chart
    from satudata.metadata import datapackage

    out: dict[str, str] = {}
    package = datapackage(entry, csv, sha256_of(csv), len(history), periods[0], periods[-1])
    dp = out_dir / "datapackage.json"
    dp.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    out["datapackage"] = str(dp)
    # The quality gate's own report of this run (satudata.report), published as it is.
    if report_json is not None and report_html is not None:
        for kind, source, name in (("report_json", report_json, "laporan-validasi.json"),
                                   ("report_html", report_html, "laporan-validasi.html")):
            copy = out_dir / name
            shutil.copy2(source, copy)  # keeps the validation time
            out[kind] = str(copy)
    if entry.ckan.chart is not None:
        if isinstance(history, pa.Table):
            from transforms.tables import to_frame

            # The chart reads the period columns and its measure; only those become pandas.
            needed = [*entry.period_columns.values(), entry.ckan.chart.measure]
            history = to_frame(history.select([c for c in history.column_names if c in needed]))
        out["chart"] = str(write_chart(history, entry, out_dir / f"grafik-{entry.ckan.chart.measure}.png"))
    return out
