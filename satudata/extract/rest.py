"""Agency JSON APIs: every page of the run's interval, each archived byte for byte before it is read.

The client (``ApiClient``: a session of ``satudata.transport`` carrying the credentials, and the
base URL) is built by the Airflow hook; retries, backoff and ``Retry-After`` are the transport's.
Here the answers are judged: refused credentials, a missing endpoint and a payload that is not
the declared JSON are errors naming the URL, and the input is quarantined.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests

from satudata.extract.archive import RawArchive
from satudata.extract.staging import Extracted, SourceRowsWriter, fail, manifest_of, run_fields
from satudata.transport import attempts
from transforms.readers import SourceParseError, read_records

if TYPE_CHECKING:
    from satudata.run import RunContext

log = logging.getLogger(__name__)

# Answers that mean the request itself is wrong: quarantined, never retried.
REFUSED = (401, 403, 404)


class AgencyApiError(RuntimeError):
    """The agency API refused the request or kept failing; the message names URL and status."""

    def __init__(self, message: str, url: str, status: int | None = None) -> None:
        super().__init__(message)
        self.url, self.status = url, status


class MalformedPayload(AgencyApiError):
    """An answer that is not the JSON the source declares; ``body`` holds the bytes as received."""

    def __init__(self, message: str, url: str, body: bytes, page: int) -> None:
        super().__init__(message, url, 200)
        self.body, self.page = body, page


@dataclass(frozen=True)
class ApiClient:
    """An agency server: a session of ``satudata.transport`` with its credentials, and its base URL."""

    session: requests.Session
    base_url: str
    name: str = "agency API"

    def get(self, url: str, params: dict[str, Any] | None = None) -> requests.Response:
        """GET through the transport; an answer that is still an error after its retries raises AgencyApiError."""
        try:
            answer = self.session.get(url, params=params)
        except requests.RequestException as exc:
            raise AgencyApiError(f"{url}: gave up: {type(exc).__name__}: {exc}", url) from None
        status = answer.status_code
        if status < 400:
            return answer
        if status in (401, 403):
            raise AgencyApiError(
                f"{answer.url}: HTTP {status}: the API refused the credentials of connection "
                f"{self.name!r} ({'not authenticated' if status == 401 else 'not allowed'})",
                answer.url, status,
            )
        if status == 404:
            raise AgencyApiError(f"{answer.url}: HTTP 404: not found", answer.url, status)
        raise AgencyApiError(f"{url}: gave up after {attempts(answer)} attempts, last: HTTP {status}",
                             answer.url, status)

    def fetch_file(self, path: str) -> tuple[str, bytes]:
        """Download ``path`` under the base URL (an agency's export file); returns URL and bytes."""
        answer = self.get(f"{self.base_url}/{path.lstrip('/')}")
        return answer.url, answer.content


@dataclass(frozen=True)
class Page:
    """One answer of the API: its URL with query, number, the raw bytes and the decoded JSON."""

    number: int
    url: str
    body: bytes
    payload: dict[str, Any]


def _decode(url: str, body: bytes, number: int, records_key: str) -> dict[str, Any]:
    try:
        payload = json.loads(body)
    except ValueError as exc:
        raise MalformedPayload(f"{url}: page {number} is not valid JSON: {exc}", url, body, number) from None
    if not isinstance(payload, dict) or not isinstance(payload.get(records_key), list):
        raise MalformedPayload(f"{url}: page {number} has no list under {records_key!r}", url, body, number)
    return payload


def iter_pages(api: ApiClient, endpoint: str, params: dict[str, Any], pagination: Any,
               records_key: str) -> Iterator[Page]:
    """Yield every page of ``endpoint`` for ``params`` (page or cursor ``pagination``)."""
    url = api.base_url + endpoint
    number, cursor = 1, None
    while True:
        query = {**params, pagination.size_param: pagination.page_size}
        if pagination.style == "page":
            query[pagination.page_param] = number
        elif cursor is not None:
            query[pagination.cursor_param] = cursor
        answer = api.get(url, query)
        payload = _decode(answer.url, answer.content, number, records_key)
        yield Page(number, answer.url, answer.content, payload)
        if pagination.style == "page":
            if len(payload[records_key]) < pagination.page_size:
                return
        else:
            cursor = payload.get(pagination.next_cursor_key)
            if not cursor:
                return
        number += 1


def _stage_pages(run: RunContext, api: ApiClient, archive: RawArchive, staged: SourceRowsWriter) -> None:
    source = run.entry.source
    assert source.kind == "rest"
    params = {source.interval_params.start: run.period.start.isoformat(),
              source.interval_params.end: run.period.end.isoformat()}
    for page in iter_pages(api, source.endpoint, params, source.pagination, source.records_key):
        path = archive.add(f"page-{page.number:04d}.json", page.body, url=page.url)
        try:
            # Page by page: memory holds one page of rows, not the period.
            staged.write(read_records(page.payload[source.records_key], run_fields(run), path.name))
        except SourceParseError as exc:
            raise fail(run, archive, str(exc), path, exc) from None


def extract_rest(run: RunContext, api: ApiClient) -> Extracted:
    """Fetch every page of the period from the agency API; archive each page before reading it."""
    source = run.entry.source
    assert source.kind == "rest"
    archive = RawArchive(run.owner_only_dir("raw"), manifest_of(run, conn_id=source.conn_id, endpoint=source.endpoint))
    staged = SourceRowsWriter(run, archive)
    try:
        _stage_pages(run, api, archive, staged)
    except MalformedPayload as exc:
        staged.abandon()
        path = archive.add(f"page-{exc.page:04d}.json", exc.body, url=exc.url)
        raise fail(run, archive, str(exc), path, SourceParseError(path.name, str(exc), row=None)) from None
    except AgencyApiError as exc:
        staged.abandon()
        if exc.status in REFUSED:
            raise fail(run, archive, str(exc), None) from None
        archive.close(status="failed", error=str(exc))
        raise
    except BaseException:
        staged.abandon()
        raise
    path = staged.close()
    manifest = archive.close(status="extracted", rows=staged.rows, pages=len(archive.manifest["files"]))
    return Extracted(path, staged.rows, manifest)
