"""The one HTTP transport of the pipeline: timeouts, retries with backoff and jitter, a capped
``Retry-After`` and a deadline. The CKAN hook, the agency API hook and the alerts webhook all
build their sessions here; ``base_url`` turns any of their connections into a URL.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError
from urllib3.util.retry import Retry

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
# A gateway's answers when it lost the server's: the server may have acted on the request.
GATEWAY_STATUSES = frozenset({502, 504})
# The longest Retry-After honoured; a server asking for more is waited on this long, then asked again.
MAX_RETRY_AFTER_SECONDS = 120.0
# Retrying stops once this long has passed since the first failed attempt of a request.
DEFAULT_DEADLINE_SECONDS = 600.0


class ConnectionLike(Protocol):
    """The fields of an Airflow connection that name a server."""

    host: str | None
    schema: str | None
    port: int | None


def base_url(conn: ConnectionLike, default_scheme: str = "https") -> str:
    """The connection's URL: ``host`` as given when it has a scheme, else scheme + host + port.

    The scheme comes from the connection's ``schema`` field when it is set (Airflow's HTTP
    connections keep it there), else ``default_scheme``. A port given on its own is appended
    when the host does not carry one.
    """
    host = (conn.host or "").strip().rstrip("/")
    if not host:
        raise ValueError("the connection has no host (the server's URL)")
    if "://" not in host:
        host = f"{conn.schema or default_scheme}://{host}"
    if conn.port and host.count(":") < 2:
        host = f"{host}:{conn.port}"
    return host


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


class TimeoutSession(requests.Session):
    """A requests session that never waits forever: every request gets ``timeout``."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        # ckanapi passes timeout=None explicitly, so setdefault alone would never apply ours.
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, *args, **kwargs)


class _Retry(Retry):
    """urllib3's Retry with a cap on Retry-After, a deadline, and a guard for non-repeatable requests."""

    not_repeatable: Callable[[str], bool] | None = None
    retry_after_cap: float = MAX_RETRY_AFTER_SECONDS
    deadline: float = DEFAULT_DEADLINE_SECONDS
    first_failure: float | None = None

    def new(self, **kw: Any) -> _Retry:
        fresh = super().new(**kw)
        assert isinstance(fresh, _Retry)
        fresh.first_failure = self.first_failure
        return fresh

    def get_retry_after(self, response: Any) -> float | None:
        seconds = retry_after_seconds(response.headers.get("Retry-After"))
        return None if seconds is None else min(seconds, self.retry_after_cap)

    def increment(self, method: str | None = None, url: str | None = None, response: Any = None,
                  error: Exception | None = None, _pool: Any = None, _stacktrace: Any = None) -> _Retry:
        if url and self.not_repeatable is not None and self.not_repeatable(url):
            # The server may have acted on it: the caller must look before repeating.
            if error is not None and self._is_read_error(error):
                raise error.with_traceback(_stacktrace)
            if response is not None and response.status in GATEWAY_STATUSES:
                # Ends the retries; the gateway's answer goes back to the caller as it came.
                raise MaxRetryError(_pool, url, None)
        now = time.monotonic()
        started = self.first_failure if self.first_failure is not None else now
        if now - started > self.deadline:
            raise MaxRetryError(_pool, url or "", error or Exception(f"deadline of {self.deadline:g} s passed"))
        fresh = super().increment(method, url, response, error, _pool, _stacktrace)
        assert isinstance(fresh, _Retry)
        fresh.first_failure = started
        return fresh


def retrying_session(
    timeout: float = 60.0,
    retries: int = 5,
    backoff: float = 1.0,
    not_repeatable: Callable[[str], bool] | None = None,
    deadline: float = DEFAULT_DEADLINE_SECONDS,
    retry_after_cap: float = MAX_RETRY_AFTER_SECONDS,
) -> requests.Session:
    """Session that retries connection errors, timeouts, 429 and 5xx, honouring ``Retry-After``.

    Backoff doubles from ``backoff`` with jitter (so many workers do not retry in step), at most
    60 s; ``Retry-After`` is honoured up to ``retry_after_cap``; no retry starts once ``deadline``
    seconds have passed since the first failure. After the last retry the last answer is
    returned (its status tells what went wrong). POSTs are retried too. A request whose URL
    ``not_repeatable`` accepts is still retried when it never reached the server (connection
    refused) or was refused (429, 500, 503), but not when it was sent and the answer was lost
    (timeout, reset, or a gateway's 502/504, which is returned as it came): the caller looks
    it up first.
    """
    retry_class = type("SessionRetry", (_Retry,), {
        "not_repeatable": staticmethod(not_repeatable) if not_repeatable else None,
        "retry_after_cap": retry_after_cap,
        "deadline": deadline,
    })
    retry = retry_class(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        backoff_factor=backoff,
        backoff_jitter=backoff / 2,
        backoff_max=60,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=None,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    session = TimeoutSession(timeout)
    adapter = HTTPAdapter(max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


def attempts(response: requests.Response) -> int:
    """How many times the transport sent the request that gave ``response``."""
    retries = getattr(response.raw, "retries", None)
    return 1 + len(retries.history) if retries is not None else 1
