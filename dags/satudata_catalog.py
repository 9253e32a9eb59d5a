"""One DAG per catalog dataset: extract -> transform -> validate -> write -> publish.

Thin on purpose: each task body is one call into ``satudata.steps``; pandas, Great
Expectations and ckanapi are imported inside the tasks, never while the file is parsed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import Asset, CronDataIntervalTimetable, dag, get_parsing_context, task

from satudata import settings
from satudata.catalog import DatasetEntry, get_entry, load_catalog
from satudata.ops import notify_failure
from satudata.periods import CRON

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
        f"**Portal dataset:** `{entry.ckan.name}` of `{entry.ckan.organization.name}`  \n"
        f"**Quality gate:** `expectations/{entry.id}.json`: a critical failure stops the run "
        "before anything is published.\n\n"
        f"| column | type | unit | description |\n|---|---|---|---|\n{columns}\n"
    )


def dataset_asset(entry: DatasetEntry) -> Asset:
    """The published portal dataset as an Airflow Asset; each publication is an event of it."""
    return Asset(name=entry.ckan.name, uri=f"ckan://{entry.ckan.organization.name}/{entry.ckan.name}")


def build_dag(entry: DatasetEntry):
    """The DAG of one catalog dataset."""
    dataset_id = entry.id
    asset = dataset_asset(entry)

    def period(data_interval_start, data_interval_end):
        # The entry parsed with this file: a task reads no catalog file again.
        from satudata.periods import Period

        return entry, Period.from_interval(data_interval_start, data_interval_end, entry.schedule)

    @dag(
        dag_id=dataset_id,
        schedule=CronDataIntervalTimetable(CRON[entry.schedule], timezone=settings.TIMEZONE),
        start_date=datetime(2024, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args={**DEFAULT_ARGS, "owner": entry.owner},
        tags=["satudata", entry.schedule, entry.ckan.organization.name, f"source:{entry.source.kind}"],
        doc_md=_doc(entry),
    )
    def pipeline():
        @task
        def extract(data_interval_start=None, data_interval_end=None, run_id=None) -> str:
            from airflow.sdk.exceptions import AirflowFailException

            from satudata import steps
            from satudata.sources import SourceError

            try:
                return steps.extract(*period(data_interval_start, data_interval_end), run_id)
            except SourceError as exc:
                # Unreadable or refused input does not get better by retrying; it is quarantined.
                raise AirflowFailException(str(exc)) from exc

        @task
        def transform(raw_path: str, data_interval_start=None, data_interval_end=None) -> str:
            from satudata import steps

            return steps.transform(*period(data_interval_start, data_interval_end), raw_path)

        @task
        def validate(staged_path: str, data_interval_start=None, data_interval_end=None,
                     run_id=None) -> dict[str, str]:
            from airflow.sdk.exceptions import AirflowFailException

            from satudata import steps
            from satudata.quality import ValidationFailed

            try:
                return steps.validate(*period(data_interval_start, data_interval_end), staged_path, run_id)
            except ValidationFailed as exc:
                # Bad data (and personal data, PersonalDataFound) does not get better by retrying.
                raise AirflowFailException(str(exc)) from exc

        @task
        def write(gate: dict[str, str], data_interval_start=None, data_interval_end=None) -> dict[str, str]:
            from satudata import steps

            # The gate's output, not the staged file: small cells may have been suppressed.
            return steps.write_outputs(*period(data_interval_start, data_interval_end), gate["publishable"],
                                       gate["report_json"], gate["report_html"])

        @task(outlets=[asset])
        def publish(outputs: dict[str, str], data_interval_start=None, data_interval_end=None,
                    run_id=None, dag=None, outlet_events=None) -> dict:
            from satudata import steps

            result = steps.publish(*period(data_interval_start, data_interval_end), outputs, run_id, dag.dag_id)
            outlet_events[asset].extra = {"rows": result["rows"], "version": result["version"],
                                          "changed": result["changed"]}
            return result

        @task(trigger_rule="one_failed")
        def record_failure(data_interval_start=None, data_interval_end=None, run_id=None) -> dict:
            from satudata import steps

            return steps.record_failure(*period(data_interval_start, data_interval_end), run_id)

        staged = transform(extract())
        gate = validate(staged)
        publish(write(gate))
        # Runs only when the run failed up to the quality gate: the portal shows the outcome and
        # the data stays. Not downstream of publish, so the run's state stays failed; a publish
        # that failed usually means the portal is unreachable anyway.
        gate >> record_failure()

    return pipeline()


def _entries() -> list[DatasetEntry]:
    # A worker running one task needs only that task's DAG: build just it.
    wanted = get_parsing_context().dag_id
    if wanted and (settings.catalog_dir() / f"{wanted}.yaml").exists():
        return [get_entry(wanted)]
    return load_catalog()


for _entry in _entries():
    globals()[_entry.id] = build_dag(_entry)
