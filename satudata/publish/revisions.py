"""The revision log (Catatan Revisi): what each published version changed, by primary key and period.

Each new version is compared with the last one in the version store, period by period (a
period's rows are its curated Parquet, so only periods whose file changed are read): rows
added, removed and revised (same key, another value), which columns were revised, and the
columns the table gained or lost. The log is cumulative, newest version first, and published
as ``catatan-revisi.csv`` and a self-contained ``catatan-revisi.html``. A version whose data
equals the last one's keeps that version's log byte for byte, so an unchanged re-run changes
nothing on the portal.
"""

from __future__ import annotations

import csv
import html
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import pandas as pd

from satudata import settings
from satudata.catalog import DatasetEntry

if TYPE_CHECKING:
    from satudata.publish.versions import Version, VersionStore

LOG_NAMES = {"revision_csv": "catatan-revisi.csv", "revision_html": "catatan-revisi.html"}
LOG_COLUMNS = ["versi", "diterbitkan", "periode", "status_periode", "baris_ditambah", "baris_dihapus",
               "baris_direvisi", "kolom_direvisi", "kunci_direvisi", "kolom_ditambah", "kolom_dihapus",
               "keterangan"]
# Keys of revised rows listed in one log row; the count says how many there are in all.
LISTED_KEYS = 50


@dataclass
class RowDiff:
    """Two tables compared by primary key."""

    added: list[tuple[Any, ...]] = field(default_factory=list)
    removed: list[tuple[Any, ...]] = field(default_factory=list)
    revised: list[tuple[Any, ...]] = field(default_factory=list)
    revised_columns: list[str] = field(default_factory=list)


def _keys(frame: pd.DataFrame, key: list[str]) -> list[tuple[Any, ...]]:
    return list(frame[key].astype(object).itertuples(index=False, name=None))


def _by_key(frame: pd.DataFrame, key: list[str], keys: list[tuple[Any, ...]]) -> pd.DataFrame:
    """``frame``'s rows of ``keys``, in that order."""
    if len(key) == 1:
        return frame.set_index(key[0]).loc[[k[0] for k in keys]]
    return frame.set_index(key).loc[keys]


def diff_rows(old: pd.DataFrame | None, new: pd.DataFrame | None, key: list[str]) -> RowDiff:
    """Rows of ``new`` whose key ``old`` lacks (added), the reverse (removed), and rows of both whose
    other shared columns differ (revised; missing equals missing). Keys in ``new``'s order."""
    empty = pd.DataFrame(columns=key)
    old = empty if old is None else old
    new = empty if new is None else new
    old_keys, new_keys = _keys(old, key), _keys(new, key)
    old_set, new_set = set(old_keys), set(new_keys)
    diff = RowDiff(added=[k for k in new_keys if k not in old_set], removed=[k for k in old_keys if k not in new_set])
    shared = [k for k in new_keys if k in old_set]
    if not shared:
        return diff
    columns = [c for c in new.columns if c in old.columns and c not in key]
    a, b = (_by_key(frame, key, shared)[columns] for frame in (old, new))
    changed = pd.Series(False, index=range(len(shared)))
    revised_columns = []
    for column in columns:
        left, right = a[column].astype(object).to_numpy(), b[column].astype(object).to_numpy()
        differs = [not (pd.isna(x) and pd.isna(y)) and (pd.isna(x) or pd.isna(y) or x != y)
                   for x, y in zip(left, right, strict=True)]
        if any(differs):
            revised_columns.append(column)
            changed |= pd.Series(differs)
    diff.revised = [k for k, c in zip(shared, changed, strict=True) if c]
    diff.revised_columns = revised_columns
    return diff


def period_status(entry: DatasetEntry, period_key: str, at: datetime) -> str:
    """``tetap`` (final) or ``sementara`` (provisional) as the catalog's ``final_periods`` declares;
    "" when the catalog declares nothing."""
    from satudata.periods import Period

    rule = entry.final_periods
    if rule is None:
        return ""
    if period_key in rule.periods:
        return "tetap"
    if rule.after is None:
        return "sementara"
    newest_final = Period.latest_complete(entry.schedule, at)
    for _ in range(rule.after):
        newest_final = newest_final.previous()
    return "tetap" if Period.from_key(period_key, entry.schedule).start <= newest_final.start else "sementara"


