"""The CKAN hook against the real local CKAN test portal."""

import json
import secrets

import pytest

pytestmark = pytest.mark.integration


def _conn(monkeypatch, value: dict) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CKAN_UNDER_TEST", json.dumps(value))


def _test(monkeypatch, url: str, token: str | None) -> tuple[bool, str]:
    from ckan_hook import CkanHook

    _conn(monkeypatch, {"conn_type": "ckan", "host": url, **({"password": token} if token else {})})
    return CkanHook("ckan_under_test").test_connection()


def test_connection_test_passes_with_the_token(monkeypatch, ckan_portal):
    ok, message = _test(monkeypatch, ckan_portal["url"], ckan_portal["api_token"])
    assert ok, message
    assert "CKAN 2.12.0" in message
    assert f"user {ckan_portal['admin_user']} (sysadmin)" in message


def test_connection_test_fails_with_a_wrong_token(monkeypatch, ckan_portal):
    # CKAN answers an unknown token as it answers no token: as an anonymous caller.
    ok, message = _test(monkeypatch, ckan_portal["url"], "not-a-token")
    assert not ok
    assert "rejects the API token" in message
    assert "not-a-token" not in message


def test_connection_test_fails_without_a_token(monkeypatch, ckan_portal):
    ok, message = _test(monkeypatch, ckan_portal["url"], None)
    assert not ok
    assert "no API token is set" in message


def test_connection_test_names_the_organizations_an_editor_may_publish_to(monkeypatch, ckan_portal, ckan_client):
    tag = secrets.token_hex(4)
    user = ckan_client.call_action(
        "user_create",
        {"name": f"editor-{tag}", "email": f"editor-{tag}@example.org", "password": secrets.token_hex(12)},
    )
    token = ckan_client.call_action("api_token_create", {"user": user["name"], "name": "test"})["token"]
    orgs = [f"dinas-{tag}-{n}" for n in ("b", "a")]
    for org in orgs:
        ckan_client.call_action("organization_create", {"name": org})

    ok, message = _test(monkeypatch, ckan_portal["url"], token)
    assert not ok
    assert f"token of user {user['name']} may publish to no organization" in message

    for org in orgs:
        ckan_client.call_action("organization_member_create", {"id": org, "username": user["name"], "role": "editor"})
    ok, message = _test(monkeypatch, ckan_portal["url"], token)
    assert ok, message
    assert message.endswith(f"token of user {user['name']} may publish to 2 organization(s): {', '.join(sorted(orgs))}")


def test_invalid_token_cannot_publish(monkeypatch, ckan_portal):
    from ckan_hook import CkanHook
    from ckanapi import NotAuthorized

    _conn(monkeypatch, {"conn_type": "ckan", "host": ckan_portal["url"], "password": "not-a-token"})
    client = CkanHook("ckan_under_test").get_conn()
    with pytest.raises(NotAuthorized):
        client.call_action("organization_create", {"name": "should-not-exist"})


def test_client_sends_the_token_and_a_timeout(monkeypatch, ckan_portal):
    from ckan_hook import CkanHook

    _conn(monkeypatch, {"conn_type": "ckan", "host": ckan_portal["url"], "password": ckan_portal["api_token"]})
    hook = CkanHook("ckan_under_test", timeout=7)
    client = hook.get_conn()
    assert client.apikey == ckan_portal["api_token"]
    assert client.session.timeout == 7
    assert client.call_action("status_show")["ckan_version"] == "2.12.0"
