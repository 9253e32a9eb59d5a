"""The whole publication gate, shared by the DAG's validate step and the steward CLI.

Order matters: the suite judges the true values; small cells are then suppressed; the
personal-data scan runs last, over exactly the columns and values that would be published.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from satudata.catalog import DatasetEntry
from satudata.privacy import PersonalDataFound, redact, scan_frame
from satudata.quality import ValidationFailed, load_suite_json, validate_frame, volume_parameters
from satudata.report import QualityReport
from satudata.suppression import suppress_small_cells


@dataclass
class GateResult:
    report: QualityReport
    publishable: pd.DataFrame

    def error(self, report_path: Path | None = None) -> ValidationFailed:
        """The exception that stops publication; PersonalDataFound when personal data is among the reasons."""
        message = f"{self.report.dataset_id} {self.report.period}: nothing is published: " + "; ".join(
            self.report.blocked_by
        )
        if report_path:
            message += f" (report: {report_path})"
        kind = ValidationFailed if self.report.privacy["success"] else PersonalDataFound
        return kind(message, report_path=report_path)


def run_gate(
    entry: DatasetEntry,
    frame: pd.DataFrame,
    period_key: str,
    parameters: dict[str, Any],
    previous: pd.DataFrame | None = None,
    run_id: str = "",
    source: str = "",
) -> GateResult:
    """Run suite, suppression and personal-data scan on ``frame``; the report says if it may be published."""
    suite_json = load_suite_json(entry.suite_path())
    params = {**parameters, **volume_parameters(suite_json, previous)}
    validation = validate_frame(frame, entry.suite_path(), entry.id, params)
    publishable, suppression = suppress_small_cells(frame, entry.suppression)
    scan = scan_frame(publishable, entry.personal_data_allow)
    # Failed expectations quote example values; none of them may be personal data.
    for outcome in validation.expectations:
        outcome.unexpected_examples = [redact(v) for v in outcome.unexpected_examples]
        outcome.observed_value = redact(outcome.observed_value)
    blocked_by = []
    if not validation.success:
        blocked_by.append(
            f"{validation.critical_failures} critical expectation(s) failed: {validation.failure_summary()}"
        )
    if not scan.success:
        blocked_by.append(f"personal data found: {scan.summary()}")
    extras = {}
    if suppression.applied:
        extras["penyamaran_sel_kecil"] = suppression.note
    report = QualityReport(
        dataset_id=entry.id,
        title=entry.ckan.title,
        period=period_key,
        run_id=run_id,
        source=source,
        rows=len(frame),
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        publishable=not blocked_by,
        suite=validation.suite,
        critical_failures=validation.critical_failures,
        warnings=validation.warnings,
        expectations=validation.expectations,
        parameters=params,
        privacy=scan.to_dict(),
        suppression=suppression.to_dict(),
        ckan_extras=extras,
        blocked_by=blocked_by,
    )
    return GateResult(report=report, publishable=publishable)
