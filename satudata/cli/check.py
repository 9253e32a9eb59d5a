"""The steward's check: the pipeline's own reader, transform and gate on a local file.

``python -m satudata check <dataset_id> <file>`` runs what the DAG runs between extraction
and publication, without Airflow or CKAN, prints a readable report and writes the JSON and
HTML reports. Exit code 0 only when the file would be published.

The file goes through the reader of the entry's source kind (``satudata.extract.READERS``),
given the file as its client: a file source reads it as the period's export, an SQL source
runs the catalog query on it (a SQLite copy). A CSV extract of an SQL source's rows, and a
published table (``--transformed``), are read as the project's own table CSV. Everything the
check writes goes to a folder of its own, never into the DAGs' data zones.
"""

from __future__ import annotations

import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

import pandas as pd

from satudata import settings
from satudata.catalog import CatalogError, Column, DatasetEntry, get_entry
from satudata.gate.report import QualityReport
from satudata.periods import Period, PeriodKeyError
from satudata.run import RunContext

EXIT_PUBLISHABLE, EXIT_BLOCKED, EXIT_INPUT_ERROR = 0, 1, 2
_LOOKS_LIKE = {"nama": "people's names", "alamat": "street addresses"}
# Above this size, reading shows a progress bar on stderr.
LARGE_FILE_BYTES = 4 * 1024 * 1024
RUN_ID = "steward-check"
SQLITE_SUFFIXES = (".sqlite", ".sqlite3", ".db")


class InputError(ValueError):
    """The file cannot be read as the dataset's rows; the message names file, row and column."""


