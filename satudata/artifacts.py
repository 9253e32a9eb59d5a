"""The files published beside the data: data dictionary, validation report (HTML + JSON), chart."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from satudata.catalog import DatasetEntry
from satudata.extract import sha256_of


def write_artifacts(entry: DatasetEntry, period_key: str, history: pd.DataFrame, csv: Path,
                    periods: list[str], report_json: Path | None, out_dir: Path) -> dict[str, str]:
    """Write them into ``out_dir``; returns their paths by kind (report_* only with a report)."""
    from satudata.chart import write_chart
    from satudata.metadata import datapackage
    from satudata.report_html import write_report_html

    out: dict[str, str] = {}
    package = datapackage(entry, csv, sha256_of(csv), len(history), periods[0], periods[-1])
    dp = out_dir / "datapackage.json"
    dp.write_text(json.dumps(package, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    out["datapackage"] = str(dp)
    if report_json is not None:
        copy = out_dir / "laporan-validasi.json"
        shutil.copy2(report_json, copy)  # keeps the validation time
        out["report_json"] = str(copy)
        html = write_report_html(report_json, out_dir / "laporan-validasi.html", entry.ckan.title, period_key)
        out["report_html"] = str(html)
    if entry.ckan.chart is not None:
        out["chart"] = str(write_chart(history, entry, out_dir / f"grafik-{entry.ckan.chart.measure}.png"))
    return out
