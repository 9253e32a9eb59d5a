"""One run of one dataset: its catalog entry, its period and its Airflow run id, and where its files go.

Every stage takes a ``RunContext``. Files are keyed by the dataset and the period, so a re-run or
a backfill of a period lands in the same place. The run record
(``data/runs/<dataset>/<period>.json``) is written for people and tools (the demo's summary, an
operator reading the data zone); the pipeline never reads it back to decide anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from satudata import settings
from satudata.catalog import DatasetEntry
from satudata.periods import Period


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
    def of(cls, entry: DatasetEntry, interval_start: datetime, interval_end: datetime, run_id: str) -> RunContext:
        """The context of a DAG run from its data interval."""
        return cls(entry, Period.from_interval(interval_start, interval_end, entry.schedule), run_id)

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
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(current, indent=2, default=str), encoding="utf-8")
        tmp.replace(path)


def run_record_path(entry: DatasetEntry, period: Period) -> Path:
    """Where the run record of ``entry`` for ``period`` is written."""
    return RunContext(entry, period, "").record_path
