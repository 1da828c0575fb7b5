"""A small Chrome DevTools Protocol client: Debian's headless Chromium, driven over a websocket.

No browser download and no WebDriver: Chromium is started with ``--remote-debugging-port=0``,
its websocket address is read from stderr, and the test talks CDP JSON to one page. Every
request the page makes and every console error it logs is recorded, so a test can assert that
a page made no request outside ``file:`` / ``data:`` and logged nothing.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import websocket

CHROMIUM = os.environ.get("STORYLINE_CHROMIUM", "/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--disable-extensions",
    "--disable-default-apps",
    "--hide-scrollbars",
    "--mute-audio",
    "--remote-debugging-port=0",
    "--remote-allow-origins=*",
]
_LISTENING = re.compile(r"DevTools listening on (ws://\S+)")


class BrowserMissing(RuntimeError):
    """Chromium is not installed where the tests expect it."""


class Browser:
    """One headless Chromium with one page; use as a context manager."""

    def __init__(self, executable: str = CHROMIUM, width: int = 1280, height: int = 900) -> None:
        if not Path(executable).exists() and shutil.which(executable) is None:
            raise BrowserMissing(
                f"{executable} not found: the browser tests need Debian's Chromium "
                "(apt-get install -y chromium chromium-driver; .ci/run installs it)"
            )
        self.executable = executable
        self.width, self.height = width, height
        self.requests: list[str] = []
        self.console_errors: list[str] = []
        self._profile = tempfile.TemporaryDirectory(prefix="storyline-chromium-")
        self._process: subprocess.Popen[str] | None = None
        self._ws: websocket.WebSocket | None = None
        self._next_id = 0
        self._events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def __enter__(self) -> Browser:
        self._start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        self._process = subprocess.Popen(
            [
                self.executable,
                *FLAGS,
                f"--user-data-dir={self._profile.name}",
                f"--window-size={self.width},{self.height}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self._process.stderr is not None
        browser_ws = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = self._process.stderr.readline()
            if not line:
                if self._process.poll() is not None:
                    break
                continue
            found = _LISTENING.search(line)
            if found:
                browser_ws = found.group(1)
                break
        if browser_ws is None:
            self.close()
            raise BrowserMissing(f"{self.executable} did not start a DevTools endpoint")
        # Keep draining stderr so Chromium never blocks on a full pipe.
        threading.Thread(target=self._drain, daemon=True).start()
        self._ws = websocket.create_connection(browser_ws, timeout=30, suppress_origin=True)
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        session = self.call("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        self._session = session
        self.call("Page.enable", session=True)
        self.call("Page.setLifecycleEventsEnabled", session=True, enabled=True)
        self.call("Runtime.enable", session=True)
        self.call("Network.enable", session=True)
        self.call("Log.enable", session=True)
        self.call(
            "Emulation.setDeviceMetricsOverride",
            session=True,
            width=self.width,
            height=self.height,
            deviceScaleFactor=1,
            mobile=False,
        )

    def _drain(self) -> None:
        process = self._process
        if process is None or process.stderr is None:
            return
        for _ in process.stderr:
            pass

    def close(self) -> None:
        if self._ws is not None:
            try:
                self._ws.close()
            finally:
                self._ws = None
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stderr is not None:
                self._process.stderr.close()
            self._process = None
        self._profile.cleanup()

    # --- the protocol ---------------------------------------------------------------------

    def call(self, method: str, session: bool = False, **params: Any) -> dict[str, Any]:
        assert self._ws is not None
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params}
        if session:
            message["sessionId"] = self._session
        self._ws.send(json.dumps(message))
        while True:
            reply = json.loads(self._ws.recv())
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply.get("result", {})
                return result
            self._record(reply)

    def _record(self, event: dict[str, Any]) -> None:
        method = event.get("method")
        params = event.get("params", {})
        self._events.append(event)
        if method == "Network.requestWillBeSent":
            self.requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in {"error", "assert"}:
            self.console_errors.append(
                " ".join(str(a.get("value", a.get("description"))) for a in params.get("args", []))
            )
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            self.console_errors.append(
                str(details.get("exception", {}).get("description") or details.get("text"))
            )
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            self.console_errors.append(params["entry"].get("text", ""))

    def _wait_for(
        self, method: str, match: Callable[[dict[str, Any]], bool], timeout: float = 30
    ) -> dict[str, Any]:
        assert self._ws is not None
        for event in self._events:
            if event.get("method") == method and match(event.get("params", {})):
                return event
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            event = json.loads(self._ws.recv())
            self._record(event)
            if event.get("method") == method and match(event.get("params", {})):
                return event
        raise TimeoutError(f"no {method} within {timeout} s")

    # --- what tests use -------------------------------------------------------------------

    def open(self, url: str) -> None:
        """Navigate and wait for the load event; requests and errors are recorded from here."""
        self._events.clear()
        self.requests.clear()
        self.console_errors.clear()
        loader = self.call("Page.navigate", session=True, url=url)["loaderId"]
        # The load of *this* navigation: a late event of the previous page must not count.
        self._wait_for(
            "Page.lifecycleEvent", lambda p: p.get("name") == "load" and p.get("loaderId") == loader
        )
        self.settle()

    def settle(self, seconds: float = 0.2) -> None:
        """Read the events that arrive in the next ``seconds`` (late requests, errors)."""
        assert self._ws is not None
        deadline = time.monotonic() + seconds
        try:
            while (left := deadline - time.monotonic()) > 0:
                self._ws.settimeout(left)
                self._record(json.loads(self._ws.recv()))
        except websocket.WebSocketTimeoutException:
            pass
        finally:
            self._ws.settimeout(30)

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate",
            session=True,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression!r} threw {result['exceptionDetails']}")
        return result["result"].get("value")

    def click(self, selector: str) -> None:
        """A real mouse click at the element's centre, as a user would make it."""
        box = self.evaluate(
            f"(() => {{ const e = document.querySelector({json.dumps(selector)});"
            " e.scrollIntoView({block: 'center'}); const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2]; })()"
        )
        x, y = box
        for kind in ("mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                session=True,
                type=kind,
                x=x,
                y=y,
                button="left",
                clickCount=1,
            )
        self.settle(0.1)

    def screenshot(self, path: Path, full_page: bool = True, max_height: int = 6000) -> Path:
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            height = int(self.evaluate("document.documentElement.scrollHeight"))
            params["clip"] = {
                "x": 0,
                "y": 0,
                "width": self.width,
                "height": min(height, max_height),
                "scale": 1,
            }
        data = self.call("Page.captureScreenshot", session=True, **params)["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path
