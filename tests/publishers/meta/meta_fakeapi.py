"""A real local HTTP server that records every request and answers from a script (Meta tests).

Why a real server rather than an httpx mock transport: the publishers must be proven on the
wire — URL encoding, form bodies, multipart uploads, timeouts while a socket is open — exactly
as the network would receive them. Each test scripts the answers per ``(method, path)``; the
server records each request so the test can assert the documented shape.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from scheduler.app.settings import Settings
from scheduler.core.model import Media
from scheduler.publishers.base import Credentials, OutgoingPost

#: The token every test plants; no output, error or log line may ever contain it.
TOKEN = "EAAGsecret-token-0123456789"


@dataclass
class Recorded:
    """One request as the server received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    form: dict[str, str] = field(default_factory=dict)
    json: Any = None
    files: dict[str, tuple[str | None, bytes, str]] = field(default_factory=dict)


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to wait before answering (timeouts)


Responder = Reply | Callable[[Recorded], Reply]


def _parse_body(rec: Recorded) -> None:
    ctype = rec.headers.get("content-type", "")
    if ctype.startswith("application/x-www-form-urlencoded"):
        rec.form = {
            k: v[-1] for k, v in parse_qs(rec.body.decode(), keep_blank_values=True).items()
        }
    elif ctype.startswith("application/json"):
        rec.json = json.loads(rec.body or b"null")
    elif ctype.startswith("multipart/form-data"):
        message = BytesParser(policy=HTTP).parsebytes(
            f"Content-Type: {ctype}\r\n\r\n".encode() + rec.body
        )
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            filename = part.get_filename()
            payload = part.get_payload(decode=True) or b""
            if filename is None:
                rec.form[str(name)] = payload.decode()
            else:
                rec.files[str(name)] = (filename, payload, part.get_content_type())


class FakeApi:
    """Scripted answers per ``(METHOD, path)``; requests are recorded in order."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._routes: dict[tuple[str, str], deque[Responder]] = defaultdict(deque)
        self._sticky: dict[tuple[str, str], Responder] = {}
        self._lock = threading.Lock()
        self.base_url = ""
        #: Answers requests no scripted route matches (a :class:`MetaSimulator`), if set.
        self.fallback: Callable[[Recorded], Reply] | None = None

    def on(self, method: str, path: str, *replies: Responder, repeat: bool = False) -> None:
        """Queue answers for a route; with ``repeat`` the last one answers every later call."""
        key = (method.upper(), path)
        for reply in replies:
            self._routes[key].append(reply)
        if repeat and replies:
            self._sticky[key] = replies[-1]

    def answer(self, rec: Recorded) -> Reply:
        key = (rec.method, rec.path)
        with self._lock:
            self.requests.append(rec)
            queue = self._routes.get(key)
            if queue:
                responder = queue.popleft()
            elif key in self._sticky:
                responder = self._sticky[key]
            elif self.fallback is not None:
                responder = self.fallback
            else:
                return Reply(
                    404,
                    {"error": {"message": f"no route {rec.method} {rec.path}", "code": 803}},
                )
        return responder(rec) if callable(responder) else responder

    def calls(self, method: str, path: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method.upper() and r.path == path]


class _Handler(BaseHTTPRequestHandler):
    api: FakeApi
    protocol_version = "HTTP/1.1"
    wbufsize = 1 << 16  # one write per response (flushed by the base class) ...
    disable_nagle_algorithm = True  # ... and no 40 ms Nagle/delayed-ACK stall per request

    def log_message(self, format: str, *args: Any) -> None:  # silence the default stderr log
        return None

    def _handle(self) -> None:
        url = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        rec = Recorded(
            method=self.command,
            path=url.path,
            query={k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
        )
        _parse_body(rec)
        reply = self.api.answer(rec)
        if reply.delay:
            time.sleep(reply.delay)
        payload = json.dumps(reply.body).encode() if reply.body is not None else b""
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            self.close_connection = True

    do_GET = _handle
    do_POST = _handle
    do_DELETE = _handle


def settings_for(network: str, base_url: str, **extra: Any) -> Settings:
    env = {f"STORYLINE_API_BASE_{network.upper()}": base_url}
    return Settings.from_env(env).with_overrides(
        media_base_url=extra.pop("media_base_url", None), **extra
    )


def make_post(
    network: str,
    account: str,
    content_dir: Path,
    *,
    text: str = "The comfort SUV arrives. Inspired By You",
    link: str | None = "https://brand.example/suv",
    media: tuple[Media, ...] = (),
    first_comment: str | None = None,
    checkpoint: dict[str, Any] | None = None,
) -> OutgoingPost:
    from types import MappingProxyType

    return OutgoingPost(
        post_id=f"suv-launch/reveal/{network}/fr",
        story="suv-launch",
        beat="reveal",
        network=network,
        market="fr",
        account=account,
        account_name="Brand France",
        due_utc=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        text=text,
        link=link,
        media=media,
        first_comment=first_comment,
        campaign="suv-comfort-launch",
        content_dir=content_dir,
        checkpoint=MappingProxyType(dict(checkpoint or {})),
    )


def credentials(network: str, account: str) -> Credentials:
    return Credentials(network, account, {"access_token": TOKEN})


def graph_error(
    code: int, message: str, *, subcode: int | None = None, kind: str = "OAuthException"
) -> dict[str, Any]:
    """An error body shaped as the Graph API documents it (error-handling guide)."""
    err: dict[str, Any] = {"message": message, "type": kind, "code": code, "fbtrace_id": "Ab12"}
    if subcode is not None:
        err["error_subcode"] = subcode
    return {"error": err}


class Checkpoints:
    """Collects what a publisher checkpoints, merged the way the dispatcher stores it."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.state: dict[str, Any] = {}

    def __call__(self, data: Any) -> None:
        self.calls.append(dict(data))
        self.state.update(data)


