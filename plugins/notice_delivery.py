"""Sending notices (Airflow glue): e-mail through Airflow's SMTP connection, JSON to a webhook connection.

The SMTP connection (``SATUDATA_SMTP_CONN_ID``, default ``smtp_default``, Airflow's ``smtp`` type)
gives server, port, login, TLS and the sender (extra ``from_email``); the provider's ``SmtpHook``
opens and authenticates the session. The message is built here (``satudata.notices.mail_message``:
plain text with an HTML alternative) and sent on that session, since the hook's own
``send_email_smtp`` sends HTML only and retries without waiting. A transient failure (the server
unreachable or disconnecting, an SMTP 4xx answer) is retried with a doubling wait
(``SATUDATA_NOTICE_RETRIES``, ``SATUDATA_NOTICE_BACKOFF_SECONDS``); a permanent one (5xx) is not.
"""

from __future__ import annotations

import logging
import smtplib
import time
from collections.abc import Callable, Sequence
from typing import TypeVar

from satudata import settings
from satudata.notices import Notice, mail_message

log = logging.getLogger(__name__)

T = TypeVar("T")


class NoticeNotSent(RuntimeError):
    """A notice could not be delivered, after the retries a transient failure gets."""


def transient(exc: BaseException) -> bool:
    """True for a failure that may pass: connection trouble, or an SMTP answer in the 4xx range."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError | OSError)


def with_retries(send: Callable[[], T], what: str, is_transient: Callable[[BaseException], bool] = transient) -> T:
    """``send()``, tried again after a transient failure with a doubling wait; NoticeNotSent at the end."""
    delivery = settings.notice_delivery()
    for attempt in range(delivery.retries + 1):
        try:
            return send()
        except Exception as exc:
            if not is_transient(exc) or attempt == delivery.retries:
                raise NoticeNotSent(f"{what}: {type(exc).__name__}: {exc}") from exc
            wait = delivery.backoff * 2 ** attempt
            log.warning("%s: %s (%s), trying again in %.1f s", what, type(exc).__name__, exc, wait)
            time.sleep(wait)
    raise AssertionError("unreachable")


def send_mail(notice: Notice, recipients: Sequence[str], conn_id: str | None = None) -> str:
    """Send ``notice`` to ``recipients`` through the SMTP connection; returns the sender used."""
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    hook = SmtpHook(smtp_conn_id=conn_id or settings.smtp_conn_id())
    sender = ""

    def once() -> None:
        nonlocal sender
        with hook as session:
            sender = session.from_email or ""
            if not sender:
                raise NoticeNotSent(f"SMTP connection {hook.smtp_conn_id!r}: set extra from_email (the sender)")
            client = session._smtp_client  # the hook's authenticated session; it has no send for a built message
            refused = client.send_message(mail_message(notice, sender, recipients))
            if refused:
                raise smtplib.SMTPRecipientsRefused(refused)

    with_retries(once, f"e-mail {notice.subject!r}")
    return sender


def post_webhook(notice: Notice, conn_id: str) -> None:
    """POST the notice as JSON to the connection's URL (host), through the pipeline's HTTP transport."""
    from airflow.sdk.bases.hook import BaseHook

    from satudata.transport import base_url, retrying_session

    url = base_url(BaseHook.get_connection(conn_id))
    delivery = settings.notice_delivery()
    session = retrying_session(timeout=10, retries=delivery.retries, backoff=delivery.backoff)
    try:
        answer = session.post(url, json=notice.as_json())
        answer.raise_for_status()
    except Exception as exc:
        raise NoticeNotSent(f"webhook {conn_id!r}: {type(exc).__name__}") from exc
    finally:
        session.close()
