"""Where the pipeline reads its catalog and keeps its files; every setting is read here, once."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

# Kaltim runs on WITA (UTC+8): periods are calendar months in local time.
TIMEZONE = "Asia/Makassar"


def _path(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    return Path(value).resolve() if value else default


def catalog_dir() -> Path:
    return _path("SATUDATA_CATALOG_DIR", REPO_ROOT / "catalog")


def expectations_dir() -> Path:
    return _path("SATUDATA_EXPECTATIONS_DIR", REPO_ROOT / "expectations")


def data_dir() -> Path:
    """Root of the raw, staging, curated and published zones."""
    return _path("SATUDATA_DATA_DIR", REPO_ROOT / "data")


def zone_dir(zone: str, dataset_id: str) -> Path:
    """A dataset's folder in one zone of the data dir (raw, quarantine, curated, published, ...)."""
    return data_dir() / zone / dataset_id


def ckan_conn_id() -> str:
    return os.environ.get("SATUDATA_CKAN_CONN_ID", "ckan_default")


def datastore_write_conn_id() -> str:
    """Airflow postgres connection to the DataStore's write database; when it exists, rows load by COPY."""
    return os.environ.get("SATUDATA_DATASTORE_WRITE_CONN_ID", "ckan_datastore_write")


def datastore_batch_rows() -> int:
    """Most rows sent in one DataStore API call (fewer when the request-size limit says so)."""
    return int(os.environ.get("SATUDATA_DATASTORE_BATCH_ROWS", "20000"))


def datastore_request_mb() -> float:
    """Largest request body, in MB, the portal (or the proxy before it) accepts; batches stay under it."""
    return float(os.environ.get("SATUDATA_DATASTORE_REQUEST_MB", "8"))


def datastore_parallel_requests() -> int:
    """DataStore API calls in flight at once; more than the portal's worker processes gains nothing."""
    return max(1, int(os.environ.get("SATUDATA_DATASTORE_PARALLEL_REQUESTS", "2")))


def alerts_conn_id() -> str:
    """Airflow connection of the webhook that receives failure summaries (optional)."""
    return os.environ.get("SATUDATA_ALERTS_CONN_ID", "satudata_alerts")


def ckan_timeout_seconds() -> float:
    """Seconds to wait for any one answer of the portal."""
    return float(os.environ.get("SATUDATA_CKAN_TIMEOUT_SECONDS", "60"))


def ckan_retries() -> int:
    """Retries of one portal call after a connection error, 429 or 5xx."""
    return int(os.environ.get("SATUDATA_CKAN_RETRIES", "5"))


def ckan_backoff_seconds() -> float:
    """First backoff delay between portal retries; later ones double, with jitter."""
    return float(os.environ.get("SATUDATA_CKAN_BACKOFF_SECONDS", "1"))


def default_license_id() -> str:
    """Licence of a dataset whose catalog entry names none (Indonesian portals use cc-by)."""
    return os.environ.get("SATUDATA_CKAN_LICENSE_ID", "cc-by")


def retry_delay_seconds() -> float:
    """First retry delay of every task; later retries back off exponentially."""
    return float(os.environ.get("SATUDATA_RETRY_DELAY_SECONDS", "120"))


def airflow_home() -> Path:
    return _path("AIRFLOW_HOME", REPO_ROOT / ".airflow")


def airflow_environment() -> dict[str, str]:
    """Environment for running this project's DAGs with a local Airflow (tests, standalone).

    Values already set in the environment win, so a deployment can override any of them.
    """
    defaults = {
        "AIRFLOW_HOME": str(airflow_home()),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
        "GX_ANALYTICS_ENABLED": "False",
    }
    return {key: os.environ.get(key, value) for key, value in defaults.items()}


def landing_dir() -> Path:
    """Where agencies drop their file exports (CSV, XLSX), one file per period."""
    return _path("SATUDATA_LANDING_DIR", data_dir() / "landing")


def api_timeout_seconds() -> float:
    """Connect/read timeout of each agency API request."""
    return float(os.environ.get("SATUDATA_API_TIMEOUT_SECONDS", "30"))


def api_retries() -> int:
    """Retries of an agency API request after a connection error, timeout, 429 or 5xx."""
    return int(os.environ.get("SATUDATA_API_RETRIES", "5"))


def api_backoff_seconds() -> float:
    """First backoff of an agency API retry; doubles each time, plus jitter."""
    return float(os.environ.get("SATUDATA_API_BACKOFF_SECONDS", "1"))
