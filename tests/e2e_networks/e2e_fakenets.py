"""Nine local networks for the end-to-end test: one real HTTP server on 127.0.0.1 each.

Why stateful fakes rather than scripted replies: a real worker decides on its own what to send
and when, so each fake *behaves* like its network's documented API — it checks the token
against the account the request acts for, refuses malformed requests the way the network
does, keeps the posts, containers, uploads and sessions it created, and answers the reads
``find`` makes. Every post a network now shows is kept in :attr:`FakeNetwork.created` (the
evidence that counts duplicates); every request that breaks the documented shape is answered
with the network's error *and* kept in :attr:`FakeNetwork.violations`, so a failing run says
exactly which request was wrong.

The shapes follow the publishers' own fakes (``tests/publishers/meta``, ``tests/publishers/
social``) and the documentation pages cited in ``docs/networks.md``.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import html
import itertools
import json
import re
import threading
import urllib.request
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

from scheduler.text import counting, networks

# --- the wire --------------------------------------------------------------------------------


@dataclass
class Part:
    """One part of a multipart/form-data body."""

    filename: str | None
    content_type: str
    data: bytes


@dataclass
class Request:
    """One request as a fake network received it."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def header(self, name: str) -> str:
        return self.headers.get(name.lower(), "")

    @property
    def content_type(self) -> str:
        return self.header("content-type").split(";")[0].strip().lower()

    def json(self) -> Any:
        if self.content_type != "application/json":
            raise Refused(400, {"error": f"expected a JSON body, got {self.content_type!r}"})
        try:
            return json.loads(self.body)
        except ValueError:
            raise Refused(400, {"error": "the body is not valid JSON"}) from None

    def parts(self) -> dict[str, Part]:
        """Form fields and files, from a multipart or url-encoded body (empty otherwise)."""
        if self.content_type == "application/x-www-form-urlencoded":
            return {
                k: Part(None, "text/plain", v[-1].encode())
                for k, v in parse_qs(self.body.decode(), keep_blank_values=True).items()
            }
        if self.content_type != "multipart/form-data":
            return {}
        raw = f"Content-Type: {self.header('content-type')}\r\n\r\n".encode() + self.body
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        found: dict[str, Part] = {}
        for part in message.iter_parts():
            name = str(part.get_param("name", header="content-disposition"))
            filename = part.get_param("filename", header="content-disposition")
            payload = part.get_payload(decode=True)
            found[name] = Part(
                str(filename) if filename else None,
                part.get_content_type(),
                payload if isinstance(payload, bytes) else b"",
            )
        return found

    def fields(self) -> dict[str, str]:
        """Text fields of the query and the form body (the body wins)."""
        out = dict(self.query)
        out.update({k: p.data.decode() for k, p in self.parts().items() if p.filename is None})
        return out

    def files(self) -> dict[str, Part]:
        return {k: p for k, p in self.parts().items() if p.filename is not None}

    def bearer(self) -> str:
        value = self.header("authorization")
        return value[len("Bearer ") :] if value.startswith("Bearer ") else ""


#: A reply status meaning "close the connection without answering" (a lost response).
LOST = 0


