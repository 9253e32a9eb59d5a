"""The validation report as one self-contained HTML page (no CDN, no script), for the portal.

It renders the ValidationReport JSON that the quality gate writes; the output depends only on
that JSON and the title, so re-rendering an unchanged report gives identical bytes.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem;color:#1b1b1b;max-width:70rem}
h1{font-size:1.4rem}table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f1f1f1}.ok{color:#0a6b2d;font-weight:600}.fail{color:#a4000f;font-weight:600}
.warn{color:#8a5a00;font-weight:600}code{font-size:.85rem}dl{display:grid;grid-template-columns:max-content auto;
gap:.2rem 1rem}dt{font-weight:600}
"""


def _cell(value: Any) -> str:
    if value is None or value == [] or value == "":
        return ""
    if isinstance(value, str):
        return escape(value)
    return f"<code>{escape(json.dumps(value, ensure_ascii=False, default=str))}</code>"


def _verdict(outcome: dict[str, Any]) -> str:
    if outcome["success"]:
        return '<span class="ok">lulus</span>'
    if outcome["severity"] == "critical":
        return '<span class="fail">gagal (kritis)</span>'
    return '<span class="warn">peringatan</span>'


def render_report(report: dict[str, Any], title: str, period: str) -> str:
    """HTML of one ValidationReport (as its JSON dict)."""
    status = ('<span class="ok">LULUS: data boleh dipublikasikan</span>' if report["success"]
              else '<span class="fail">GAGAL: data tidak dipublikasikan</span>')
    rows = []
    for e in report["expectations"]:
        args = {k: v for k, v in e.get("kwargs", {}).items() if k != "column"}
        rows.append(
            "<tr>"
            f"<td>{_verdict(e)}</td><td>{_cell(e.get('column'))}</td><td><code>{escape(e['type'])}</code>"
            f"<br>{_cell(args)}</td><td>{_cell(e.get('note'))}</td>"
            f"<td>{_cell(e.get('unexpected_count'))}</td><td>{_cell(e.get('unexpected_examples'))}</td>"
            f"<td>{_cell(e.get('observed_value'))}</td>"
            "</tr>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="id"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Laporan validasi: {escape(title)} ({escape(period)})</title><style>{_STYLE}</style></head><body>"
        f"<h1>Laporan validasi data: {escape(title)}</h1>"
        "<dl>"
        f"<dt>Periode</dt><dd>{escape(period)}</dd>"
        f"<dt>Hasil</dt><dd>{status}</dd>"
        f"<dt>Jumlah baris diperiksa</dt><dd>{report['rows']}</dd>"
        f"<dt>Pemeriksaan kritis gagal</dt><dd>{report['critical_failures']}</dd>"
        f"<dt>Peringatan</dt><dd>{report['warnings']}</dd>"
        f"<dt>Suite</dt><dd><code>{escape(report['suite'])}</code></dd>"
        "</dl>"
        "<table><thead><tr><th>hasil</th><th>kolom</th><th>pemeriksaan</th><th>keterangan</th>"
        "<th>tidak sesuai</th><th>contoh</th><th>nilai teramati</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table></body></html>\n"
    )


def write_report_html(report_json: Path, out: Path, title: str, period: str) -> Path:
    """Render the report at ``report_json`` into ``out``."""
    report = json.loads(report_json.read_text(encoding="utf-8"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(report, title, period), encoding="utf-8")
    return out
