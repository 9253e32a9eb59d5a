"""The CKAN hook against the real local CKAN test portal."""

import json

import pytest

pytestmark = pytest.mark.integration


def _conn(monkeypatch, value: dict) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CKAN_UNDER_TEST", json.dumps(value))


def test_connection_test_passes_with_the_token(monkeypatch, ckan_portal):
    from ckan_hook import CkanHook

    _conn(monkeypatch, {"conn_type": "ckan", "host": ckan_portal["url"], "password": ckan_portal["api_token"]})
    ok, message = CkanHook("ckan_under_test").test_connection()
    assert ok, message
    assert "CKAN 2.12.0" in message


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
