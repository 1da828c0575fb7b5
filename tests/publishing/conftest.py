"""Fixtures for the publishing tests: a calendar with an injected clock, scripted publishers,
and a local HTTP sink that records every request (the stand-in for a network)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from scheduler.app.settings import Settings
from scheduler.calendar.database import make_engine
from scheduler.calendar.tables import Post
from scheduler.core.errors import CannotCheck
from scheduler.dispatch.dispatcher import Dispatcher, Policy
from scheduler.publishers.base import Credentials, OutgoingPost, Published
from scheduler.publishers.registry import Route

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def create_schema(engine: Engine) -> None:
    """The calendar schema: the migrations when they exist, else the models' tables."""
    try:
        from scheduler.calendar import migrate

        upgrade = getattr(migrate, "upgrade", None)
    except ImportError:
        upgrade = None
    if upgrade is not None:
        upgrade(engine)
        return
    from sqlmodel import SQLModel

    SQLModel.metadata.create_all(engine)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime = T0) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@dataclass
class ScriptedPublisher:
    """Answers ``publish`` from a script (a Published, or an exception to raise) and ``find``
    from another; records every call."""

    publish_script: list[Any] = field(default_factory=list)
    find_script: list[Any] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    looked: list[str] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)
    network = "scripted"
    requires = ()

    def publish(
        self, post: OutgoingPost, credentials: Credentials, checkpoint: Any = None
    ) -> Published:
        self.sent.append(post.post_id)
        if checkpoint is not None:
            checkpoint({"step": "container", "id": "c1"})
            self.checkpoints.append(dict(post.checkpoint))
        outcome = self.publish_script.pop(0) if self.publish_script else None
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome or Published(
            remote_id=f"r-{post.post_id}", url=f"https://net/{post.post_id}"
        )

    def find(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        self.looked.append(post.post_id)
        outcome = self.find_script.pop(0) if self.find_script else CannotCheck("no script")
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


class FakeRegistry:
    """Routes every account to one scripted publisher."""

    def __init__(self, publisher: ScriptedPublisher, networks: set[str] | None = None) -> None:
        self.publisher = publisher
        self.networks = networks or set()

    def route(self, network: str, account: str) -> Route:
        return Route(self.publisher, Credentials(network, account, {"token": "s3cret"}), network)  # type: ignore[arg-type]

    #: Not live: every account can send (the claim never holds for missing credentials).
    live = False

    def uses_network(self, network: str) -> bool:
        return network in self.networks


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    create_schema(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def publisher() -> ScriptedPublisher:
    return ScriptedPublisher()


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url_override=database_url)


POLICY = Policy(lease=timedelta(seconds=60), max_attempts=3, backoff_base=10.0)


@pytest.fixture
def make_dispatcher(
    engine: Engine, settings: Settings, clock: Clock, publisher: ScriptedPublisher
) -> Callable[..., Dispatcher]:
    import random

    def make(policy: Policy = POLICY, registry: Any = None) -> Dispatcher:
        return Dispatcher(
            engine,
            settings,
            clock=clock,
            policy=policy,
            registry=registry or FakeRegistry(publisher),
            rng=random.Random(7),
            worker="test",
        )

    return make


@pytest.fixture
def dispatcher(make_dispatcher: Callable[..., Dispatcher]) -> Dispatcher:
    return make_dispatcher()


def add_posts(
    engine: Engine,
    count: int = 1,
    *,
    due: datetime = T0,
    network: str = "facebook",
    account: str = "100",
    story: str = "suv",
    status: str = "planned",
    spacing: timedelta = timedelta(0),
    market: str = "fr",
    **extra: Any,
) -> list[str]:
    """Insert ``count`` posts; returns their ids."""
    rows = []
    for i in range(count):
        beat = f"b{i:05d}"
        rows.append(
            {
                "post_id": f"{story}/{beat}/{network}/{market}",
                "story": story,
                "beat": beat,
                "network": network,
                "market": market,
                "account": account,
                "account_name": "Brand",
                "campaign": "launch",
                "text": f"post {i}",
                "media_json": json.dumps(
                    [{"file": "media/a.jpg", "alt": "A car", "kind": "image"}]
                ),
                "content_hash": "0" * 64,
                "due_utc": (due + i * spacing),
                "timezone": "Europe/Paris",
                "status": status,
                "attempts": 0,
                "created_at": (T0 - timedelta(days=1)),
                "updated_at": (T0 - timedelta(days=1)),
                **extra,
            }
        )
    if rows:
        with engine.begin() as conn:
            conn.execute(insert(Post.__table__), rows)  # type: ignore[attr-defined]
    return [r["post_id"] for r in rows]


# --- a local HTTP sink: the network of the end-to-end tests ---------------------------------


@dataclass
class Received:
    post_id: str
    at: float  # epoch seconds when the body was read
    body: dict[str, Any]
    headers: dict[str, str]
    raw: bytes


class Sink:
    """Records each webhook POST; answers ``GET ?post_id=`` lookups from what it received.

    ``delay_first`` holds the answer of the first request of a post id (matching a predicate)
    for that many seconds: the window in which a test kills or stops the worker."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.delay: Callable[[str], float] = lambda _post_id: 0.0
        self.status_for: Callable[[str, int], int] = lambda _post_id, _n: 200
        self.arrived = threading.Event()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                body = json.loads(raw)
                with sink.lock:
                    n = sum(1 for r in sink.received if r.post_id == body["post_id"])
                    status = sink.status_for(body["post_id"], n)
                    if status == 200:
                        sink.received.append(
                            Received(body["post_id"], time.time(), body, dict(self.headers), raw)
                        )
                sink.arrived.set()
                pause = sink.delay(body["post_id"])
                if pause:
                    time.sleep(pause)
                self._answer(
                    status, {"id": f"w-{body['post_id']}", "url": f"https://sink/{body['post_id']}"}
                )

            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                post_id = query.get("post_id", [""])[0]
                with sink.lock:
                    found = any(r.post_id == post_id for r in sink.received)
                if found:
                    self._answer(200, {"id": f"w-{post_id}", "url": f"https://sink/{post_id}"})
                else:
                    self._answer(404, {"error": "not found"})

            def _answer(self, status: int, data: dict[str, Any]) -> None:
                payload = json.dumps(data).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def counts(self) -> dict[str, int]:
        with self.lock:
            out: dict[str, int] = {}
            for r in self.received:
                out[r.post_id] = out.get(r.post_id, 0) + 1
            return out

    def first_arrival(self) -> dict[str, float]:
        with self.lock:
            out: dict[str, float] = {}
            for r in self.received:
                out.setdefault(r.post_id, r.at)
            return out


@pytest.fixture
def sink() -> Iterator[Sink]:
    s = Sink()
    s.thread.start()
    try:
        yield s
    finally:
        s.server.shutdown()
        s.server.server_close()
        s.thread.join(timeout=5)
