"""``python -m satudata new <dataset_id> <sample export>``: a draft catalog entry and suite from a sample.

The draft reads the sample as it is written (encoding, separator, number format, the header
row under XLSX title rows), publishes snake_case columns, takes the period from a period
column (``Januari 2024``...) or from the run, and proposes a primary key, value sets, ranges
with a margin and not-null checks. Every guess carries a ``# PERIKSA`` (review) comment in the
YAML and ``"draft": true`` in the suite; the draft is then checked on its own sample.
"""

from __future__ import annotations

import json
import math
import sys
from collections import Counter
from itertools import combinations
from pathlib import Path
from typing import Any, TextIO

from satudata import settings
from satudata.cli.profile import ColumnGuess, SampleProfile, profile_sample
from satudata.periods import Period

# The period columns a schedule publishes, by role.
PERIOD_COLUMNS = {
    "daily": {"date": "tanggal"}, "monthly": {"year": "tahun", "month": "bulan"},
    "semiannual": {"year": "tahun", "semester": "semester"}, "annual": {"year": "tahun"},
    "quarterly": {"year": "tahun", "quarter": "triwulan"}, "weekly": {"year": "tahun", "week": "minggu"},
}
_PARAMETER = {"year": "period_year", "month": "period_month", "semester": "period_semester",
              "quarter": "period_quarter", "week": "period_week"}
REVIEW = "# PERIKSA"


def _q(text: Any) -> str:
    """A YAML scalar: JSON's quoting is valid YAML and keeps any header exactly."""
    return json.dumps(text, ensure_ascii=False)


def _schedule(profile: SampleProfile, wanted: str | None) -> str:
    if wanted:
        return wanted
    period = profile.period
    if period is not None:
        return "annual" if period.format == "2024" else "monthly"
    named = profile.period_in_name()
    return named.schedule if named is not None else "monthly"


def _periods_in(profile: SampleProfile, schedule: str) -> list[str]:
    from transforms.cells import parse_period_cell

    guess = profile.period
    if guess is None or guess.format is None:
        return []
    index = profile.columns.index(guess)
    keys = Counter(Period.containing(schedule, parse_period_cell(row[index], guess.format)).key
                   for row in profile.rows if index < len(row) and row[index] not in (None, ""))
    return sorted(keys)


def primary_key(profile: SampleProfile) -> list[str]:
    """The smallest set (up to three) of text columns unique within each period of the sample, else all of them."""
    period = profile.period
    at = profile.columns.index(period) if period is not None else None

    def cell(row: list[Any], i: int | None) -> str:
        return str(row[i]) if i is not None and i < len(row) else ""

    published = profile.published
    texts = [(i, c) for i, c in enumerate(profile.columns) if c.type == "string" and c in published]
    for size in (1, 2, 3):
        for combo in combinations(texts, size):
            keys = [(cell(r, at), *(cell(r, i) for i, _ in combo)) for r in profile.rows]
            if len(set(keys)) == len(keys):
                return [c.column for _, c in combo]
    return [c.column for _, c in texts]


def _field_yaml(c: ColumnGuess, period: ColumnGuess | None) -> str:
    parts = [f"name: {_q(c.header)}", f"type: {c.type}", f"column: {_q(c.column)}"]
    if c.format:
        parts.append(f"format: {_q(c.format)}")
    if not c.complete:
        parts.append("required: false")
    note = "  # periode tiap baris" if c is period else ""
    return "    - {" + ", ".join(parts) + "}" + note


def _column_yaml(c: ColumnGuess) -> str:
    unit = f"  {REVIEW}: deskripsi dan satuan (unit)" if c.type in ("int64", "float64") else ""
    return f"    - {{name: {_q(c.column)}, type: {c.type}, description: {_q(c.header)}}}{unit}"


