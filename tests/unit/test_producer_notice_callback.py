"""The producer's failure callback: which failures it tells, on which channels, and never twice."""

import json
import logging
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from failure_alerts import NotifyProducer

from satudata.catalog import Producer, get_entry
from tests.unit.test_notices import PERMITS, blocked_report


class ValidationFailedLike(RuntimeError):
    def __init__(self, report_path):
        super().__init__("blocked")
        self.report_path = report_path


def _context(task_id: str, exception: BaseException, try_number: int = 1) -> dict:
    ti = SimpleNamespace(dag_id=PERMITS, task_id=task_id, run_id="scheduled__2026-08-01", try_number=try_number,
                         map_index=-1)
    # July in WITA: the data interval of the monthly run.
    return {"ti": ti, "exception": exception, "run_id": ti.run_id,
            "data_interval_start": datetime(2026, 6, 30, 16, tzinfo=UTC),
            "data_interval_end": datetime(2026, 7, 31, 16, tzinfo=UTC)}


@pytest.fixture
def blocked(tmp_path, monkeypatch):
    monkeypatch.setenv("SATUDATA_DATA_DIR", str(tmp_path / "data"))
    return ValidationFailedLike(blocked_report(tmp_path, "64.99"))


def _with_producer(**producer) -> NotifyProducer:
    entry = get_entry(PERMITS)
    return NotifyProducer(entry.model_copy(update={"producer": Producer(name="DPMPTSP Kaltim", **producer)}))


def test_a_blocked_run_is_told_once_per_try(smtp_server, blocked):
    callback = NotifyProducer(get_entry(PERMITS))
    assert callback.notify(_context("validate", blocked)) == ["email"]
    assert callback.notify(_context("validate", blocked)) == []
    assert callback.notify(_context("validate", blocked, try_number=2)) == ["email"]
    assert [m.subject.split(":")[0] for m in smtp_server.received] == ["[Satu Data] Diblokir oleh gerbang mutu"] * 2


def test_a_failure_that_is_not_the_producers_tells_no_one(smtp_server, blocked):
    callback = NotifyProducer(get_entry(PERMITS))
    assert callback.notify(_context("publish", TimeoutError("the portal"))) == []
    assert smtp_server.received == []


def test_a_failed_channel_is_logged_released_and_the_others_still_sent(smtp_server, blocked, caplog, monkeypatch):
    from tests.receivers import RecordingWebhook

    smtp_server.handler.refuse_next("554 5.7.1 Ditolak")
    callback = _with_producer(email=["satudata@dpmptsp.kaltimprov.example"], webhook_conn_id="dpmptsp_notices")
    with RecordingWebhook() as hook:
        monkeypatch.setenv("AIRFLOW_CONN_DPMPTSP_NOTICES", hook.connection())
        with caplog.at_level(logging.WARNING):
            callback(_context("validate", blocked))  # the callback as Airflow calls it: never raises
        assert "the email notice to the producer was not sent: NoticeNotSent" in caplog.text
        assert len(hook.received) == 1
        assert hook.received[0]["status"] == "blocked" and hook.received[0]["period"] == "2026-07"
        assert "64.99" not in json.dumps(hook.received)
        # The e-mail was released: the callback running again for this try sends it, and only it.
        assert callback.notify(_context("validate", blocked)) == ["email"]
        assert len(smtp_server.received) == 1 and len(hook.received) == 1


def test_without_an_smtp_connection_nothing_is_tried(blocked, caplog, monkeypatch):
    monkeypatch.delenv("AIRFLOW_CONN_SMTP_DEFAULT", raising=False)
    with caplog.at_level(logging.WARNING):
        assert NotifyProducer(get_entry(PERMITS)).notify(_context("validate", blocked)) == []
    assert "no SMTP connection 'smtp_default'" in caplog.text
