"""Notices: the producer's words after a blocked, quarantined or failed run, the walidata's digest; never a value."""

import json
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from satudata import notices
from satudata.catalog import get_entry
from satudata.gate.report import ExpectationOutcome, QualityReport
from satudata.status import DatasetState, dataset_state

PERMITS = "dpmptsp_izin_terbit_bulanan"


def blocked_report(directory: Path, value: object) -> Path:
    """A gate report of a blocked period whose every value-bearing field holds ``value``."""
    outcomes = [
        ExpectationOutcome("expect_column_values_to_be_in_set", "kode_kabupaten_kota", "critical", False,
                           "Kode kabupaten/kota harus kode Kemendagri Kalimantan Timur",
                           {"column": "kode_kabupaten_kota", "value_set": ["64.01", value]}, 3, [value, value],
                           value),
        ExpectationOutcome("expect_column_values_to_not_be_null", "jumlah_izin_terbit", "critical", True, "", {}),
        ExpectationOutcome("expect_column_values_to_be_between", "rata_rata_hari_proses", "warning", False,
                           "Lama proses wajar", {"column": "rata_rata_hari_proses"}, 1, [value], value),
    ]
    report = QualityReport(
        dataset_id=PERMITS, suite=PERMITS, rows=120, critical_failures=1, warnings=1, expectations=outcomes,
        parameters={"period_year": 2026, "note": value}, title="Jumlah Izin Terbit", period="2026-07", run_id="r",
        privacy={"success": False, "findings": [
            {"column": "jenis_izin", "kind": "nik", "cells": 2, "allowed": False, "reason": ""},
            {"column": "kode_jenis_izin", "kind": "npwp", "cells": 5, "allowed": True, "reason": f"kode {value}"}],
            "warnings": [{"column": "jenis_izin", "kind": "nama", "cells": 1, "allowed": False, "reason": ""}]},
        blocked_by=[f"e.g. {value}"],
    )
    return Path(report.write(directory)["report_json"])


def notice_for(problem: notices.RunProblem, url: str | None = None) -> notices.Notice:
    return notices.producer_notice(get_entry(PERMITS), "2026-07", problem, "k1", url)


def test_blocked_run_tells_what_failed_in_indonesian(tmp_path):
    problem = notices.problem_from_report(blocked_report(tmp_path, "64.99"))
    notice = notice_for(problem, "https://data.example/dataset/dpmptsp-izin-terbit-bulanan")
    text = notice.text
    assert notice.subject == ("[Satu Data] Diblokir oleh gerbang mutu: Jumlah Izin Terbit per Bulan menurut "
                              "Kabupaten/Kota dan Jenis Izin (2026-07)")
    assert "Yth. DPMPTSP Provinsi Kalimantan Timur," in text
    assert "ID dataset: dpmptsp_izin_terbit_bulanan" in text and "Periode: Juli 2026 (2026-07)" in text
    assert "Status: diblokir oleh gerbang mutu" in text and "120 baris yang diperiksa" in text
    assert ("- Kode kabupaten/kota harus kode Kemendagri Kalimantan Timur [expect_column_values_to_be_in_set, "
            "kolom kode_kabupaten_kota]: 3 baris tidak sesuai") in text
    assert "- kolom jenis_izin: 2 sel berisi NIK (nilainya tidak ditampilkan)" in text
    # Only what blocks: a passed check, a warning and an allowed look-alike are not the producer's to fix.
    assert "not_be_null" not in text and "rata_rata_hari_proses" not in text and "npwp" not in text.lower()
    assert "Hapus data pribadi" in text and "UU 27/2022" in text
    assert "Halaman dataset: https://data.example/dataset/dpmptsp-izin-terbit-bulanan" in text
    assert "SIMPERIZINAN DPMPTSP" in text  # a database source: fix the data there, the walidata re-runs
    assert "64.99" not in text + notice.html + json.dumps(notice.as_json())
    assert notice.html.startswith("<!DOCTYPE html>") and "<li>" in notice.html


