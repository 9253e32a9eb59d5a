"""The dataset's resources: the files written for each published version, and how each is described.

Data (full-history CSV, Parquet and a typed XLSX for spreadsheets), the data dictionary
(``datapackage.json``), the run's validation report (HTML and JSON) and the chart. A resource's
name on the portal is its file's name, so every name is written once, here.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pyarrow as pa

from satudata.catalog import DatasetEntry
from satudata.extract.archive import sha256_of
from satudata.publish.chart_choice import chart_description, chart_for
from transforms.writing import replacing, write_text

if TYPE_CHECKING:
    from satudata.publish.ckan import PublishFile

log = logging.getLogger(__name__)

REPORT_NAMES = {"report_json": "laporan-validasi.json", "report_html": "laporan-validasi.html"}


def data_file_names(entry: DatasetEntry) -> dict[str, str]:
    """The data files' names by kind: ``<dataset name>.csv``, ``.parquet`` and ``.xlsx``."""
    return {kind: f"{entry.ckan.name}.{kind}" for kind in ("csv", "parquet", "xlsx")}


def chart_file_name(entry: DatasetEntry) -> str | None:
    """The chart's file name, ``grafik-<measure>.png``; None when the dataset has no measure to draw."""
    chart = chart_for(entry)
    return f"grafik-{chart.measure}.png" if chart is not None else None


def write_artifacts(entry: DatasetEntry, history: pd.DataFrame | pa.Table, csv: Path, periods: list[str], out_dir: Path,
                    report_json: Path | None = None, report_html: Path | None = None) -> dict[str, str]:
    """Write them into ``out_dir``; returns their paths by kind (report_* only with a report)."""
    from satudata.publish.chart import write_chart
    from satudata.publish.metadata import datapackage

    out: dict[str, str] = {}
    package = datapackage(entry, csv, sha256_of(csv), len(history), periods[0], periods[-1])
    dp = out_dir / "datapackage.json"
    write_text(dp, json.dumps(package, indent=2, ensure_ascii=False) + "\n")
    out["datapackage"] = str(dp)
    xlsx = write_xlsx(entry, history, package["resources"][0]["hash"].removeprefix("sha256:"), periods,
                      out_dir / data_file_names(entry)["xlsx"])
    if xlsx is not None:
        out["xlsx"] = str(xlsx)
    # The quality gate's own report of this run (satudata.gate.report), published as it is.
    if report_json is not None and report_html is not None:
        for kind, source in (("report_json", report_json), ("report_html", report_html)):
            copy = out_dir / REPORT_NAMES[kind]
            with replacing(copy) as tmp:
                shutil.copyfile(source, tmp)
                # The validation time, not the mode: the reports zone is the owner's only.
                stat = source.stat()
                os.utime(tmp, ns=(stat.st_atime_ns, stat.st_mtime_ns))
            out[kind] = str(copy)
    chart = chart_for(entry)
    chart_name = chart_file_name(entry)
    if chart is not None and chart_name is not None:
        if isinstance(history, pa.Table):
            from transforms.tables import to_frame

            # The chart reads the period columns, its measure and its lines; only those become pandas.
            needed = [*entry.period_columns.values(), chart.measure, *([chart.by] if chart.by else [])]
            history = to_frame(history.select([c for c in history.column_names if c in needed]))
        out["chart"] = str(write_chart(history, entry, out_dir / chart_name, chart, (periods[0], periods[-1])))
    return out


def write_xlsx(entry: DatasetEntry, history: pd.DataFrame | pa.Table, csv_sha256: str, periods: list[str],
               path: Path) -> Path | None:
    """The full history as a typed XLSX with its Kamus Data and Metadata sheets; None if it cannot be one.

    Past Excel's 1,048,575 data rows a sheet, the rows go on in ``Data (2)``, ``Data (3)``, ….
    Text longer than a cell holds (32,767 characters) leaves the dataset without an XLSX (logged):
    cut, it would no longer be the published data.
    """
    from satudata.publish.metadata import workbook_sheets
    from transforms.tables import to_arrow
    from transforms.workbook import CellTooLong, data_sheet_names, write_workbook

    columns = entry.table.columns
    table = history if isinstance(history, pa.Table) else to_arrow(history, columns)
    sheets = workbook_sheets(entry, table.num_rows, periods, csv_sha256, data_sheet_names(table.num_rows))
    try:
        # A period column (tahun, bulan, semester, …) reads 2026, not 2.026.
        return write_workbook(table, columns, path, sheets, source_name=f"{entry.id} (full history)",
                              ungrouped=set(entry.period_columns.values()))
    except CellTooLong as exc:
        path.unlink(missing_ok=True)
        log.warning("%s: no XLSX published: %s", entry.id, exc)
        return None


def publish_files(outputs: Mapping[str, object], entry: DatasetEntry) -> list[PublishFile]:
    """The resources of a dataset from what was written, in the order they are published.

    ``outputs`` holds the files' paths by kind and the first and last period (``Written``); the
    chart's description names its measure, unit, grouping and those periods.
    """
    from satudata.publish.ckan import PublishFile

    def item(kind: str, fmt: str, description: str, mimetype: str, describes_run: bool = False) -> PublishFile:
        path = Path(str(outputs[kind]))
        return PublishFile(path.name, path, fmt, description, mimetype, describes_run=describes_run)

    files = [
        item("csv", "CSV", "Seluruh periode dalam CSV (UTF-8, baris pertama adalah nama kolom); tabelnya juga ada "
             "di DataStore.", "text/csv"),
        item("parquet", "Parquet", "Seluruh periode dalam Apache Parquet, dengan tipe kolom dan deskripsi kolom.",
             "application/vnd.apache.parquet"),
    ]
    if outputs.get("xlsx"):
        files.append(item("xlsx", "XLSX", "Seluruh periode dalam XLSX untuk spreadsheet: angka sebagai angka, tanggal "
                          "sebagai tanggal, dengan lembar Kamus Data dan Metadata.",
                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))
    files += [
        item("datapackage", "JSON", "Kamus data (nama, tipe, deskripsi dan satuan setiap kolom) sebagai "
             "Frictionless Data Package.", "application/json"),
    ]
    if outputs.get("report_html"):
        files += [
            item("report_html", "HTML", "Laporan validasi mutu data dari proses yang menerbitkan versi ini.",
                 "text/html", describes_run=True),
            item("report_json", "JSON", "Laporan validasi mutu data (JSON, setiap pemeriksaan dan hasilnya).",
                 "application/json", describes_run=True),
        ]
    chart = chart_for(entry)
    if outputs.get("chart") and chart is not None:
        first, last = outputs.get("first_period"), outputs.get("last_period")
        description = chart_description(entry, chart, str(first) if first else None, str(last) if last else None)
        files.append(item("chart", "PNG", description, "image/png"))
    # The revision log, written against the version store (satudata.publish.revisions).
    if outputs.get("revision_html") and outputs.get("revision_csv"):
        files += [
            item("revision_html", "HTML", "Catatan revisi: setiap versi yang diterbitkan dan perubahannya menurut "
                 "kunci baris (baris ditambah, dihapus, direvisi) per periode, dengan status angka sementara/tetap.",
                 "text/html"),
            item("revision_csv", "CSV", "Catatan revisi dalam CSV (satu baris per versi dan periode yang berubah).",
                 "text/csv"),
        ]
    return files
