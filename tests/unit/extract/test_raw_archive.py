"""The raw archive keeps every payload byte for byte and never overwrites; quarantine reports."""

from __future__ import annotations

import hashlib
import json

import pytest

from satudata.extract.archive import RawArchive, quarantine


def test_payloads_are_kept_unchanged_with_their_sha256(tmp_path):
    archive = RawArchive(tmp_path / "raw", {"source": "SIAK", "interval_start": "2026-10-01"})
    body = "Théresia;1.234,5\r\n".encode("cp1252")
    path = archive.add("layanan.csv", body, landing_file="dukcapil/layanan.csv")
    manifest_path = archive.close(status="extracted", rows=1)
    assert path.read_bytes() == body
    manifest = json.loads(manifest_path.read_text())
    assert manifest["files"] == [{"name": "layanan.csv", "bytes": len(body), "landing_file": "dukcapil/layanan.csv",
                                  "sha256": hashlib.sha256(body).hexdigest()}]
    assert manifest["source"] == "SIAK" and manifest["rows"] == 1


def test_nothing_is_overwritten(tmp_path):
    first = RawArchive(tmp_path / "raw", {})
    first.add("page-0001.json", b"{}")
    with pytest.raises(FileExistsError):
        first.add("page-0001.json", b"[]")
    second = RawArchive(tmp_path / "raw", {})
    second.add("page-0001.json", b"[]")
    assert first.directory != second.directory
    assert (first.directory / "page-0001.json").read_bytes() == b"{}"
    first.close()
    with pytest.raises(FileExistsError):
        first.close()


def test_quarantine_copies_the_input_and_writes_a_report(tmp_path):
    bad = tmp_path / "layanan.csv"
    bad.write_bytes(b"No;NIK\r\n1;\x81\r\n")
    report_path = quarantine(tmp_path / "quarantine", {"file": "layanan.csv", "row": 2, "error": "0x81"}, bad)
    report = json.loads(report_path.read_text())
    assert report_path.name.endswith("-layanan.csv.error.json")
    assert report["row"] == 2 and report["sha256"] == hashlib.sha256(bad.read_bytes()).hexdigest()
    assert (tmp_path / "quarantine" / report["quarantined_file"].split("/")[-1]).read_bytes() == bad.read_bytes()
    assert bad.exists()  # the raw copy stays where it is
