"""Local receivers for the tests: an SMTP server (aiosmtpd) and a webhook, on 127.0.0.1, recording what they receive.

Answers may be queued (``refuse_next``) to play a busy or refusing mail server.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from devstack.airflow_cluster import free_port


@dataclass
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed: EmailMessage = message_from_bytes(self.raw, policy=policy.default)  # type: ignore[assignment]
        return parsed

    @property
    def subject(self) -> str:
        """The Subject as a mail program shows it (Python may fold a long one before its first word)."""
        return " ".join(str(self.message["Subject"]).split())

    def part(self, subtype: str) -> str:
        """The decoded text of the ``text/<subtype>`` part (SMTP's CRLF line ends as ``\\n``)."""
        found = self.message.get_body(preferencelist=(subtype,))
        assert found is not None and found.get_content_subtype() == subtype, subtype
        return str(found.get_content()).replace("\r\n", "\n")

    @property
    def everything(self) -> str:
        """Headers, raw bytes and every decoded part: what a leak test must search."""
        parts = [str(p.get_content()) for p in self.message.walk() if p.get_content_maintype() == "text"]
        return "\n".join([str(self.message["Subject"]), self.raw.decode("utf-8", "replace"), *parts])


@dataclass
class RecordingHandler:
    received: list[Received] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)

    def refuse_next(self, *answers: str) -> None:
        """Answer the next DATA commands with these (e.g. ``451 4.3.0 try again later``)."""
        self.answers.extend(answers)

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 (aiosmtpd's hook name)
        if self.answers:
            return self.answers.pop(0)
        self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 OK"


class LocalSmtpServer:
    """aiosmtpd's Controller on a free loopback port, with the recording handler."""

    def __init__(self) -> None:
        import logging

        from aiosmtpd.controller import Controller

        logging.getLogger("mail.log").setLevel(logging.WARNING)  # a line per SMTP command otherwise
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> LocalSmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def connection(self, sender: str = "satudata@diskominfo.kaltimprov.example") -> str:
        """An Airflow SMTP connection (JSON) to this server: no TLS, the sender in ``from_email``."""
        return json.dumps({"conn_type": "smtp", "host": "127.0.0.1", "port": self.port,
                           "extra": {"from_email": sender, "disable_tls": True, "disable_ssl": True,
                                     "timeout": 5, "retry_limit": 0}})


class RecordingWebhook:
    """A loopback HTTP server that records the JSON POSTed to it and answers with queued statuses (else 204)."""

    def __init__(self) -> None:
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.received: list[dict] = []
        self.answers: list[int] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's hook name)
                outer.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(outer.answers.pop(0) if outer.answers else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/notices"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> RecordingWebhook:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def connection(self) -> str:
        """An Airflow HTTP connection (JSON) to this server."""
        return json.dumps({"conn_type": "http", "host": self.url})