# --- a stateful simulator of the three Meta APIs ---------------------------------------------


class MetaSimulator:
    """A stateful stand-in for graph.facebook.com and graph.threads.net at once.

    Unlike :class:`FakeApi` (scripted answers), it *behaves*: posts appear in the lists ``find``
    reads, containers move from ``IN_PROGRESS`` to ``FINISHED`` to ``PUBLISHED``, quotas count
    what was published. End-to-end and chaos tests use it to count duplicates: every created
    post is kept in :attr:`created`. Plug it in as a ``FakeApi`` fallback:
    ``fake_api.fallback = simulator.answer``. The version prefix (``/v26.0``, ``/v1.0``) is
    ignored, so one simulator serves all three bases.
    """

    def __init__(self, *, video_polls: int = 1, quota_total: int = 100) -> None:
        self.created: list[dict[str, Any]] = []  # every post or media, in creation order
        self.containers: dict[str, dict[str, Any]] = {}
        self.video_polls = video_polls
        self.quota_total = quota_total
        self._next = 1000
        self._lock = threading.Lock()

    def _new_id(self) -> str:
        self._next += 1
        return str(self._next)

    @staticmethod
    def _now() -> str:
        return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")

    def _record(self, owner: str, text: str, *, kind: str, post_id: str | None = None) -> str:
        post_id = post_id or self._new_id()
        self.created.append(
            {
                "owner": owner,
                "id": post_id,
                "text": text,
                "kind": kind,
                "time": self._now(),
                "permalink": f"https://social.example/{kind}/{post_id}",
            }
        )
        return post_id

    def count(self, text: str) -> int:
        """How many times a post with this text was created (1 = exactly once)."""
        return sum(1 for c in self.created if c["text"] == text)

    def answer(self, rec: Recorded) -> Reply:
        parts = [p for p in rec.path.split("/") if p]
        if parts and parts[0].startswith("v") and parts[0][1:2].isdigit():
            parts = parts[1:]
        fields = {**rec.query, **rec.form}
        with self._lock:
            return self._route(rec.method, parts, fields)

    def _route(self, method: str, parts: list[str], f: dict[str, str]) -> Reply:
        if parts == ["debug_token"]:
            return Reply(200, {"data": {"is_valid": True, "expires_at": 0}})
        if len(parts) == 1 and method == "GET":
            return self._get_object(parts[0])
        if len(parts) != 2:
            return Reply(400, {"error": {"message": "Unknown path", "code": 100}})
        owner, edge = parts
        if method == "POST" and edge == "feed":
            return Reply(
                200,
                {
                    "id": self._record(
                        owner, f.get("message", ""), kind="fb", post_id=f"{owner}_{self._new_id()}"
                    )
                },
            )
        if method == "POST" and edge == "photos":
            photo = self._new_id()
            if f.get("published") == "false":
                return Reply(200, {"id": photo})
            post = self._record(owner, f.get("message", ""), kind="fb", post_id=f"{owner}_{photo}")
            return Reply(200, {"id": photo, "post_id": post})
        if method == "POST" and edge == "videos":
            return Reply(200, {"id": self._record(owner, f.get("description", ""), kind="fb")})
        if method == "POST" and edge == "comments":
            return Reply(200, {"id": f"{owner}_{self._new_id()}"})
        if method == "GET" and edge == "published_posts":
            return self._list(
                owner, "fb", text="message", time="created_time", link="permalink_url"
            )
        if method == "GET" and edge in ("content_publishing_limit", "threads_publishing_limit"):
            used = sum(1 for c in self.created if c["owner"] == owner)
            config = {"quota_total": self.quota_total, "quota_duration": 86400}
            return Reply(200, {"data": [{"quota_usage": used, "config": config}]})
        if method == "POST" and edge in ("media", "threads"):
            cid = self._new_id()
            video = "video_url" in f
            self.containers[cid] = {
                "owner": owner,
                "text": f.get("caption", f.get("text", "")),
                "polls": self.video_polls if video else 0,
                "status": "IN_PROGRESS" if video and self.video_polls else "FINISHED",
                "kind": "ig" if edge == "media" else "th",
            }
            return Reply(200, {"id": cid})
        if method == "POST" and edge in ("media_publish", "threads_publish"):
            box = self.containers.get(f.get("creation_id", ""))
            if box is None or box["status"] != "FINISHED":
                return Reply(400, {"error": {"message": "Media ID is not available", "code": 9007}})
            box["status"] = "PUBLISHED"
            return Reply(200, {"id": self._record(owner, box["text"], kind=box["kind"])})
        if method == "GET" and edge == "media":
            return self._list(owner, "ig", text="caption", time="timestamp", link="permalink")
        if method == "GET" and edge == "threads":
            return self._list(owner, "th", text="text", time="timestamp", link="permalink")
        return Reply(400, {"error": {"message": f"Unsupported {method} {edge}", "code": 100}})

    def _get_object(self, oid: str) -> Reply:
        if oid == "me":
            return Reply(200, {"id": "me", "name": "Simulated"})
        box = self.containers.get(oid)
        if box is not None:
            if box["status"] == "IN_PROGRESS":
                box["polls"] -= 1
                if box["polls"] <= 0:
                    box["status"] = "FINISHED"
                return Reply(
                    200, {"id": oid, "status_code": "IN_PROGRESS", "status": "IN_PROGRESS"}
                )
            return Reply(200, {"id": oid, "status_code": box["status"], "status": box["status"]})
        for c in self.created:
            if c["id"] == oid:
                return Reply(200, {"id": oid, "permalink": c["permalink"]})
        return Reply(
            400,
            {"error": {"message": "Object does not exist", "code": 100, "error_subcode": 33}},
        )

    def _list(self, owner: str, kind: str, *, text: str, time: str, link: str) -> Reply:
        items = [
            {"id": c["id"], text: c["text"], time: c["time"], link: c["permalink"]}
            for c in reversed(self.created)
            if c["owner"] == owner and c["kind"] == kind
        ]
        return Reply(200, {"data": items})
