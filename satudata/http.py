"""HTTP sessions with a default timeout and retries with exponential backoff and jitter."""

from __future__ import annotations

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

RETRY_STATUSES = (429, 500, 502, 503, 504)


class TimeoutSession(requests.Session):
    """A requests session that never waits forever: every request gets ``timeout``."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method, url, **kwargs):  # type: ignore[override]
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, **kwargs)


def retrying_session(timeout: float = 60.0, retries: int = 5, backoff: float = 1.0) -> requests.Session:
    """Session that retries connection errors, 429 and 5xx, honouring ``Retry-After``.

    POSTs are retried too: the publishing code looks everything up by name before it
    creates, so a repeated call never duplicates a dataset or resource.
    """
    retry = Retry(
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