def draft_catalog(dataset_id: str, profile: SampleProfile, schedule: str, periods: list[str]) -> str:
    """The catalog entry's YAML text, every guess commented for review."""
    period = profile.period
    if period is not None:
        # The period cell is read as a date; the published period columns come from the run.
        period.column = "periode"
    history = len(periods) > 1
    ext = profile.path.suffix.lower().lstrip(".") or "csv"
    path = f"{dataset_id}/{dataset_id}.{ext}" if history else f"{dataset_id}/{dataset_id}_{{period}}.{ext}"
    roles = PERIOD_COLUMNS[schedule]
    published = profile.published
    key = [*roles.values(), *primary_key(profile)]
    lines = [
        f"# Draf dari {profile.path.name} (python -m satudata new). Baris bertanda PERIKSA adalah dugaan.",
        f"id: {dataset_id}",
        f"schedule: {schedule}  {REVIEW}: frekuensi penerbitan",
        "source:",
        "  kind: file",
        f"  system: {_q(dataset_id)}  {REVIEW}: nama aplikasi/sistem sumber",
        f"  format: {profile.kind}",
        f"  path: {path}  {REVIEW}: lokasi di folder landing"
        + ("; satu file berisi banyak periode" if history else ""),
    ]
    if profile.kind == "csv":
        lines.append(f"  # terbaca: encoding {profile.encoding}, pemisah {profile.delimiter!r}")
    else:
        lines.append(f"  sheet: {_q(profile.sheet)}  # judul tabel di atas baris {profile.header_row} dilewati")
    lines.append(f"  number_format: {profile.number_format}  {REVIEW}: indonesian = 1.234,5; plain = 1234.5")
    if period is not None:
        lines.append(f"  period_field: {_q(period.header)}  {REVIEW}: kolom periode, format {period.format!r}")
    if history:
        lines.append(f"  history: true  # contoh berisi {len(periods)} periode ({periods[0]} s.d. {periods[-1]})")
    lines.append("  fields:")
    lines += [_field_yaml(c, period) for c in profile.columns if not c.running_number]
    lines += [f"    # {c.header!r}: nomor urut baris, tidak diterbitkan" for c in profile.columns if c.running_number]
    lines += [
        "transform: passthrough",
        "period_columns: {" + ", ".join(f"{r}: {c}" for r, c in roles.items()) + "}  # diisi dari periode run",
        "schema:",
        f"  primary_key: [{', '.join(_q(k) for k in key)}]  {REVIEW}: kunci utama (unik di contoh)",
        "  columns:",
        *[f"    - {{name: {c}, type: int64, description: {_q(c.capitalize())}}}" for c in roles.values()
          if c != "tanggal"],
        *(["    - {name: tanggal, type: date, description: Tanggal}"] if "date" in roles else []),
        *[_column_yaml(c) for c in published],
    ]
    region = next((c for c in published if c.region), None)
    if region is not None:
        lines += [f"{REVIEW}: {region.column} tampak berisi kabupaten/kota: tambahkan kode dan nama Kemendagri",
                  "# (kolom kode_kabupaten_kota dan nama_kabupaten_kota di schema), misalnya:",
                  f"# region: {{source: {_q(region.header)}, match: name}}"]
    return "\n".join([*lines, *_ckan_yaml(dataset_id)]) + "\n"


def _ckan_yaml(dataset_id: str) -> list[str]:
    """The portal metadata, all placeholders for the walidata to write."""
    org = dataset_id.split("_")[0]
    return [
        "ckan:",
        f"  name: {dataset_id.replace('_', '-')}",
        f"  title: {_q(dataset_id.replace('_', ' ').title())}  {REVIEW}: judul untuk publik",
        f"  notes: {_q('Deskripsi dataset.')}  {REVIEW}: isi, sumber, cakupan, catatan",
        f"  organization: {{name: {org}, title: {_q(org.upper())}}}  {REVIEW}: produsen data",
        f"  maintainer: {_q(org.upper())}  {REVIEW}: pengelola data",
        "  tags: []",
        # The fields a portal with the Satu Data schema requires (frekuensi_penerbitan follows the schedule).
        "  extras:",
        f"    produsen_data: {_q(org.upper())}  {REVIEW}: perangkat daerah penghasil data",
        f"    walidata: {_q(settings.walidata_organization()[1])}  {REVIEW}: walidata",
        f"    level_penyajian: Provinsi  {REVIEW}: Provinsi, Kabupaten/Kota, Kecamatan, Desa/Kelurahan, "
        "Unit Layanan atau Pelabuhan",
    ]


def _expect(kind: str, severity: str, notes: str, **kwargs: Any) -> dict[str, Any]:
    return {"type": kind, "kwargs": kwargs, "meta": {"severity": severity, "notes": notes, "draft": True}}


def _range(c: ColumnGuess) -> dict[str, Any]:
    assert c.low is not None and c.high is not None
    margin = max(abs(c.high - c.low), abs(c.high), 1.0) * 0.5
    low = 0 if c.low >= 0 else math.floor(c.low - margin)
    return _expect("expect_column_values_to_be_between", "warning",
                   f"{c.column} di luar rentang contoh (dengan margin) patut diperiksa",
                   column=c.column, min_value=low, max_value=math.ceil(c.high + margin))


