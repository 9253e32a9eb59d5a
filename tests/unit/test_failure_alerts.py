"""The failure webhook's payload carries the error, never a cell value."""

from types import SimpleNamespace

from failure_alerts import failure_summary

from satudata.extract.staging import SourceError

NIK = "6472015203850012"


def _context(exception: BaseException) -> dict:
    ti = SimpleNamespace(dag_id="d", task_id="t", run_id="r", try_number=1)
    return {"ti": ti, "exception": exception}


def test_a_library_error_quoting_a_value_is_sent_without_it():
    error = ValueError(f"could not convert string to float: '{NIK}'\nmore: \"{NIK}\"")
    summary = failure_summary(_context(error))
    assert NIK not in str(summary)
    assert summary["error"] == "ValueError: could not convert string to float: '…'"


def test_the_pipelines_own_error_is_sent_whole():
    error = SourceError("x.csv, row 4, column 'Jumlah': text of 3 characters (letters) is not a number")
    assert failure_summary(_context(error))["error"] == f"SourceError: {error}"


def test_the_pipelines_error_re_raised_by_a_task_is_sent_whole():
    from airflow.sdk.exceptions import AirflowFailException

    cause = SourceError("x.csv, row 4, column 'Jumlah': text of 3 characters (letters) is not a number")
    try:
        try:
            raise cause
        except SourceError as exc:
            raise AirflowFailException(str(exc)) from exc
    except AirflowFailException as error:
        assert "column 'Jumlah'" in failure_summary(_context(error))["error"]
    # A library's error with the same wrapping stays masked.
    try:
        try:
            raise ValueError(f"bad value '{NIK}'")
        except ValueError as exc:
            raise AirflowFailException(str(exc)) from exc
    except AirflowFailException as error:
        assert NIK not in failure_summary(_context(error))["error"]
