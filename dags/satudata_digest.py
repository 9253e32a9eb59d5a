"""The walidata's weekly digest: every catalog dataset's state on the portal, by producing agency, by e-mail.

One task: read each dataset's outcome extras from the portal (``satudata.status``), word the
digest (``satudata.notices.walidata_digest``) and mail it through the SMTP connection to
``SATUDATA_WALIDATA_EMAIL``. Without that setting the task skips: there is no one to tell.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from airflow.sdk import CronTriggerTimetable, dag, get_parsing_context, task
from failure_alerts import notify_failure

from satudata import settings

DIGEST_DAG_ID = "satudata_digest"
# Monday 07:00 WITA, before the working week starts.
DIGEST_CRON = "0 7 * * 1"


@dag(
    dag_id=DIGEST_DAG_ID,
    schedule=CronTriggerTimetable(DIGEST_CRON, timezone=settings.TIMEZONE),
    start_date=datetime(2024, 1, 1, tzinfo=ZoneInfo(settings.TIMEZONE)),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "satudata", "retries": 2, "retry_delay": timedelta(minutes=10),
                  "on_failure_callback": [notify_failure]},
    tags=["satudata", "weekly", "digest"],
    doc_md=__doc__,
)
def satudata_digest():
    @task(execution_timeout=timedelta(minutes=settings.task_timeout_minutes("send_digest")))
    def send_digest(logical_date=None) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException
        from notice_delivery import send_mail
        from pipeline_clients import portal

        from satudata.catalog import load_catalog
        from satudata.delivery import local_day
        from satudata.notices import walidata_digest
        from satudata.status import dataset_states

        recipients = settings.walidata_emails()
        if not recipients:
            raise AirflowSkipException("SATUDATA_WALIDATA_EMAIL is not set: no one to send the digest to")
        site = portal()
        states = dataset_states(load_catalog(), site.client, site.url)
        as_of = local_day(logical_date or datetime.now(UTC))
        notice = walidata_digest(states, as_of)
        send_mail(notice, recipients)
        return {"datasets": len(states), "recipients": len(recipients), "subject": notice.subject}

    send_digest()


# A worker running another DAG's task needs not build this one.
if get_parsing_context().dag_id in (None, DIGEST_DAG_ID):
    satudata_digest()
