"""The walidata's status page: every dataset's delivery and quality state, as HTML and JSON.

One self-contained HTML page (inline CSS, no script, Indonesian labels, one card per dataset so a
phone shows it without scrolling sideways) and a JSON file with the same rows, written to
``<data>/status/`` and published as the two resources of the walidata's status dataset. Only
metadata: no data value of any dataset. The content depends on the check's day and the datasets'
state only, so a re-check that finds nothing new uploads nothing.
"""

from __future__ import annotations

import html
import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

from ckanapi import ValidationError

from satudata import settings
from satudata.periods import tanggal
from satudata.publish import CkanClient
from satudata.publish.ckan import (
    PublishFile,
    as_fields,
    create_once,
    ensure_named_organization,
    find_dataset,
    refused,
    satudata_schema,
    upsert_resource,
)
from transforms.writing import replacing

log = logging.getLogger(__name__)

STATUS_DATASET = "status-satu-data"
HTML_NAME = "status.html"
JSON_NAME = "status.json"

# Label of each row field on the page, in the order shown under a dataset's title.
LABELS = {
    "produsen_data": "Produsen data",
    "frekuensi": "Frekuensi",
    "periode_terakhir": "Periode terakhir terbit",
    "periode_diharapkan": "Periode yang seharusnya sudah terbit",
    "periode_tertinggal": "Periode tertinggal",
    "periode_berikutnya": "Periode berikutnya",
    "batas_berikutnya": "Batas terbit periode berikutnya",
    "status_kualitas": "Status kualitas",
    "status_run_terakhir": "Status proses terakhir",
    "validasi_terakhir": "Validasi terakhir (UTC)",
    "catatan": "Catatan",
}

