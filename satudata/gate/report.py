"""The quality report of one run: JSON for machines, one self-contained HTML page for people.

The HTML page has its styles inline and loads nothing from the network, so a policymaker can
open it from a file share or an e-mail attachment without internet. Labels are Indonesian.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from transforms.writing import private_dir, write_text


@dataclass
class ExpectationOutcome:
    """One expectation of the suite as judged on the frame; examples never hold personal data."""

    type: str
    column: str | None
    severity: str
    success: bool
    note: str
    kwargs: dict[str, Any]
    unexpected_count: int | None = None
    unexpected_examples: list[Any] = field(default_factory=list)
    observed_value: Any = None


@dataclass
class QualityReport:
    """Everything the gate found about one period of one dataset.

    The suite fills its part (``satudata.gate.suite.validate_frame``); the gate adds the
    personal-data scan, the suppression and the verdict (``satudata.gate.run_gate``).
    """

    dataset_id: str
    suite: str
    rows: int
    critical_failures: int
    warnings: int
    expectations: list[ExpectationOutcome]
    parameters: dict[str, Any]
    title: str = ""
    period: str = ""
    run_id: str = ""
    source: str = ""
    generated_at: str = ""
    publishable: bool = False
    privacy: dict[str, Any] = field(default_factory=dict)
    suppression: dict[str, Any] = field(default_factory=dict)
    ckan_extras: dict[str, str] = field(default_factory=dict)
    blocked_by: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        # The report is published: it names the file checked, never where the pipeline keeps it.
        self.source = Path(self.source).name if self.source else ""

    @property
    def success(self) -> bool:
        """True when no critical expectation failed (the suite's verdict; ``publishable`` is the gate's)."""
        return self.critical_failures == 0

    def failure_summary(self) -> str:
        """The failed critical expectations, one clause each: type, column, count, examples."""
        parts = []
        for e in self.expectations:
            if e.success or e.severity != "critical":
                continue
            where = f" on column '{e.column}'" if e.column else ""
            count = f" ({e.unexpected_count} unexpected)" if e.unexpected_count else ""
            examples = f", e.g. {e.unexpected_examples[:3]}" if e.unexpected_examples else ""
            parts.append(f"{e.type}{where}{count}{examples}")
        return "; ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain data."""
        return asdict(self)

    def to_json(self) -> str:
        """The report as indented JSON (UTF-8 text, Indonesian notes kept as they are)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, default=str)

    def write(self, directory: Path) -> dict[str, str]:
        """Write ``validation.json`` and ``report.html`` into ``directory``; return their paths."""
        private_dir(directory)  # the reports zone is the owner's only
        paths = {"report_json": directory / "validation.json", "report_html": directory / "report.html"}
        for key, text in (("report_json", self.to_json()), ("report_html", render_html(self))):
            write_text(paths[key], text, private=True)
        return {k: str(v) for k, v in paths.items()}


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;max-width:70rem;
color:#1b1f24;padding:0 1rem;line-height:1.45}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
.sub{color:#57606a;margin-top:0}.badge{display:inline-block;padding:.35rem .8rem;border-radius:.3rem;font-weight:700}
.ok{background:#dafbe1;color:#116329}.bad{background:#ffebe9;color:#a40e26}.warn{background:#fff8c5;color:#7d4e00}
table{border-collapse:collapse;width:100%;margin-top:.6rem;font-size:.92rem}
th,td{border:1px solid #d0d7de;padding:.35rem .5rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f6f8fa}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}dt{font-weight:600}dd{margin:0}
code{font-size:.85rem}.muted{color:#57606a}
table.fixed{table-layout:fixed}table.fixed td{overflow-wrap:anywhere}
"""

_SEVERITY = {"critical": "kritis", "warning": "peringatan"}
_KIND = {
    "nik": "NIK", "no_kk": "No. KK", "nip": "NIP", "npwp": "NPWP",
    "telepon": "nomor telepon seluler", "email": "alamat e-mail",
    "nama": "nama orang", "alamat": "alamat jalan",
}


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _result_cell(success: bool, severity: str) -> str:
    if success:
        return '<td class="ok">lulus</td>'
    return f'<td class="{"bad" if severity == "critical" else "warn"}">gagal</td>'


def _status_html(report: QualityReport) -> str:
    """The verdict badge, and why a blocked period is blocked (in the suite's words, not type names)."""
    if report.publishable:
        status = '<span class="badge ok">LAYAK TERBIT</span>'
        if report.warnings:
            status += f' <span class="badge warn">{report.warnings} peringatan</span>'
    else:
        status = '<span class="badge bad">DIBLOKIR: tidak dipublikasikan</span>'
    reasons = "".join(
        f"<li>{_e(o.note or o.type)}{f' ({_e(o.column)})' if o.column else ''}: "
        f"{'' if o.unexpected_count is None else f'{o.unexpected_count} baris tidak sesuai'}</li>"
        for o in report.expectations if not o.success and o.severity == "critical"
    ) + "".join(
        f"<li>Data pribadi di kolom {_e(f['column'])}: {f['cells']} sel berisi "
        f"{_e(_KIND.get(f['kind'], f['kind']))}</li>"
        for f in report.privacy.get("findings", []) if not f["allowed"]
    )
    return f"<p>{status}</p>\n" + (f"<ul>{reasons}</ul>" if reasons else "")