@dataclass
class Reply:
    status: int = 200
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class Refused(Exception):
    """The network refuses the request: answered as ``reply``, recorded as a violation."""

    def __init__(self, status: int, body: Any, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(json.dumps(body))
        self.reply = Reply(status, body, dict(headers or {}))


@dataclass
class Created:
    """A post the network now shows: who posted it, its identifying key, its text, its id."""

    account: str
    key: str
    text: str
    remote_id: str
    extra: dict[str, Any] = field(default_factory=dict)


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


class FakeNetwork(ABC):
    """A threaded HTTP server speaking one network's API; subclasses implement :meth:`route`.

    ``tokens`` maps each account key (as in ``markets.yaml``) to the secret the worker must
    present for it.
    """

    name: ClassVar[str]
    prefix: ClassVar[str] = ""  # the documented version segment kept in the base URL

    def __init__(self, tokens: Mapping[str, str]) -> None:
        self.tokens = dict(tokens)
        self.account_of_token = {v: k for k, v in self.tokens.items()}
        self.requests: list[Request] = []
        self.created: list[Created] = []
        self.violations: list[str] = []
        #: When set, the answer to the first request that creates a post is never sent (the
        #: network acted, the connection drops): the worker must find the post, not resend it.
        self.lose_first_answer = False
        self.lost: list[Created] = []
        self.lock = threading.Lock()
        self._ids = itertools.count(1_000_001)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    @property
    def base_url(self) -> str:
        """What ``STORYLINE_API_BASE_<NETWORK>`` is set to."""
        return self.url + self.prefix

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def new_id(self) -> str:
        return str(next(self._ids))

    def calls(self, method: str, path: str | re.Pattern[str]) -> list[Request]:
        """The requests to ``path`` (an exact path, or a pattern it must fully match)."""
        return [
            r
            for r in self.requests
            if r.method == method
            and (r.path == path if isinstance(path, str) else path.fullmatch(r.path))
        ]

    def secrets_issued(self) -> list[str]:
        """Secrets the network itself handed out (session tokens), to scan for as well."""
        return []

    def orphans(self) -> list[str]:
        """Uploads and containers no post ended up using: the trace of a step done twice."""
        return []

    @abstractmethod
    def route(self, req: Request) -> Reply:
        """The network's answer to one request (raise :class:`Refused` to refuse it)."""

    def answer(self, req: Request) -> Reply:
        with self.lock:
            self.requests.append(req)
            before = len(self.created)
            try:
                reply = self.route(req)
            except Refused as refused:
                self.violations.append(f"{req.method} {req.path}: {refused}")
                return refused.reply
            if self.lose_first_answer and not self.lost and len(self.created) > before:
                self.lost.append(self.created[-1])
                return Reply(LOST)
            return reply

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return None

            def _serve(self) -> None:
                body = _read_body(self)
                split = urlsplit(self.path)
                req = Request(
                    method=self.command,
                    path=unquote(split.path),
                    query={
                        k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()
                    },
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                reply = fake.answer(req)
                if reply.status == LOST:
                    self.close_connection = True  # no status line, no body: a lost answer
                    return
                payload = b"" if reply.json is None else json.dumps(reply.json).encode()
                self.send_response(reply.status)
                if reply.json is not None:
                    self.send_header("Content-Type", "application/json; charset=utf-8")
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        return Handler


def need(condition: object, status: int, body: Any) -> None:
    """Refuse the request unless ``condition`` holds."""
    if not condition:
        raise Refused(status, body)


def _now_graph() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


# --- static media (where Instagram and Threads download pictures from) -------------------------


class MediaServer:
    """Serves the content folder read-only: the ``STORYLINE_MEDIA_BASE_URL`` of the run."""

    def __init__(self, root: Path) -> None:
        directory = str(root)

        class Handler(SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=directory, **kwargs)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def download(url: str, allowed_base: str) -> tuple[int, bytes, str]:
    """What Meta's servers do with ``image_url``: fetch it (only from the local media server)."""
    if not url.startswith(allowed_base + "/"):
        return 0, b"", ""
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # local media server only
            return response.status, response.read(), response.headers.get_content_type()
    except OSError:
        return 404, b"", ""


# --- Meta: Facebook Pages, Instagram, Threads (Graph API dialect) ------------------------------


def graph_error(code: int, message: str, *, subcode: int | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        err["error_subcode"] = subcode
    err["fbtrace_id"] = "AbCdE2e"
    return {"error": err}


class GraphFake(FakeNetwork):
    """The Graph API dialect: ``access_token`` in the query (GET) or the form body (POST),
    errors as ``{"error": {...}}``, objects addressed by id under the version prefix."""

    #: id -> (owner account, kind, data): photos, containers, media, posts
    objects: dict[str, tuple[str, str, dict[str, Any]]]

    def __init__(self, tokens: Mapping[str, str]) -> None:
        super().__init__(tokens)
        self.objects = {}

    def route(self, req: Request) -> Reply:
        need(
            req.path.startswith(self.prefix + "/"),
            400,
            graph_error(100, f"unknown path {req.path}"),
        )
        parts = [p for p in req.path[len(self.prefix) :].split("/") if p]
        fields = req.fields()
        token = fields.get("access_token", "")
        if req.method == "POST":
            need(
                "access_token" not in req.query,
                400,
                graph_error(100, "the token belongs in the body of a POST, not its URL"),
            )
        actor = self.account_of_token.get(token)
        need(actor is not None, 400, graph_error(190, "Invalid OAuth access token."))
        assert actor is not None
        if len(parts) == 1 and req.method == "GET":
            return self.get_object(actor, parts[0], fields)
        need(len(parts) == 2, 400, graph_error(100, "Unsupported request"))
        owner, edge = parts
        need(
            owner == actor,
            400,
            graph_error(200, f"the token of {actor} cannot act for {owner}"),
        )
        return self.edge(req.method, owner, edge, fields, req)

    def get_object(self, actor: str, oid: str, fields: dict[str, str]) -> Reply:
        found = self.objects.get(oid)
        need(
            found is not None,
            400,
            graph_error(100, "Object does not exist", subcode=33),
        )
        assert found is not None
        owner, _, data = found
        need(owner == actor, 400, graph_error(10, "the token cannot read this object"))
        wanted = [f for f in fields.get("fields", "id").split(",") if f]
        return Reply(200, {"id": oid, **{f: data[f] for f in wanted if f in data}})

    def edge(
        self, method: str, owner: str, edge: str, fields: dict[str, str], req: Request
    ) -> Reply:
        raise Refused(400, graph_error(100, f"Unsupported {method} request to {edge}"))

    def list_created(self, owner: str, text_field: str, time_field: str, link: str) -> Reply:
        items = [
            {
                "id": c.remote_id,
                text_field: c.text,
                time_field: c.extra["time"],
                link: c.extra["permalink"],
            }
            for c in reversed(self.created)
            if c.account == owner
        ]
        return Reply(200, {"data": items})


class FacebookFake(GraphFake):
    """Pages API: ``/{page}/photos`` (multipart ``source``), ``/{page}/feed``."""

    name = "facebook"
    prefix = "/v26.0"

    def orphans(self) -> list[str]:
        return _unattached_photos(self)

    def _post(self, page: str, message: str, **extra: Any) -> str:
        post_id = f"{page}_{self.new_id()}"
        permalink = f"https://www.facebook.com/{post_id}"
        self.objects[post_id] = (page, "post", {"message": message, "permalink_url": permalink})
        self.created.append(
            Created(
                page,
                message,
                message,
                post_id,
                {"time": _now_graph(), "permalink": permalink, **extra},
            )
        )
        return post_id

    def edge(
        self, method: str, owner: str, edge: str, fields: dict[str, str], req: Request
    ) -> Reply:
        if (method, edge) == ("POST", "photos"):
            source = req.files().get("source")
            need(
                source is not None and source.data[:2] == b"\xff\xd8",
                400,
                graph_error(324, "Requires upload file: a JPEG in the multipart field source"),
            )
            photo = self.new_id()
            self.objects[photo] = (owner, "photo", {"published": fields.get("published", "true")})
            if fields.get("published") == "false":
                return Reply(200, {"id": photo})
            need(fields.get("message"), 400, graph_error(100, "a photo post needs a message"))
            return Reply(200, {"id": photo, "post_id": self._post(owner, fields["message"])})
        if (method, edge) == ("POST", "feed"):
            need(fields.get("message"), 400, graph_error(100, "message is required"))
            attached: list[str] = []
            for i in itertools.count():
                raw = fields.get(f"attached_media[{i}]")
                if raw is None:
                    break
                fbid = str(json.loads(raw).get("media_fbid"))
                found = self.objects.get(fbid)
                need(
                    found is not None
                    and found[0] == owner
                    and found[1] == "photo"
                    and found[2]["published"] == "false"
                    and not found[2].get("attached"),
                    400,
                    graph_error(100, f"media_fbid {fbid} is not an unpublished photo of {owner}"),
                )
                assert found is not None
                found[2]["attached"] = True
                attached.append(fbid)
            post_id = self._post(owner, fields["message"], link=fields.get("link"), photos=attached)
            return Reply(200, {"id": post_id})
        if (method, edge) == ("GET", "published_posts"):
            return self.list_created(owner, "message", "created_time", "permalink_url")
        return super().edge(method, owner, edge, fields, req)


def _unattached_photos(fake: GraphFake) -> list[str]:
    return [
        oid
        for oid, (_, kind, data) in fake.objects.items()
        if kind == "photo" and data["published"] == "false" and not data.get("attached")
    ]


class ContainerFake(GraphFake):
    """Instagram and Threads: a quota read, media containers, a publish of the container."""

    container_edge: ClassVar[str]
    publish_edge: ClassVar[str]
    quota_edge: ClassVar[str]
    status_field: ClassVar[str]
    text_field: ClassVar[str]
    permalink_base: ClassVar[str]

    def __init__(self, tokens: Mapping[str, str], media_base: str) -> None:
        super().__init__(tokens)
        self.media_base = media_base
        self.downloads: list[str] = []

    def _fetch(self, url: str) -> str:
        """Download the picture as Meta does: the container's status depends on it."""
        status, data, ctype = download(url, self.media_base)
        self.downloads.append(url)
        if status == 200 and ctype == "image/jpeg" and data[:2] == b"\xff\xd8":
            return "FINISHED"
        return "ERROR"

    def orphans(self) -> list[str]:
        boxes = {oid: d for oid, (_, kind, d) in self.objects.items() if kind == "container"}
        in_carousel = {c for d in boxes.values() for c in d.get("children", [])}
        return [
            oid
            for oid, d in boxes.items()
            if (d.get("child") and oid not in in_carousel)
            or (not d.get("child") and d[self.status_field] != "PUBLISHED")
        ]

    @abstractmethod
    def container(self, owner: str, fields: dict[str, str]) -> Reply:
        """Create one container from the documented fields."""

    def _new_container(self, owner: str, status: str, data: dict[str, Any]) -> Reply:
        cid = self.new_id()
        self.objects[cid] = (owner, "container", {self.status_field: status, **data})
        return Reply(200, {"id": cid})

    def _children(self, owner: str, fields: dict[str, str]) -> list[str]:
        children = [c for c in fields.get("children", "").split(",") if c]
        need(len(children) >= 2, 400, graph_error(100, "a carousel needs at least 2 children"))
        for child in children:
            box = self.objects.get(child)
            need(
                box is not None
                and box[0] == owner
                and box[1] == "container"
                and box[2].get("child")
                and box[2][self.status_field] == "FINISHED",
                400,
                graph_error(100, f"{child} is not a finished carousel item of {owner}"),
            )
        return children

    def edge(
        self, method: str, owner: str, edge: str, fields: dict[str, str], req: Request
    ) -> Reply:
        if (method, edge) == ("GET", self.quota_edge):
            used = sum(1 for c in self.created if c.account == owner)
            config = {"quota_total": 100, "quota_duration": 86400}
            return Reply(200, {"data": [{"quota_usage": used, "config": config}]})
        if (method, edge) == ("POST", self.container_edge):
            return self.container(owner, fields)
        if (method, edge) == ("POST", self.publish_edge):
            cid = fields.get("creation_id", "")
            box = self.objects.get(cid)
            need(
                box is not None
                and box[0] == owner
                and box[1] == "container"
                and not box[2].get("child"),
                400,
                graph_error(100, f"creation_id {cid} is not a container of {owner}"),
            )
            assert box is not None
            need(
                box[2][self.status_field] == "FINISHED",
                400,
                graph_error(9007, "Media ID is not available", subcode=2207027),
            )
            box[2][self.status_field] = "PUBLISHED"
            media_id = self.new_id()
            permalink = f"{self.permalink_base}{media_id}/"
            self.objects[media_id] = (owner, "media", {"permalink": permalink})
            text = box[2]["text"]
            self.created.append(
                Created(
                    owner,
                    text,
                    text,
                    media_id,
                    {"time": _now_graph(), "permalink": permalink, "container": cid, **box[2]},
                )
            )
            return Reply(200, {"id": media_id})
        if (method, edge) == ("GET", self.container_edge):
            return self.list_created(owner, self.text_field, "timestamp", "permalink")
        return super().edge(method, owner, edge, fields, req)


class InstagramFake(ContainerFake):
    """Instagram API with Facebook Login: ``/{ig}/media`` containers, ``media_publish``."""

    name = "instagram"
    prefix = "/v26.0"
    container_edge = "media"
    publish_edge = "media_publish"
    quota_edge = "content_publishing_limit"
    status_field = "status_code"
    text_field = "caption"
    permalink_base = "https://www.instagram.com/p/"

    def container(self, owner: str, fields: dict[str, str]) -> Reply:
        if fields.get("media_type") == "CAROUSEL":
            children = self._children(owner, fields)
            need("caption" in fields, 400, graph_error(100, "a carousel needs its caption"))
            return self._new_container(
                owner, "FINISHED", {"text": fields["caption"], "children": children}
            )
        need(
            fields.get("image_url"),
            400,
            graph_error(100, "image_url is required (this run has no videos for Instagram)"),
        )
        status = self._fetch(fields["image_url"])
        if fields.get("is_carousel_item") == "true":
            need(
                "caption" not in fields,
                400,
                graph_error(100, "a carousel item takes no caption"),
            )
            return self._new_container(owner, status, {"child": True, "text": ""})
        need("caption" in fields, 400, graph_error(100, "caption is required"))
        return self._new_container(owner, status, {"text": fields["caption"]})


class ThreadsFake(ContainerFake):
    """Threads API: ``/{user}/threads`` containers, ``threads_publish``."""

    name = "threads"
    prefix = "/v1.0"
    container_edge = "threads"
    publish_edge = "threads_publish"
    quota_edge = "threads_publishing_limit"
    status_field = "status"
    text_field = "text"
    permalink_base = "https://www.threads.net/post/"

    def container(self, owner: str, fields: dict[str, str]) -> Reply:
        kind = fields.get("media_type", "")
        text = fields.get("text", "")
        need(
            networks.measure("threads", text) <= networks.limit("threads"),
            400,
            graph_error(100, "text is too long"),
        )
        if kind == "CAROUSEL":
            children = self._children(owner, fields)
            return self._new_container(owner, "FINISHED", {"text": text, "children": children})
        if kind == "TEXT":
            need(text, 400, graph_error(100, "a TEXT container needs text"))
            return self._new_container(
                owner, "FINISHED", {"text": text, "link": fields.get("link_attachment")}
            )
        need(
            kind == "IMAGE" and fields.get("image_url"),
            400,
            graph_error(100, f"media_type {kind!r} with image_url expected"),
        )
        status = self._fetch(fields["image_url"])
        if fields.get("is_carousel_item") == "true":
            return self._new_container(owner, status, {"child": True, "text": ""})
        return self._new_container(owner, status, {"text": text})


# --- X ---------------------------------------------------------------------------------------


class XFake(FakeNetwork):
    """X API v2: ``POST /2/media/upload``, ``/2/media/metadata``, ``POST /2/tweets``."""

    name = "x"

    def __init__(self, tokens: Mapping[str, str]) -> None:
        super().__init__(tokens)
        self.media: dict[str, str] = {}  # media id -> owner
        self.tweets: dict[str, tuple[str, str, str | None]] = {}  # id -> (owner, text, parent)
        self.remaining = 300

    def _user(self, req: Request) -> str:
        user = self.account_of_token.get(req.bearer())
        need(user, 401, {"title": "Unauthorized", "type": "about:blank", "status": 401})
        assert user is not None
        return user

    def route(self, req: Request) -> Reply:
        user = self._user(req)
        if (req.method, req.path) == ("POST", "/2/media/upload"):
            media = req.files().get("media")
            fields = req.fields()
            need(
                media is not None
                and media.data[:2] == b"\xff\xd8"
                and fields.get("media_category") == "tweet_image",
                400,
                {"errors": [{"message": "a JPEG in media, media_category tweet_image"}]},
            )
            assert media is not None
            media_id = self.new_id()
            self.media[media_id] = user
            return Reply(
                200,
                {"data": {"id": media_id, "media_key": f"3_{media_id}", "size": len(media.data)}},
            )
        if (req.method, req.path) == ("POST", "/2/media/metadata"):
            body = req.json()
            media_id = str(body.get("id"))
            alt = ((body.get("metadata") or {}).get("alt_text") or {}).get("text")
            need(
                self.media.get(media_id) == user and alt and len(alt) <= 1000,
                400,
                {"errors": [{"message": f"unknown media {media_id} or bad alt text"}]},
            )
            return Reply(200, {"data": {"id": media_id, "associated_metadata": body["metadata"]}})
        if (req.method, req.path) == ("POST", "/2/tweets"):
            return self._tweet(user, req.json())
        if (req.method, req.path) == ("GET", "/2/users/me"):
            return Reply(200, {"data": {"id": f"u-{user}", "username": user}})
        match = re.fullmatch(r"/2/users/u-([^/]+)/tweets", req.path)
        if req.method == "GET" and match and match.group(1) == user:
            items = [
                {"id": tid, "text": text}
                for tid, (owner, text, _) in reversed(self.tweets.items())
                if owner == user
            ]
            return Reply(200, {"data": items, "meta": {"result_count": len(items)}})
        raise Refused(404, {"errors": [{"message": f"no route {req.method} {req.path}"}]})

    def _tweet(self, user: str, body: Any) -> Reply:
        text = str(body.get("text") or "")
        need(
            text and networks.measure("x", text) <= 280,
            400,
            {"errors": [{"message": "text is empty or longer than 280 weighted characters"}]},
        )
        media_ids = [str(i) for i in (body.get("media") or {}).get("media_ids", [])]
        need(
            all(self.media.get(i) == user for i in media_ids) and len(media_ids) <= 4,
            400,
            {"errors": [{"message": "media_ids must be this user's uploads (at most 4)"}]},
        )
        parent = (body.get("reply") or {}).get("in_reply_to_tweet_id")
        need(
            parent is None or self.tweets.get(str(parent), ("",))[0] == user,
            400,
            {"errors": [{"message": f"in_reply_to_tweet_id {parent} is not this user's post"}]},
        )
        if any(owner == user and t == text for owner, t, _ in self.tweets.values()):
            raise Refused(
                403,
                {
                    "detail": "You are not allowed to create a Tweet with duplicate content.",
                    "type": "about:blank",
                    "title": "Forbidden",
                    "status": 403,
                },
            )
        tweet_id = self.new_id()
        self.tweets[tweet_id] = (user, text, str(parent) if parent else None)
        if parent is None:
            self.created.append(Created(user, text, text, tweet_id, {"media_ids": media_ids}))
        self.remaining -= 1
        headers = {
            "x-rate-limit-limit": "300",
            "x-rate-limit-remaining": str(self.remaining),
            "x-rate-limit-reset": str(int(datetime.now(UTC).timestamp()) + 900),
        }
        return Reply(
            201,
            {"data": {"id": tweet_id, "text": text, "edit_history_tweet_ids": [tweet_id]}},
            headers,
        )

    def orphans(self) -> list[str]:
        used = {m for c in self.created for m in c.extra["media_ids"]}
        return sorted(set(self.media) - used)

    def thread_of(self, root: str) -> list[str]:
        """The texts of a thread, root first, following the reply chain."""
        texts = [self.tweets[root][1]]
        current = root
        while True:
            children = [tid for tid, (_, _, parent) in self.tweets.items() if parent == current]
            if not children:
                return texts
            assert len(children) == 1, f"tweet {current} has {len(children)} replies"
            current = children[0]
            texts.append(self.tweets[current][1])


# --- LinkedIn ---------------------------------------------------------------------------------


def _restli_error(status: int, message: str) -> dict[str, Any]:
    return {"status": status, "message": message}


class LinkedInFake(FakeNetwork):
    """Posts API (versioned, Rest.li 2.0) and the Images API's initializeUpload + PUT."""

    name = "linkedin"

    def __init__(self, tokens: Mapping[str, str]) -> None:
        super().__init__(tokens)
        self.images: dict[str, dict[str, Any]] = {}  # image urn -> {owner, uploaded}
        self.uploads: dict[str, str] = {}  # upload path -> image urn

    def route(self, req: Request) -> Reply:
        org = self.account_of_token.get(req.bearer())
        need(org, 401, _restli_error(401, "Invalid access token"))
        assert org is not None
        urn = f"urn:li:organization:{org}"
        if req.method == "PUT" and req.path in self.uploads:
            image = self.images[self.uploads[req.path]]
            need(
                not image["uploaded"] and req.body[:2] == b"\xff\xd8",
                400,
                _restli_error(400, "upload a JPEG once"),
            )
            image["uploaded"] = True
            return Reply(201)
        need(
            re.fullmatch(r"\d{6}", req.header("linkedin-version")),
            426,
            _restli_error(426, "A version header LinkedIn-Version: YYYYMM is required"),
        )
        need(
            req.header("x-restli-protocol-version") == "2.0.0",
            400,
            _restli_error(400, "X-Restli-Protocol-Version: 2.0.0 is required"),
        )
        if (req.method, req.path, req.query.get("action")) == (
            "POST",
            "/rest/images",
            "initializeUpload",
        ):
            owner = (req.json().get("initializeUploadRequest") or {}).get("owner")
            need(owner == urn, 403, _restli_error(403, f"owner must be {urn}"))
            image_urn = f"urn:li:image:D4E{self.new_id()}"
            path = f"/dms-uploads/{self.new_id()}"
            self.images[image_urn] = {"owner": urn, "uploaded": False}
            self.uploads[path] = image_urn
            return Reply(
                200,
                {
                    "value": {
                        "uploadUrlExpiresAt": int(datetime.now(UTC).timestamp() * 1000) + 3600000,
                        "uploadUrl": self.url + path,
                        "image": image_urn,
                    }
                },
            )
        if (req.method, req.path) == ("POST", "/rest/posts"):
            return self._post(urn, org, req.json())
        if (req.method, req.path) == ("GET", "/rest/posts") and req.query.get("q") == "author":
            elements = [
                {"id": c.remote_id, "commentary": c.extra["commentary"], "createdAt": 0}
                for c in reversed(self.created)
                if c.account == org
            ]
            return Reply(200, {"elements": elements, "paging": {"start": 0, "count": 50}})
        raise Refused(404, _restli_error(404, f"no route {req.method} {req.path}"))

    def orphans(self) -> list[str]:
        used = {str(i.get("id")) for c in self.created for i in c.extra["images"]}
        return sorted(set(self.images) - used)

    def _post(self, urn: str, org: str, body: Any) -> Reply:
        need(body.get("author") == urn, 403, _restli_error(403, f"author must be {urn}"))
        distribution = body.get("distribution") or {}
        need(
            body.get("visibility") == "PUBLIC"
            and body.get("lifecycleState") == "PUBLISHED"
            and distribution.get("feedDistribution") == "MAIN_FEED",
            422,
            _restli_error(422, "visibility, lifecycleState and distribution are required"),
        )
        commentary = str(body.get("commentary") or "")
        need(commentary, 422, _restli_error(422, "commentary is required"))
        content = body.get("content") or {}
        images = [content["media"]] if "media" in content else []
        images += (content.get("multiImage") or {}).get("images", [])
        for image in images:
            known = self.images.get(str(image.get("id")))
            need(
                known is not None and known["owner"] == urn and known["uploaded"],
                422,
                _restli_error(422, f"{image.get('id')} is not an uploaded image of {urn}"),
            )
        if any(c.account == org and c.extra["commentary"] == commentary for c in self.created):
            raise Refused(
                422,
                _restli_error(422, "Content is a duplicate of urn:li:share:1 DUPLICATE_POST"),
            )
        share = f"urn:li:share:{self.new_id()}"
        text = re.sub(r"\\(.)", r"\1", commentary)  # the little format, unescaped
        self.created.append(
            Created(org, text, text, share, {"commentary": commentary, "images": images})
        )
        return Reply(201, None, {"x-restli-id": share})


# --- YouTube ----------------------------------------------------------------------------------


def _google_error(status: int, reason: str, message: str) -> dict[str, Any]:
    return {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"reason": reason, "message": message}],
        }
    }


