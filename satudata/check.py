"""The steward's check: reader, transform, suite and personal-data scan on a local file.

``python -m satudata check <dataset_id> <file>`` runs what the DAG runs between extraction
and publication, without Airflow or CKAN, prints a readable report and writes the JSON and
HTML reports. Exit code 0 only when the file would be published.

Readers are chosen by the catalog's source kind from READERS, so new source kinds plug in
by adding an entry there.
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from importlib import import_module
from pathlib import Path
from typing import TextIO

import pandas as pd

from satudata import settings
from satudata.catalog import DatasetEntry, get_entry
from satudata.periods import Period
from satudata.report import QualityReport

EXIT_PUBLISHABLE, EXIT_BLOCKED, EXIT_INPUT_ERROR = 0, 1, 2
# Above this size, reading shows a progress bar on stderr.
LARGE_FILE_BYTES = 4 * 1024 * 1024
# No single value of a statistics table is this long; a bigger cell is a broken export.
MAX_CELL_CHARS = 10_000
CSV_CHUNK_ROWS = 50_000


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


@dataclass
class _Col:
    name: str
    type: str
    description: str = ""
    unit: str | None = None


def raw_types(entry: DatasetEntry) -> dict[str, str] | None:
    """The source-row types its transform declares (``RAW_TYPES`` in its module), if any."""
    from transforms import REGISTRY

    return getattr(import_module(REGISTRY[entry.transform][0]), "RAW_TYPES", None)


def _undecodable(path: Path, data: bytes, exc: UnicodeDecodeError, header: list[str]) -> InputError:
    line_start = data.rfind(b"\n", 0, exc.start) + 1
    line = data.count(b"\n", 0, exc.start) + 1
    field = data[line_start:exc.start].count(b",")
    column = f", column '{header[field]}'" if header and field < len(header) else ""
    return InputError(
        f"{path}: row {line - 1} (line {line}){column}: byte 0x{data[exc.start]:02x} is not UTF-8; "
        "save the file as CSV UTF-8"
    )


def read_csv_minimal(path: Path, types: dict[str, str] | None, progress: bool = True,
                     required: bool = True) -> pd.DataFrame:
    """Minimal CSV reader for the check (UTF-8, comma, header row); the file readers of transforms/ replace it.

    Rows are counted from 1 after the header, as a spreadsheet shows them minus one. With
    ``types`` the columns must be exactly those and every cell of its type (and present, if ``required``).
    """
    data = path.read_bytes()
    if not data.strip():
        raise InputError(f"{path}: the file is empty (no header row)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        first = data.split(b"\n", 1)[0].decode("utf-8", "replace").strip()
        raise _undecodable(path, data, exc, first.split(",")) from None
    header_line = text.split("\n", 1)[0].strip("\r")
    header = next(csv.reader([header_line]))
    if len(header) == 1 and types and len(types) > 1:
        sep = next((s for s in (";", "\t", "|") if s in header_line), None)
        hint = f"; it seems to be separated by {sep!r}" if sep else ""
        raise InputError(f"{path}: row 0 (header): one column {header_line[:80]!r}, expected ',' separated{hint}")
    if types:
        missing = [c for c in types if c not in header]
        extra = [c for c in header if c not in types]
        if missing or extra:
            raise InputError(f"{path}: row 0 (header): columns differ: missing {missing}, unexpected {extra}")
    if len(set(header)) != len(header):
        twice = sorted({c for c in header if header.count(c) > 1})
        raise InputError(f"{path}: row 0 (header): duplicate column names {twice}")

    bar = Progress(len(data), f"reading {path.name}", enabled=progress and len(data) >= LARGE_FILE_BYTES)
    chunks = []
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as fh:
            reader = pd.read_csv(fh, dtype=str, keep_default_na=False, na_values=[""], chunksize=CSV_CHUNK_ROWS)
            for chunk in reader:
                chunks.append(chunk)
                bar.update(fh.buffer.tell() if hasattr(fh, "buffer") else len(data))
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: {str(exc).replace('Error tokenizing data. C error: ', '')}") from None
    bar.update(len(data))
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=header)
    if frame.empty:
        raise InputError(f"{path}: only a header row, no data rows")
    for name in frame.columns:
        lengths = frame[name].str.len()
        if (lengths > MAX_CELL_CHARS).any():
            row = int((lengths > MAX_CELL_CHARS).to_numpy().nonzero()[0][0])
            raise InputError(
                f"{path}: row {row + 1}, column '{name}': cell of {int(lengths.iloc[row]):,} characters "
                f"(at most {MAX_CELL_CHARS:,})"
            )
    if types:
        from transforms.tables import SchemaMismatch, conform

        for name in types if required else ():
            empty = frame[name].isna() | (frame[name].str.strip() == "")
            if empty.any():
                row = int(empty.to_numpy().nonzero()[0][0])
                raise InputError(f"{path}: row {row + 1}, column '{name}': empty cell")
        try:
            frame = conform(frame[list(types)], [_Col(n, t) for n, t in types.items()], source=str(path))
        except SchemaMismatch as exc:
            raise InputError(str(exc)) from None
    return frame


def read_sql_source_file(entry: DatasetEntry, path: Path, period: Period | None, progress: bool) -> pd.DataFrame:
    """Raw rows of a SQL-source dataset: the catalog query on a SQLite copy, or a CSV extract of its rows."""
    suffix = path.suffix.lower()
    if suffix in (".sqlite", ".sqlite3", ".db"):
        import sqlalchemy as sa

        from satudata.extract import read_sql_chunks

        if period is None:
            raise InputError(f"{path}: a database needs --period to bind the query's :start and :end")
        engine = sa.create_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
        try:
            params = {"start": period.start, "end": period.end}
            chunks = list(read_sql_chunks(engine, entry.source.query, params, CSV_CHUNK_ROWS))
        except sa.exc.SQLAlchemyError as exc:
            raise InputError(f"{path}: the catalog query failed: {str(exc).splitlines()[0]}") from None
        finally:
            engine.dispose()
        return pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
    if suffix == ".csv":
        return read_csv_minimal(path, raw_types(entry), progress)
    raise InputError(f"{path}: cannot read '{suffix}' files for a SQL source; give .sqlite or .csv")


def read_file_export(entry: DatasetEntry, path: Path, period: Period | None, progress: bool) -> pd.DataFrame:
    """Raw rows of a file-export dataset, read by the same readers the DAG uses."""
    from transforms.readers import SourceParseError, read_csv_bytes, read_xlsx_bytes

    source = entry.source
    data = path.read_bytes()
    try:
        if source.format == "xlsx":
            return read_xlsx_bytes(data, source.fields, str(path), source.sheet, source.number_format)
        return read_csv_bytes(data, source.fields, str(path), source.number_format)
    except SourceParseError as exc:
        raise InputError(str(exc)) from None


# Source kind -> reader(entry, file, period or None, show progress) -> raw rows.
READERS: dict[str, Callable[[DatasetEntry, Path, Period | None, bool], pd.DataFrame]] = {
    "sql": read_sql_source_file,
    "file": read_file_export,
}


def parse_period(schedule: str, text: str) -> Period:
    """A period from its key: 2026-10-05 (daily), 2026-10 (monthly), 2026-S2 (semiannual)."""
    try:
        if schedule == "daily":
            day = date.fromisoformat(text)
            return Period(schedule, day, date.fromordinal(day.toordinal() + 1))
        if schedule == "semiannual":
            year, half = text.split("-S")
            start = date(int(year), 1 if half == "1" else 7, 1)
            end = date(int(year), 7, 1) if half == "1" else date(int(year) + 1, 1, 1)
            return Period(schedule, start, end)
        year, month = (int(x) for x in text.split("-"))
        return Period(schedule, date(year, month, 1), date(year + month // 12, month % 12 + 1, 1))
    except ValueError:
        raise InputError(f"--period {text!r} is not a {schedule} period key") from None


def infer_period(entry: DatasetEntry, frame: pd.DataFrame) -> Period | None:
    """The monthly period most rows belong to, from the catalog's period columns."""
    cols = entry.period_columns
    if entry.schedule != "monthly" or not {"year", "month"} <= set(cols) or frame.empty:
        return None
    pairs = frame[[cols["year"], cols["month"]]].dropna().astype(int)
    if pairs.empty:
        return None
    year, month = pairs.value_counts().idxmax()
    return parse_period("monthly", f"{year}-{month:02d}")


