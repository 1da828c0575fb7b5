"""The chaos harness: real Celery workers and beats publishing a calendar while things break.

Shared by the long run (``python -m bench.chaos``) and the short one in ``tests/chaos/``. Every
moving part is real and local:

* :class:`Receiver` — a webhook receiver (stdlib ``ThreadingHTTPServer`` on 127.0.0.1) that
  verifies the signature, records every accepted post by post id and ``Idempotency-Key``, answers
  the documented ``GET ?post_id=`` lookup from what it recorded, and misbehaves on purpose: 5xx,
  429 + ``Retry-After``, answers held past the client's timeout, and responses dropped *after*
  the post was recorded (the case that makes a blind resend a duplicate);
* :class:`TcpProxy` — the workers reach PostgreSQL through it, so the database can be made
  unreachable for the workers without touching the shared server;
* :class:`PrivateRedis` — a ``redis-server`` of the run's own on a free port: restarting it
  restarts nobody else's broker;
* :class:`Fleet` — ``celery -A worker worker`` / ``celery -A worker beat`` subprocesses, each in
  its own process group (a SIGKILL takes the pool children with it), configured only through
  ``STORYLINE_*`` variables, as an operator would run them.

:func:`run_chaos` drives one :class:`Scenario` and returns a :class:`ChaosResult`: the verdict
per post (received exactly once, or terminal with its reason), the lateness distribution and
the timeline of injected faults. Everything it starts is stopped in ``finally``.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import re
import selectors
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from scheduler.calendar.database import from_db, make_engine
from scheduler.calendar.tables import Attempt, Post
from scheduler.publishers.webhook import SIGNATURE_HEADER, verify

ROOT = Path(__file__).resolve().parent.parent
CELERY = str(Path(sys.executable).parent / "celery")
PG_ADMIN_URL = os.environ.get(
    "STORYLINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
POST = Post.__table__  # type: ignore[attr-defined]
ATTEMPT = Attempt.__table__  # type: ignore[attr-defined]

#: States a post does not leave without an operator; anything else at the end is stuck.
SETTLED = ("published", "failed", "needs_review", "cancelled")
#: Terminal states that must carry a reason (``status_reason``) for the operator.
TERMINAL_WITH_REASON = ("failed", "needs_review")


def _now() -> float:
    return time.time()


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def free_port() -> int:
    """A port nobody listens on right now (bound then released: a tiny race we accept)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _rst_close(sock: socket.socket) -> None:
    """Close with a TCP reset: the peer sees the connection die, not a polite FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


# --- the network: a webhook receiver that misbehaves ----------------------------------------


@dataclass(frozen=True)
class Faults:
    """What share of the webhook POSTs a receiver fails, and how. The rest are accepted."""

    p_5xx: float = 0.10
    p_timeout: float = 0.05
    p_429: float = 0.03
    p_drop: float = 0.03  # accepted and recorded, then the connection is reset: no answer
    p_lookup_5xx: float = 0.02  # the lookup itself fails: the dispatcher cannot tell
    #: The answer is held past the client's timeout and the post is recorded *afterwards* (a
    #: receiver that commits slowly). Off by default: see docs/reliability.md, Open findings.
    p_slow_accept: float = 0.0
    timeout_sleep: float = 3.0  # must exceed the publisher's HTTP read timeout
    retry_after: int = 1


@dataclass(frozen=True)
class Accepted:
    post_id: str
    idempotency_key: str
    at: float  # epoch seconds when the body was read


class Receiver:
    """One account's webhook endpoint (``/hook``) and its lookup (``/hook?post_id=``)."""

    def __init__(self, account: str, secret: str, faults: Faults, seed: int) -> None:
        self.account = account
        self.secret = secret
        self.faults = faults
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.accepted: list[Accepted] = []
        self.outcomes: Counter[str] = Counter()
        self.stopping = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                return None

            def do_POST(self) -> None:
                receiver._post(self)

            def do_GET(self) -> None:
                receiver._lookup(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def _pick(self) -> str:
        f = self.faults
        with self.lock:
            x = self.rng.random()
        for name, p in (
            ("5xx", f.p_5xx),
            ("timeout", f.p_timeout),
            ("429", f.p_429),
            ("slow_accept", f.p_slow_accept),
        ):
            if x < p:
                return name
            x -= p
        return "drop" if x < f.p_drop else "ok"

    def _post(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length", "0"))
        raw = h.rfile.read(length)
        if len(raw) < length:  # the sender died mid-request: nothing arrived
            self._count("truncated")
            h.close_connection = True
            return
        if not verify(self.secret, raw, h.headers.get(SIGNATURE_HEADER, "")):
            self._count("bad_signature")
            _answer(h, 401, {"error": "bad signature"})
            return
        post_id = str(json.loads(raw)["post_id"])
        key = h.headers.get("Idempotency-Key", "")
        fault = self._pick()
        if fault == "5xx":
            self._count("5xx")
            _answer(h, 503, {"error": "injected: service unavailable"})
            return
        if fault == "429":
            self._count("429")
            _answer(
                h,
                429,
                {"error": "injected: slow down"},
                {"Retry-After": str(self.faults.retry_after)},
            )
            return
        if fault == "timeout":
            self._count("timeout")
            self.stopping.wait(self.faults.timeout_sleep)  # past the client's read timeout
            h.close_connection = True
            _rst_close(h.connection)
            return
        if fault == "slow_accept":
            self._count("slow_accept")
            self.stopping.wait(self.faults.timeout_sleep)  # the client gave up meanwhile
        with self.lock:
            first = next((a for a in self.accepted if a.post_id == post_id), None)
            self.accepted.append(Accepted(post_id, key, _now()))
        self._count("repeat" if first is not None else "accepted")
        if fault in ("drop", "slow_accept"):
            self._count("dropped_response" if fault == "drop" else "slow_accept_recorded")
            h.close_connection = True
            _rst_close(h.connection)
            return
        _answer(h, 200, {"id": f"rx-{post_id}", "url": f"{self.url}/{post_id}"})

    def _lookup(self, h: BaseHTTPRequestHandler) -> None:
        post_id = parse_qs(urlparse(h.path).query).get("post_id", [""])[0]
        if not verify(self.secret, post_id.encode(), h.headers.get(SIGNATURE_HEADER, "")):
            self._count("lookup_bad_signature")
            _answer(h, 401, {"error": "bad signature"})
            return
        with self.lock:
            fail = self.rng.random() < self.faults.p_lookup_5xx
            found = any(a.post_id == post_id for a in self.accepted)
        if fail:
            self._count("lookup_5xx")
            _answer(h, 503, {"error": "injected: lookup unavailable"})
        elif found:
            self._count("lookup_found")
            _answer(h, 200, {"id": f"rx-{post_id}", "url": f"{self.url}/{post_id}"})
        else:
            self._count("lookup_absent")
            _answer(h, 404, {"error": "no such post"})

    def _count(self, what: str) -> None:
        with self.lock:
            self.outcomes[what] += 1

    def snapshot(self) -> list[Accepted]:
        with self.lock:
            return list(self.accepted)


def _answer(
    h: BaseHTTPRequestHandler,
    status: int,
    data: dict[str, Any],
    extra: dict[str, str] | None = None,
) -> None:
    payload = json.dumps(data).encode()
    try:
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(payload)))
        for k, v in (extra or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(payload)
    except OSError:  # the client went away (a killed worker): nothing to answer
        pass


# --- the database path: a TCP proxy that can be cut ------------------------------------------


class TcpProxy:
    """127.0.0.1:<port> -> target. ``pause()`` resets every open connection and refuses new
    ones (accepted then reset at once, like a host whose service went away) until ``resume()``."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(0.2)
        self.port: int = self.listener.getsockname()[1]
        self.paused = threading.Event()
        self.closed = threading.Event()
        self.lock = threading.Lock()
        self.pairs: set[tuple[socket.socket, socket.socket]] = set()
        self.refused = 0
        self.thread = threading.Thread(target=self._accept_loop, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _accept_loop(self) -> None:
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            if self.paused.is_set():
                self.refused += 1
                _rst_close(client)
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _rst_close(client)
                continue
            pair = (client, upstream)
            with self.lock:
                self.pairs.add(pair)
            threading.Thread(target=self._pump, args=(pair,), daemon=True).start()

    def _pump(self, pair: tuple[socket.socket, socket.socket]) -> None:
        a, b = pair
        sel = selectors.DefaultSelector()
        try:
            a.setblocking(False)
            b.setblocking(False)
            sel.register(a, selectors.EVENT_READ, b)
            sel.register(b, selectors.EVENT_READ, a)
            while not self.closed.is_set():
                for key, _ in sel.select(timeout=0.5):
                    src: socket.socket = key.fileobj  # type: ignore[assignment]
                    data = src.recv(65536)
                    if not data:
                        return
                    key.data.setblocking(True)
                    key.data.sendall(data)
                    key.data.setblocking(False)
        except (OSError, ValueError):
            return
        finally:
            sel.close()
            with self.lock:
                self.pairs.discard(pair)
            _rst_close(a)
            _rst_close(b)

    def pause(self) -> int:
        """Cut every open connection and refuse new ones; returns how many were cut."""
        self.paused.set()
        with self.lock:
            pairs = list(self.pairs)
        for a, b in pairs:
            for s in (a, b):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
        return len(pairs)

    def resume(self) -> None:
        self.paused.clear()

    def close(self) -> None:
        self.closed.set()
        self.pause()
        self.listener.close()
        self.thread.join(timeout=5)


# --- the broker: a Redis server of the run's own ------------------------------------------------


class PrivateRedis:
    """``redis-server`` on a free port, no persistence: a restart loses every queued message,
    which is exactly what the database's leases must make harmless."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log_dir = log_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def url(self, db: int = 13) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> None:
        self.starts += 1
        log = self.log_dir / f"redis-{self.starts}.log"
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(self.port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--daemonize",
                    "no",
                ],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=1) as s,
            ):
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port} (see {log})")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None

    def restart(self) -> None:
        self.kill()
        self.start()


