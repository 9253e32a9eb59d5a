"""HTTP sessions with a default timeout and retries with exponential backoff and jitter."""

from __future__ import annotations

from collections.abc import Callable

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
        # ckanapi passes timeout=None explicitly, so setdefault alone would never apply ours.
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().request(method, url, **kwargs)


def _retry_class(not_repeatable: Callable[[str], bool]) -> type[Retry]:
    class GuardedRetry(Retry):
        """Retry, except when a non-repeatable request was sent and its answer was lost."""

        def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
            if error is not None and self._is_read_error(error) and url and not_repeatable(url):
                # The server may have acted on it: the caller must look before repeating.
                raise error.with_traceback(_stacktrace)
            return super().increment(method, url, response, error, _pool, _stacktrace)

    return GuardedRetry


def retrying_session(
    timeout: float = 60.0,
    retries: int = 5,
    backoff: float = 1.0,
    not_repeatable: Callable[[str], bool] | None = None,
) -> requests.Session:
    """Session that retries connection errors, 429 and 5xx, honouring ``Retry-After``.

    POSTs are retried too. A request whose path ``not_repeatable`` accepts is still retried
    when it never reached the server (connection refused) or was refused (429, 5xx), but not
    when it was sent and the answer was lost (timeout, reset): the caller looks it up first.
    """
    retry_class = _retry_class(not_repeatable) if not_repeatable else Retry
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