class YouTubeFake(FakeNetwork):
    """Data API v3 resumable upload: a session from ``POST``, then the bytes by ``PUT``."""

    name = "youtube"
    upload_path = "/upload/youtube/v3/videos"

    def __init__(self, tokens: Mapping[str, str]) -> None:
        super().__init__(tokens)
        self.sessions: dict[str, dict[str, Any]] = {}

    def route(self, req: Request) -> Reply:
        channel = self.account_of_token.get(req.bearer())
        need(channel, 401, _google_error(401, "authError", "Invalid Credentials"))
        assert channel is not None
        need(req.path == self.upload_path, 404, _google_error(404, "notFound", req.path))
        if req.method == "POST":
            return self._open(channel, req)
        if req.method == "PUT":
            return self._put(channel, req)
        raise Refused(405, _google_error(405, "methodNotAllowed", req.method))

    def orphans(self) -> list[str]:
        return sorted(uid for uid, session in self.sessions.items() if session["video"] is None)

    def _open(self, channel: str, req: Request) -> Reply:
        need(
            req.query.get("uploadType") == "resumable"
            and set(req.query.get("part", "").split(",")) == {"snippet", "status"},
            400,
            _google_error(400, "invalidParameter", "uploadType=resumable&part=snippet,status"),
        )
        size = req.header("x-upload-content-length")
        kind = req.header("x-upload-content-type")
        need(
            size.isdigit() and kind.startswith("video/"),
            400,
            _google_error(400, "invalidParameter", "X-Upload-Content-Length/-Type"),
        )
        resource = req.json()
        snippet = resource.get("snippet") or {}
        title = str(snippet.get("title") or "")
        need(
            title and len(title) <= 100 and "<" not in title and ">" not in title,
            400,
            _google_error(400, "invalidTitle", "The request metadata specifies an invalid title"),
        )
        need(
            (resource.get("status") or {}).get("privacyStatus") in ("public", "private"),
            400,
            _google_error(400, "invalidVideoMetadata", "status.privacyStatus"),
        )
        upload_id = hashlib.sha256(self.new_id().encode()).hexdigest()[:20]
        self.sessions[upload_id] = {
            "channel": channel,
            "size": int(size),
            "type": kind,
            "resource": resource,
            "video": None,
        }
        location = f"{self.url}{self.upload_path}?uploadType=resumable&upload_id={upload_id}"
        return Reply(200, None, {"Location": location})

    def _put(self, channel: str, req: Request) -> Reply:
        session = self.sessions.get(req.query.get("upload_id", ""))
        need(
            session is not None and session["channel"] == channel,
            404,
            _google_error(404, "notFound", "no such upload session"),
        )
        assert session is not None
        if session["video"] is not None:  # asked again after it completed: the same video
            return Reply(200, session["video"])
        need(
            len(req.body) == session["size"] and req.content_type == session["type"],
            400,
            _google_error(400, "badContent", "the bytes do not match the session"),
        )
        video_id = "v" + hashlib.sha256(self.new_id().encode()).hexdigest()[:10]
        snippet = session["resource"]["snippet"]
        video = {
            "kind": "youtube#video",
            "id": video_id,
            "snippet": {**snippet, "channelId": channel},
            "status": {"uploadStatus": "uploaded", **session["resource"]["status"]},
        }
        session["video"] = video
        description = str(snippet.get("description", ""))
        self.created.append(
            Created(channel, description, description, video_id, {"title": snippet["title"]})
        )
        return Reply(200, video)