NIK = st.from_regex(r"\A64\d{2}[0-7]\d[01]\d\d{2}\d{4}\Z")
MARKED = st.text(min_size=1, max_size=40).map(lambda t: f"NILAI<{t}>RAHASIA")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(value=st.one_of(NIK, MARKED))
def test_no_cell_value_reaches_the_mail(tmp_path_factory, value):
    problem = notices.problem_from_report(blocked_report(tmp_path_factory.mktemp("r"), value))
    notice = notice_for(problem)
    message = notices.mail_message(notice, "satudata@diskominfo.kaltimprov.example",
                                   ["satudata@dpmptsp.kaltimprov.example"])
    decoded = "\n".join(str(p.get_content()) for p in message.walk() if p.get_content_maintype() == "text")
    for text in (notice.subject, notice.text, notice.html, json.dumps(notice.as_json(), ensure_ascii=False),
                 message.as_string(), decoded):
        assert value not in text
        assert value.replace("<", "&lt;").replace(">", "&gt;") not in text


def quarantine_report(directory: Path) -> Path:
    path = directory / "20260805T000000Z-dukcapil-2026-07.csv.error.json"
    path.write_text(json.dumps({
        "dataset": "dukcapil_dokumen_bulanan", "period": "2026-07", "file": "/data/landing/dukcapil/2026-07.csv",
        "row": 14, "column": "jumlah_ktp_el", "error": "row 14, column jumlah_ktp_el: text of 5 characters "
        "(letters) is not a whole number", "raw_manifest": "/data/raw/x.json"}), encoding="utf-8")
    return path


def test_quarantined_input_names_file_row_and_column(tmp_path):
    problem = notices.problem_from_quarantine(quarantine_report(tmp_path))
    notice = notices.producer_notice(get_entry("dukcapil_dokumen_bulanan"), "2026-07", problem, "k2")
    assert "Status: dikarantina: masukan tidak dapat dibaca" in notice.text
    assert "- berkas 2026-07.csv, baris 14, kolom jumlah_ktp_el: row 14" in notice.text
    assert "/data/" not in notice.text  # where the pipeline keeps files is not the agency's business
    assert "Kirim ulang berkas ekspor periode 2026-07" in notice.text and "folder landing" in notice.text
    assert notice.subject.startswith("[Satu Data] Dikarantina: ")


class ValidationFailedLike(RuntimeError):
    def __init__(self, message, report_path):
        super().__init__(message)
        self.report_path = report_path


