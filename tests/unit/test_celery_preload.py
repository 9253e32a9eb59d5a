"""plugins/satudata_celery.py: only a Celery worker preloads, a module that fails is reported, not fatal."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


@pytest.mark.parametrize(("argv", "worker"), [
    (["airflow", "celery", "worker", "--queues", "default"], True),
    (["/venv/bin/airflow", "celery", "worker"], True),
    (["airflow", "scheduler"], False),
    (["airflow", "api-server"], False),
    (["airflow", "celery", "flower"], False),
    (["airflow", "dags", "test", "worker"], False),
])
def test_only_a_celery_worker_preloads(argv, worker):
    from satudata_celery import is_celery_worker

    assert is_celery_worker(argv) is worker


def test_a_module_that_cannot_be_imported_is_reported_not_raised():
    from satudata_celery import preload

    assert preload(("json", "no_such_module_here")) == ["no_such_module_here"]


def test_the_config_is_airflows_and_a_worker_process_holds_the_libraries(tmp_path):
    # A fresh interpreter that looks like a Celery worker imports the module: the libraries are loaded.
    code = ("import sys; sys.argv = ['airflow', 'celery', 'worker']; import satudata_celery; "
            "from airflow.providers.celery.executors.default_celery import DEFAULT_CELERY_CONFIG; "
            "assert satudata_celery.CELERY_CONFIG is DEFAULT_CELERY_CONFIG; "
            "print(all(m in sys.modules for m in satudata_celery.PRELOAD))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=300,
                          env={"PYTHONPATH": f"{REPO}:{REPO / 'plugins'}", "PATH": "/usr/bin:/bin",
                               "AIRFLOW_HOME": str(tmp_path / "airflow")})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == "True"
