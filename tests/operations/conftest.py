"""Fixtures of the operations tests: real `celery` and `storyline` processes against a
PostgreSQL database and a Redis queue of the test's own, a local webhook receiver, and the
environment that points every process at them. Everything is removed afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert
from sqlalchemy.engine import Engine

from scheduler.calendar.tables import Post

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REDIS_DB = 14  # this folder's Redis database number; only the test's own queue keys are removed


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYLINE_")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


@pytest.fixture
def queue() -> Iterator[str]:
    """A queue name of the test's own on Redis; its keys are deleted afterwards."""
    import redis

    name = f"sl-ops-{uuid.uuid4().hex[:8]}"
    yield name
    client = redis.Redis.from_url(f"redis://127.0.0.1:6379/{REDIS_DB}")
    for key in client.scan_iter(f"*{name}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def redis_url() -> str:
    return f"redis://127.0.0.1:6379/{REDIS_DB}"


class Receiver:
    """A local webhook endpoint: records each POST (post id -> count), answers lookups."""

    def __init__(self, delay: float = 0.0) -> None:
        self.counts: dict[str, int] = {}
        self.delay = delay  # seconds each answer waits: keeps several workers busy at once
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                with receiver.lock:
                    receiver.counts[body["post_id"]] = receiver.counts.get(body["post_id"], 0) + 1
                time.sleep(receiver.delay)
                self._answer(200, {"id": f"w-{body['post_id']}", "url": "https://sink/x"})

            def do_GET(self) -> None:
                self._answer(404, {"error": "not found"})

            def _answer(self, status: int, data: dict[str, Any]) -> None:
                payload = json.dumps(data).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def webhook_secrets(url: str) -> dict[str, str]:
    """The webhook account ``agency``'s credentials, as variables (docs/publishers.md)."""
    return {
        "STORYLINE_SECRET_WEBHOOK_AGENCY_URL": url,
        "STORYLINE_SECRET_WEBHOOK_AGENCY_SECRET": "ops-signing-key",
        "STORYLINE_SECRET_WEBHOOK_AGENCY_LOOKUP_URL": url,
    }


def add_webhook_posts(engine: Engine, count: int, *, due: datetime) -> list[str]:
    """``count`` posts of the webhook account ``agency``, due from ``due`` on."""
    story = f"ops{uuid.uuid4().hex[:6]}"
    now = datetime.now(UTC)
    rows = [
        {
            "post_id": f"{story}/b{i:03d}/webhook/fr",
            "story": story,
            "beat": f"b{i:03d}",
            "network": "webhook",
            "market": "fr",
            "account": "agency",
            "account_name": "Agency",
            "campaign": "ops",
            "text": f"post {i}",
            "media_json": "[]",
            "content_hash": "0" * 64,
            "due_utc": due + timedelta(milliseconds=100 * i),
            "timezone": "Europe/Paris",
            "status": "planned",
            "attempts": 0,
            "created_at": now,
            "updated_at": now,
        }
        for i in range(count)
    ]
    with engine.begin() as conn:
        conn.execute(insert(Post.__table__), rows)  # type: ignore[attr-defined]
    return [r["post_id"] for r in rows]


@dataclass
class Processes:
    """Processes a test started, each in its own process group, killed at the end."""

    log_dir: Path
    started: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def start(self, args: list[str], env: dict[str, str], name: str) -> subprocess.Popen[bytes]:
        log = self.log_dir / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                args,
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started.append(proc)
        self.logs.append(log)
        return proc

    def stop(self, proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=20)
        with suppress(ProcessLookupError):  # pool children left by a dead parent
            os.killpg(proc.pid, signal.SIGKILL)

    def tails(self, lines: int = 30) -> str:
        return "\n".join(
            f"--- {log.name}\n" + "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
            for log in self.logs
        )


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    try:
        yield procs
    finally:
        for proc in procs.started:
            procs.stop(proc)


def wait_until(predicate: Callable[[], bool], timeout: float, what: str, tails: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{tails}")
