"""A fault-injecting HTTP proxy for tests: sits in front of the real CKAN and breaks some calls.

Requests are forwarded unchanged to the upstream portal, except those that match the next
planned fault for their CKAN action. Faults: an error status without forwarding (500, 502,
503, 429 with Retry-After), a reset before forwarding, a reset, a late answer (beyond the
client's timeout) or a gateway's 502/504 after the portal has acted, and any callable (e.g.
stop the portal).
Loopback only; standard library only.
"""

from __future__ import annotations

import http.client
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


@dataclass
class Fault:
    """One planned fault: for the ``nth`` call (1-based) of ``action`` from now on."""

    action: str
    # "500", "502", "503", "429", "reset_before", "reset_after", "slow_after", "502_after", "504_after", "call"
    kind: str
    nth: int = 1
    delay: float = 0.0
    callback: Callable[[], None] | None = None


class FaultProxy:
    """Forward to ``upstream``; apply planned faults; record what was injected."""

    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self.upstream_host = parts.hostname or "127.0.0.1"
        self.upstream_port = parts.port or 80
        self.plan: list[Fault] = []
        self.injected: list[tuple[str, str]] = []
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def add(self, action: str, kind: str, nth: int = 1, delay: float = 0.0,
            callback: Callable[[], None] | None = None) -> None:
        with self._lock:
            seen = self.calls.get(action, 0)
            self.plan.append(Fault(action, kind, seen + nth, delay, callback))

    def _take(self, action: str) -> Fault | None:
        with self._lock:
            self.calls[action] = self.calls.get(action, 0) + 1
            for fault in self.plan:
                if fault.action == action and fault.nth == self.calls[action]:
                    self.plan.remove(fault)
                    self.injected.append((action, fault.kind))
                    return fault
        return None

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def _reset(self) -> None:
                # SO_LINGER 0: close() sends RST, like a dropped connection.
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.close_connection = True

            def _status(self, code: int, extra: dict[str, str] | None = None) -> None:
                body = f'{{"success": false, "error": {{"message": "injected {code}"}}}}'.encode()
                self.send_response(code)
                for key, value in (extra or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _forward(self, body: bytes) -> tuple[int, list[tuple[str, str]], bytes] | None:
                conn = http.client.HTTPConnection(proxy.upstream_host, proxy.upstream_port, timeout=120)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                try:
                    conn.request(self.command, self.path, body=body or None, headers=headers)
                    answer = conn.getresponse()
                    return answer.status, answer.getheaders(), answer.read()
                except OSError:
                    return None
                finally:
                    conn.close()

            def _relay(self, answer) -> None:
                status, headers, payload = answer
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                action = self.path.split("?")[0].rstrip("/").rsplit("/", 1)[-1]
                fault = proxy._take(action)
                kind = fault.kind if fault else None
                if kind in ("500", "502", "503"):
                    return self._status(int(kind))
                if kind == "429":
                    return self._status(429, {"Retry-After": str(int(fault.delay or 1))})
                if kind == "reset_before":
                    return self._reset()
                if kind == "call":
                    fault.callback()
                    return self._reset()
                answer = self._forward(body)
                if answer is None:
                    # The portal is down: what a gateway in front of it would answer.
                    return self._status(502)
                if kind == "reset_after":
                    return self._reset()
                if kind in ("502_after", "504_after"):
                    # The portal acted, but the gateway lost its answer.
                    return self._status(int(kind[:3]))
                if kind == "slow_after":
                    time.sleep(fault.delay)
                try:
                    self._relay(answer)
                except OSError:
                    pass

            do_GET = do_POST = _serve

        return Handler
