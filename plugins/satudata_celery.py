"""The Celery workers' settings: Airflow's own, and the heavy libraries loaded once per worker.

Every task runs in a process forked from its Celery worker. Without this module each task
imports what its step needs: pandas and pyarrow (about 1 s), Great Expectations for the gate
(about 5 s), matplotlib for the chart (about 1 s); on a busy night most of a small dataset's
task time is imports. Imported by the worker before it forks its pool (Airflow reads
``[celery] celery_config_options`` when the worker starts), these are already in memory in
every task, shared copy-on-write. Only a Celery worker loads them, never the scheduler or the
api-server, which read the same setting.

    AIRFLOW__CELERY__CELERY_CONFIG_OPTIONS=satudata_celery.CELERY_CONFIG
"""

from __future__ import annotations

import importlib
import logging
import sys

from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG

log = logging.getLogger(__name__)

CELERY_CONFIG = DEFAULT_CELERY_CONFIG

# What the steps import inside the tasks; the gate's module first, so that Great Expectations'
# import-time chatter is already held back (settings.quiet_library_logs).
PRELOAD = (
    "satudata.gate.suite",
    "great_expectations",
    "pandas",
    "pyarrow.parquet",
    "pyarrow.compute",
    "matplotlib.pyplot",
    "satudata.steps",
    "satudata.publish.release",
)


def is_celery_worker(argv: list[str]) -> bool:
    """``airflow celery worker ...``: the one command whose tasks fork from this process."""
    return "celery" in argv and "worker" in argv[argv.index("celery"):]


def preload(modules: tuple[str, ...] = PRELOAD) -> list[str]:
    """Import ``modules``; return those that could not be imported (logged, never fatal)."""
    import os

    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("MPLBACKEND", "Agg")
    missing = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - a task imports it again and reports the error itself
            log.warning("preloading %s failed: %s", name, type(exc).__name__)
            missing.append(name)
    from satudata import settings

    settings.quiet_library_logs()
    return missing


if is_celery_worker(sys.argv):
    preload()