_WORDS = {"passed": "lolos", "failed": "gagal", "published": "terbit", "blocked": "diblokir gerbang mutu"}

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1d2530;
line-height:1.45}
header{background:#0b4f8a;color:#fff;padding:1rem}
h1{font-size:1.3rem;margin:0 0 .3rem}
header p{margin:0;font-size:.95rem}
main{max-width:60rem;margin:0 auto;padding:.75rem}
.ringkas{display:flex;gap:.5rem;flex-wrap:wrap;margin:.5rem 0 1rem}
.ringkas span{background:#fff;border-radius:.4rem;padding:.4rem .7rem;font-weight:600}
article{background:#fff;border-radius:.5rem;padding:.8rem 1rem;margin:0 0 .75rem;border-left:.4rem solid #2e7d32}
article.terlambat{border-left-color:#c62828}
h2{font-size:1.05rem;margin:0 0 .4rem;overflow-wrap:anywhere}
h2 a{color:#0b4f8a}
.status{display:inline-block;border-radius:1rem;padding:.1rem .6rem;font-size:.85rem;font-weight:700;
background:#e8f5e9;color:#1b5e20}
.terlambat .status{background:#ffebee;color:#b71c1c}
dl{display:grid;grid-template-columns:minmax(8rem,40%) 1fr;gap:.2rem .8rem;margin:.6rem 0 0;font-size:.92rem}
dt{color:#556}
dd{margin:0;overflow-wrap:anywhere}
footer{font-size:.85rem;color:#556;padding:0 1rem 1.5rem;max-width:60rem;margin:0 auto}
"""


def status_document(rows: list[dict[str, Any]], checked_on: date) -> dict[str, Any]:
    """The JSON document: when it was checked (WITA day) and one row per dataset, late ones first."""
    rows = sorted(rows, key=lambda r: (r["status_terbit"] != "terlambat", r["dataset"]))
    return {"diperiksa_pada": checked_on.isoformat(), "zona_waktu": settings.TIMEZONE,
            "jumlah_dataset": len(rows), "jumlah_terlambat": sum(r["status_terbit"] == "terlambat" for r in rows),
            "dataset": rows}


def _value(key: str, value: Any) -> str:
    if value is None:
        return "belum pernah terbit" if key == "periode_terakhir" else "-"
    if key == "batas_berikutnya":
        return tanggal(date.fromisoformat(value))
    if key == "periode_tertinggal":
        return f"{value} periode"
    return str(_WORDS.get(value, value)) if isinstance(value, str) else str(value)


def _card(row: dict[str, Any]) -> str:
    title = html.escape(row["judul"])
    heading = f'<a href="{html.escape(row["tautan"])}">{title}</a>' if row.get("tautan") else title
    items = "".join(
        f"<dt>{html.escape(label)}</dt><dd>{html.escape(_value(key, row.get(key)))}</dd>"
        for key, label in LABELS.items() if key != "catatan" or row.get("catatan")
    )
    late = row["status_terbit"] == "terlambat"
    return (f'<article class="{"terlambat" if late else "tepat"}" id="{html.escape(row["dataset"])}">'
            f'<h2>{heading}</h2><span class="status">{html.escape(row["status_terbit"].capitalize())}</span>'
            f"<dl>{items}</dl></article>")


def status_html(document: dict[str, Any]) -> str:
    """The page: a summary, then one card per dataset (late ones first)."""
    checked_on = date.fromisoformat(document["diperiksa_pada"])
    cards = "\n".join(_card(r) for r in document["dataset"])
    late, total = document["jumlah_terlambat"], document["jumlah_dataset"]
    return f"""<!DOCTYPE html>
<html lang="id">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Status Penerbitan Satu Data Kalimantan Timur</title>
<style>{_CSS}</style>
</head>
<body>
<header><h1>Status Penerbitan Dataset Satu Data</h1>
<p>Diperiksa pada {tanggal(checked_on)} (WITA)</p></header>
<main>
<div class="ringkas"><span>{total} dataset</span><span>{late} terlambat</span>
<span>{total - late} tepat waktu</span></div>
{cards}
</main>
<footer>Terlambat: periode yang batas terbitnya (sejumlah hari setelah periode berakhir, menurut katalog)
sudah lewat belum terbit di portal. Halaman ini hanya memuat metadata, tanpa nilai data.</footer>
</body>
</html>
"""


def write_status_page(document: dict[str, Any], directory: Path | None = None) -> tuple[Path, Path]:
    """Write ``status.html`` and ``status.json`` (``<data>/status/`` by default); returns their paths."""
    directory = directory or settings.data_dir() / "status"
    directory.mkdir(parents=True, exist_ok=True)
    page, data = directory / HTML_NAME, directory / JSON_NAME
    with replacing(data) as tmp:
        tmp.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    with replacing(page) as tmp:
        tmp.write_text(status_html(document), encoding="utf-8")
    return page, data


def _ensure_walidata_organization(client: CkanClient) -> dict[str, Any]:
    name, title = settings.walidata_organization()
    return ensure_named_organization(client, {"name": name, "title": title})


def _satu_data_fields(client: CkanClient, walidata: str) -> dict[str, Any]:
    """The schema's required Satu Data fields of the status dataset (none on a portal without the
    schema): the walidata produces the page, daily, for the province."""
    schema = satudata_schema(client)
    if schema is None:
        return {}
    return as_fields({"produsen_data": walidata, "walidata": walidata, "frekuensi_penerbitan": "Harian",
                      "level_penyajian": "Provinsi"}, schema)


def _ensure_status_dataset(client: CkanClient) -> dict[str, Any]:
    package = find_dataset(client, STATUS_DATASET)
    if package is not None and package.get("state") != "deleted":
        required = _satu_data_fields(client, (package.get("organization") or {}).get("title")
                                     or settings.walidata_organization()[1])
        if required and not package.get("walidata"):
            # Made before the portal had the schema: without them no resource could be updated.
            required.pop("extras", None)
            patched: dict[str, Any] = client.call_action("package_patch", {"id": package["id"], **required})
            return patched
        return package
    if package is not None:
        restored: dict[str, Any] = client.call_action("package_patch", {"id": package["id"], "state": "active"})
        return restored
    org = _ensure_walidata_organization(client)
    fields = {
        "name": STATUS_DATASET,
        "title": "Status Penerbitan Dataset Satu Data",
        "notes": ("Status penerbitan setiap dataset Satu Data: periode terakhir yang terbit, periode yang "
                  "seharusnya sudah terbit menurut batas penyerahan, status mutu dan proses terakhir. "
                  "Diperbarui setiap hari dan setiap kali dataset terbit. Hanya metadata, tanpa nilai data."),
        "owner_org": org["id"],
        "license_id": settings.default_license_id(),
        "tags": [{"name": "status"}, {"name": "walidata"}],
    }
    fields |= _satu_data_fields(client, org.get("title") or settings.walidata_organization()[1])
    try:
        created, _ = create_once(client, "package_create", fields, lambda: find_dataset(client, STATUS_DATASET))
    except ValidationError as exc:
        raise refused("package_create", exc, STATUS_DATASET) from exc
    log.info("created dataset %s", STATUS_DATASET)
    return created


def publish_status_page(client: CkanClient, page: Path, data: Path) -> dict[str, str]:
    """The page and its JSON as the resources of the status dataset; returns each resource's action."""
    package = _ensure_status_dataset(client)
    files = [
        PublishFile(HTML_NAME, page, "HTML", "Halaman status penerbitan semua dataset", "text/html"),
        PublishFile(JSON_NAME, data, "JSON", "Baris yang sama dalam JSON", "application/json"),
    ]
    return {f.name: upsert_resource(client, package, f, {})["action"] for f in files}