# --- the processes under test -----------------------------------------------------------------


@dataclass
class Proc:
    kind: str  # "worker" or "beat"
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    stopped: bool = False

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.popen.pid, sig)


@dataclass
class Fleet:
    """The Celery processes of one run, started from the repository root like an operator."""

    env: dict[str, str]
    data_dir: Path
    concurrency: int
    procs: list[Proc] = field(default_factory=list)
    started: Counter[str] = field(default_factory=Counter)

    def start(self, kind: str, *, with_beat: bool = False) -> Proc:
        n = self.started[kind]
        self.started[kind] += 1
        name = f"{kind}{n}"
        log = self.data_dir / f"{name}.log"
        if kind == "worker":
            args = [
                CELERY,
                "-A",
                "worker",
                "worker",
                "--loglevel=INFO",
                f"--concurrency={self.concurrency}",
                f"--hostname=chaos-{name}-{uuid.uuid4().hex[:6]}@%h",
                "--without-mingle",
                "--without-gossip",
            ]
            if with_beat:
                args += ["--beat", f"--schedule={self.data_dir / f'{name}-schedule'}"]
        else:
            args = [
                CELERY,
                "-A",
                "worker",
                "beat",
                "--loglevel=INFO",
                f"--schedule={self.data_dir / f'{name}-schedule'}",
            ]
        with log.open("wb") as out:
            popen = subprocess.Popen(
                args,
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        proc = Proc(kind, name, popen, log)
        self.procs.append(proc)
        return proc

    def running(self, kind: str) -> list[Proc]:
        return [p for p in self.procs if p.kind == kind and p.alive()]

    def kill(self, proc: Proc) -> None:
        proc.signal(signal.SIGCONT)
        proc.signal(signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(timeout=10)

    def kill_all(self) -> None:
        for proc in self.procs:
            if proc.alive():
                self.kill(proc)
            else:  # its pool children may outlive a dead parent
                proc.signal(signal.SIGKILL)

    def tails(self, lines: int = 25) -> str:
        out = []
        for proc in self.procs[-6:]:
            with contextlib.suppress(OSError):
                tail = proc.log.read_text(errors="replace").splitlines()[-lines:]
                out.append(f"--- {proc.log}\n" + "\n".join(tail))
        return "\n".join(out)


# --- one run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """One chaos run: how many posts, over how long, on which backend, with which faults."""

    posts: int = 200
    spread: float = 50.0  # seconds between the first and the last due time
    lead: float = 10.0  # seconds from the start to the first due time (workers start meanwhile)
    backend: str = "postgres"  # "postgres" (PostgreSQL + private Redis) or "sqlite" (embedded)
    accounts: int = 4  # one webhook receiver per account
    workers: int = 2
    beats: int = 2
    concurrency: int = 3
    tick: float = 0.5
    lease: float = 6.0
    backoff: float = 1.0
    max_attempts: int = 8
    kill_every: float = 6.0  # SIGKILL a worker this often (0: never)
    stop_worker: bool = True  # SIGSTOP a worker for lease + 4 s, then SIGCONT
    restart_redis: bool = True
    cut_db: bool = True  # pg_terminate_backend on every connection to the run's database
    outage: float = 12.0  # seconds the database is unreachable (0: never)
    restart_beat: bool = True
    settle: float = 45.0  # seconds after the last fault / due time for the calendar to settle
    faults: Faults = field(default_factory=Faults)
    seed: int = 8

    @property
    def http_timeout(self) -> float:
        """The dispatcher's HTTP read timeout: a third of the lease, at most 20 s."""
        return min(20.0, self.lease / 3)


@dataclass(frozen=True)
class Injected:
    t: float  # seconds since the run started
    at: float  # epoch seconds
    what: str


@dataclass
class Verdict:
    post_id: str
    status: str
    reason: str | None
    received: int
    due: float
    first_received: float | None


@dataclass
class ChaosResult:
    scenario: Scenario
    started: float
    finished: float
    verdicts: list[Verdict]
    injected: list[Injected]
    receiver_outcomes: Counter[str]
    settled_in: float | None  # seconds after the last due time, None if it never settled
    workdir: Path
    proxy_refused: int = 0
    logs: str = ""
    #: The machine's 1/5/15-minute load averages at the end: lateness means little without it.
    loadavg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    #: Each post left in flight by a dead or paused worker, shortest recovery first.
    recoveries: list[Recovery] = field(default_factory=list)

    def outage(self) -> tuple[float, float] | None:
        """The database outage, as epoch seconds (start, end), if there was one."""
        down = [i.at for i in self.injected if i.what.startswith("PostgreSQL unreachable")]
        up = [i.at for i in self.injected if i.what.startswith("PostgreSQL reachable")]
        return (down[0], up[0]) if down and up else None

    def recoveries_outside_outage(self) -> list[Recovery]:
        """Recoveries that did not have to wait for the database to come back."""
        window = self.outage()
        if window is None:
            return list(self.recoveries)
        return [
            r for r in self.recoveries if r.lost_at + r.seconds < window[0] or r.lost_at > window[1]
        ]

    @property
    def states(self) -> Counter[str]:
        return Counter(v.status for v in self.verdicts)

    @property
    def duplicates(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.received > 1]

    @property
    def lost(self) -> list[Verdict]:
        """Not received and not terminal with a reason (stuck, or "published" but never seen)."""
        return [
            v
            for v in self.verdicts
            if v.received == 0 and not (v.status in TERMINAL_WITH_REASON and v.reason)
        ]

    @property
    def mismatched(self) -> list[Verdict]:
        """Received, yet the calendar says otherwise: failed (an operator retry would send it
        again) or not settled at all."""
        return [
            v
            for v in self.verdicts
            if v.received == 1 and v.status not in ("published", "needs_review")
        ]

    @property
    def lateness(self) -> list[float]:
        return sorted(v.first_received - v.due for v in self.verdicts if v.first_received)

    def problems(self) -> list[str]:
        out = []
        for name, items in (
            ("duplicate", self.duplicates),
            ("lost", self.lost),
            ("received but recorded as", self.mismatched),
        ):
            for v in items[:20]:
                out.append(
                    f"{name}: {v.post_id} status={v.status} received={v.received} "
                    f"reason={v.reason!r}"
                )
        early = [v for v in self.verdicts if v.first_received and v.first_received < v.due - 0.5]
        out += [f"early: {v.post_id} received before it was due" for v in early[:20]]
        return out

    def explain(self) -> str:
        """What a failing assertion shows: the report, the workdir and the workers' last lines."""
        return f"\n{self.markdown()}\nworkdir: {self.workdir}\n{self.logs}"

    def markdown(self, title: str = "Chaos run") -> str:
        s = self.scenario
        states = self.states
        lines = [
            f"## {title}",
            "",
            f"- {s.posts} posts due over {s.spread:.0f} s on **{s.backend}**"
            + (" + private Redis" if s.backend == "postgres" else " + SQLite broker")
            + f"; {s.workers} workers (concurrency {s.concurrency}) + "
            + (f"{s.beats} beats" if s.backend == "postgres" else "1 beat")
            + f"; lease {s.lease:g} s, tick {s.tick:g} s, HTTP timeout {s.http_timeout:.1f} s,"
            f" {s.accounts} webhook receivers",
            f"- wall time {self.finished - self.started:.0f} s; "
            + (
                f"settled {self.settled_in:.0f} s after the last due time"
                if self.settled_in is not None
                else "**did not settle before the deadline**"
            ),
            f"- started {datetime.fromtimestamp(self.started, UTC):%Y-%m-%d %H:%M:%S} UTC on "
            f"{os.cpu_count()} cores; load average at the end "
            + "/".join(f"{x:.1f}" for x in self.loadavg)
            + " (1/5/15 min)",
            "",
            "| final state | posts |",
            "|---|---:|",
        ]
        lines += [f"| {k} | {states[k]} |" for k in sorted(states)]
        reasons = Counter(
            _reason_kind(v.reason) for v in self.verdicts if v.status in TERMINAL_WITH_REASON
        )
        lines += [
            "",
            f"- **duplicates: {len(self.duplicates)}** (a post id accepted twice by its receiver)",
            f"- **lost: {len(self.lost)}** (never received and not terminal with a reason)",
            f"- received but not recorded as published/needs_review: {len(self.mismatched)}",
            f"- received exactly once: {sum(1 for v in self.verdicts if v.received == 1)}",
        ]
        if reasons:
            lines.append(
                "- reasons of terminal non-published posts: "
                + "; ".join(f"{k} ×{n}" for k, n in reasons.most_common())
            )
        lat = self.lateness
        if lat:
            lines += [
                "",
                "| lateness (received − due) | p50 | p90 | p99 | max |",
                "|---|---:|---:|---:|---:|",
                "| seconds | "
                + " | ".join(f"{percentile(lat, q):.2f}" for q in (50, 90, 99, 100))
                + " |",
            ]
        rec = [r.seconds for r in self.recoveries]
        if rec:
            outside = [r.seconds for r in self.recoveries_outside_outage()]
            across = len(rec) - len(outside)
            lines += [
                "",
                f"Posts left in flight by a killed or paused worker: {len(rec)}; settled by "
                f"reconciliation after p50 {percentile(rec, 50):.1f} s, max {rec[-1]:.1f} s, "
                "counted from the lost attempt's start (target: within 60 s, docs/reliability.md)"
                + (
                    f"; {across} of them were stuck across the database outage, the others "
                    f"settled within {max(outside, default=0.0):.1f} s."
                    if across
                    else "."
                ),
            ]
        ro = self.receiver_outcomes
        lines += [
            "",
            "Receivers (all accounts): "
            + ", ".join(f"{k} {ro[k]}" for k in sorted(ro))
            + (f"; proxy refused {self.proxy_refused} connections" if self.proxy_refused else ""),
            "",
            "| t (s) | UTC | injected |",
            "|---:|---|---|",
        ]
        kills = [i for i in self.injected if i.what.startswith("SIGKILL worker")]
        others = [i for i in self.injected if not i.what.startswith("SIGKILL worker")]
        for i in others:
            lines.append(f"| {i.t:.1f} | {_utc(i.at)} | {i.what} |")
        if kills:
            when = ", ".join(f"{i.t:.0f}" for i in kills)
            lines.append(
                f"| {kills[0].t:.1f}–{kills[-1].t:.1f} | {_utc(kills[0].at)}–{_utc(kills[-1].at)}"
                f" | SIGKILL a worker (whole process group) and start a new one, ×{len(kills)}"
                f" ({sum('mid-publish' in i.what for i in kills)} caught mid-publish)"
                f" (t = {when}) |"
            )
        problems = self.problems()
        lines += ["", "Verdict: " + ("**PASS**" if not problems else "**FAIL**")]
        lines += [f"- {p}" for p in problems]
        return "\n".join(lines) + "\n"


def _reason_kind(reason: str | None) -> str:
    """The gist of a status reason, for grouping: its words before the first colon."""
    if not reason:
        return "(no reason)"
    gist, previous = reason, ""
    while gist != previous:  # nested parentheses, innermost first
        previous, gist = gist, re.sub(r"\s*\([^()]*\)", "", gist)
    return gist.split(":", 1)[0].strip()[:70]


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(q / 100 * len(sorted_values) + 0.4999))
    return sorted_values[min(rank, len(sorted_values)) - 1]


# --- the calendar ------------------------------------------------------------------------------


@contextlib.contextmanager
def pg_database() -> Iterator[tuple[str, str]]:
    """A database of the run's own on the shared server; dropped (connections forced) after."""
    name = f"sl_chaos_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def terminate_connections(db_name: str) -> int:
    """Cut every connection to ``db_name`` from the server side; returns how many."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            return len(
                conn.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = :d AND pid <> pg_backend_pid()"
                    ),
                    {"d": db_name},
                ).all()
            )
    finally:
        admin.dispose()


def schedule_posts(engine: Engine, scenario: Scenario, first_due: float) -> dict[str, float]:
    """Insert the calendar: post i of ``n`` is due ``i/n`` of the spread after ``first_due``,
    spread round-robin over the webhook accounts. Returns post id -> due (epoch seconds)."""
    rows: list[dict[str, Any]] = []
    created = datetime.now(UTC) - timedelta(days=1)
    n = scenario.posts
    for i in range(n):
        due = first_due + (scenario.spread * i / max(1, n - 1))
        k = i % scenario.accounts
        beat = f"p{i:05d}"
        rows.append(
            {
                "post_id": f"chaos/{beat}/webhook/m{k}",
                "story": "chaos",
                "beat": beat,
                "network": "webhook",
                "market": f"m{k}",
                "account": f"chaos{k}",
                "account_name": f"Chaos {k}",
                "campaign": "chaos",
                "text": f"Chaos post {i}: every post exactly once.",
                "media_json": "[]",
                "content_hash": "0" * 64,
                "due_utc": datetime.fromtimestamp(due, UTC),
                "timezone": "UTC",
                "status": "planned",
                "attempts": 0,
                "created_at": created,
                "updated_at": created,
            }
        )
    with engine.begin() as conn:
        for start in range(0, len(rows), 500):
            conn.execute(insert(POST), rows[start : start + 500])
    return {r["post_id"]: r["due_utc"].timestamp() for r in rows}


def count_states(engine: Engine) -> Counter[str]:
    """Posts per state: the cheap question the driver asks twice a second."""
    with engine.connect() as conn:
        rows = conn.execute(select(POST.c.status, func.count()).group_by(POST.c.status)).all()
    return Counter({str(status): int(n) for status, n in rows})


def read_states(engine: Engine) -> dict[str, tuple[str, str | None]]:
    with engine.connect() as conn:
        rows = conn.execute(select(POST.c.post_id, POST.c.status, POST.c.status_reason)).all()
    return {r.post_id: (r.status, r.status_reason) for r in rows}


@dataclass(frozen=True)
class Recovery:
    """A post a worker left in flight: when its lost attempt started, and how long it stayed
    stuck (until the reconciliation that settled it ended)."""

    lost_at: float  # epoch seconds
    seconds: float


def recovery_times(engine: Engine) -> list[Recovery]:
    """Seconds from the start of each attempt a worker never finished (SIGKILL, SIGSTOP past the
    lease: the tick marks it ``worker_lost``) to the end of the reconciliation that settled it
    (found, not found, cannot check): how long a post stays stuck (docs/reliability.md: within
    60 s)."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                ATTEMPT.c.post_id, ATTEMPT.c.outcome, ATTEMPT.c.started_at, ATTEMPT.c.finished_at
            ).order_by(ATTEMPT.c.post_id, ATTEMPT.c.id)
        ).all()
    out: list[Recovery] = []
    lost_since: dict[str, datetime] = {}
    for r in rows:
        started, finished = from_db(r.started_at), from_db(r.finished_at)
        if r.outcome == "worker_lost" and started is not None:
            lost_since.setdefault(r.post_id, started)
        elif r.outcome in ("found", "not_found", "cannot_check") and finished is not None:
            since = lost_since.pop(r.post_id, None)
            if since is not None:
                out.append(Recovery(since.timestamp(), (finished - since).total_seconds()))
    return sorted(out, key=lambda r: r.seconds)


