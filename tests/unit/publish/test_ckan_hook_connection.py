"""The CKAN hook's connection handling that needs no portal: URL forms, limits, retries, errors."""

import json

import pytest


def _conn(monkeypatch, value: dict) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_CKAN_UNDER_TEST", json.dumps(value))


def test_connection_test_reports_an_unreachable_portal(monkeypatch):
    from ckan_hook import CkanHook

    # Port 9 (discard) on loopback: nothing listens there.
    _conn(monkeypatch, {"conn_type": "ckan", "host": "http://127.0.0.1:9", "password": "x" * 20})
    hook = CkanHook("ckan_under_test", timeout=2)
    hook.client.session.adapters["http://"].max_retries.total = 0
    ok, message = hook.test_connection()
    assert not ok and message.startswith("the portal at http://127.0.0.1:9 did not answer")


@pytest.mark.parametrize(
    "conn, url",
    [
        ({"conn_type": "ckan", "host": "https://data.kaltimprov.go.id/"}, "https://data.kaltimprov.go.id"),
        ({"conn_type": "ckan", "host": "127.0.0.1", "port": 5000, "extra": {"scheme": "http"}},
         "http://127.0.0.1:5000"),
        ({"conn_type": "ckan", "host": "data.example.go.id"}, "https://data.example.go.id"),
    ],
)
def test_portal_url_from_connection_forms(monkeypatch, conn, url):
    from ckan_hook import CkanHook

    _conn(monkeypatch, conn)
    assert CkanHook("ckan_under_test").portal_url == url


def test_portal_limits_and_retry_guard_come_from_the_connection_and_settings(monkeypatch):
    from ckan_hook import DEFAULT_MAX_RESOURCE_MB, CkanHook, _not_repeatable

    _conn(monkeypatch, {"conn_type": "ckan", "host": "http://127.0.0.1:9", "extra": {"max_resource_size_mb": 1}})
    assert CkanHook("ckan_under_test").max_resource_bytes == 1024 * 1024
    _conn(monkeypatch, {"conn_type": "ckan", "host": "http://127.0.0.1:9"})
    assert CkanHook("ckan_under_test").max_resource_bytes == DEFAULT_MAX_RESOURCE_MB * 1024 * 1024
    # As the UI's connection form saves the field left empty.
    _conn(monkeypatch, {"conn_type": "ckan", "host": "http://127.0.0.1:9", "extra": {"max_resource_size_mb": None}})
    assert CkanHook("ckan_under_test").max_resource_bytes == DEFAULT_MAX_RESOURCE_MB * 1024 * 1024
    monkeypatch.setenv("SATUDATA_CKAN_TIMEOUT_SECONDS", "3.5")
    monkeypatch.setenv("SATUDATA_CKAN_RETRIES", "2")
    client = CkanHook("ckan_under_test").get_conn()
    assert client.session.timeout == 3.5
    assert client.session.adapters["http://"].max_retries.total == 2
    # Creates are not repeated blindly after a lost answer; updates and reads are.
    assert _not_repeatable("/api/3/action/resource_create")
    assert _not_repeatable("/api/3/action/package_create")
    assert not _not_repeatable("/api/3/action/resource_patch")
    assert not _not_repeatable("/api/3/action/datastore_upsert")