def draft_suite(dataset_id: str, profile: SampleProfile, schedule: str, key: list[str]) -> dict[str, Any]:
    """The GX suite: columns, row count, not-null, period, key, value sets and ranges; every one a draft."""
    roles = PERIOD_COLUMNS[schedule]
    published = profile.published
    names = [*roles.values(), *[c.column for c in published]]
    expectations = [
        _expect("expect_table_columns_to_match_ordered_list", "critical", "Kolom sesuai skema", column_list=names),
        _expect("expect_table_row_count_to_be_between", "critical", "Periode tidak kosong", min_value=1),
        *[_expect("expect_column_values_to_not_be_null", "critical", f"{c} wajib terisi", column=c)
          for c in [*roles.values(), *[c.column for c in published if c.complete]]],
        *[_expect("expect_column_values_to_be_between", "critical", "Baris termasuk periode run", column=col,
                  min_value={"$PARAMETER": _PARAMETER[role]}, max_value={"$PARAMETER": _PARAMETER[role]})
          for role, col in roles.items() if role in _PARAMETER],
        _expect("expect_compound_columns_to_be_unique", "critical", "Kunci utama unik", column_list=key),
        *[_expect("expect_column_values_to_be_in_set", "warning", f"Nilai {c.column} seperti di contoh",
                  column=c.column, value_set=c.distinct) for c in published if c.distinct],
        *[_range(c) for c in published if c.low is not None],
    ]
    return {"name": dataset_id, "expectations": expectations,
            "meta": {"dataset_id": dataset_id, "notes": "Draf dari contoh (python -m satudata new): periksa setiap "
                     "pemeriksaan; severity critical memblokir publikasi, warning hanya dilaporkan."}}


def _summary(out: TextIO, profile: SampleProfile, schedule: str, key: list[str], paths: list[Path]) -> None:
    w = out.write
    how = (f"CSV, {profile.encoding}, separator {profile.delimiter!r}" if profile.kind == "csv"
           else f"XLSX, sheet {profile.sheet!r}, header on row {profile.header_row}")
    w(f"Sample    {profile.path.name}: {how}, numbers {profile.number_format}, {len(profile.rows)} rows\n")
    period = profile.period
    w(f"Period    {f'column {period.header!r} as {period.format!r}' if period else 'from the run'}; "
      f"schedule {schedule}\n")
    for c in profile.columns:
        extra = f" values {len(c.distinct)}" if c.distinct else ""
        extra += f" range {c.low:g}..{c.high:g}" if c.low is not None and c.high is not None else ""
        w(f"  {c.header!r:<34} -> {c.column:<30} {c.type:<8}{'' if c.complete else ' (has empty cells)'}{extra}\n")
    w(f"Key       {', '.join(key)}\n")
    for p in paths:
        w(f"Wrote     {p}\n")


def run_new(dataset_id: str, sample: Path, schedule: str | None = None, force: bool = False,
            out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Draft ``catalog/<id>.yaml`` and ``expectations/<id>.json`` from ``sample``, then check the sample with them."""
    out, err = out or sys.stdout, err or sys.stderr
    catalog = settings.catalog_dir() / f"{dataset_id}.yaml"
    suite = settings.expectations_dir() / f"{dataset_id}.json"
    existing = [p for p in (catalog, suite) if p.exists()]
    if existing and not force:
        err.write(f"error: {', '.join(map(str, existing))} exist(s); give --force to replace\n")
        return 2
    try:
        profile = profile_sample(sample, progress=lambda i, n, name: err.write(f"\rprofiling column {i}/{n}"))
    except (OSError, ValueError) as exc:
        err.write(f"\nerror: {exc}\n")
        return 2
    err.write("\n")
    chosen = _schedule(profile, schedule)
    periods = _periods_in(profile, chosen)
    key = [*PERIOD_COLUMNS[chosen].values(), *primary_key(profile)]
    catalog.parent.mkdir(parents=True, exist_ok=True)
    suite.parent.mkdir(parents=True, exist_ok=True)
    catalog.write_text(draft_catalog(dataset_id, profile, chosen, periods), encoding="utf-8")
    suite.write_text(json.dumps(draft_suite(dataset_id, profile, chosen, key), indent=2, ensure_ascii=False) + "\n",
                     encoding="utf-8")
    _summary(out, profile, chosen, key, [catalog, suite])
    from satudata.cli.check import run_check

    named = profile.period_in_name(chosen)
    check_period = periods[-1] if periods else (named.key if named is not None else None)
    out.write(f"\nChecking the sample with the draft{f' for period {check_period}' if check_period else ''}:\n")
    return run_check(dataset_id, sample, check_period, progress=False, out=out, err=err)
