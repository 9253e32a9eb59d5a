"""Airflow hook for an agency's HTTP server (JSON API or export files), named by a connection.

Connection: host = the server's base URL; a login and password mean HTTP basic auth, a password
alone is a bearer token. ``get_conn`` gives the pipeline's ``ApiClient``: a session of the one
HTTP transport (``satudata.transport``: timeouts, retries with backoff, ``Retry-After``, a
deadline) carrying those credentials. Pagination and the judging of answers are the core's
(``satudata.extract.rest``).
"""

from __future__ import annotations

from typing import Any

from airflow.sdk.bases.hook import BaseHook

from satudata import settings
from satudata.extract.rest import ApiClient
from satudata.transport import base_url, retrying_session


class AgencyApiHook(BaseHook):
    """An agency API or file server named by an Airflow connection."""

    conn_name_attr = "api_conn_id"
    default_conn_name = "agency_api_default"
    conn_type = "http"
    hook_name = "Agency JSON API"

    def __init__(self, api_conn_id: str = default_conn_name, timeout: float | None = None,
                 retries: int | None = None, backoff: float | None = None) -> None:
        super().__init__()
        self.api_conn_id = api_conn_id
        configured = settings.api_transport()
        self.timeout = timeout if timeout is not None else configured.timeout
        self.retries = retries if retries is not None else configured.retries
        self.backoff = backoff if backoff is not None else configured.backoff

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["port", "extra"],
            "relabeling": {"host": "API base URL", "schema": "Scheme (when the URL has none)",
                           "login": "User (basic auth)", "password": "Password or API token"},
        }

    def get_conn(self) -> ApiClient:
        """The agency server as an ``ApiClient``: a retrying session with the credentials, and the base URL."""
        conn = self.get_connection(self.api_conn_id)
        try:
            url = base_url(conn, default_scheme="http")
        except ValueError:
            raise ValueError(f"connection {self.api_conn_id!r} needs the API base URL as host") from None
        session = retrying_session(timeout=self.timeout, retries=self.retries, backoff=self.backoff)
        session.headers["Accept"] = "application/json"
        if conn.login:
            session.auth = (conn.login, conn.password or "")
        elif conn.password:
            session.headers["Authorization"] = f"Bearer {conn.password}"
        return ApiClient(session, url, self.api_conn_id)

    def test_connection(self) -> tuple[bool, str]:
        """Reach the base URL with the connection's credentials."""
        try:
            api = self.get_conn()
            answer = api.session.get(api.base_url + "/")
            return answer.status_code < 400, f"HTTP {answer.status_code} from {api.base_url}"
        except Exception as exc:  # the UI shows any failure as text
            return False, str(exc)
