"""Failure callbacks of every pipeline DAG (Airflow glue): the operators' alert and the producer's notice.

``notify_failure`` logs one clear summary line and, when the Airflow connection
``satudata_alerts`` exists (host = webhook URL), POSTs the same summary as JSON through the
pipeline's HTTP transport. ``NotifyProducer`` tells the agency that produces the dataset what to
fix, in Indonesian and without data values (``satudata.notices``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from satudata import settings
from satudata.catalog import DatasetEntry, Producer
from satudata.ops import worker_hostname
from transforms.limits import error_text

if TYPE_CHECKING:
    from satudata.notices import Notice

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
    try:
        status = post_alert(summary)
    except Exception as exc:  # the task already failed; report the webhook problem, do not raise
        log.warning("could not report the failure to the alerts webhook: %s", exc)
        return
    if status is not None:
        log.info("failure reported to the alerts webhook (%s)", status)


def post_alert(payload: dict[str, Any]) -> int | None:
    """POST ``payload`` as JSON to the alerts webhook (connection ``satudata_alerts``), with retries.

    Returns the answer's status, or None when no webhook is set; raises when the post fails.
    """
    url = _webhook_url(settings.alerts_conn_id())
    if not url:
        return None
    from satudata.transport import retrying_session

    session = retrying_session(timeout=10, retries=3, backoff=0.5)
    try:
        answer = session.post(url, json=payload)
        answer.raise_for_status()
        return int(answer.status_code)
    finally:
        session.close()


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


class NotifyProducer:
    """Task failure callback of one dataset's DAG: tells the producing agency what to fix.

    Built with the catalog entry the DAG file parsed (no catalog file is read again). When the
    failure is the producer's to fix (``satudata.notices.problem_of``: the gate blocked the
    period, the input was quarantined, or the source could not be read), the producer named in
    the catalog gets one notice in Indonesian per channel (e-mail, webhook). A failed try is told
    once: each notice is claimed in the data zone before it is sent (``notices/<dataset>/``), so
    a callback that runs again for the same try sends nothing; a notice whose sending failed is
    released and logged, and never hides the task's own failure.
    """

    def __init__(self, entry: DatasetEntry) -> None:
        self.entry = entry

    def __repr__(self) -> str:
        return f"NotifyProducer({self.entry.id})"

    def __call__(self, context: dict[str, Any]) -> None:
        try:
            self.notify(context)
        except Exception as exc:  # the task already failed; its own error stays the one reported
            log.warning("%s: could not notify the producer: %s", self.entry.id,
                        _redact(f"{type(exc).__name__}: {error_text(exc)}"))

    def notify(self, context: dict[str, Any]) -> list[str]:
        """Send the notice of this failure to the producer; the channels it went out on."""
        from satudata import notices
        from satudata.periods import PeriodUnknown
        from satudata.run import RunContext

        ti = context.get("ti") or context.get("task_instance")
        task_id = str(getattr(ti, "task_id", ""))
        exception = context.get("exception")
        problem = notices.problem_of(exception if isinstance(exception, BaseException) else None, task_id)
        if problem is None:
            log.info("%s: task %s failed for a reason the producer cannot fix: no notice", self.entry.id, task_id)
            return []
        producer = self.entry.producer
        if producer is None:
            log.warning("%s: the run needs the producer (%s) but the catalog names no producer contact",
                        self.entry.id, problem.kind)
            return []
        dag_run = context.get("dag_run")
        try:
            run = RunContext.of(self.entry, context.get("data_interval_start"), context.get("data_interval_end"),
                                str(context.get("run_id")), run_after=getattr(dag_run, "run_after", None))
        except PeriodUnknown:
            return []  # no period ran: nothing the producer could fix
        key = notices.notice_key(self.entry.id, run.run_id, task_id, getattr(ti, "map_index", -1),
                                 getattr(ti, "try_number", None))
        channels = _channels(producer)
        if not channels:
            return []
        notice = notices.producer_notice(self.entry, run.period.key, problem, key, _public_dataset_url(self.entry))
        sent = []
        for channel, send in channels:
            record = notices.sent_record(self.entry.id, f"{key}.{channel}")
            if not notices.claim(record):
                log.info("%s: %s notice %s was sent already: not again", run.label, channel, key)
                continue
            try:
                send(notice)
            except Exception as exc:  # released: a later callback of this try may send it; other channels go on
                notices.release(record)
                log.warning("%s: the %s notice to the producer was not sent: %s", run.label, channel,
                            _redact(f"{type(exc).__name__}: {error_text(exc)}"))
                continue
            notices.mark_sent(record, channel=channel, run_id=run.run_id, task_id=task_id, status_of_run=problem.kind,
                              subject=notice.subject)
            log.info("%s: %s notice (%s) sent to the producer %s", run.label, channel, problem.kind, producer.name)
            sent.append(channel)
        return sent


def _channels(producer: Producer) -> list[tuple[str, Callable[[Notice], object]]]:
    """The producer's channels this deployment can send on (e-mail needs the SMTP connection), each a sender."""
    from notice_delivery import post_webhook, send_mail

    channels: list[tuple[str, Callable[[Notice], object]]] = []
    if producer.email:
        if _connection_exists(settings.smtp_conn_id()):
            channels.append(("email", lambda notice: send_mail(notice, producer.email)))
        else:
            log.warning("no SMTP connection %r: the e-mail notice to %s is not sent", settings.smtp_conn_id(),
                        producer.name)
    if producer.webhook_conn_id:
        conn_id = producer.webhook_conn_id
        channels.append(("webhook", lambda notice: post_webhook(notice, conn_id)))
    return channels


def _connection_exists(conn_id: str) -> bool:
    from airflow.sdk.bases.hook import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return False
    return True


def _public_dataset_url(entry: DatasetEntry) -> str | None:
    """The dataset's page when it is public on the portal; None when it is not, or the portal does not answer."""
    try:
        from ckan_hook import CkanHook

        from satudata.publish.ckan import find_dataset

        hook = CkanHook(settings.ckan_conn_id(), timeout=10)
        package = find_dataset(hook.client, entry.ckan.name)
    except Exception as exc:
        log.info("%s: the portal did not say whether the dataset is public (%s): no link", entry.id,
                 type(exc).__name__)
        return None
    if package is None or package.get("private") or package.get("state") != "active":
        return None
    return f"{hook.portal_url}/dataset/{entry.ckan.name}"
