"""The loopback redirect of ``storyline accounts connect``: a one-shot HTTP server on 127.0.0.1.

RFC 8252 (OAuth 2.0 for Native Apps) section 7.3, as ``gh auth login`` does it: listen on the
loopback IP literal (not ``localhost``, section 8.3), on an ephemeral port where the network
allows any port (Google Desktop clients) or on the port registered with the app where it
matches redirect URIs exactly (X, Mastodon, LinkedIn). The first callback whose ``state`` is the
one expected (compared in constant time) ends the wait; a callback with another state is
answered 400 and ignored, so a forged request can neither inject a code nor end the flow. The
browser gets a short "you can close this tab" page; the code is never shown or logged.
"""

from __future__ import annotations

import hmac
import html
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from authlib.oauth2.rfc6749.errors import MissingCodeException
from authlib.oauth2.rfc6749.parameters import parse_authorization_code_response

from scheduler.publishers.auth.base import ConnectFailed

DEFAULT_TIMEOUT = 300.0

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Storyline</title></head>
<body style="font-family: sans-serif; margin: 3em auto; max-width: 36em">
<h1>{title}</h1><p>{text}</p></body></html>
"""


def _page(title: str, text: str) -> bytes:
    return _PAGE.format(title=html.escape(title), text=html.escape(text)).encode("utf-8")


class LoopbackReceiver:
    """Waits for ``GET <path>?code=...&state=...`` on ``http://127.0.0.1:<port><path>``."""

    def __init__(
        self,
        *,
        port: int = 0,
        path: str = "/callback",
        timeout: float = DEFAULT_TIMEOUT,
        host: str = "127.0.0.1",
    ) -> None:
        self.host = host
        self.port = port
        self.path = path
        self.timeout = timeout
        self._expected: str | None = None
        self._code: str | None = None
        self._error: str | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def redirect_uri(self) -> str:
        if self._server is None:
            raise ConnectFailed("the loopback receiver is not listening (use it with `with`)")
        return f"http://{self.host}:{self.port}{self.path}"

    def expect(self, state: str) -> None:
        with self._lock:
            self._expected = state

    def wait(self) -> str:
        if not self._done.wait(self.timeout):
            raise ConnectFailed(
                f"no answer from the browser within {self.timeout:.0f} s; run the command again"
            )
        if self._error is not None or self._code is None:
            raise ConnectFailed(f"the network did not grant access: {self._error or 'no code'}")
        return self._code

    # -- the server -------------------------------------------------------------------------

    def __enter__(self) -> LoopbackReceiver:
        try:
            server = ThreadingHTTPServer((self.host, self.port), self._handler())
        except OSError as exc:
            raise ConnectFailed(
                f"cannot listen on {self.host}:{self.port} for the redirect: {exc.strerror}"
            ) from None
        server.daemon_threads = True
        self._server = server
        self.port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def answer(self, target: str) -> tuple[int, bytes]:
        """The status and page for one request to ``target`` (path and query)."""
        split = urlsplit(target)
        if split.path != self.path:
            return 404, _page("Not found", "This address is not part of the sign-in.")
        params = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
        with self._lock:
            expected = self._expected
            if self._done.is_set():
                return 200, _page("Already done", "You can close this tab.")
            state = params.get("state", "")
            if expected is None or not hmac.compare_digest(state.encode(), expected.encode()):
                return 400, _page(
                    "Not this sign-in",
                    "This answer does not belong to the sign-in Storyline is waiting for. "
                    "Go back to the terminal.",
                )
            if "error" in params:
                described = params.get("error_description", "")
                self._error = params["error"] + (f": {described}" if described else "")
                self._done.set()
                return 200, _page(
                    "Storyline was not connected",
                    f"The network answered {self._error}. You can close this tab.",
                )
            try:
                found = parse_authorization_code_response(f"http://{self.host}{target}")
            except MissingCodeException:
                self._error = "the redirect has no code"
                self._done.set()
                return 400, _page("Storyline was not connected", "The redirect has no code.")
            self._code = str(found["code"])
            self._done.set()
        return 200, _page(
            "Storyline is connected",
            "You can close this tab and go back to the terminal.",
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return None  # the query holds the code: never logged

            def do_GET(self) -> None:
                status, page = receiver.answer(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("Referrer-Policy", "no-referrer")
                self.end_headers()
                self.wfile.write(page)

        return Handler
