"""A headless Debian Chromium driven over the DevTools protocol, for tests that look at the UI.

Only what those tests need: open a page, run a script in it, wait for a condition, type, press
Enter, take a screenshot. The browser listens on loopback and is stopped by its process group.
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

from websockets.sync.client import connect

CHROMIUM = shutil.which("chromium")


class Browser:
    """One headless Chromium page."""

    def __init__(self, profile: Path, port: int, size: tuple[int, int] = (1280, 1000)) -> None:
        if CHROMIUM is None:
            raise RuntimeError("no chromium on the PATH (apt-get install -y chromium)")
        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
             f"--remote-debugging-port={port}", "--remote-debugging-address=127.0.0.1",
             f"--user-data-dir={profile}", f"--window-size={size[0]},{size[1]}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )
        try:
            page = self._first_page(port)
            self.ws = connect(page["webSocketDebuggerUrl"], max_size=None)
        except BaseException:
            self.close()
            raise
        self._ids = itertools.count(1)

    def _first_page(self, port: int) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as answer:
                    pages = [t for t in json.load(answer) if t["type"] == "page"]
                if pages:
                    return pages[0]
            except OSError:
                pass
            time.sleep(0.2)
        raise TimeoutError("chromium did not open its DevTools port")

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def js(self, expression: str) -> Any:
        """The value of a script run in the page."""
        answer = self.call("Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True)
        if "exceptionDetails" in answer:
            raise RuntimeError(f"script failed: {answer['exceptionDetails'].get('text')}: {expression}")
        return answer["result"].get("value")

    def wait(self, expression: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        failure = ""
        while time.monotonic() < deadline:
            try:
                if self.js(expression):
                    return
            except RuntimeError as exc:  # the page is still loading or rendering
                failure = f" (last: {exc})"
            time.sleep(0.3)
        raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {expression}{failure}")

    def goto(self, url: str) -> None:
        self.call("Page.navigate", url=url)

    def type(self, text: str) -> None:
        self.call("Input.insertText", text=text)

    def click(self, element: str) -> None:
        """A mouse click in the middle of the element the script ``element`` finds."""
        middle = "[r.x + r.width / 2, r.y + r.height / 2]"
        box = self.js(f"(() => {{ const r = ({element}).getBoundingClientRect(); return {middle}; }})()")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", type=kind, x=box[0], y=box[1], button="left", clickCount=1)

    def enter(self) -> None:
        for kind in ("keyDown", "keyUp"):
            self.call("Input.dispatchKeyEvent", type=kind, key="Enter", code="Enter", windowsVirtualKeyCode=13)

    def screenshot(self, path: Path) -> None:
        path.write_bytes(base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"]))

    def close(self) -> None:
        if getattr(self, "ws", None) is not None:
            self.ws.close()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
