"""Where the pipeline reads its catalog and keeps its files; every setting is read here, once."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transforms.limits import InputLimits

REPO_ROOT = Path(__file__).resolve().parent.parent

# Kaltim runs on WITA (UTC+8): periods are calendar months in local time.
TIMEZONE = "Asia/Makassar"


def _path(env: str, default: Path) -> Path:
    value = os.environ.get(env)
    return Path(value).resolve() if value else default


def _text(env: str, default: str) -> str:
    return os.environ.get(env, default)


def _number(env: str, default: float) -> float:
    return float(os.environ.get(env, default))


def _count(env: str, default: int) -> int:
    return int(os.environ.get(env, default))


def catalog_dir() -> Path:
    return _path("SATUDATA_CATALOG_DIR", REPO_ROOT / "catalog")


def expectations_dir() -> Path:
    return _path("SATUDATA_EXPECTATIONS_DIR", REPO_ROOT / "expectations")


def data_dir() -> Path:
    """Root of the raw, staging, curated and published zones."""
    return _path("SATUDATA_DATA_DIR", REPO_ROOT / "data")


def cache_dir() -> Path:
    """What may be rebuilt at any time (the parsed catalog): SATUDATA_CACHE_DIR, default <data dir>/cache."""
    return _path("SATUDATA_CACHE_DIR", data_dir() / "cache")


def zone_dir(zone: str, dataset_id: str) -> Path:
    """A dataset's folder in one zone of the data dir (raw, quarantine, curated, published, ...)."""
    return data_dir() / zone / dataset_id


# Airflow connection ids, by role: the CKAN portal, the DataStore's write database (when it
# exists, rows load by COPY), the webhook that receives failure summaries (optional), the mail
# server that sends notices to producers and the walidata (Airflow's SMTP connection type).
_CONN_IDS = {
    "ckan": ("SATUDATA_CKAN_CONN_ID", "ckan_default"),
    "datastore_write": ("SATUDATA_DATASTORE_WRITE_CONN_ID", "ckan_datastore_write"),
    "alerts": ("SATUDATA_ALERTS_CONN_ID", "satudata_alerts"),
    "smtp": ("SATUDATA_SMTP_CONN_ID", "smtp_default"),
}


def conn_id(role: str) -> str:
    """The Airflow connection id of ``role`` (ckan, datastore_write, alerts, smtp)."""
    env, default = _CONN_IDS[role]
    return _text(env, default)


def ckan_conn_id() -> str:
    return conn_id("ckan")


def datastore_write_conn_id() -> str:
    return conn_id("datastore_write")


def alerts_conn_id() -> str:
    return conn_id("alerts")


def smtp_conn_id() -> str:
    return conn_id("smtp")


