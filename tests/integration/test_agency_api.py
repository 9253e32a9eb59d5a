"""The agency API hook against the local agency API server: auth, pagination, retries, errors."""

from __future__ import annotations

import json
import time
from datetime import date

import pytest
import requests

from devstack.samples import agencies as sample_agencies
from satudata.sources import CursorPagination, PagePagination


def iter_pages(api, *args):
    from satudata.extract.rest import iter_pages as pages

    return pages(api, *args)


def hook(conn_id: str, **kwargs):
    from agency_api_hook import AgencyApiHook

    return AgencyApiHook(conn_id, **kwargs)


PAGE = PagePagination(style="page", page_size=50)
CURSOR = CursorPagination(style="cursor", page_size=100)
MPP = ("/mpp/api/v1/kunjungan", {"tanggal_mulai": "2026-10-05", "tanggal_selesai": "2026-10-07"}, PAGE, "data")
LAPOR = ("/lapor/api/v2/pengaduan", {"dari": "2026-10-01", "sampai": "2026-11-01"}, CURSOR, "items")


def records(pages, key):
    return [r for p in pages for r in p.payload[key]]


def test_page_pagination_with_basic_auth_reads_every_record_once(agency_conns):
    pages = list(iter_pages(hook("mpp_antrean").get_conn(), *MPP))
    expected = sample_agencies.mpp_visits_between(date(2026, 10, 5), date(2026, 10, 7))
    assert len(pages) == len(expected) // 50 + 1
    assert [r["nomor_tiket"] for r in records(pages, "data")] == [v["nomor_tiket"] for v in expected]
    assert all(json.loads(p.body) == p.payload for p in pages)


def test_cursor_pagination_with_token_reads_every_record_once(agency_conns):
    pages = list(iter_pages(hook("sp4n_lapor").get_conn(), *LAPOR))
    expected = sample_agencies.lapor_complaints(date(2026, 10, 1))
    assert len(pages) > 1 and pages[-1].payload["next_cursor"] is None
    assert [r["tracking_id"] for r in records(pages, "items")] == [r["tracking_id"] for r in expected]


def test_survives_injected_429_500_and_a_slow_answer(agency_conns):
    agency_conns.inject("429", "500", "slow", "503")
    started = time.monotonic()
    pages = list(iter_pages(hook("sp4n_lapor").get_conn(), *LAPOR))
    elapsed = time.monotonic() - started
    assert len(records(pages, "items")) == len(sample_agencies.lapor_complaints(date(2026, 10, 1)))
    first_page = [r for r in agency_conns.requests_seen if "cursor=" not in r]
    assert len(first_page) == 5  # 429, 500, timed out, 503, then the answer
    # 429 and 503 carried Retry-After: 1, which the hook honoured instead of its 0.05 s backoff.
    assert elapsed >= 2.0


def test_gives_up_after_the_configured_retries(agency_conns):
    agency_conns.inject("500", "500", "500")
    from satudata.extract.rest import AgencyApiError

    with pytest.raises(AgencyApiError, match="gave up after 3 attempts, last: HTTP 500") as err:
        list(iter_pages(hook("sp4n_lapor", retries=2).get_conn(), *LAPOR))
    assert err.value.status == 500


def test_wrong_token_is_a_clear_401(agency_conns, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_SP4N_LAPOR", json.dumps(
        {"conn_type": "http", "host": agency_conns.url, "password": "expired"}))
    from satudata.extract.rest import AgencyApiError

    with pytest.raises(AgencyApiError, match="HTTP 401.*'sp4n_lapor'") as err:
        list(iter_pages(hook("sp4n_lapor").get_conn(), *LAPOR))
    assert err.value.status == 401
    assert len(agency_conns.requests_seen) == 1  # refused credentials are not retried


def test_unknown_endpoint_is_a_clear_404(agency_conns):
    from satudata.extract.rest import AgencyApiError

    with pytest.raises(AgencyApiError, match="HTTP 404: not found"):
        list(iter_pages(hook("sp4n_lapor").get_conn(), "/lapor/api/v9/nope", *LAPOR[1:]))


def test_truncated_json_is_a_malformed_payload_with_its_bytes(agency_conns):
    agency_conns.inject("truncated")
    from satudata.extract.rest import MalformedPayload

    with pytest.raises(MalformedPayload, match="page 1 is not valid JSON") as err:
        list(iter_pages(hook("sp4n_lapor").get_conn(), *LAPOR))
    assert err.value.body.startswith(b'{"status": "ok"') and len(err.value.body) > 100


def test_faults_can_be_requested_over_http(agency_conns):
    answer = requests.post(f"{agency_conns.url}/_faults", json=["429"], timeout=5)
    assert answer.json() == {"queued": ["429"]}
    refused = requests.post(f"{agency_conns.url}/_faults", json=["teapot"], timeout=5)
    assert refused.status_code == 400


def test_export_file_fetched_over_http_is_archived_and_read(agency_conns, data_dir):
    """A file source with a connection downloads the period's export (basic auth, retries)."""
    from satudata.catalog import get_entry
    from satudata.extract.files import extract_file
    from satudata.periods import Period
    from satudata.run import RunContext

    entry = get_entry("dukcapil_dokumen_bulanan")
    over_http = entry.model_copy(update={"source": entry.source.model_copy(update={
        "conn_id": "mpp_antrean", "path": "ekspor/dukcapil/layanan_dukcapil_{period}.csv"})})
    agency_conns.inject("503")
    extracted = extract_file(RunContext(over_http, Period("monthly", date(2026, 10, 1), date(2026, 11, 1)), "t"),
                             hook("mpp_antrean").get_conn())
    manifest = json.loads(extracted.raw_manifest.read_text())
    raw = extracted.raw_manifest.with_suffix("") / "layanan_dukcapil_2026-10.csv"
    assert raw.read_bytes() == sample_agencies.dukcapil_export(date(2026, 10, 1))
    assert manifest["files"][0]["url"].endswith("/ekspor/dukcapil/layanan_dukcapil_2026-10.csv")
    assert len(extracted.frame) == len(sample_agencies.dukcapil_rows(date(2026, 10, 1)))
    assert "NIK" not in extracted.frame.columns


def test_missing_export_over_http_is_a_named_error(agency_conns, data_dir):
    from satudata.catalog import get_entry
    from satudata.extract import SourceError
    from satudata.extract.files import extract_file
    from satudata.periods import Period
    from satudata.run import RunContext

    entry = get_entry("dukcapil_dokumen_bulanan")
    over_http = entry.model_copy(update={"source": entry.source.model_copy(update={
        "conn_id": "mpp_antrean", "path": "ekspor/dukcapil/tidak_ada_{period}.csv"})})
    with pytest.raises(SourceError, match=r"tidak_ada_2026-10.csv: HTTP 404: not found"):
        extract_file(RunContext(over_http, Period("monthly", date(2026, 10, 1), date(2026, 11, 1)), "t"),
                             hook("mpp_antrean").get_conn())