def _read_previous(entry: DatasetEntry, path: Path) -> pd.DataFrame:
    from transforms.tables import read_parquet

    if path.suffix.lower() == ".parquet":
        return read_parquet(path)
    return read_csv_minimal(path, {c.name: c.type for c in entry.table.columns}, progress=False, required=False)


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
        return _run(dataset_id, file, period_key, previous, report_dir, transformed, progress, out, err)
    except InputError as exc:
        err.write(f"error: {exc}\nNot publishable: the file was not changed; fix it and check again.\n")
        return EXIT_INPUT_ERROR


def _run(dataset_id, file, period_key, previous, report_dir, transformed, progress, out, err) -> int:
    from satudata.catalog import CatalogError

    try:
        entry = get_entry(dataset_id)
    except CatalogError as exc:
        raise InputError(str(exc)) from None
    if not file.is_file():
        raise InputError(f"{file}: no such file")
    period = parse_period(entry.schedule, period_key) if period_key else None

    if transformed:
        # The file already holds the published table: only the schema check applies.
        frame = read_csv_minimal(file, {c.name: c.type for c in entry.table.columns}, progress, required=False)
    else:
        reader = READERS.get(entry.source.kind)
        if reader is None:
            raise InputError(f"no check reader for source kind {entry.source.kind!r}; known: {sorted(READERS)}")
        raw = reader(entry, file, period, progress)
        from transforms import get_transform
        from transforms.tables import SchemaMismatch, conform

        err.write(f"transform {entry.transform}: {len(raw)} source rows\n")
        try:
            frame = conform(get_transform(entry.transform)(raw), entry.table.columns, source=str(file))
        except SchemaMismatch as exc:
            raise InputError(f"{exc} (after the transform {entry.transform})") from None
        except (KeyError, ValueError, TypeError) as exc:
            raise InputError(f"{file}: the transform {entry.transform} failed: {exc}") from None

    note = ""
    if period is None:
        period = infer_period(entry, frame)
        if period is None:
            raise InputError(f"{file}: give --period; it cannot be inferred for this dataset")
        note = " (inferred from the rows; give --period to check freshness against the run's period)"
    previous_frame = _read_previous(entry, previous) if previous else None

    from satudata.gate import run_gate

    err.write(f"quality suite and personal-data scan on {len(frame)} rows\n")
    gate = run_gate(entry, frame, period.key, period.parameters(), previous_frame,
                    run_id="steward-check", source=str(file))
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    directory = report_dir or settings.zone_dir("reports", entry.id) / period.key / f"check-{stamp}"
    paths = gate.report.write(directory)
    format_report(gate.report, out, paths, note)
    return EXIT_PUBLISHABLE if gate.report.publishable else EXIT_BLOCKED
