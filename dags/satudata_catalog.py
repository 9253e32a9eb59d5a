"""One DAG per catalog dataset: extract -> transform -> validate -> write -> publish; and the
delivery monitor (``satudata_monitor``), which checks every dataset against its deadline.

Thin on purpose: each task builds the run's context and the clients it needs (``plugins/``:
Airflow connections -> clients) and makes one call into ``satudata.steps``; pandas, Great
Expectations and ckanapi are imported inside the tasks, never while the file is parsed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from airflow.sdk import (
    Asset,
    AssetAny,
    AssetOrTimeSchedule,
    CronDataIntervalTimetable,
    CronTriggerTimetable,
    dag,
    get_parsing_context,
    task,
)
from failure_alerts import NotifyProducer, notify_failure

from satudata import settings
from satudata.catalog import DatasetEntry, get_entry, load_catalog
from satudata.periods import CRON, schedule_text

# The XCom key under which a blocked validate task names its report.
BLOCKED_REPORT = "blocked_report"

def _timeout(task_kind: str) -> timedelta:
    return timedelta(minutes=settings.task_timeout_minutes(task_kind))


# Periods of one dataset may run at once (a backfill has its own max_active_runs): extraction,
# transform and gate run side by side; write and publish, which rebuild and publish the one
# full history, run one at a time per DAG (max_active_tis_per_dag, no pool to set up). The
# steps also hold a lock of their own (RunContext.publishing_lock) across both, for whatever
# runs them outside the scheduler's count.
ONE_AT_A_TIME = {"max_active_tis_per_dag": 1}

# A task's result is one XCom (its return value). Said explicitly, Airflow does not infer it
# from the return annotation: for ``-> dict`` it would also push every key as an XCom of its
# own, and evaluating the annotations is a tenth of parsing the file.
ONE_XCOM = {"multiple_outputs": False}

DEFAULT_ARGS = {
    "owner": "satudata",
    "retries": 3,
    "retry_delay": timedelta(seconds=settings.retry_delay_seconds()),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=30),
    "on_failure_callback": notify_failure,
}


def _doc(entry: DatasetEntry) -> str:
    columns = "\n".join(
        f"| `{c.name}` | {c.type} | {c.unit or ''} | {c.description} |" for c in entry.table.columns
    )
    return (
        f"# {entry.ckan.title}\n\n{entry.ckan.notes}\n\n"
        f"**Source:** {entry.source.system} ({entry.source.origin})  \n"
        f"**Schedule:** {schedule_text(entry.schedule)}  \n"
        f"**Portal dataset:** `{entry.ckan.name}` of `{entry.ckan.organization.name}`  \n"
        f"**Quality gate:** `expectations/{entry.id}.json`: a critical failure stops the run "
        "before anything is published.\n\n"
        f"| column | type | unit | description |\n|---|---|---|---|\n{columns}\n"
    )


def dataset_asset(entry: DatasetEntry) -> Asset:
    """The published portal dataset as an Airflow Asset; each publication is an event of it."""
    return Asset(name=entry.ckan.name, uri=f"ckan://{entry.ckan.organization.name}/{entry.ckan.name}")


def _run_context(entry: DatasetEntry, on_unknown_period: Literal["fail", "skip"] = "fail"):
    """The context of the current task's run: its dataset, period and run id.

    A manual run without a logical date (Airflow 3's default, from the UI, the REST API or
    ``airflow dags trigger``) has no data interval: it covers the latest complete period before
    it was triggered, as ``make demo`` does. A run whose period cannot be told fails at once
    (no retry would tell it), so with ``max_active_runs=1`` the next run is not kept waiting;
    ``record_failure`` skips instead (``on_unknown_period="skip"``): no period ran, there is no
    outcome to show.
    """
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from satudata.periods import PeriodUnknown
    from satudata.run import RunContext

    context = get_current_context()
    dag_run = context.get("dag_run")
    try:
        return RunContext.of(entry, context.get("data_interval_start"), context.get("data_interval_end"),
                             context["run_id"], run_after=getattr(dag_run, "run_after", None))
    except PeriodUnknown as exc:
        if on_unknown_period == "skip":
            raise AirflowSkipException(f"{entry.id}: no period, nothing to record: {exc}") from exc
        raise AirflowFailException(f"{entry.id}: {exc}") from exc


def build_dag(entry: DatasetEntry):
    """The DAG of one catalog dataset.

    Long on purpose: the tasks are TaskFlow functions defined in the DAG function, as Airflow's
    own tutorials write them, so each closes over the entry parsed with this file; every task
    body is one call into ``satudata.steps``.
    """
    dataset_id = entry.id
    asset = dataset_asset(entry)

    def run_context():
        # The entry parsed with this file: a task reads no catalog file again.
        return _run_context(entry)

    @dag(
        dag_id=dataset_id,
        schedule=CronDataIntervalTimetable(CRON[entry.schedule], timezone=settings.TIMEZONE),
        # In WITA, as the timetable: the DAG's timezone (shown on its page) is Asia/Makassar.
        start_date=datetime(2024, 1, 1, tzinfo=ZoneInfo(settings.TIMEZONE)),
        catchup=False,
        max_active_runs=1,
        # The operators' alert, then the producer's notice when the failure is the agency's to fix.
        default_args={**DEFAULT_ARGS, "owner": entry.owner,
                      "on_failure_callback": [notify_failure, NotifyProducer(entry)]},
        tags=["satudata", entry.schedule, entry.ckan.organization.name, f"source:{entry.source.kind}"],
        doc_md=_doc(entry),
    )
    def pipeline():
        # Six TaskFlow tasks, each one call into satudata.steps, then the flow in four lines.
        @task(execution_timeout=_timeout("extract"), **ONE_XCOM)
        def extract() -> str:
            from airflow.sdk.exceptions import AirflowFailException
            from pipeline_clients import close, source_client

            from satudata import steps
            from satudata.extract import SourceError

            source = source_client(entry)
            try:
                return steps.extract(run_context(), source)
            except SourceError as exc:
                # Unreadable or refused input does not get better by retrying; it is quarantined.
                raise AirflowFailException(str(exc)) from exc
            finally:
                close(source)

        @task(execution_timeout=_timeout("transform"), **ONE_XCOM)
        def transform(staged_source: str) -> str:
            from airflow.sdk.exceptions import AirflowFailException

            from satudata import steps
            from satudata.extract import SourceError

            try:
                return steps.transform(run_context(), staged_source)
            except SourceError as exc:
                # A row the catalog's region step cannot resolve: the input is quarantined, as at extraction.
                raise AirflowFailException(str(exc)) from exc

        @task(execution_timeout=_timeout("validate"), **ONE_XCOM)
        def validate(staged: str, ti=None) -> dict:
            from airflow.sdk.exceptions import AirflowFailException

            from satudata import steps
            from satudata.gate.suite import ValidationFailed

            try:
                return steps.validate(run_context(), staged)
            except ValidationFailed as exc:
                # record_failure reads this to tell a blocked run from a failed one.
                ti.xcom_push(key=BLOCKED_REPORT, value=str(exc.report_path))
                # Bad data (and personal data, PersonalDataFound) does not get better by retrying.
                raise AirflowFailException(str(exc)) from exc

        @task(execution_timeout=_timeout("write"), **ONE_AT_A_TIME, **ONE_XCOM)
        def write(gate: dict) -> dict:
            from satudata import steps

            # The gate's output, not the staged file: small cells may have been suppressed.
            return steps.write_outputs(run_context(), gate)

        @task(outlets=[asset], execution_timeout=_timeout("publish"), **ONE_AT_A_TIME, **ONE_XCOM)
        def publish(written: dict, outlet_events=None) -> dict:
            from pipeline_clients import datastore_write_dsn, portal

            from satudata import steps

            result = steps.publish(run_context(), written, portal(), datastore_write_dsn())
            outlet_events[asset].extra = {"rows": result["rows"], "version": result["version"],
                                          "changed": result["changed"]}
            return result

        @task(trigger_rule="one_failed", execution_timeout=_timeout("record_failure"), **ONE_XCOM)
        def record_failure(ti=None) -> dict:
            from pipeline_clients import portal

            from satudata import steps

            run = _run_context(entry, on_unknown_period="skip")
            blocked = ti.xcom_pull(task_ids="validate", key=BLOCKED_REPORT)
            return steps.record_failure(run, portal(), blocked_report=blocked)

        staged = transform(extract())
        gate = validate(staged)
        publish(write(gate))
        # Runs only when the run failed up to the quality gate: the portal shows the outcome and
        # the data stays. Not downstream of publish, so the run's state stays failed; a publish
        # that failed usually means the portal is unreachable anyway.
        gate >> record_failure()

    return pipeline()


MONITOR_DAG_ID = "satudata_monitor"
# Every morning at 07:00 WITA, before office hours; and after every publication of any dataset.
MONITOR_CRON = "0 7 * * *"

MONITOR_DOC = """# Delivery monitor

