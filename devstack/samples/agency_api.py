"""A local HTTP server playing the agency APIs (MPP queue system, SP4N-LAPOR!) for demo and tests.

Loopback only. Answers come from the seeded sample systems, with each API's own auth and
pagination. Faults are injected on request: ``POST /_faults`` with a JSON list such as
``["429", "500", "slow", "truncated"]`` makes the next answers of the APIs fail that way, in
order, so retries and bad-payload handling are exercised against a real socket.

Run it with ``python -m devstack.samples.agency_api --port 5081``; it prints one JSON line with its URL.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import threading
import time
from collections import deque
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from devstack.samples import agencies as sample_agencies
from devstack.samples.agencies import LAPOR_TOKEN, MPP_PASSWORD, MPP_USER

MPP_PATH = "/mpp/api/v1/kunjungan"
LAPOR_PATH = "/lapor/api/v2/pengaduan"
# The civil registry publishes its monthly export on a file server behind basic auth.
DUKCAPIL_EXPORTS = "/ekspor/dukcapil/"
FAULTS = {"429", "500", "503", "slow", "truncated", "401"}


class AgencyApiServer(ThreadingHTTPServer):
    """The sample agency APIs on one loopback port, with a queue of faults to inject."""

    daemon_threads = True

    def __init__(self, port: int = 0, slow_seconds: float = 3.0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.faults: deque[str] = deque()
        self.slow_seconds = slow_seconds
        self.requests_seen: list[str] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def inject(self, *faults: str) -> None:
        """Make the next API answers fail in these ways, one fault per request, in order."""
        unknown = set(faults) - FAULTS
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {sorted(FAULTS)}")
        with self._lock:
            self.faults.extend(faults)

    def next_fault(self) -> str | None:
        with self._lock:
            return self.faults.popleft() if self.faults else None

    def start_in_thread(self) -> AgencyApiServer:
        threading.Thread(target=self.serve_forever, name="agency-api", daemon=True).start()
        return self


def _interval(query: dict[str, list[str]], start_key: str, end_key: str) -> tuple[date, date]:
    return date.fromisoformat(query[start_key][0]), date.fromisoformat(query[end_key][0])


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"o": offset}).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    padded = cursor + "=" * (-len(cursor) % 4)
    return int(json.loads(base64.urlsafe_b64decode(padded))["o"])


class _Handler(BaseHTTPRequestHandler):
    server: AgencyApiServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - BaseHTTPRequestHandler's name
        self.server.requests_seen.append(f"{self.command} {self.path}")

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"), headers)

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        if urlparse(self.path).path != "/_faults":
            self._json(404, {"error": "not found"})
            return
        length = int(self.headers.get("Content-Length", 0))
        try:
            self.server.inject(*json.loads(self.rfile.read(length) or b"[]"))
        except (ValueError, TypeError) as exc:
            self._json(400, {"error": str(exc)})
            return
        self._json(200, {"queued": list(self.server.faults)})

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlparse(self.path)
        if url.path == "/":
            self._json(200, {"apis": [MPP_PATH, LAPOR_PATH]})
            return
        if url.path.startswith(DUKCAPIL_EXPORTS):
            self._dukcapil_export(url.path[len(DUKCAPIL_EXPORTS):])
            return
        if url.path not in (MPP_PATH, LAPOR_PATH):
            self._json(404, {"error": f"no endpoint {url.path}"})
            return
        fault = self.server.next_fault()
        if fault in ("429", "503"):
            self._json(int(fault), {"error": "rate limited" if fault == "429" else "unavailable"},
                       {"Retry-After": "1"})
            return
        if fault == "500":
            self._json(500, {"error": "internal server error"})
            return
        if fault == "401":
            self._json(401, {"error": "token expired"})
            return
        if fault == "slow":
            time.sleep(self.server.slow_seconds)
        query = parse_qs(url.query)
        try:
            if url.path == MPP_PATH:
                if not self._basic_auth_ok():
                    self._json(401, {"error": "authentication required"}, {"WWW-Authenticate": 'Basic realm="mpp"'})
                    return
                payload = self._mpp_page(query)
            else:
                if self.headers.get("Authorization") != f"Bearer {LAPOR_TOKEN}":
                    self._json(401, {"error": "invalid or missing token"})
                    return
                payload = self._lapor_page(query)
        except (KeyError, ValueError) as exc:
            self._json(400, {"error": f"bad request: {exc}"})
            return
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        if fault == "truncated":
            body = body[: len(body) // 2]
        self._send(200, body)

    def _dukcapil_export(self, name: str) -> None:
        if not self._basic_auth_ok():
            self._json(401, {"error": "authentication required"}, {"WWW-Authenticate": 'Basic realm="ekspor"'})
            return
        match = re.fullmatch(r"layanan_dukcapil_(\d{4})-(\d{2})\.csv", name)
        if not match:
            self._json(404, {"error": f"no export {name}"})
            return
        body = sample_agencies.dukcapil_export(date(int(match[1]), int(match[2]), 1))
        self.send_response(200)
        self.send_header("Content-Type", "text/csv; charset=windows-1252")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _basic_auth_ok(self) -> bool:
        expected = base64.b64encode(f"{MPP_USER}:{MPP_PASSWORD}".encode()).decode()
        return self.headers.get("Authorization") == f"Basic {expected}"

    def _mpp_page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        start, end = _interval(query, "tanggal_mulai", "tanggal_selesai")
        page = int(query.get("page", ["1"])[0])
        per_page = min(int(query.get("per_page", ["50"])[0]), 500)
        visits = sample_agencies.mpp_visits_between(start, end)
        chunk = visits[(page - 1) * per_page : page * per_page]
        return {
            "data": chunk,
            "meta": {"page": page, "per_page": per_page, "total": len(visits),
                     "last_page": max(1, -(-len(visits) // per_page))},
        }

    def _lapor_page(self, query: dict[str, list[str]]) -> dict[str, Any]:
        start, end = _interval(query, "dari", "sampai")
        limit = min(int(query.get("limit", ["100"])[0]), 500)
        offset = _decode_cursor(query["cursor"][0]) if "cursor" in query else 0
        rows = sample_agencies.lapor_complaints_between(start, end)
        chunk = rows[offset : offset + limit]
        more = offset + limit < len(rows)
        return {"status": "ok", "items": chunk, "next_cursor": _encode_cursor(offset + limit) if more else None}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.samples.agency_api", description=__doc__)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    server = AgencyApiServer(args.port)
    print(json.dumps({"url": server.url}), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
