"""The quality gate: run a dataset's Great Expectations suite on a frame and judge the result.

Each expectation declares ``meta.severity``: ``critical`` (the default) blocks publication,
``warning`` is reported and published.
"""

from __future__ import annotations

import json
import logging
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from satudata import settings
from satudata.gate.report import ExpectationOutcome, QualityReport
from transforms.limits import masked

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite
    from great_expectations.data_context.data_context.ephemeral_data_context import EphemeralDataContext

log = logging.getLogger(__name__)

os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
settings.quiet_library_logs()


class ValidationFailed(RuntimeError):
    """Critical expectations failed: the data must not be published."""

    def __init__(self, message: str, report_path: Path | None = None):
        super().__init__(message)
        self.report_path = report_path


def _columns_of(kwargs: dict[str, Any]) -> str | None:
    if kwargs.get("column"):
        column: str = kwargs["column"]
        return column
    if kwargs.get("column_A"):
        return f"{kwargs['column_A']} + {kwargs['column_B']}"
    return None


def load_suite_json(path: Path) -> dict[str, Any]:
    suite_json: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return suite_json


def volume_parameters(suite_json: dict[str, Any], previous: pd.DataFrame | None) -> dict[str, Any]:
    """Suite parameters bounding this period's rows and column sum by the previous period's.

    GX has no expectation that compares two batches, so the comparison is made here: the suite's
    ``meta.volume`` declares the measured column and, per severity, ratio bounds [low, high]; the
    suite bounds ``expect_table_row_count_to_be_between`` and ``expect_column_sum_to_be_between``
    with the ``volume_*`` parameters computed here. Without a previous period the bounds are
    None (no bound), and the report says which period was compared.
    """
    spec = (suite_json.get("meta") or {}).get("volume")
    if not spec:
        return {}
    column = spec.get("column")
    rows = len(previous) if previous is not None and len(previous) else None
    total = None
    if rows is not None and previous is not None and column in previous.columns:
        total = float(pd.to_numeric(previous[column], errors="coerce").sum())
    params: dict[str, Any] = {"volume_previous_rows": rows, "volume_previous_sum": total}
    for severity in ("critical", "warning"):
        low, high = spec[severity]
        for measure, base in (("rows", rows), ("sum", total)):
            params[f"volume_{measure}_min_{severity}"] = None if base is None else math.floor(base * low)
            params[f"volume_{measure}_max_{severity}"] = None if base is None else math.ceil(base * high)
    return params


def _context() -> EphemeralDataContext:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


def build_suite(suite_json: dict[str, Any]) -> ExpectationSuite:
    """The GX suite of ``suite_json``; refuses a suite in which GX dropped an expectation."""
    import great_expectations as gx

    suite = gx.ExpectationSuite(**suite_json)
    declared = len(suite_json.get("expectations", []))
    if len(suite.expectations) != declared:
        known = {e.expectation_type for e in suite.expectations}
        dropped = [e.get("type") for e in suite_json["expectations"] if e.get("type") not in known]
        raise ValueError(
            f"suite {suite_json.get('name')!r}: GX loaded {len(suite.expectations)} of {declared} "
            f"expectations; unknown type(s): {dropped}"
        )
    return suite


def _numpy_backed(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with complete nullable-integer columns as plain int64, which GX checks vectorised.

    GX's pandas metrics compare value by value in Python unless a column has a numpy dtype
    (column_values.between tests ``dtype in [int, float]``). A column with no missing value holds
    the same numbers either way, and GX reports the same type for both (``int64``).
    """
    converted = {
        name: col.to_numpy(dtype="int64")
        for name, col in frame.items()
        if isinstance(col.dtype, pd.Int64Dtype) and not col.hasnans
    }
    return frame.assign(**converted) if converted else frame


def _outcome(r: Any) -> ExpectationOutcome:
    """One GX expectation result as the report holds it (severity and note from the suite's meta)."""
    cfg = r.expectation_config
    assert cfg is not None  # GX sets it on every result of a suite run
    meta = cfg.meta or {}
    res = r.result or {}
    return ExpectationOutcome(
        type=cfg.type,
        column=_columns_of(cfg.kwargs),
        severity=meta.get("severity", "critical"),
        success=bool(r.success),
        note=meta.get("notes", ""),
        kwargs={k: v for k, v in cfg.kwargs.items() if k not in ("batch_id",)},
        unexpected_count=res.get("unexpected_count"),
        # The report is published and sent: an example shows a value's shape, never the value.
        unexpected_examples=[masked(v) for v in list(res.get("partial_unexpected_list") or [])[:10]],
        observed_value=res.get("observed_value"),
    )


def validate_frame(
    frame: pd.DataFrame, suite_path: Path, dataset_id: str, parameters: dict[str, Any] | None = None
) -> QualityReport:
    """Validate ``frame`` against the suite at ``suite_path``: the report's suite section, judged."""
    import great_expectations as gx

    settings.quiet_library_logs()
    suite_json = load_suite_json(suite_path)
    # Without a previous period given, the volume bounds are open (None), not missing.
    parameters = {**volume_parameters(suite_json, None), **(parameters or {})}
    context = _context()
    suite = context.suites.add(build_suite(suite_json))
    batch = (
        context.data_sources.add_pandas("frames")
        .add_dataframe_asset(dataset_id)
        .add_batch_definition_whole_dataframe("whole")
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name=f"{dataset_id}-gate", data=batch, suite=suite)
    )
    result = definition.run(
        batch_parameters={"dataframe": _numpy_backed(frame)},
        expectation_parameters=parameters or {},
        result_format={"result_format": "SUMMARY", "partial_unexpected_count": 10},
    )
    outcomes = [_outcome(r) for r in result.results]
    # GX does not return results in suite order: failures first, then by type and column.
    outcomes.sort(key=lambda o: (o.success, o.severity != "critical", o.type, o.column or ""))
    critical = sum(1 for o in outcomes if not o.success and o.severity == "critical")
    warnings = sum(1 for o in outcomes if not o.success and o.severity != "critical")
    report = QualityReport(
        dataset_id=dataset_id,
        suite=suite_json["name"],
        rows=len(frame),
        critical_failures=critical,
        warnings=warnings,
        expectations=outcomes,
        parameters=parameters or {},
    )
    log.debug(
        "validated %s: %d rows, %d expectations, %d critical failures, %d warnings",
        dataset_id, len(frame), len(outcomes), critical, warnings,
    )
    return report