Checks every catalog dataset's latest published period (the portal's `periode_data`) against its
delivery deadline (catalog `delivery.days_after_period`, else the schedule's default) and:

- sets the dataset's extras `satudata_status_terbit` (*terlambat* / *tepat waktu*),
  `satudata_periode_diharapkan` and `satudata_periode_berikutnya` when they change;
- posts one alert to the `satudata_alerts` webhook listing the datasets that became late (each
  missed deadline once, not every day);
- writes `<data>/status/status.html` and `status.json` and publishes them as the resources of the
  portal dataset `status-satu-data`.

Runs daily at 07:00 WITA and after each publication (the datasets' assets).
"""


def build_monitor_dag(entries: list[DatasetEntry]):
    """The delivery monitor over ``entries``: check, alert and record, then the status page."""

    @dag(
        dag_id=MONITOR_DAG_ID,
        schedule=AssetOrTimeSchedule(
            timetable=CronTriggerTimetable(MONITOR_CRON, timezone=settings.TIMEZONE),
            assets=AssetAny(*(dataset_asset(e) for e in entries)),
        ),
        start_date=datetime(2024, 1, 1, tzinfo=ZoneInfo(settings.TIMEZONE)),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["satudata", "monitor"],
        doc_md=MONITOR_DOC,
    )
    def monitor():
        @task(execution_timeout=_timeout("check_deliveries"), **ONE_XCOM)
        def check_deliveries(dag_run=None) -> dict:
            from pipeline_clients import portal

            from satudata import monitor
            from satudata.delivery import local_day

            # The run's own time, not the clock: a re-run of a day's check judges that day.
            today = local_day(dag_run.run_after)
            target = portal()
            check = monitor.check_deliveries(target.client, entries, target.url, today)
            if check.newly_late:
                # Before recording: an alert that could not be sent fails the task, and the retry sends it.
                _send_overdue_alert(monitor.alert_payload(check))
            patched = monitor.record_statuses(target.client, entries, check)
            return {"checked_on": today.isoformat(), "rows": check.rows,
                    "newly_late": [r["dataset"] for r in check.newly_late], "patched": patched}

        @task(execution_timeout=_timeout("publish_status_page"), **ONE_XCOM)
        def publish_status_page(check: dict) -> dict:
            from datetime import date

            from pipeline_clients import portal

            from satudata.publish.status_page import publish_status_page, status_document, write_status_page

            document = status_document(check["rows"], date.fromisoformat(check["checked_on"]))
            page, data = write_status_page(document)
            actions = publish_status_page(portal().client, page, data)
            return {"html": str(page), "json": str(data), "resources": actions}

        publish_status_page(check_deliveries())

    return monitor()


def _send_overdue_alert(payload: dict) -> None:
    """POST the overdue alert to the failure alerts' webhook (connection ``satudata_alerts``); log it always."""
    import logging

    from failure_alerts import post_alert

    logging.getLogger(__name__).warning("%s", payload["summary"])
    post_alert(payload)


def _entries() -> list[DatasetEntry]:
    # A worker running one task needs only that task's DAG: build just it.
    wanted = get_parsing_context().dag_id
    if wanted and (settings.catalog_dir() / f"{wanted}.yaml").exists():
        return [get_entry(wanted)]
    return load_catalog()


_WANTED = get_parsing_context().dag_id
_ENTRIES = _entries()
if _WANTED != MONITOR_DAG_ID:
    for _entry in _ENTRIES:
        globals()[_entry.id] = build_dag(_entry)
if not _WANTED or _WANTED == MONITOR_DAG_ID:
    globals()[MONITOR_DAG_ID] = build_monitor_dag(_ENTRIES)
