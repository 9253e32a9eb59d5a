"""Failure alerts: the task failure callback of every pipeline DAG (Airflow glue).

Logs one clear summary line and, when the Airflow connection ``satudata_alerts`` exists (host =
webhook URL), POSTs the same summary as JSON through the pipeline's HTTP transport.
"""

from __future__ import annotations

import logging
from typing import Any

from satudata import settings
from satudata.ops import worker_hostname
from transforms.limits import error_text

log = logging.getLogger(__name__)


def failure_summary(context: dict[str, Any]) -> dict[str, Any]:
    """What an operator needs to know about a failed task, without any data values or secrets."""
    ti = context.get("ti") or context.get("task_instance")
    exception = context.get("exception")
    message = f"{type(exception).__name__}: {error_text(exception)}" if exception else "unknown error"
    start, end = context.get("data_interval_start"), context.get("data_interval_end")
    return {
        "dag_id": getattr(ti, "dag_id", None),
        "task_id": getattr(ti, "task_id", None),
        "run_id": getattr(ti, "run_id", None),
        "try_number": getattr(ti, "try_number", None),
        "data_interval": f"{start.isoformat()}/{end.isoformat()}" if start and end else None,
        "error": _redact(message)[:2000],
        "host": worker_hostname(),
    }


def _redact(text: str) -> str:
    """The text with every secret Airflow knows of (connection passwords, tokens) masked."""
    from airflow.sdk.log import redact

    return str(redact(text))


def notify_failure(context: dict[str, Any]) -> None:
    """Task failure callback: log a clear summary and POST it to the alerts webhook if one is set.

    The webhook is the Airflow connection ``satudata_alerts`` (host = URL); without that
    connection only the log line is written. A failing webhook never masks the task's error.
    """
    summary = failure_summary(context)
    log.error(
        "pipeline task failed: dag=%s task=%s run=%s interval=%s try=%s: %s",
        summary["dag_id"], summary["task_id"], summary["run_id"], summary["data_interval"],
        summary["try_number"], summary["error"],
    )
    url = _webhook_url(settings.alerts_conn_id())
    if not url:
        return
    try:
        from satudata.transport import retrying_session

        answer = retrying_session(timeout=10, retries=3, backoff=0.5).post(url, json=summary)
        answer.raise_for_status()
        log.info("failure reported to the alerts webhook (%s)", answer.status_code)
    except Exception as exc:  # the task already failed; report the webhook problem, do not raise
        log.warning("could not report the failure to the alerts webhook: %s", exc)


def _webhook_url(conn_id: str) -> str | None:
    from airflow.sdk.bases.hook import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    from satudata.transport import base_url

    try:
        return base_url(conn)
    except ValueError:
        return None
