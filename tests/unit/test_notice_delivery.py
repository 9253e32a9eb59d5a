"""Sending notices through Airflow's SMTP connection to a local SMTP server: delivered, retried, refused."""

import pytest

from satudata.notices import Notice

NOTICE = Notice("[Satu Data] Uji: pemberitahuan", "Teks biasa: 1 baris tidak sesuai.\n",
                "<!DOCTYPE html><html><body><p>Teks HTML</p></body></html>", "k-delivery",
                reply_to="satudata@kaltimprov.go.id")
TO = ["satudata@dpmptsp.kaltimprov.example", "operator@dpmptsp.kaltimprov.example"]


def test_a_notice_arrives_as_text_and_html(smtp_server):
    from notice_delivery import send_mail

    assert send_mail(NOTICE, TO) == "satudata@diskominfo.kaltimprov.example"
    [mail] = smtp_server.received
    assert mail.recipients == TO and mail.sender == "satudata@diskominfo.kaltimprov.example"
    assert mail.subject == NOTICE.subject and mail.message["Reply-To"] == "satudata@kaltimprov.go.id"
    assert mail.part("plain") == NOTICE.text and "Teks HTML" in mail.part("html")


def test_a_busy_server_is_tried_again(smtp_server):
    from notice_delivery import send_mail

    smtp_server.handler.refuse_next("451 4.3.0 Coba lagi nanti", "421 4.3.2 Sibuk")
    send_mail(NOTICE, TO)
    assert len(smtp_server.received) == 1


def test_a_refusal_is_not_retried_and_is_reported(smtp_server):
    from notice_delivery import NoticeNotSent, send_mail

    smtp_server.handler.refuse_next("554 5.7.1 Ditolak", "554 5.7.1 Ditolak")
    with pytest.raises(NoticeNotSent, match="554"):
        send_mail(NOTICE, TO)
    assert smtp_server.handler.answers == ["554 5.7.1 Ditolak"]  # one try only
    assert smtp_server.received == []


def test_an_unreachable_server_gives_up_after_the_retries(monkeypatch):
    from notice_delivery import NoticeNotSent, send_mail

    from tests.receivers import LocalSmtpServer, free_port

    server = LocalSmtpServer()  # never started: its port refuses connections
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", server.connection().replace(str(server.port), str(free_port())))
    monkeypatch.setenv("SATUDATA_NOTICE_BACKOFF_SECONDS", "0.01")
    monkeypatch.setenv("SATUDATA_NOTICE_RETRIES", "2")
    with pytest.raises(NoticeNotSent, match="ConnectionRefusedError"):
        send_mail(NOTICE, TO)


def test_without_a_sender_nothing_is_sent(smtp_server, monkeypatch):
    from notice_delivery import NoticeNotSent, send_mail

    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", smtp_server.connection().replace(
        '"from_email": "satudata@diskominfo.kaltimprov.example", ', ""))
    with pytest.raises(NoticeNotSent, match="from_email"):
        send_mail(NOTICE, TO)
    assert smtp_server.received == []


def test_a_webhook_receives_the_notice_as_json(monkeypatch):
    from notice_delivery import NoticeNotSent, post_webhook

    from tests.receivers import RecordingWebhook

    monkeypatch.setenv("SATUDATA_NOTICE_BACKOFF_SECONDS", "0.01")
    with RecordingWebhook() as hook:
        monkeypatch.setenv("AIRFLOW_CONN_DPMPTSP_NOTICES", hook.connection())
        hook.answers += [503, 204, 400]
        post_webhook(NOTICE, "dpmptsp_notices")  # a 503 first: tried again
        assert len(hook.received) == 2
        assert hook.received[-1] == {"subject": NOTICE.subject, "text": NOTICE.text, "key": "k-delivery"}
        with pytest.raises(NoticeNotSent, match="dpmptsp_notices"):
            post_webhook(NOTICE, "dpmptsp_notices")  # a 400 is not retried
        assert len(hook.received) == 3