# --- Weibo ------------------------------------------------------------------------------------


class WeiboFake(FakeNetwork):
    """Open API ``2/statuses/share.json``: ``access_token`` and ``status``, form or multipart."""

    name = "weibo"

    def route(self, req: Request) -> Reply:
        fields = req.fields()
        uid = self.account_of_token.get(fields.get("access_token", ""))
        where = req.path
        need(
            uid,
            401,
            {"error": "expired_token", "error_code": 21327, "request": where},
        )
        assert uid is not None
        if (req.method, req.path) == ("POST", "/2/statuses/share.json"):
            status = fields.get("status", "")
            need(
                re.search(r"https?://", status),
                400,
                {"error": "url not in safe domain", "error_code": 10017, "request": where},
            )
            pic = req.files().get("pic")
            need(
                pic is None or pic.data[:2] == b"\xff\xd8",
                400,
                {"error": "pic must be a JPEG", "error_code": 20006, "request": where},
            )
            if any(c.account == uid and c.text == status for c in self.created):
                raise Refused(
                    400, {"error": "repeat content!", "error_code": 20019, "request": where}
                )
            sid = self.new_id() + "000"
            created = datetime.now(UTC).strftime("%a %b %d %H:%M:%S +0000 %Y")
            self.created.append(
                Created(uid, status, status, sid, {"pic": pic is not None, "time": created})
            )
            return Reply(
                200,
                {
                    "created_at": created,
                    "id": int(sid),
                    "idstr": sid,
                    "text": status,
                    "user": {"id": int(uid), "idstr": uid},
                },
            )
        if (req.method, req.path) == ("GET", "/2/statuses/user_timeline.json"):
            statuses = [
                {"id": int(c.remote_id), "idstr": c.remote_id, "text": c.text}
                for c in reversed(self.created)
                if c.account == uid
            ]
            return Reply(200, {"statuses": statuses, "total_number": len(statuses)})
        raise Refused(404, {"error": "not found", "error_code": 10014, "request": where})