def _raised_from(cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as exc:
            raise RuntimeError(f"task failed: {exc}") from exc
    except RuntimeError as outer:
        return outer


def test_problem_of_a_task_failure(tmp_path):
    report = blocked_report(tmp_path, "64.99")
    blocked = notices.problem_of(_raised_from(ValidationFailedLike("e.g. ['64.99']", report)), "validate")
    assert blocked is not None and blocked.kind == "blocked" and blocked.checks[0].rows == 3
    quarantine = _raised_from(type("SourceErrorLike", (RuntimeError,), {"quarantine_report": quarantine_report(
        tmp_path)})("row 14"))
    assert notices.problem_of(quarantine, "transform").kind == "quarantined"
    # A source that cannot be read is the producer's to look at; its error text may quote anything: left out.
    failed = notices.problem_of(_raised_from(ConnectionRefusedError("NILAI-RAHASIA")), "extract")
    assert failed is not None and failed.kind == "failed" and failed.error_type == "ConnectionRefusedError"
    notice = notice_for(failed)
    assert "NILAI-RAHASIA" not in notice.text and "Pastikan sistem sumber" in notice.text
    # Publishing is the walidata's: the producer is not told.
    assert notices.problem_of(_raised_from(TimeoutError("portal")), "publish") is None


def test_a_notice_is_claimed_once(tmp_path, monkeypatch):
    monkeypatch.setenv("SATUDATA_DATA_DIR", str(tmp_path))
    key = notices.notice_key(PERMITS, "scheduled__2026-08-01", "validate", -1, 1)
    assert key == notices.notice_key(PERMITS, "scheduled__2026-08-01", "validate", -1, 1)
    assert key != notices.notice_key(PERMITS, "scheduled__2026-08-01", "validate", -1, 2)
    record = notices.sent_record(PERMITS, key)
    assert notices.claim(record) and not notices.claim(record)
    notices.release(record)
    assert notices.claim(record)
    notices.mark_sent(record, channel="email")
    assert not notices.claim(record) and json.loads(record.read_text())["status"] == "sent"
    assert record.parent == tmp_path / "notices" / PERMITS


def test_mail_has_text_and_html_and_a_stable_message_id(tmp_path):
    notice = notice_for(notices.problem_from_report(blocked_report(tmp_path, "x")))
    first = notices.mail_message(notice, "satudata@diskominfo.kaltimprov.example", ["a@dinkes.kaltimprov.example"])
    again = notices.mail_message(notice, "satudata@diskominfo.kaltimprov.example", ["a@dinkes.kaltimprov.example"])
    assert first["Message-ID"] == again["Message-ID"] == "<satudata.k1@diskominfo.kaltimprov.example>"
    assert [p.get_content_type() for p in first.walk()] == ["multipart/alternative", "text/plain", "text/html"]


def _state(dataset_id: str, agency: str, **extras: str) -> DatasetState:
    entry = get_entry(dataset_id)
    package = {"name": entry.ckan.name, "state": "active", "private": False,
               "extras": [{"key": k, "value": v} for k, v in extras.items()]}
    state = dataset_state(entry, package, "https://data.example")
    return DatasetState(**{**state.__dict__, "agency": agency})


def test_digest_groups_every_dataset_by_agency():
    states = [
        _state(PERMITS, "DPMPTSP", satudata_last_run_status="published", satudata_quality_status="passed",
               satudata_last_validated="2026-11-05T01:00:00+00:00", periode_data="2024-01 s.d. 2026-10",
               satudata_status_terbit="tepat waktu", satudata_periode_diharapkan="2026-10"),
        _state("mpp_kunjungan_harian", "DPMPTSP", satudata_last_run_status="blocked",
               satudata_quality_status="failed", periode_data="2026-01-01 s.d. 2026-11-20"),
        dataset_state(get_entry("skm_ikm_semester"), None, "https://data.example"),
        _state("dishub_penumpang_bulanan", "Dinas Perhubungan", satudata_last_run_status="published",
               satudata_quality_status="passed", periode_data="2026-01 s.d. 2026-08",
               satudata_status_terbit="terlambat", satudata_periode_diharapkan="2026-10"),
    ]
    notice = notices.walidata_digest(states, date(2026, 11, 30))
    assert notice.subject == "[Satu Data] Ringkasan mingguan 2026-11-30: 4 dataset, 3 perlu tindakan"
    text = notice.text
    assert text.index("== Biro Organisasi Setda Provinsi Kalimantan Timur ==") < text.index("== DPMPTSP ==")
    assert ("run terakhir terbit; mutu lulus; periode terbit terakhir 2026-10; penyerahan tepat waktu "
            "(diharapkan 2026-10); diperiksa 2026-11-05") in text
    assert "periode terbit terakhir 2026-08; penyerahan terlambat (diharapkan 2026-10)" in text
    assert "[mpp_kunjungan_harian]: run terakhir diblokir gerbang mutu; mutu tidak lulus" in text
    assert "[skm_ikm_semester]: run terakhir belum ada di portal" in text
    assert notice.html.count("<table") == 3 and "Penyerahan" in notice.html


def test_state_without_a_run_on_record():
    state = dataset_state(get_entry(PERMITS), {"state": "active", "private": True, "extras": []}, "https://d.example/")
    assert state.on_portal and not state.public and state.last_run_status is None and state.last_period is None
    assert state.delivery_status is None
    assert state.url == "https://d.example/dataset/dpmptsp-izin-terbit-bulanan"
    assert not dataset_state(get_entry(PERMITS), {"state": "deleted"}, "https://d.example").on_portal


@pytest.mark.parametrize("key", ["2026-07", "2026-S2", "2026"])
def test_period_in_words(key):
    assert key in notices._period_words(key)