def _expectation_rows(report: QualityReport) -> str:
    rows = []
    for o in report.expectations:
        detail = ""
        if o.unexpected_examples:
            detail = "contoh: " + ", ".join(_e(x) for x in o.unexpected_examples[:5])
        elif o.observed_value is not None:
            detail = f"teramati: {_e(o.observed_value)}"
        rows.append(
            f"<tr><td>{_e(o.note or o.type)}<br><code class=muted>{_e(o.type)}</code></td>"
            f"<td>{_e(o.column or '')}</td><td>{_SEVERITY.get(o.severity, _e(o.severity))}</td>"
            f"{_result_cell(o.success, o.severity)}"
            f"<td>{'' if o.unexpected_count is None else o.unexpected_count}</td>"
            f"<td>{detail}</td></tr>"
        )
    return "".join(rows)


def _privacy_html(privacy: dict[str, Any]) -> str:
    findings = privacy.get("findings", [])
    warnings = privacy.get("warnings", [])
    if not findings and not warnings:
        return (
            f'<p class="ok badge">Tidak ditemukan</p> <span class=muted>'
            f"{len(privacy.get('columns_scanned', []))} kolom diperiksa: NIK, No. KK, NIP, NPWP, "
            "nomor telepon seluler, alamat e-mail.</span>"
        )
    finding_rows = "".join(
        f"<tr><td>{_e(f['column'])}</td><td>{_e(_KIND.get(f['kind'], f['kind']))}</td><td>{f['cells']}</td>"
        + (f'<td class="ok">diizinkan: {_e(f["reason"])}</td>' if f["allowed"] else '<td class=bad>memblokir</td>')
        + "</tr>"
        for f in findings
    ) + "".join(
        f"<tr><td>{_e(f['column'])}</td><td>{_e(_KIND.get(f['kind'], f['kind']))} (dugaan)</td><td>{f['cells']}</td>"
        "<td class=warn>peringatan: periksa kolom ini</td></tr>"
        for f in warnings
    )
    return (
        "<table><tr><th>Kolom</th><th>Jenis data pribadi</th><th>Jumlah sel</th><th>Status</th></tr>"
        f"{finding_rows}</table><p class=muted>Nilainya tidak pernah ditampilkan.</p>"
    )


def _suppression_html(supp: dict[str, Any]) -> str:
    if not supp.get("applied"):
        return "<p class=muted>Tidak diterapkan untuk dataset ini.</p>"
    cells = ", ".join(f"{_e(k)}: {v}" for k, v in supp.get("cells_suppressed", {}).items())
    return f"<p>{_e(supp['note'])}</p><p>Baris disamarkan: {supp['rows_suppressed']} ({cells}).</p>"


def render_html(report: QualityReport) -> str:
    """The report as one HTML page with inline styles and no external resources."""
    privacy, supp = report.privacy, report.suppression
    failed = sum(1 for o in report.expectations if not o.success)
    params = ", ".join(f"{_e(k)}={_e(v)}" for k, v in sorted(report.parameters.items()) if v is not None)
    return f"""<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Laporan kualitas data: {_e(report.title)} ({_e(report.period)})</title>
<style>{_CSS}</style></head><body>
<h1>{_e(report.title)}</h1>
<p class="sub"><code>{_e(report.dataset_id)}</code>, periode {_e(report.period)}</p>
{_status_html(report)}
<h2>Ringkasan</h2>
<dl>
<dt>Jumlah baris</dt><dd>{report.rows}</dd>
<dt>Pemeriksaan</dt><dd>{len(report.expectations)} ({failed} gagal: {report.critical_failures} kritis,
{report.warnings} peringatan)</dd>
<dt>Data pribadi</dt><dd>{"tidak ditemukan" if privacy.get("success") else "DITEMUKAN"}</dd>
<dt>Penyamaran sel kecil</dt><dd>{"ya" if supp.get("applied") else "tidak"}</dd>
<dt>Sumber</dt><dd>{_e(report.source)}</dd>
<dt>Run</dt><dd>{_e(report.run_id)}</dd>
<dt>Dibuat</dt><dd>{_e(report.generated_at)}</dd>
</dl>
<h2>Pemeriksaan kualitas ({_e(report.suite)})</h2>
<p class=muted>Kritis: memblokir publikasi. Peringatan: tetap dipublikasikan, dicatat di sini.</p>
<table class=fixed><colgroup><col style="width:31%"><col style="width:21%"><col style="width:10%">
<col style="width:7%"><col style="width:8%"><col style="width:23%"></colgroup>
<tr><th>Pemeriksaan</th><th>Kolom</th><th>Tingkat</th><th>Hasil</th><th>Tidak sesuai</th><th>Keterangan</th></tr>
{_expectation_rows(report)}</table>
<h2>Pemindaian data pribadi</h2>
{_privacy_html(privacy)}
<h2>Penyamaran sel kecil</h2>
{_suppression_html(supp)}
<p class=muted>Parameter: {params}</p>
</body></html>
"""