def walidata_emails() -> list[str]:
    """SATUDATA_WALIDATA_EMAIL: the walidata's addresses (comma-separated) for the weekly digest; none: no digest."""
    from satudata.catalog import valid_email

    raw = _text("SATUDATA_WALIDATA_EMAIL", "")
    try:
        return [valid_email(part.strip()) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise ValueError(f"SATUDATA_WALIDATA_EMAIL: {exc}") from None


@dataclass(frozen=True)
class NoticeDelivery:
    """How a notice is sent: tries after a transient failure (SMTP 4xx, connection lost, webhook
    5xx), and the first wait in seconds (later ones double)."""

    retries: int
    backoff: float


def notice_delivery() -> NoticeDelivery:
    """SATUDATA_NOTICE_RETRIES (3) and SATUDATA_NOTICE_BACKOFF_SECONDS (2)."""
    return NoticeDelivery(max(0, _count("SATUDATA_NOTICE_RETRIES", 3)), _number("SATUDATA_NOTICE_BACKOFF_SECONDS", 2))


@dataclass(frozen=True)
class DataStoreLoad:
    """How the DataStore API path batches rows.

    ``batch_rows``: most rows in one call (fewer when the request-size limit says so);
    ``request_mb``: the largest request body the portal (or the proxy before it) accepts;
    ``parallel_requests``: calls in flight at once (more than the portal's workers gains nothing).
    """

    batch_rows: int
    request_mb: float
    parallel_requests: int


def datastore_load() -> DataStoreLoad:
    """SATUDATA_DATASTORE_BATCH_ROWS, _REQUEST_MB and _PARALLEL_REQUESTS."""
    return DataStoreLoad(_count("SATUDATA_DATASTORE_BATCH_ROWS", 20000), _number("SATUDATA_DATASTORE_REQUEST_MB", 8),
                         max(1, _count("SATUDATA_DATASTORE_PARALLEL_REQUESTS", 2)))


@dataclass(frozen=True)
class Transport:
    """One remote service's HTTP settings: seconds to wait for an answer, retries after a connection
    error, timeout, 429 or 5xx, and the first backoff (later ones double, with jitter)."""

    timeout: float
    retries: int
    backoff: float


def _transport(prefix: str, timeout: float) -> Transport:
    return Transport(_number(f"{prefix}_TIMEOUT_SECONDS", timeout), _count(f"{prefix}_RETRIES", 5),
                     _number(f"{prefix}_BACKOFF_SECONDS", 1))


def ckan_transport() -> Transport:
    """The portal's: SATUDATA_CKAN_TIMEOUT_SECONDS (60), _RETRIES (5), _BACKOFF_SECONDS (1)."""
    return _transport("SATUDATA_CKAN", 60)


def api_transport() -> Transport:
    """Agency servers': SATUDATA_API_TIMEOUT_SECONDS (30), _RETRIES (5), _BACKOFF_SECONDS (1)."""
    return _transport("SATUDATA_API", 30)


def default_license_id() -> str:
    """Licence of a dataset whose catalog entry names none (Indonesian portals use cc-by)."""
    return _text("SATUDATA_CKAN_LICENSE_ID", "cc-by")


def walidata_organization() -> tuple[str, str]:
    """The walidata's CKAN organization (name, title): it holds the status page's dataset."""
    return (_text("SATUDATA_WALIDATA_ORG", "diskominfo-kaltim"),
            _text("SATUDATA_WALIDATA_ORG_TITLE", "Dinas Komunikasi dan Informatika Provinsi Kalimantan Timur"))


def retry_delay_seconds() -> float:
    """First retry delay of every task; later retries back off exponentially."""
    return _number("SATUDATA_RETRY_DELAY_SECONDS", 120)


# Minutes a task of each kind may run before Airflow stops it (its execution_timeout). Publishing
# uploads the full history and loads the DataStore (through the API ~3,000 rows/s), so it gets
# the most; a task stopped this way fails and is retried like any other failure.
TASK_TIMEOUT_MINUTES = {"extract": 60, "transform": 60, "validate": 60, "write": 30, "publish": 120,
                        "record_failure": 10, "check_deliveries": 15, "publish_status_page": 10, "send_digest": 30}


def task_timeout_minutes(task: str) -> float:
    """SATUDATA_<TASK>_TASK_TIMEOUT_MINUTES (e.g. SATUDATA_PUBLISH_TASK_TIMEOUT_MINUTES), default
    ``TASK_TIMEOUT_MINUTES``: extract, transform, validate 60; write 30; publish 120; record_failure 10;
    the delivery monitor's check_deliveries 15, publish_status_page 10; the weekly digest's send_digest 30."""
    return _number(f"SATUDATA_{task.upper()}_TASK_TIMEOUT_MINUTES", TASK_TIMEOUT_MINUTES[task])


# Libraries that log their internals at INFO: Great Expectations (hundreds of registration and
# default-value lines per validation) and matplotlib (font and category-axis notes per chart).
CHATTY_LIBRARIES = ("great_expectations", "matplotlib")


def quiet_library_logs() -> None:
    """Let only the chatty libraries' records at ``SATUDATA_LIBRARY_LOG_LEVEL`` (WARNING) and above through.

    Their warnings and errors still reach the task log; DEBUG or INFO brings everything back.
    Called again once a library is imported: a module of it may set its own logger's level.
    """
    import logging

    level = _text("SATUDATA_LIBRARY_LOG_LEVEL", "WARNING").upper()
    if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise ValueError(f"SATUDATA_LIBRARY_LOG_LEVEL: {level!r} is not a logging level")
    names = [name for name in list(logging.root.manager.loggerDict)
             if name.startswith(tuple(f"{library}." for library in CHATTY_LIBRARIES))]
    for name in [*CHATTY_LIBRARIES, *names]:
        logger = logging.getLogger(name)
        if name in CHATTY_LIBRARIES or logger.level != logging.NOTSET:
            logger.setLevel(level)


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


def input_limits() -> InputLimits:
    """How much one input file may hold; beyond any limit the file is quarantined with an error naming it.

    SATUDATA_INPUT_MAX_ROWS (20,000,000 data rows), _MAX_COLUMNS (500), _MAX_CELL_CHARS (32,767:
    Excel's own cell limit), _XLSX_MAX_CELLS (50,000,000 rows x columns a sheet declares or
    fills), _XLSX_MAX_UNCOMPRESSED_MB (1024: the workbook's zip inflated) and
    _XLSX_MAX_COMPRESSION_RATIO (200: for a zip member above 1 MiB).
    """
    from transforms.limits import InputLimits

    default = InputLimits()
    return InputLimits(
        max_rows=_count("SATUDATA_INPUT_MAX_ROWS", default.max_rows),
        max_columns=_count("SATUDATA_INPUT_MAX_COLUMNS", default.max_columns),
        max_cell_chars=_count("SATUDATA_INPUT_MAX_CELL_CHARS", default.max_cell_chars),
        xlsx_max_cells=_count("SATUDATA_INPUT_XLSX_MAX_CELLS", default.xlsx_max_cells),
        xlsx_max_uncompressed_mb=_number("SATUDATA_INPUT_XLSX_MAX_UNCOMPRESSED_MB", default.xlsx_max_uncompressed_mb),
        xlsx_max_compression_ratio=_number("SATUDATA_INPUT_XLSX_MAX_COMPRESSION_RATIO",
                                           default.xlsx_max_compression_ratio),
    )


def version_store_url() -> str:
    """Where published versions are kept: SATUDATA_VERSION_STORE, a folder or an fsspec URL
    (``s3://bucket/satudata/versions`` with s3fs installed); default ``<data dir>/versions``."""
    return _text("SATUDATA_VERSION_STORE", "") or str(data_dir() / "versions")


def version_keep() -> int:
    """SATUDATA_VERSION_KEEP: versions kept per dataset, the newest ones (36); the version the portal
    shows is always kept; 0 keeps every version."""
    return max(0, _count("SATUDATA_VERSION_KEEP", 36))