# --- Mastodon ---------------------------------------------------------------------------------


class MastodonFake(FakeNetwork):
    """``/api/v2/instance``, ``/api/v2/media``, ``/api/v1/statuses`` with Idempotency-Key."""

    name = "mastodon"
    max_characters = 500

    def __init__(self, tokens: Mapping[str, str]) -> None:
        super().__init__(tokens)
        self.media: dict[str, str] = {}  # id -> owner
        self.by_key: dict[tuple[str, str], dict[str, Any]] = {}
        self.replays = 0

    def route(self, req: Request) -> Reply:
        handle = self.account_of_token.get(req.bearer())
        need(handle, 401, {"error": "The access token is invalid"})
        assert handle is not None
        if (req.method, req.path) == ("GET", "/api/v2/instance"):
            return Reply(
                200,
                {
                    "domain": "social.example",
                    "configuration": {
                        "statuses": {"max_characters": self.max_characters},
                        "media_attachments": {"supported_mime_types": ["image/jpeg"]},
                    },
                },
            )
        if (req.method, req.path) == ("POST", "/api/v2/media"):
            file = req.files().get("file")
            need(
                file is not None and file.data[:2] == b"\xff\xd8",
                422,
                {"error": "Validation failed: File content type is invalid"},
            )
            media_id = self.new_id()
            self.media[media_id] = handle
            return Reply(
                200,
                {
                    "id": media_id,
                    "type": "image",
                    "url": f"https://files.social.example/{media_id}.jpg",
                    "description": req.fields().get("description"),
                },
            )
        if (req.method, req.path) == ("POST", "/api/v1/statuses"):
            return self._status(handle, req)
        if (req.method, req.path) == ("GET", "/api/v1/accounts/verify_credentials"):
            return Reply(200, {"id": f"a-{handle}", "acct": handle.split("@")[0]})
        if req.method == "GET" and req.path == f"/api/v1/accounts/a-{handle}/statuses":
            return Reply(200, [s for (h, _), s in reversed(self.by_key.items()) if h == handle])
        raise Refused(404, {"error": "Record not found"})

    def orphans(self) -> list[str]:
        used = {m for c in self.created for m in c.extra["media_ids"]}
        return sorted(set(self.media) - used)

    def _status(self, handle: str, req: Request) -> Reply:
        key = req.header("idempotency-key")
        need(key, 422, {"error": "this run expects an Idempotency-Key on every status"})
        if (handle, key) in self.by_key:  # the documented replay: the same status again
            self.replays += 1
            return Reply(200, self.by_key[(handle, key)])
        body = req.json()
        text = str(body.get("status") or "")
        need(
            text and networks.measure("mastodon", text) <= self.max_characters,
            422,
            {"error": "Validation failed: Text character limit of 500 exceeded"},
        )
        media_ids = [str(i) for i in body.get("media_ids") or []]
        need(
            all(self.media.get(i) == handle for i in media_ids) and len(media_ids) <= 4,
            422,
            {"error": "media_ids must be this account's attachments"},
        )
        status_id = self.new_id()
        paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n"))
        status = {
            "id": status_id,
            "uri": f"https://social.example/users/{handle.split('@')[0]}/statuses/{status_id}",
            "url": f"https://social.example/@{handle.split('@')[0]}/{status_id}",
            "content": paragraphs,
            "visibility": body.get("visibility"),
            "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "media_attachments": [{"id": i} for i in media_ids],
        }
        self.by_key[(handle, key)] = status
        self.created.append(Created(handle, key, text, status_id, {"media_ids": media_ids}))
        return Reply(200, status)