def _key_text(key: list[str], values: tuple[Any, ...]) -> str:
    return ", ".join(f"{k}={v}" for k, v in zip(key, values, strict=True))


def version_rows(entry: DatasetEntry, seq: int, at: datetime, diffs: Mapping[str, RowDiff],
                 columns_added: list[str], columns_removed: list[str], note: str = "") -> list[dict[str, str]]:
    """The log rows of one version: one per period it changed (one row in all when none changed)."""
    key = list(entry.table.primary_key)
    when = at.astimezone(ZoneInfo(settings.TIMEZONE)).isoformat(timespec="minutes")
    common = {"versi": str(seq), "diterbitkan": when, "kolom_ditambah": ", ".join(columns_added),
              "kolom_dihapus": ", ".join(columns_removed), "keterangan": note}
    rows = []
    for period in sorted(diffs, reverse=True):
        d = diffs[period]
        if not (d.added or d.removed or d.revised):
            continue
        listed = [_key_text(key, k) for k in d.revised[:LISTED_KEYS]]
        if len(d.revised) > LISTED_KEYS:
            listed.append(f"... dan {len(d.revised) - LISTED_KEYS} lainnya")
        rows.append({**common, "periode": period, "status_periode": period_status(entry, period, at),
                     "baris_ditambah": str(len(d.added)), "baris_dihapus": str(len(d.removed)),
                     "baris_direvisi": str(len(d.revised)), "kolom_direvisi": ", ".join(d.revised_columns),
                     "kunci_direvisi": "; ".join(listed)})
    if not rows:
        rows.append({**common, "periode": "", "status_periode": "", "baris_ditambah": "0", "baris_dihapus": "0",
                     "baris_direvisi": "0", "kolom_direvisi": "", "kunci_direvisi": ""})
    return [{c: r.get(c, "") for c in LOG_COLUMNS} for r in rows]


def read_log(data: bytes) -> list[dict[str, str]]:
    """The rows of a published ``catatan-revisi.csv``."""
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"), newline="")))


