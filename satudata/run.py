"""One run of one dataset: its catalog entry, its period and its Airflow run id, and where its files go.

Every stage takes a ``RunContext``. Files are keyed by the dataset and the period, so a re-run or
a backfill of a period lands in the same place. The run record
(``data/runs/<dataset>/<period>.json``) is written for people and tools (the demo's summary, an
operator reading the data zone); the pipeline never reads it back to decide anything.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from satudata import settings
from satudata.catalog import DatasetEntry
from satudata.periods import Period
from transforms.writing import private_dir, write_text

log = logging.getLogger(__name__)

# Input as the agency sent it (personal data included, before the gate), input refused, and the
# gate's findings: folders 0o700 and files 0o600, readable by the pipeline's user only.
OWNER_ONLY_ZONES = frozenset({"raw", "quarantine", "reports"})


@dataclass(frozen=True)
class RunContext:
    """The dataset, the period and the run id a task works on."""

    entry: DatasetEntry
    period: Period
    run_id: str
    # The data zones' root; None is the deployment's (SATUDATA_DATA_DIR). The steward's check
    # works in a folder of its own, so it never touches what the DAGs stage and publish.
    data_root: Path | None = None

    @classmethod
    def of(cls, entry: DatasetEntry, interval_start: datetime | None, interval_end: datetime | None, run_id: str,
           run_after: datetime | None = None) -> RunContext:
        """The context of a DAG run from its data interval; without one (a manual run without a
        logical date), the latest complete period before ``run_after``. ``PeriodUnknown`` when
        neither tells the period (``Period.of_run``)."""
        return cls(entry, Period.of_run(entry.schedule, interval_start, interval_end, run_after), run_id)

    @property
    def label(self) -> str:
        """``<dataset> <period>``, how messages name the run."""
        return f"{self.entry.id} {self.period.key}"

    def zone(self, name: str) -> Path:
        """The dataset's folder in one zone of the data dir (raw, staging, curated, published, ...)."""
        if self.data_root is not None:
            return self.data_root / name / self.entry.id
        return settings.zone_dir(name, self.entry.id)

    def period_dir(self, zone: str) -> Path:
        """The period's folder in one zone."""
        return self.zone(zone) / self.period.key

    @property
    def record_path(self) -> Path:
        """The period's run record."""
        return self.zone("runs") / f"{self.period.key}.json"

    def record(self, **facts: Any) -> None:
        """Merge ``facts`` into the period's run record."""
        path = self.record_path
        path.parent.mkdir(parents=True, exist_ok=True)
        current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        current.update({"dataset": self.entry.id, "period": self.period.key, **facts})
        write_text(path, json.dumps(current, indent=2, default=str))

    def owner_only_dir(self, zone: str) -> Path:
        """The period's folder in an owner-only zone (``OWNER_ONLY_ZONES``), made 0o700 from the zone down."""
        if zone not in OWNER_ONLY_ZONES:
            raise ValueError(f"{zone} is not an owner-only zone ({', '.join(sorted(OWNER_ONLY_ZONES))})")
        zone_root = self.zone(zone).parent
        return private_dir(self.period_dir(zone), below=zone_root.parent)

    @contextmanager
    def publishing_lock(self) -> Iterator[None]:
        """Held while the dataset's published files are rebuilt or published: one run at a time.

        Periods of one dataset may run at once (a backfill); each rebuilds the full history into
        the same published files and publishes them. An exclusive lock on a file of the published
        zone (``.lock``, every process sharing the data dir sees it) makes each ``write`` see
        the curated periods and files the previous one left, and each ``publish`` read files no
        ``write`` is changing. The kernel releases it if the process dies.
        """
        with dataset_lock(self.entry, self.zone("published"), self.label):
            yield


@contextmanager
def dataset_lock(entry: DatasetEntry, published: Path | None = None, label: str | None = None,
                 wait: bool = True) -> Iterator[bool]:
    """The exclusive lock of ``RunContext.publishing_lock`` on ``entry``'s published zone (``.lock``).

    Also taken by whatever else rewrites the portal dataset's metadata (the delivery monitor), so
    its read-and-patch of the extras never interleaves with a publication's. Yields whether it is
    held: with ``wait=False`` a lock another process holds is not waited for (False).
    """
    import fcntl

    path = (published or settings.zone_dir("published", entry.id)) / ".lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                yield False
                return
            log.info("%s: waiting for another run of %s to finish writing or publishing",
                     label or entry.id, entry.id)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run_record_path(entry: DatasetEntry, period: Period) -> Path:
    """Where the run record of ``entry`` for ``period`` is written."""
    return RunContext(entry, period, "").record_path
