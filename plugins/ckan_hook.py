"""Airflow hook for a CKAN portal: connection type ``ckan``, default connection ``ckan_default``.

host = portal URL (``https://data.example.go.id``), password = API token. The hook builds its
ckanapi client lazily, puts a timeout on every call and retries transient failures; callers
only ever see ``client.call_action`` and CKAN's own exception types.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.sdk.bases.hook import BaseHook

DEFAULT_TIMEOUT = 60.0
USER_AGENT = "satudata-kaltim/0.1 (+ckanapi; Airflow)"


class CkanHook(BaseHook):
    """Talk to a CKAN portal with the API token kept in an Airflow connection."""

    conn_name_attr = "ckan_conn_id"
    default_conn_name = "ckan_default"
    conn_type = "ckan"
    hook_name = "CKAN"

    def __init__(self, ckan_conn_id: str = default_conn_name, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__()
        self.ckan_conn_id = ckan_conn_id
        self.timeout = timeout

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return {
            "hidden_fields": ["schema", "login", "port", "extra"],
            "relabeling": {"host": "Portal URL", "password": "API token"},
            "placeholders": {"host": "https://data.kaltimprov.go.id"},
        }

    @cached_property
    def portal_url(self) -> str:
        conn = self.get_connection(self.ckan_conn_id)
        host = (conn.host or "").rstrip("/")
        if not host:
            raise ValueError(f"connection {self.ckan_conn_id!r} has no host (the portal URL)")
        if "://" not in host:
            scheme = conn.extra_dejson.get("scheme", "https")
            host = f"{scheme}://{host}"
        if conn.port and host.count(":") < 2:
            host = f"{host}:{conn.port}"
        return host

    def get_conn(self):
        """A ckanapi RemoteCKAN for the portal, built on first use."""
        return self.client

    @cached_property
    def client(self):
        from ckanapi import RemoteCKAN

        from satudata.http import retrying_session

        conn = self.get_connection(self.ckan_conn_id)
        return RemoteCKAN(
            self.portal_url,
            apikey=conn.password or None,
            user_agent=USER_AGENT,
            session=retrying_session(timeout=self.timeout),
        )

    def test_connection(self) -> tuple[bool, str]:
        """Check that the portal answers and that the token may create datasets somewhere."""
        try:
            status = self.client.call_action("status_show")
            orgs = self.client.call_action(
                "organization_list_for_user", {"permission": "create_dataset"}
            )
        except Exception as exc:  # reported to the UI, not raised
            return False, f"{self.portal_url}: {type(exc).__name__}: {exc}"
        return True, (
            f"CKAN {status.get('ckan_version')} at {self.portal_url}; "
            f"token may publish to {len(orgs)} organization(s)"
        )
