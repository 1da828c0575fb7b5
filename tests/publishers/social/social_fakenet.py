"""A recording fake network for the social publishers' tests: a real HTTP server on
127.0.0.1, port 0, in a thread.

Each test scripts the answers the network's documentation gives (``server.route(...)``) and
then asserts the exact requests the publisher sent (``server.requests``): method, path, query,
headers, JSON, form fields and multipart parts. A reply may be delayed past the client's
timeout to play a network that received the request but never answered.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from scheduler.app.settings import Settings
from scheduler.core.model import Media
from scheduler.publishers.base import Credentials, OutgoingPost


@dataclass
class Part:
    """One part of a multipart/form-data body."""

    name: str
    filename: str | None
    content_type: str
    data: bytes

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


@dataclass
class Recorded:
    """One request as the fake network received it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    raw_query: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode("utf-8"), keep_blank_values=True)

    def q(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None

    def parts(self) -> dict[str, Part]:
        """The multipart body, by field name (the last part wins for repeated names)."""
        ctype = self.header("content-type") or ""
        assert ctype.startswith("multipart/form-data"), ctype
        raw = f"Content-Type: {ctype}\r\n\r\n".encode() + self.body
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        found: dict[str, Part] = {}
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_param("filename", header="content-disposition")
            payload = part.get_payload(decode=True)
            found[str(name)] = Part(
                name=str(name),
                filename=str(filename) if filename else None,
                content_type=part.get_content_type(),
                data=payload if isinstance(payload, bytes) else b"",
            )
        return found


@dataclass
class Reply:
    """What the fake network answers."""

    status: int = 200
    json: Any = None
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering; past the client timeout = no answer


Responder = Reply | Callable[[Recorded], Reply]


class FakeNetwork:
    """Routes ``(METHOD, path)`` to scripted replies; the last reply of a route repeats."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._routes: dict[tuple[str, str], list[Responder]] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    def route(self, method: str, path: str, *replies: Responder) -> None:
        with self._lock:
            self._routes[(method.upper(), path)] = list(replies)

    def calls(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.requests
            if (method is None or r.method == method.upper()) and (path is None or r.path == path)
        ]

    def close(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _answer(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            replies = self._routes.get((recorded.method, recorded.path))
            if not replies:
                return Reply(404, json={"error": f"no route {recorded.method} {recorded.path}"})
            responder = replies.pop(0) if len(replies) > 1 else replies[0]
        return responder(recorded) if callable(responder) else responder

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                recorded = Recorded(
                    method=self.command,
                    path=unquote(split.path),
                    query=parse_qs(split.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    raw_query=split.query,
                )
                reply = fake._answer(recorded)
                if reply.delay and fake._stop.wait(reply.delay):
                    self.close_connection = True
                    return
                payload = reply.body
                headers = dict(reply.headers)
                if reply.json is not None:
                    payload = json.dumps(reply.json).encode()
                    headers.setdefault("Content-Type", "application/json; charset=utf-8")
                self.send_response(reply.status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler


def settings_for(network: str, base_url: str, tmp_path: Path, **env: str) -> Settings:
    environ = {f"STORYLINE_API_BASE_{network.upper()}": base_url, **env}
    return Settings.from_env(environ).with_overrides(data_dir=tmp_path / "data")


DUE = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def make_post(
    network: str,
    account: str,
    *,
    text: str = "The comfort SUV arrives. https://brand.example/suv #ComfortSUV",
    content_dir: Path = Path("content"),
    media: tuple[Media, ...] = (),
    title: str | None = "The comfort SUV arrives",
    link: str | None = "https://brand.example/suv",
    checkpoint: dict[str, Any] | None = None,
    market: str = "fr",
) -> OutgoingPost:
    return OutgoingPost(
        post_id=f"suv/reveal/{network}/{market}",
        story="suv",
        beat="reveal",
        network=network,
        market=market,
        account=account,
        account_name="Brand",
        due_utc=DUE,
        text=text,
        title=title,
        link=link,
        media=media,
        content_dir=content_dir,
        checkpoint=checkpoint or {},
    )


def creds(network: str, account: str, **fields: str) -> Credentials:
    return Credentials(network, account, fields)


class Checkpoints:
    """A checkpoint callback that remembers every step, like the dispatcher's record."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []

    def __call__(self, step: Any) -> None:
        self.steps.append(dict(step))

    @property
    def merged(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for step in self.steps:
            out.update(step)
        return out
