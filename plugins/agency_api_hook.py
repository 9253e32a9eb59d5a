"""Airflow hook that reads an agency's JSON API page by page, with retries and clear errors.

Connection: host = the API's base URL; a login and password mean HTTP basic auth, a password
alone is a bearer token. Every quirk of talking to the remote service (auth, pagination,
timeouts, backoff, Retry-After) stays in here, so callers only see pages of raw bytes.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from airflow.sdk.bases.hook import BaseHook

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# The longest Retry-After we honour: a server asking for more is treated as down.
MAX_RETRY_AFTER_SECONDS = 120.0


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
class Page:
    """One answer of the API: its URL with query, number, the raw bytes and the decoded JSON."""

    number: int
    url: str
    body: bytes
    payload: dict[str, Any]


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), None if absent."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class AgencyApiHook(BaseHook):
    """Read JSON pages of an agency API named by an Airflow connection."""

    conn_name_attr = "api_conn_id"
    default_conn_name = "agency_api_default"
    conn_type = "http"
    hook_name = "Agency JSON API"

    def __init__(self, api_conn_id: str = default_conn_name, timeout: float | None = None,
                 retries: int | None = None, backoff: float | None = None) -> None:
        super().__init__()
        from satudata import settings

        self.api_conn_id = api_conn_id
        self.timeout = timeout if timeout is not None else settings.api_timeout_seconds()
        self.retries = retries if retries is not None else settings.api_retries()
        self.backoff = backoff if backoff is not None else settings.api_backoff_seconds()

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["schema", "port", "extra"],
            "relabeling": {"host": "API base URL", "login": "User (basic auth)",
                           "password": "Password or API token"},
        }

    def get_conn(self):
        """A requests session carrying the connection's credentials; the base URL is ``base_url``."""
        import requests

        conn = self.get_connection(self.api_conn_id)
        host = (conn.host or "").rstrip("/")
        if not host:
            raise ValueError(f"connection {self.api_conn_id!r} needs the API base URL as host")
        if "://" not in host:
            host = f"{conn.schema or 'http'}://{host}" + (f":{conn.port}" if conn.port else "")
        session = requests.Session()
        session.headers["Accept"] = "application/json"
        if conn.login:
            session.auth = (conn.login, conn.password or "")
        elif conn.password:
            session.headers["Authorization"] = f"Bearer {conn.password}"
        session.base_url = host  # type: ignore[attr-defined]
        return session

    def _get(self, session, url: str, params: dict[str, Any]):
        import requests

        attempt = 0
        while True:
            try:
                answer = session.get(url, params=params, timeout=self.timeout)
            except (requests.ConnectionError, requests.Timeout) as exc:
                problem, status, wait = f"{type(exc).__name__}: {exc}", None, None
            else:
                if answer.status_code < 400:
                    return answer
                status = answer.status_code
                if status in (401, 403):
                    raise AgencyApiError(
                        f"{answer.url}: HTTP {status}: the API refused the credentials of connection "
                        f"{self.api_conn_id!r} ({'not authenticated' if status == 401 else 'not allowed'})",
                        answer.url, status,
                    )
                if status == 404:
                    raise AgencyApiError(f"{answer.url}: HTTP 404: not found", answer.url, status)
                if status not in RETRY_STATUSES:
                    raise AgencyApiError(f"{answer.url}: HTTP {status}: {answer.text[:200]}", answer.url, status)
                problem = f"HTTP {status}"
                wait = retry_after_seconds(answer.headers.get("Retry-After"))
            if attempt >= self.retries:
                raise AgencyApiError(f"{url}: gave up after {attempt + 1} attempts, last: {problem}", url, status)
            if wait is None:
                # Exponential backoff with full jitter, so many workers do not retry in step.
                wait = self.backoff * 2**attempt + random.uniform(0, self.backoff)
            wait = min(wait, MAX_RETRY_AFTER_SECONDS)
            log.warning("%s: %s; retry %d of %d in %.1f s", url, problem, attempt + 1, self.retries, wait)
            time.sleep(wait)
            attempt += 1

    def iter_pages(self, endpoint: str, params: dict[str, Any], pagination: Any, records_key: str) -> Iterator[Page]:
        """Yield every page of ``endpoint`` for ``params`` (page or cursor ``pagination``)."""
        session = self.get_conn()
        url = session.base_url + endpoint
        number = 1
        cursor = None
        try:
            while True:
                query = {**params, pagination.size_param: pagination.page_size}
                if pagination.style == "page":
                    query[pagination.page_param] = number
                elif cursor is not None:
                    query[pagination.cursor_param] = cursor
                answer = self._get(session, url, query)
                body = answer.content
                payload = self._decode(answer.url, body, number, records_key)
                yield Page(number, answer.url, body, payload)
                records = payload[records_key]
                if pagination.style == "page":
                    if len(records) < pagination.page_size:
                        return
                else:
                    cursor = payload.get(pagination.next_cursor_key)
                    if not cursor:
                        return
                number += 1
        finally:
            session.close()

    def fetch_file(self, path: str) -> tuple[str, bytes]:
        """Download ``path`` under the base URL (an agency's export file); returns URL and bytes."""
        session = self.get_conn()
        try:
            answer = self._get(session, f"{session.base_url}/{path.lstrip('/')}", {})
            return answer.url, answer.content
        finally:
            session.close()

    @staticmethod
    def _decode(url: str, body: bytes, number: int, records_key: str) -> dict[str, Any]:
        try:
            payload = json.loads(body)
        except ValueError as exc:
            raise MalformedPayload(f"{url}: page {number} is not valid JSON: {exc}", url, body, number) from None
        if not isinstance(payload, dict) or not isinstance(payload.get(records_key), list):
            raise MalformedPayload(
                f"{url}: page {number} has no list under {records_key!r}", url, body, number
            )
        return payload

    def test_connection(self) -> tuple[bool, str]:
        """Reach the base URL with the connection's credentials."""
        try:
            session = self.get_conn()
            answer = session.get(session.base_url + "/", timeout=self.timeout)
            return answer.status_code < 400, f"HTTP {answer.status_code} from {session.base_url}"
        except Exception as exc:  # the UI shows any failure as text
            return False, str(exc)