def in_flight_worker_pids(engine: Engine) -> set[int]:
    """Pids of pool processes with a publish under way (their worker is the best SIGSTOP
    target: it holds a lease)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT worker FROM attempt WHERE outcome = 'sending' AND finished_at IS NULL")
        ).all()
    out = set()
    for (worker,) in rows:
        with contextlib.suppress(ValueError, AttributeError, IndexError):
            out.add(int(str(worker).rsplit(":", 1)[1]))
    return out


# --- the driver ----------------------------------------------------------------------------------


class _Run:
    """State of one run between set-up and tear-down."""

    def __init__(self, scenario: Scenario, workdir: Path, log: Callable[[str], None]) -> None:
        self.s = scenario
        self.workdir = workdir
        self.log = log
        self.t0 = _now()
        self.injected: list[Injected] = []

    def note(self, what: str) -> None:
        at = _now()
        self.injected.append(Injected(at - self.t0, at, what))
        self.log(f"[chaos +{at - self.t0:6.1f}s] {what}")


def _timeline(s: Scenario) -> list[tuple[float, str]]:
    """When each fault fires, in seconds from the start: spread across the due times so each
    one meets posts in every phase (due, queued, publishing, retrying)."""
    first, last = s.lead, s.lead + s.spread
    events: list[tuple[float, str]] = []
    if s.kill_every > 0:
        t = first + 2.0
        while t < last + s.kill_every:
            events.append((t, "kill_worker"))
            t += s.kill_every
    if s.stop_worker:
        events.append((first + 0.2 * s.spread, "stop_worker"))
    if s.backend == "postgres":
        if s.restart_redis:
            events.append((first + 0.3 * s.spread, "restart_redis"))
        if s.cut_db:
            events.append((first + 0.45 * s.spread, "cut_db"))
        if s.outage > 0:
            events.append((first + 0.55 * s.spread, "db_down"))
            events.append((first + 0.55 * s.spread + s.outage, "db_up"))
        if s.restart_beat:
            events.append((first + 0.8 * s.spread, "restart_beat"))
    return sorted(events)


def run_chaos(
    scenario: Scenario,
    *,
    workdir: Path | None = None,
    log: Callable[[str], None] = lambda m: print(m, file=sys.stderr, flush=True),
) -> ChaosResult:
    """Run ``scenario`` end to end and return what every receiver and the calendar say."""
    s = scenario
    if s.faults.timeout_sleep <= s.http_timeout:
        raise ValueError(
            f"Faults.timeout_sleep ({s.faults.timeout_sleep:g} s) must exceed the publisher's "
            f"HTTP timeout ({s.http_timeout:g} s = lease / 3), or a 'timeout' is just slow"
        )
    own_tmp = None
    if workdir is None:
        own_tmp = tempfile.TemporaryDirectory(prefix="storyline-chaos-")
        workdir = Path(own_tmp.name)
    data_dir = workdir / "data"
    data_dir.mkdir(parents=True, exist_ok=True)
    receivers = [
        Receiver(f"chaos{k}", f"chaos-secret-{k}-{uuid.uuid4().hex}", s.faults, s.seed * 100 + k)
        for k in range(s.accounts)
    ]
    stack = contextlib.ExitStack()
    fleet: Fleet | None = None
    proxy: TcpProxy | None = None
    redis: PrivateRedis | None = None
    engine: Engine | None = None
    run = _Run(s, workdir, log)
    try:
        for r in receivers:
            r.start()
            stack.callback(r.close)
        if s.backend == "postgres":
            db_name, direct_url = stack.enter_context(pg_database())
            server = make_url(direct_url)
            proxy = TcpProxy((server.host or "127.0.0.1", server.port or 5432))
            proxy.start()
            stack.callback(proxy.close)
            # The workers (only they) reach the server through the proxy the outage pauses.
            worker_db_url = server.set(host="127.0.0.1", port=proxy.port).render_as_string(
                hide_password=False
            )
            redis = PrivateRedis(data_dir)
            redis.start()
            stack.callback(redis.kill)
            broker_url: str | None = redis.url(13)
        elif s.backend == "sqlite":
            db_name = ""
            direct_url = worker_db_url = f"sqlite:///{data_dir / 'storyline.db'}"
            broker_url = None  # the embedded default: sqla+sqlite in the data dir
        else:
            raise ValueError(f"unknown backend {s.backend!r}: postgres or sqlite")
        engine = make_engine(direct_url)
        from scheduler.calendar.migrate import upgrade

        upgrade(engine)
        env = {k: v for k, v in os.environ.items() if not k.startswith("STORYLINE_")}
        env.update(
            STORYLINE_DATA_DIR=str(data_dir),
            STORYLINE_DATABASE_URL=worker_db_url,
            STORYLINE_TICK_SECONDS=str(s.tick),
            STORYLINE_LEASE_SECONDS=str(s.lease),
            STORYLINE_BACKOFF_SECONDS=str(s.backoff),
            STORYLINE_MAX_ATTEMPTS=str(s.max_attempts),
            STORYLINE_QUEUE=f"chaos-{uuid.uuid4().hex[:8]}",
            PYTHONUNBUFFERED="1",
        )
        if broker_url:
            env["STORYLINE_BROKER_URL"] = broker_url
        for r in receivers:
            prefix = f"STORYLINE_SECRET_WEBHOOK_{r.account.upper()}_"
            env[prefix + "URL"] = r.url
            env[prefix + "SECRET"] = r.secret
            env[prefix + "LOOKUP_URL"] = r.url
        fleet = Fleet(env, data_dir, s.concurrency)
        stack.callback(fleet.kill_all)

        run.t0 = _now()
        due = schedule_posts(engine, s, run.t0 + s.lead)
        last_due = max(due.values())
        for _ in range(s.workers):
            fleet.start("worker")
        beats = s.beats if s.backend == "postgres" else 1
        for _ in range(beats):
            fleet.start("beat")
        log(
            f"[chaos] {s.posts} posts due from +{s.lead:.0f}s to +{s.lead + s.spread:.0f}s; "
            f"workdir {workdir}"
        )

        events = _timeline(s)
        rng = random.Random(s.seed)
        pending_cont: list[tuple[float, Proc]] = []
        last_fault = max((t for t, _ in events), default=0.0)
        stop_patience = next((t for t, w in events if w == "stop_worker"), 0.0) + 5.0
        deadline = run.t0 + max(s.lead + s.spread, last_fault) + s.settle
        settled_at: float | None = None
        counts: Counter[str] = Counter()
        last_progress = run.t0
        while True:
            now = _now()
            while events and events[0][0] <= now - run.t0:
                at, what = events.pop(0)
                if (
                    what == "stop_worker"
                    and at < stop_patience
                    and not _someone_publishing(fleet, engine)
                ):
                    # Wait (a few seconds at most) for a worker caught mid-publish: stopping
                    # one that holds a lease is the case the zombie check exists for.
                    events.insert(0, (at + 0.25, what))
                    break
                _inject(what, run, fleet, proxy, redis, db_name, engine, rng, pending_cont)
            for item in list(pending_cont):
                if item[0] <= now:
                    pending_cont.remove(item)
                    item[1].signal(signal.SIGCONT)
                    item[1].stopped = False
                    run.note(
                        f"SIGCONT {item[1].name} (stopped {s.lease + 4:.0f} s, past its lease)"
                    )
            try:
                counts = count_states(engine)
            except SQLAlchemyError as exc:
                log(f"[chaos] cannot read the calendar right now: {type(exc).__name__}")
            busy = sum(n for st, n in counts.items() if st not in SETTLED)
            if not events and not pending_cont and now > last_due and busy == 0 and counts:
                settled_at = now
                break
            if now > deadline:
                log(f"[chaos] deadline reached with {busy} posts not settled")
                break
            if now - last_progress >= 30:
                last_progress = now
                log(
                    f"[chaos +{now - run.t0:6.1f}s] "
                    + ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))
                )
            time.sleep(0.5)
        time.sleep(1.0)  # late stragglers (a zombie waking up) would arrive now
        states = read_states(engine)
        recoveries = recovery_times(engine)
        fleet.kill_all()
        time.sleep(0.2)
        accepted: dict[str, list[float]] = {}
        outcomes: Counter[str] = Counter()
        for r in receivers:
            for a in r.snapshot():
                accepted.setdefault(a.post_id, []).append(a.at)
            outcomes.update(r.outcomes)
        verdicts = [
            Verdict(
                post_id=pid,
                status=states.get(pid, ("missing", None))[0],
                reason=states.get(pid, ("missing", None))[1],
                received=len(accepted.get(pid, [])),
                due=due_at,
                first_received=min(accepted[pid]) if pid in accepted else None,
            )
            for pid, due_at in sorted(due.items())
        ]
        stray = set(accepted) - set(due)
        if stray:
            log(f"[chaos] receivers got posts that are not in the calendar: {sorted(stray)[:5]}")
        return ChaosResult(
            scenario=s,
            started=run.t0,
            finished=_now(),
            verdicts=verdicts,
            injected=run.injected,
            receiver_outcomes=outcomes,
            settled_in=(settled_at - last_due) if settled_at is not None else None,
            workdir=workdir,
            proxy_refused=proxy.refused if proxy else 0,
            logs=fleet.tails(),
            loadavg=os.getloadavg(),
            recoveries=recoveries,
        )
    finally:
        if fleet is not None:
            fleet.kill_all()
        if engine is not None:
            engine.dispose()
        from scheduler.calendar.database import dispose_all

        dispose_all()
        stack.close()
        if own_tmp is not None:
            own_tmp.cleanup()


def _inject(
    what: str,
    run: _Run,
    fleet: Fleet,
    proxy: TcpProxy | None,
    redis: PrivateRedis | None,
    db_name: str,
    engine: Engine,
    rng: random.Random,
    pending_cont: list[tuple[float, Proc]],
) -> None:
    s = run.s
    if what == "kill_worker":
        candidates = [p for p in fleet.running("worker") if not p.stopped]
        # Prefer a worker with a publish in flight: a death mid-send is the case that matters.
        mid = [p for p in candidates if p.pid in _publishing_groups(engine)]
        if candidates:
            victim = rng.choice(mid or candidates)
            fleet.kill(victim)
            new = fleet.start("worker")
            run.note(
                f"SIGKILL worker {victim.name}{' (mid-publish)' if mid else ''}; started {new.name}"
            )
    elif what == "stop_worker":
        candidates = [p for p in fleet.running("worker") if not p.stopped]
        busy: set[int] = set()
        with contextlib.suppress(SQLAlchemyError):
            busy = in_flight_worker_pids(engine)
        holding = [p for p in candidates if any(_group_of(pid) == p.pid for pid in busy)]
        sleeper: Proc | None = rng.choice(holding or candidates) if candidates else None
        if sleeper is not None:
            sleeper.signal(signal.SIGSTOP)
            sleeper.stopped = True
            pending_cont.append((_now() + s.lease + 4, sleeper))
            # Keep the fleet at strength while it sleeps, as an orchestrator would.
            new = fleet.start("worker")
            run.note(
                f"SIGSTOP {sleeper.name}"
                + (" (mid-publish)" if holding else "")
                + f" for {s.lease + 4:.0f} s (lease {s.lease:g} s); started {new.name}"
            )
    elif what == "restart_redis" and redis is not None:
        redis.restart()
        run.note(
            f"Redis restarted (SIGKILL, no persistence: every queued message lost), "
            f"port {redis.port}"
        )
    elif what == "cut_db":
        n = terminate_connections(db_name)
        run.note(f"pg_terminate_backend on every connection to the database ({n} cut)")
    elif what == "db_down" and proxy is not None:
        n = proxy.pause()
        run.note(
            f"PostgreSQL unreachable for {s.outage:.0f} s (proxy resets {n} open "
            "connections and refuses new ones)"
        )
    elif what == "db_up" and proxy is not None:
        proxy.resume()
        run.note("PostgreSQL reachable again")
    elif what == "restart_beat":
        beats = fleet.running("beat")
        if beats:
            victim = beats[0]
            fleet.kill(victim)
            new = fleet.start("beat")
            run.note(f"SIGKILL beat {victim.name}; started {new.name}")


def _publishing_groups(engine: Engine) -> set[int]:
    """Process groups (= worker main pids) with a publish in flight right now."""
    try:
        busy = in_flight_worker_pids(engine)
    except SQLAlchemyError:
        return set()
    return {g for g in (_group_of(pid) for pid in busy) if g is not None}


def _someone_publishing(fleet: Fleet, engine: Engine) -> bool:
    groups = _publishing_groups(engine)
    return any(p.pid in groups for p in fleet.running("worker"))


def _group_of(pid: int) -> int | None:
    try:
        return os.getpgid(pid)
    except OSError:
        return None
