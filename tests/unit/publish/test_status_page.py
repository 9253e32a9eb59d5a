"""The status page: self-contained HTML and JSON with the same rows, metadata only, written atomically."""

from __future__ import annotations

import json
import re
from datetime import date

from satudata.catalog import load_catalog
from satudata.monitor import status_row
from satudata.publish.status_page import status_document, status_html, tanggal, write_status_page

PORTAL = "https://data.example.go.id"


def _package(periode_data: str, **extras: str) -> dict:
    values = {"periode_data": periode_data, **extras}
    return {"state": "active", "private": False, "extras": [{"key": k, "value": v} for k, v in values.items()]}


def _document() -> dict:
    rows = []
    for entry in load_catalog():
        package = _package("2024-01 s.d. 2026-10", satudata_quality_status="passed",
                           satudata_last_run_status="published") if entry.schedule == "monthly" else None
        rows.append(status_row(entry, package, PORTAL, date(2026, 11, 20))[0])
    return status_document(rows, date(2026, 11, 20))


def test_every_dataset_has_one_card_and_the_same_row_in_the_json(tmp_path):
    document = _document()
    page, data = write_status_page(document, tmp_path / "status")
    html = page.read_text(encoding="utf-8")
    assert json.loads(data.read_text(encoding="utf-8")) == document
    assert html.count("<article") == len(document["dataset"]) == len(load_catalog())
    for row in document["dataset"]:
        card = html.split(f'id="{row["dataset"]}"', 1)[1].split("</article>", 1)[0]
        assert row["status_terbit"].capitalize() in card
        if row["periode_terakhir"]:
            assert f'<a href="{row["tautan"]}">' in card and row["periode_terakhir"] in card
        else:
            assert "belum pernah terbit" in card and "<a " not in card
    assert document["jumlah_terlambat"] == sum(r["status_terbit"] == "terlambat" for r in document["dataset"])
    assert "20 November 2026" in html


def test_the_page_is_self_contained_and_fits_a_phone():
    html = status_html(_document())
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert "<script" not in html and "<link" not in html and not re.search(r'src="', html)
    assert '<html lang="id">' in html


def test_metadata_only_and_text_is_escaped():
    document = _document()
    row = dict(document["dataset"][0], judul='Izin <script>alert("x")</script>', catatan="periode_data tidak terbaca")
    html = status_html({**document, "dataset": [row]})
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "periode_data tidak terbaca" in html
    # Rows hold the catalog's metadata and the portal's state, no column of any dataset.
    assert set(row) == {"dataset", "judul", "produsen_data", "organisasi", "frekuensi", "batas_hari_setelah_periode",
                        "periode_terakhir", "periode_diharapkan", "status_terbit", "periode_tertinggal",
                        "periode_berikutnya", "batas_berikutnya", "status_kualitas", "status_run_terakhir",
                        "validasi_terakhir", "tautan", "catatan"}


def test_late_datasets_come_first_then_by_id():
    rows = _document()["dataset"]
    late = [r["status_terbit"] == "terlambat" for r in rows]
    assert late == sorted(late, reverse=True) and any(late) and not all(late)
    assert [r["dataset"] for r in rows if r["status_terbit"] == "terlambat"] == sorted(
        r["dataset"] for r in rows if r["status_terbit"] == "terlambat")


def test_dates_are_written_as_indonesian_readers_do():
    assert tanggal(date(2027, 1, 30)) == "30 Januari 2027"
