"""docker-compose.yml is well formed: services it references exist, mounted paths exist."""

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent


def _compose() -> dict:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))


def test_dependencies_name_existing_services():
    services = _compose()["services"]
    for name, service in services.items():
        for dep in service.get("depends_on", {}):
            assert dep in services, f"{name} depends on unknown service {dep}"


def test_bind_mounts_exist_and_volumes_are_declared():
    compose = _compose()
    for name, service in compose["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (REPO / source).exists(), f"{name} mounts missing path {source}"
            else:
                assert source in compose["volumes"], f"{name} uses undeclared volume {source}"


def test_images_are_pinned_and_no_secret_is_inline():
    text = (REPO / "docker-compose.yml").read_text(encoding="utf-8")
    for name, service in _compose()["services"].items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: unpinned image {image}"
    assert "PASSWORD: ${" in text and "password=" not in text.lower()


def test_airflow_services_see_dags_plugins_catalog_and_suites():
    services = _compose()["services"]
    scheduler = services["airflow-scheduler"]
    mounts = {v.split(":")[1] for v in scheduler["volumes"]}
    assert {"/opt/satudata/dags", "/opt/satudata/plugins", "/opt/satudata/catalog",
            "/opt/satudata/expectations"} <= mounts
    env = scheduler["environment"]
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/satudata/dags"
    assert env["SATUDATA_CATALOG_DIR"] == "/opt/satudata/catalog"
