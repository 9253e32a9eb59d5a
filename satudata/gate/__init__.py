"""The publication gate, shared by the DAG's validate step and the steward CLI.

Order matters: the suite judges the true values (``suite``); small cells are then suppressed
(``suppression``); the personal-data scan (``privacy``) runs last, over exactly the columns and
values that would be published. One report (``report``) holds all three and the verdict.
This module imports nothing heavy, so the catalog can read ``suppression`` at DAG parse time.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from satudata.catalog import DatasetEntry
    from satudata.gate.report import QualityReport
    from satudata.gate.suite import ValidationFailed
    from satudata.periods import Period


@dataclass
class GateResult:
    """The gate's report and the frame that may be published (small cells suppressed)."""

    report: QualityReport
    publishable: pd.DataFrame

    def error(self, report_path: Path | None = None) -> ValidationFailed:
        """The exception that stops publication; PersonalDataFound when personal data is among the reasons."""
        from satudata.gate.privacy import PersonalDataFound
        from satudata.gate.suite import ValidationFailed

        message = f"{self.report.dataset_id} {self.report.period}: nothing is published: " + "; ".join(
            self.report.blocked_by
        )
        if report_path:
            message += f" (report: {report_path})"
        kind = ValidationFailed if self.report.privacy["success"] else PersonalDataFound
        return kind(message, report_path=report_path)


def _categories(suite_json: dict[str, Any]) -> dict[str, list[str]]:
    """The values each column may hold by the suite (``expect_column_values_to_be_in_set``): never people's names."""
    found: dict[str, list[str]] = {}
    for e in suite_json.get("expectations", []):
        kwargs = e.get("kwargs", {})
        if e.get("type") == "expect_column_values_to_be_in_set" and "column" in kwargs:
            found.setdefault(kwargs["column"], []).extend(str(v) for v in kwargs.get("value_set") or [])
    return found


def run_gate(
    entry: DatasetEntry,
    frame: pd.DataFrame,
    period: Period,
    previous: pd.DataFrame | None = None,
    run_id: str = "",
    source: str = "",
) -> GateResult:
    """Run suite, suppression and personal-data scan on ``frame``; the report says if it may be published."""
    from satudata.gate.privacy import redact, scan_frame
    from satudata.gate.suite import load_suite_json, validate_frame, volume_parameters
    from satudata.gate.suppression import suppress_small_cells

    suite_json = load_suite_json(entry.suite_path())
    params: dict[str, Any] = {**period.parameters(), **volume_parameters(suite_json, previous)}
    validation = validate_frame(frame, entry.suite_path(), entry.id, params)
    publishable, suppression = suppress_small_cells(frame, entry.suppression)
    scan = scan_frame(publishable, entry.personal_data_allow, entry.personal_data_forbid, _categories(suite_json))
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
    report = replace(
        validation,
        title=entry.ckan.title,
        period=period.key,
        run_id=run_id,
        source=source,
        generated_at=datetime.now(UTC).isoformat(timespec="seconds"),
        publishable=not blocked_by,
        privacy=scan.to_dict(),
        suppression=suppression.to_dict(),
        ckan_extras={"penyamaran_sel_kecil": suppression.note} if suppression.applied else {},
        blocked_by=blocked_by,
    )
    return GateResult(report=report, publishable=publishable)