class Progress:
    """A one-line progress bar on a stream, shown only for large inputs."""

    def __init__(self, total: int, label: str, stream: TextIO | None = None, enabled: bool = True):
        self.total, self.label, self.enabled = max(total, 1), label, enabled
        self.stream = stream or sys.stderr
        self._shown = -1

    def update(self, done: int) -> None:
        if not self.enabled:
            return
        percent = min(100, int(done * 100 / self.total))
        if percent == self._shown:
            return
        self._shown = percent
        bar = "#" * (percent // 4) + "." * (25 - percent // 4)
        mb = f"{done / 1e6:,.1f}/{self.total / 1e6:,.1f} MB"
        self.stream.write(f"\r{self.label} [{bar}] {percent:3d}% {mb}")
        if percent == 100:
            self.stream.write("\n")
        self.stream.flush()


def read_table(path: Path, types: dict[str, str], required: bool, progress: bool) -> pd.DataFrame:
    """A table CSV (the project's own format) with the columns ``types``, conformed to those types."""
    from transforms.readers import SourceParseError
    from transforms.table_csv import read_table_csv
    from transforms.tables import SchemaMismatch, conform

    data = path.read_bytes()
    bar = Progress(len(data), f"reading {path.name}", enabled=progress and len(data) >= LARGE_FILE_BYTES)
    try:
        frame = read_table_csv(data, str(path), types, required=required, progress=bar.update,
                               limits=settings.input_limits())
        return conform(frame, [_column(n, t) for n, t in types.items()], source=str(path))
    except (SourceParseError, SchemaMismatch) as exc:
        raise InputError(str(exc)) from None


def _column(name: str, kind: str) -> Column:
    return Column(name=name, type=kind, description=name)  # type: ignore[arg-type]


def source_client(entry: DatasetEntry, path: Path, period: Period | None) -> object | None:
    """What the entry's reader takes, made from a local file; None when the file is a table CSV."""
    if entry.source.kind == "file":
        from satudata.extract.files import GivenFile

        return GivenFile(path)
    if entry.source.kind == "sql" and path.suffix.lower() in SQLITE_SUFFIXES:
        import sqlalchemy as sa

        if period is None:
            raise InputError(f"{path}: a database needs --period to bind the query's :start and :end")
        return sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    if entry.source.kind == "sql" and path.suffix.lower() == ".csv":
        return None
    raise InputError(f"{path}: cannot check '{path.suffix}' files for a {entry.source.kind} source; "
                     f"give {'.sqlite or .csv' if entry.source.kind == 'sql' else 'the export file'}")


def _staged_rows(run: RunContext, path: Path, client: object | None, progress: bool) -> str:
    """The file's source rows staged as the DAG stages them; input errors as InputError."""
    from satudata import steps
    from satudata.extract import SourceError

    if client is None:
        # A CSV extract of an SQL source: its declared fields, typed, staged as the reader would.
        from transforms.tables import write_parquet

        types: dict[str, str] = {f.name: f.type for f in run.entry.source.fields}
        frame = read_table(path, types, required=True, progress=progress)
        staged = run.period_dir("staging") / "source-rows.parquet"
        return str(write_parquet(frame, [_column(n, t) for n, t in types.items()], staged))
    try:
        return steps.extract(run, client)
    except SourceError as exc:
        raise InputError(exc.detail) from None
    except Exception as exc:
        import sqlalchemy as sa

        if isinstance(exc, sa.exc.SQLAlchemyError):
            raise InputError(f"{path}: the catalog query failed: {str(exc).splitlines()[0]}") from None
        raise
    finally:
        if hasattr(client, "dispose"):
            client.dispose()


def transformed_rows(run: RunContext, path: Path, period: Period | None, progress: bool, err: TextIO) -> pd.DataFrame:
    """The published table the DAG's extract and transform steps would make of ``path`` (``period``: as given)."""
    import pyarrow.parquet as pq

    from satudata import steps
    from satudata.extract import SourceError
    from transforms.tables import SchemaMismatch, read_parquet

    entry = run.entry
    client = source_client(entry, path, period)
    staged = _staged_rows(run, path, client, progress)
    err.write(f"transform {entry.transform}: {pq.ParquetFile(staged).metadata.num_rows} source rows\n")
    # A CSV extract of an SQL source: its rows are named by the CSV's lines (header on line 1).
    rows_from = (str(path), 2) if client is None else None
    try:
        return read_parquet(Path(steps.transform(run, staged, rows_from)))
    except SourceError as exc:
        raise InputError(exc.detail) from None
    except SchemaMismatch as exc:
        raise InputError(f"{str(exc).replace(staged, str(path))} (after the transform {entry.transform})") from None
    except (KeyError, ValueError, TypeError) as exc:
        from transforms.limits import error_text

        raise InputError(f"{path}: the transform {entry.transform} failed: {error_text(exc)}") from None


# Schedules whose period the rows tell: the roles read and the key they make.
INFERABLE = {
    "monthly": (("year", "month"), "{}-{:02d}"),
    "quarterly": (("year", "quarter"), "{}-Q{}"),
    "annual": (("year",), "{}"),
}


def infer_period(entry: DatasetEntry, frame: pd.DataFrame) -> Period | None:
    """The period most rows belong to, from the catalog's period columns (monthly, quarterly, annual)."""
    cols = entry.period_columns
    if entry.schedule not in INFERABLE or frame.empty:
        return None
    roles, key = INFERABLE[entry.schedule]
    if not set(roles) <= set(cols):
        return None
    values = frame[[cols[r] for r in roles]].dropna().astype(int)
    if values.empty:
        return None
    return Period.from_key(key.format(*values.value_counts().idxmax()), entry.schedule)


def _read_previous(entry: DatasetEntry, path: Path) -> pd.DataFrame:
    from transforms.tables import read_parquet

    if path.suffix.lower() == ".parquet":
        return read_parquet(path)
    return read_table(path, {c.name: c.type for c in entry.table.columns}, required=False, progress=False)


def format_report(report: QualityReport, out: TextIO, paths: dict[str, str] | None = None, note: str = "") -> None:
    """The report as plain text for a terminal."""
    w = out.write
    w(f"Dataset   {report.dataset_id}: {report.title}\n")
    w(f"File      {report.source}\n")
    w(f"Period    {report.period}{note}\n")
    w(f"Rows      {report.rows}\n")
    w(f"Result    {'PUBLISHABLE' if report.publishable else 'NOT PUBLISHABLE'}\n")
    for reason in report.blocked_by:
        w(f"          - {reason.split(': ', 1)[0]}\n")
    failed = [o for o in report.expectations if not o.success]
    w(f"\nQuality checks: {len(report.expectations)} run, {len(failed)} failed "
      f"({report.critical_failures} critical, {report.warnings} warning)\n")
    for o in failed:
        count = f"  {o.unexpected_count} unexpected" if o.unexpected_count else ""
        seen = f"  observed {o.observed_value}" if o.observed_value is not None and not o.unexpected_count else ""
        examples = f", e.g. {o.unexpected_examples[:3]}" if o.unexpected_examples else ""
        w(f"  FAIL {o.severity:<8} {o.column or '(table)':<28} {o.type}{count}{seen}{examples}\n")
    privacy = report.privacy
    w(f"\nPersonal data: {'none found' if privacy['success'] else 'FOUND'} "
      f"({len(privacy['columns_scanned'])} columns scanned)\n")
    for f in privacy["findings"]:
        state = f"allowed ({f['reason']})" if f["allowed"] else "BLOCKS"
        w(f"  {f['column']}: {f['cells']} cell(s) with {f['kind']}  {state}\n")
    for f in privacy.get("warnings", []):
        w(f"  {f['column']}: {f['cells']} cell(s) look like {_LOOKS_LIKE.get(f['kind'], f['kind'])}  warning "
          f"(blocks if the catalog lists the column under personal_data_forbid)\n")
    supp = report.suppression
    w(f"\nSmall-cell suppression: {supp['note'] if supp['applied'] else 'not configured'}\n")
    if supp["applied"]:
        w(f"  rows suppressed: {supp['rows_suppressed']}\n")
    if paths:
        w(f"\nReport    {paths['report_html']}\n          {paths['report_json']}\n")


def run_check(dataset_id: str, file: Path, period_key: str | None = None, previous: Path | None = None,
              report_dir: Path | None = None, transformed: bool = False, progress: bool = True,
              out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Check ``file`` for ``dataset_id`` as the pipeline would; print the report; return the exit code."""
    out, err = out or sys.stdout, err or sys.stderr
    try:
        with tempfile.TemporaryDirectory(prefix="satudata-check-") as work:
            return _run(dataset_id, file, period_key, previous, report_dir, transformed, progress, out, err,
                        Path(work))
    except InputError as exc:
        err.write(f"error: {exc}\nNot publishable: the file was not changed; fix it and check again.\n")
        return EXIT_INPUT_ERROR


def _run(dataset_id: str, file: Path, period_key: str | None, previous: Path | None, report_dir: Path | None,
         transformed: bool, progress: bool, out: TextIO, err: TextIO, work: Path) -> int:
    try:
        entry = get_entry(dataset_id)
        period = Period.from_key(period_key, entry.schedule) if period_key else None
    except CatalogError as exc:
        raise InputError(str(exc)) from None
    except PeriodKeyError as exc:
        raise InputError(f"--period {exc}") from None
    if not file.is_file():
        raise InputError(f"{file}: no such file")
    if transformed:
        # The file already holds the published table: only the schema check applies.
        frame = read_table(file, {c.name: c.type for c in entry.table.columns}, required=False, progress=progress)
    else:
        if period is None and getattr(entry.source, "period_field", None):
            raise InputError(f"{file}: give --period: each row's {entry.source.period_field!r} is checked "  # type: ignore[union-attr]
                             "against (or, for a history file, selected by) the run's period")
        # Until the rows say otherwise, the run's files are named after today's period (in ``work`` only).
        placeholder = period or Period.containing(entry.schedule, datetime.now(UTC).date())
        frame = transformed_rows(RunContext(entry, placeholder, RUN_ID, data_root=work), file, period, progress, err)
    note = ""
    if period is None:
        period = infer_period(entry, frame)
        if period is None:
            raise InputError(f"{file}: give --period; it cannot be inferred for this dataset")
        note = " (inferred from the rows; give --period to check freshness against the run's period)"
    previous_frame = _read_previous(entry, previous) if previous else None

    from satudata.gate import run_gate

    err.write(f"quality suite and personal-data scan on {len(frame)} rows\n")
    gate = run_gate(entry, frame, period, previous_frame, run_id=RUN_ID, source=str(file))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    directory = report_dir or settings.zone_dir("reports", entry.id) / period.key / f"check-{stamp}"
    paths = gate.report.write(directory)
    format_report(gate.report, out, paths, note)
    return EXIT_PUBLISHABLE if gate.report.publishable else EXIT_BLOCKED