# --- Bluesky ----------------------------------------------------------------------------------

_TID = re.compile(r"[234567abcdefghij][234567abcdefghijklmnopqrstuvwxyz]{12}")


class BlueskyFake(FakeNetwork):
    """A PDS over XRPC: createSession, uploadBlob, createRecord (and getRecord for ``find``).

    ``tokens`` maps each handle to its app password; the session JWTs it issues are secrets
    too (see :meth:`secrets_issued`).
    """

    name = "bluesky"

    def __init__(self, tokens: Mapping[str, str]) -> None:
        super().__init__(tokens)
        self.jwts: dict[str, str] = {}  # access JWT -> did
        self.refresh: list[str] = []
        self.blobs: set[tuple[str, str]] = set()  # (cid, did) uploaded
        self.records: dict[tuple[str, str], dict[str, Any]] = {}
        self.handle_of = {f"did:plc:{self._did(h)}": h for h in self.tokens}

    @staticmethod
    def _did(handle: str) -> str:
        return hashlib.sha256(handle.encode()).hexdigest()[:24]

    def secrets_issued(self) -> list[str]:
        return [*self.jwts, *self.refresh]

    def route(self, req: Request) -> Reply:
        nsid = req.path.removeprefix("/xrpc/")
        if (req.method, nsid) == ("POST", "com.atproto.server.createSession"):
            body = req.json()
            handle = str(body.get("identifier") or "")
            need(
                handle in self.tokens and self.tokens[handle] == body.get("password"),
                401,
                {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
            )
            did = f"did:plc:{self._did(handle)}"
            access = "eyJ.acc." + hashlib.sha256(f"{did}{self.new_id()}".encode()).hexdigest()
            refresh = "eyJ.ref." + hashlib.sha256(f"{did}{self.new_id()}".encode()).hexdigest()
            self.jwts[access] = did
            self.refresh.append(refresh)
            return Reply(
                200,
                {
                    "accessJwt": access,
                    "refreshJwt": refresh,
                    "handle": handle,
                    "did": did,
                    "active": True,
                },
            )
        caller = self.jwts.get(req.bearer())
        if (req.method, nsid) == ("GET", "com.atproto.repo.getRecord"):
            record = self.records.get((req.query.get("repo", ""), req.query.get("rkey", "")))
            need(record, 400, {"error": "RecordNotFound", "message": "Could not locate record"})
            return Reply(200, record)
        need(caller, 401, {"error": "AuthenticationRequired", "message": "Authentication Required"})
        assert caller is not None
        if (req.method, nsid) == ("POST", "com.atproto.repo.uploadBlob"):
            need(
                req.content_type == "image/jpeg" and req.body[:2] == b"\xff\xd8",
                400,
                {"error": "InvalidRequest", "message": "a JPEG body with its Content-Type"},
            )
            cid = "bafkrei" + hashlib.sha256(req.body).hexdigest()[:40]
            self.blobs.add((cid, caller))
            blob = {
                "$type": "blob",
                "ref": {"$link": cid},
                "mimeType": "image/jpeg",
                "size": len(req.body),
            }
            return Reply(200, {"blob": blob})
        if (req.method, nsid) == ("POST", "com.atproto.repo.createRecord"):
            return self._create(caller, req.json())
        raise Refused(404, {"error": "MethodNotImplemented", "message": nsid})

    def _create(self, did: str, body: Any) -> Reply:
        need(
            body.get("repo") == did and body.get("collection") == "app.bsky.feed.post",
            400,
            {"error": "InvalidRequest", "message": f"repo must be {did}, collection a post"},
        )
        rkey = str(body.get("rkey") or "")
        need(_TID.fullmatch(rkey), 400, {"error": "InvalidRequest", "message": "rkey: a TID"})
        record = body.get("record") or {}
        text = str(record.get("text") or "")
        need(
            record.get("$type") == "app.bsky.feed.post"
            and record.get("createdAt")
            and counting.graphemes(text) <= 300
            and len(text.encode()) <= 3000,
            400,
            {"error": "InvalidRequest", "message": "Invalid app.bsky.feed.post record"},
        )
        self._check_facets(text, record.get("facets") or [])
        embed = record.get("embed") or {}
        for image in (
            embed.get("images", []) if embed.get("$type") == "app.bsky.embed.images" else []
        ):
            cid = ((image.get("image") or {}).get("ref") or {}).get("$link")
            need(
                (str(cid), did) in self.blobs and "alt" in image,
                400,
                {"error": "InvalidRequest", "message": f"blob {cid} was not uploaded by {did}"},
            )
        need(
            (did, rkey) not in self.records,
            400,
            {"error": "InvalidRequest", "message": "Record already exists"},
        )
        uri = f"at://{did}/app.bsky.feed.post/{rkey}"
        self.records[(did, rkey)] = {"uri": uri, "cid": "bafyrei" + rkey, "value": record}
        self.created.append(
            Created(self.handle_of[did], rkey, text, uri, {"facets": record.get("facets", [])})
        )
        return Reply(200, {"uri": uri, "cid": "bafyrei" + rkey})

    @staticmethod
    def _check_facets(text: str, facets: list[Any]) -> None:
        """Each facet's UTF-8 byte range must cover exactly its link or ``#tag``."""
        raw = text.encode("utf-8")
        for facet in facets:
            index = facet.get("index") or {}
            start, end = index.get("byteStart"), index.get("byteEnd")
            need(
                isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(raw),
                400,
                {"error": "InvalidRequest", "message": f"facet range {index}"},
            )
            try:
                covered = raw[start:end].decode("utf-8")
            except UnicodeDecodeError:
                raise Refused(
                    400, {"error": "InvalidRequest", "message": f"{index} splits a character"}
                ) from None
            for feature in facet.get("features") or []:
                kind = str(feature.get("$type"))
                if kind == "app.bsky.richtext.facet#link":
                    ok = covered == feature.get("uri")
                else:
                    ok = kind == "app.bsky.richtext.facet#tag" and covered in (
                        f"#{feature.get('tag')}",
                        f"\uff03{feature.get('tag')}",
                    )
                need(
                    ok,
                    400,
                    {"error": "InvalidRequest", "message": f"facet {index} covers {covered!r}"},
                )


# --- all of them ------------------------------------------------------------------------------

FAKES: dict[str, Callable[..., FakeNetwork]] = {
    "facebook": FacebookFake,
    "instagram": InstagramFake,
    "threads": ThreadsFake,
    "x": XFake,
    "linkedin": LinkedInFake,
    "youtube": YouTubeFake,
    "weibo": WeiboFake,
    "mastodon": MastodonFake,
    "bluesky": BlueskyFake,
}


def counted(items: list[str]) -> dict[str, int]:
    """How many times each item occurs, only those seen more than once (duplicates)."""
    return {k: n for k, n in Counter(items).items() if n > 1}