def log_csv(rows: list[dict[str, str]]) -> str:
    buf = io.StringIO(newline="")
    writer = csv.DictWriter(buf, fieldnames=LOG_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows([{c: r.get(c, "") for c in LOG_COLUMNS} for r in rows])
    return buf.getvalue()


_HEADINGS = {"versi": "Versi", "diterbitkan": "Diterbitkan (WITA)", "periode": "Periode",
             "status_periode": "Status angka", "baris_ditambah": "Baris ditambah", "baris_dihapus": "Baris dihapus",
             "baris_direvisi": "Baris direvisi", "kolom_direvisi": "Kolom yang direvisi",
             "kunci_direvisi": "Baris yang direvisi (kunci)", "kolom_ditambah": "Kolom ditambah",
             "kolom_dihapus": "Kolom dihapus", "keterangan": "Keterangan"}


def log_html(entry: DatasetEntry, rows: list[dict[str, str]]) -> str:
    """The log as one self-contained Indonesian HTML page (no external CSS, scripts or images)."""
    e = html.escape
    head = "".join(f"<th>{e(_HEADINGS[c])}</th>" for c in LOG_COLUMNS)
    body = "\n".join("<tr>" + "".join(f"<td>{e(r.get(c, ''))}</td>" for c in LOG_COLUMNS) + "</tr>" for r in rows)
    key = ", ".join(entry.table.primary_key)
    status = ("Status angka: <b>sementara</b> berarti angka periode itu masih dapat direvisi; <b>tetap</b> "
              "berarti angka itu sudah final." if entry.final_periods is not None else
              "Status angka (sementara/tetap) tidak dinyatakan untuk dataset ini.")
    return f"""<!DOCTYPE html>
<html lang="id"><head><meta charset="utf-8"><title>Catatan Revisi: {e(entry.ckan.title)}</title>
<style>body{{font-family:sans-serif;margin:1.5em}}table{{border-collapse:collapse}}
th,td{{border:1px solid #999;padding:.3em .5em;vertical-align:top;font-size:.9em}}th{{background:#eee}}</style>
</head><body>
<h1>Catatan Revisi</h1>
<p>{e(entry.ckan.title)}</p>
<p>Setiap versi yang diterbitkan dibandingkan dengan versi sebelumnya menurut kunci baris ({e(key)}), per periode:
baris yang ditambah, dihapus dan direvisi (kunci sama, nilai berbeda), serta kolom yang ditambah atau dihapus.
Versi terbaru di atas. {status}</p>
<table><thead><tr>{head}</tr></thead>
<tbody>
{body}
</tbody></table>
</body></html>
"""


def _curated_frames(store: VersionStore, version: Version | None, period: str) -> pd.DataFrame | None:
    import pyarrow.parquet as pq

    if version is None:
        return None
    stored = next((f for f in version.of_kind("curated") if Path(f.name).stem == period), None)
    if stored is None:
        return None
    from transforms.tables import to_frame

    return to_frame(pq.read_table(io.BytesIO(store.read_blob(version.dataset, stored.sha256))))


def changes_since(store: VersionStore, latest: Version | None, curated: Mapping[str, Path],
                  key: list[str]) -> dict[str, RowDiff]:
    """Per period, how the curated files ``curated`` (period key -> Parquet) differ from ``latest``'s."""
    from satudata.extract.archive import sha256_of
    from transforms.tables import read_parquet

    before = {Path(f.name).stem: f.sha256 for f in latest.of_kind("curated")} if latest else {}
    diffs = {}
    for period in sorted(set(before) | set(curated)):
        path = curated.get(period)
        if path is not None and before.get(period) == sha256_of(path):
            continue
        new = read_parquet(path) if path is not None else None
        diffs[period] = diff_rows(_curated_frames(store, latest, period), new, key)
    return diffs


def write_revision_log(entry: DatasetEntry, store: VersionStore, curated: Mapping[str, Path], columns: list[str],
                       csv_sha256: str, out_dir: Path, note: str = "",
                       at: datetime | None = None) -> dict[str, str]:
    """Write ``catatan-revisi.csv`` and ``.html`` into ``out_dir`` for the version about to be published.

    ``curated`` (period key -> Parquet) and ``columns`` are the new version's; ``csv_sha256`` its CSV's hash.
    When it equals the last stored version's CSV, that version's log is kept as it is.
    """
    from transforms.writing import write_text

    latest = store.latest(entry.id)
    paths = {kind: out_dir / name for kind, name in LOG_NAMES.items()}
    if latest is not None and not note and all(latest.file(k) for k in LOG_NAMES):
        held = latest.file("csv")
        if held is not None and held.sha256 == csv_sha256:
            for kind, path in paths.items():
                stored = latest.file(kind)
                assert stored is not None
                store.restore(entry.id, stored, path)
            return {k: str(p) for k, p in paths.items()}
    earlier: list[dict[str, str]] = []
    if latest is not None and latest.file("revision_csv") is not None:
        stored = latest.file("revision_csv")
        assert stored is not None
        earlier = read_log(store.read_blob(entry.id, stored.sha256))
    old_columns = list(latest.extra.get("columns", columns)) if latest else []
    added = [c for c in columns if c not in old_columns] if latest else []
    removed = [c for c in old_columns if c not in columns]
    diffs = changes_since(store, latest, curated, list(entry.table.primary_key))
    if latest is None and not note:
        note = "Versi pertama yang tercatat"
    rows = version_rows(entry, (latest.seq + 1) if latest else 1, at or datetime.now(UTC), diffs, added, removed,
                        note) + earlier
    write_text(paths["revision_csv"], log_csv(rows))
    write_text(paths["revision_html"], log_html(entry, rows))
    return {k: str(p) for k, p in paths.items()}
