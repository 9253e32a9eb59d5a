"""Airflow hook for a CKAN portal: connection type ``ckan``, default connection ``ckan_default``.

host = portal URL (``https://data.example.go.id``), password = API token. The hook builds its
ckanapi client lazily on a session of the one HTTP transport (``satudata.transport``: a timeout
on every call, retries of transient failures); callers only ever see ``client.call_action`` and
CKAN's own exception types, or the ``Portal`` that the publishing stage takes.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from airflow.sdk.bases.hook import BaseHook

from satudata import settings
from satudata.transport import base_url, retrying_session

USER_AGENT = "satudata-kaltim/0.1 (+ckanapi; Airflow)"
# CKAN's own default for ckan.max_resource_size, in MB.
DEFAULT_MAX_RESOURCE_MB = 10
# Actions that make something new each time they run: repeating one whose answer was lost
# could make a duplicate, so the transport leaves that to the caller (who looks first).
NOT_REPEATABLE_ACTIONS = frozenset(
    {"organization_create", "package_create", "resource_create", "resource_view_create", "api_token_create"}
)


def _not_repeatable(path: str) -> bool:
    return path.split("?")[0].rstrip("/").rsplit("/", 1)[-1] in NOT_REPEATABLE_ACTIONS


class CkanHook(BaseHook):
    """Talk to a CKAN portal with the API token kept in an Airflow connection."""

    conn_name_attr = "ckan_conn_id"
    default_conn_name = "ckan_default"
    conn_type = "ckan"
    hook_name = "CKAN"

    def __init__(self, ckan_conn_id: str = default_conn_name, timeout: float | None = None) -> None:
        super().__init__()
        self.ckan_conn_id = ckan_conn_id
        self.timeout = timeout if timeout is not None else settings.ckan_transport().timeout

    @cached_property
    def portal_url(self) -> str:
        conn = self.get_connection(self.ckan_conn_id)
        try:
            return base_url(conn, default_scheme=conn.extra_dejson.get("scheme", "https"))
        except ValueError:
            raise ValueError(f"connection {self.ckan_conn_id!r} has no host (the portal URL)") from None

    @cached_property
    def max_resource_bytes(self) -> int:
        """The portal's ``ckan.max_resource_size`` (connection extra ``max_resource_size_mb``)."""
        conn = self.get_connection(self.ckan_conn_id)
        # The UI's form saves an empty field as null.
        size_mb = conn.extra_dejson.get("max_resource_size_mb")
        size_mb = DEFAULT_MAX_RESOURCE_MB if size_mb in (None, "") else size_mb
        return int(float(size_mb) * 1024 * 1024)

    def get_conn(self):
        """A ckanapi RemoteCKAN for the portal, built on first use."""
        return self.client

    @cached_property
    def client(self):
        from ckanapi import RemoteCKAN

        conn = self.get_connection(self.ckan_conn_id)
        session = retrying_session(
            timeout=self.timeout,
            retries=settings.ckan_transport().retries,
            backoff=settings.ckan_transport().backoff,
            not_repeatable=_not_repeatable,
        )
        return RemoteCKAN(self.portal_url, apikey=conn.password or None, user_agent=USER_AGENT, session=session)

    def get_portal(self) -> Any:
        """The portal as the publishing stage takes it: client, URL and largest accepted upload."""
        from satudata.publish.release import Portal

        return Portal(self.client, self.portal_url, self.max_resource_bytes)

    def test_connection(self) -> tuple[bool, str]:
        """Check that the portal answers, that it accepts the token, and where the token may publish."""
        from ckanapi import NotAuthorized, NotFound

        try:
            url = self.portal_url
        except ValueError as exc:
            return False, str(exc)
        try:
            version = self.client.call_action("status_show").get("ckan_version")
        except Exception as exc:  # reported to the UI, not raised
            return False, f"the portal at {url} did not answer: {type(exc).__name__}: {exc}"
        portal = f"CKAN {version} at {url}"
        if not self.get_connection(self.ckan_conn_id).password:
            return False, f"{portal}; no API token is set"
        try:
            # CKAN takes an unknown token for no token at all (an anonymous caller): only an
            # action about the caller tells a valid token from a wrong one.
            user = self.client.call_action("user_show", {})
        except (NotFound, NotAuthorized):
            return False, f"{portal} rejects the API token (it names no user): wrong, revoked or another portal's"
        except Exception as exc:
            return False, f"{portal}: showing the token's user failed: {type(exc).__name__}: {exc}"
        try:
            orgs = self.client.call_action("organization_list_for_user", {"permission": "create_dataset"})
        except Exception as exc:
            return False, f"{portal}: listing the token's organizations failed: {type(exc).__name__}: {exc}"
        who = f"user {user['name']}" + (" (sysadmin)" if user.get("sysadmin") else "")
        if orgs:
            where = f"may publish to {len(orgs)} organization(s): " + ", ".join(sorted(o["name"] for o in orgs))
        elif user.get("sysadmin"):
            # The publishing stage creates the agency's organization when it is missing.
            where = "may create the organizations it publishes to (there are none yet)"
        else:
            where = "may publish to no organization: make the user an editor of the agency's organization"
        return bool(orgs) or bool(user.get("sysadmin")), f"{portal}; token of {who} {where}"
