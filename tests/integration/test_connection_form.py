"""The CKAN connection form as a real Airflow api-server serves it to the UI: the form's fields
from the UI's own hook-metadata endpoint and in a headless browser (a screenshot is kept in
SATUDATA_SCREENSHOT_DIR when set), and the form's Test button (the connection-test endpoint)
against the real CKAN test portal."""

import os
import secrets
import subprocess
from pathlib import Path

import pytest

from devstack.airflow_cluster import VENV_BIN, Processes, free_port, http, wait_for
from tests.browser import CHROMIUM, Browser
from tests.conftest import REPO

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api_server(tmp_path_factory):
    """A running api-server on its own SQLite metadata database: (base URL, bearer token)."""
    home = tmp_path_factory.mktemp("airflow-ui")
    (home / "dags").mkdir()
    port = free_port()
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        # The form's Test button is off unless the deployment enables it.
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
    }
    airflow = str(VENV_BIN / "airflow")
    migrate = subprocess.run([airflow, "db", "migrate"], env=env, capture_output=True, text=True, check=False)
    assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-2000:]
    procs = Processes(Path(home))
    try:
        procs.start("api-server", [airflow, "api-server", "--port", str(port), "--host", "127.0.0.1"], env)
        base = f"http://127.0.0.1:{port}"
        wait_for("the api-server", lambda: http("GET", f"{base}/api/v2/monitor/health"), 180, procs)
        yield base, http("GET", f"{base}/auth/token")["access_token"]
    finally:
        procs.stop_all()


def test_the_form_shows_portal_url_and_api_token(api_server):
    base, token = api_server
    types = {meta["connection_type"]: meta for meta in http("GET", f"{base}/ui/connections/hook_meta", token)}
    ckan = types["ckan"]
    assert ckan["hook_name"] == "CKAN"
    fields = ckan["standard_fields"]
    assert fields is not None, "the form gets no field behaviour for ckan: generic Host/Login/Password fields"
    assert (fields["host"]["title"], fields["host"]["hidden"]) == ("Portal URL", False)
    assert fields["host"]["placeholder"].startswith("https://")
    assert (fields["password"]["title"], fields["password"]["hidden"]) == ("API token", False)
    assert all(fields[name]["hidden"] for name in ("url_schema", "login", "port"))
    size = ckan["extra_fields"]["max_resource_size_mb"]
    assert size["schema"]["title"] == "Largest upload (MB)"
    assert "number" in size["schema"]["type"]


def _press_test(base: str, token: str, url: str, api_token: str) -> dict:
    body = {"connection_id": "ckan_from_form", "conn_type": "ckan", "host": url, "password": api_token}
    return http("POST", f"{base}/api/v2/connections/test", token, body)


def test_the_test_button_accepts_the_token_and_names_its_user(api_server, ckan_portal):
    answer = _press_test(*api_server, ckan_portal["url"], ckan_portal["api_token"])
    assert answer["status"] is True, answer["message"]
    assert f"token of user {ckan_portal['admin_user']} (sysadmin)" in answer["message"]


def test_the_test_button_fails_a_wrong_token(api_server, ckan_portal):
    answer = _press_test(*api_server, ckan_portal["url"], "not-a-token")
    assert answer["status"] is False
    assert "rejects the API token" in answer["message"]


@pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)")
def test_the_form_in_a_browser(api_server, tmp_path):
    """What a data engineer sees on Admin > Connections > Add Connection > CKAN (screenshot kept)."""
    base, _ = api_server
    browser = Browser(tmp_path / "profile", free_port())
    dialog = "document.querySelector('[role=dialog]')"
    try:
        # The simple auth manager (all admins) logs the browser in on its first visit.
        browser.goto(f"{base}/connections")
        browser.wait("[...document.querySelectorAll('button')].some(b => b.innerText.includes('Add Connection'))")
        browser.js("[...document.querySelectorAll('button')].find(b => b.innerText.includes('Add Connection')).click()")
        browser.wait(f"{dialog}?.innerText.includes('Connection ID')")
        browser.js(f"{dialog}.querySelector('input:not([role=combobox])').focus()")
        browser.type("ckan_default")
        # The type picker is a searchable select: type to filter, Enter takes the match.
        browser.js(f"{dialog}.querySelector('input[role=combobox]').focus()")
        browser.type("CKAN")
        browser.wait("[...document.querySelectorAll('[role=option]')].some(o => o.innerText.trim() === 'CKAN')", 20)
        browser.enter()
        browser.wait(f"{dialog}.innerText.includes('Portal URL')", 20)
        shots = Path(os.environ.get("SATUDATA_SCREENSHOT_DIR", tmp_path))
        shots.mkdir(parents=True, exist_ok=True)
        labels = browser.js(f"[...{dialog}.querySelectorAll('label')].map(l => l.innerText.replace('*', '').trim())")
        placeholders = browser.js(f"[...{dialog}.querySelectorAll('input')].map(i => i.placeholder).filter(Boolean)")
        browser.screenshot(shots / "ckan-connection-form.png")
        browser.click(f"[...{dialog}.querySelectorAll('button')].find(b => b.innerText.trim() === 'Extra Fields')")
        browser.wait(f"{dialog}.innerText.includes('Largest upload (MB)')", 20)
        browser.screenshot(shots / "ckan-connection-form-extra.png")
    finally:
        browser.close()
    assert {"Connection ID", "Connection Type", "Portal URL", "API token"} <= set(labels), labels
    assert not {"Host", "Login", "Port", "Schema", "Password"} & set(labels), labels
    assert "https://data.kaltimprov.go.id" in placeholders
