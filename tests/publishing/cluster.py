"""Real Celery workers for the end-to-end tests: started as ``celery -A worker worker`` from the
repository root, configured only through environment variables, killed in ``finally``."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from scheduler.calendar.tables import Attempt, Post

from .conftest import Sink, add_posts

ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).parent / "celery")
POST = Post.__table__  # type: ignore[attr-defined]
ATTEMPT = Attempt.__table__  # type: ignore[attr-defined]


@dataclass
class Cluster:
    """Everything the workers of one test share: data dir, database, broker, queue, sink."""

    data_dir: Path
    database_url: str
    broker_url: str | None
    sink: Sink
    lease_seconds: float = 6.0
    tick_seconds: float = 0.5
    queue: str = field(default_factory=lambda: f"sl-e2e-{uuid.uuid4().hex[:8]}")
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("STORYLINE_")}
        env.update(
            STORYLINE_DATA_DIR=str(self.data_dir),
            STORYLINE_DATABASE_URL=self.database_url,
            STORYLINE_TICK_SECONDS=str(self.tick_seconds),
            STORYLINE_LEASE_SECONDS=str(self.lease_seconds),
            STORYLINE_BACKOFF_SECONDS="1",
            STORYLINE_QUEUE=self.queue,
            STORYLINE_SECRET_WEBHOOK_AGENCY_URL=self.sink.url,
            STORYLINE_SECRET_WEBHOOK_AGENCY_SECRET="e2e-signing-key",
            STORYLINE_SECRET_WEBHOOK_AGENCY_LOOKUP_URL=self.sink.url,
            PYTHONUNBUFFERED="1",
        )
        if self.broker_url:
            env["STORYLINE_BROKER_URL"] = self.broker_url
        return env

    def start_worker(self, *, beat: bool = True, concurrency: int = 2) -> subprocess.Popen[bytes]:
        n = len(self.workers)
        log = self.data_dir / f"worker{n}.log"
        args = [
            CELERY,
            "-A",
            "worker",
            "worker",
            "--loglevel=INFO",
            f"--concurrency={concurrency}",
            f"--hostname=w{n}-{self.queue}@%h",
            "--without-mingle",
            "--without-gossip",
        ]
        if beat:
            args.append("--beat")
        with log.open("wb") as out:
            proc = subprocess.Popen(
                args,
                cwd=ROOT,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: kill the pool children too
            )
        self.workers.append(proc)
        self.logs.append(log)
        return proc

    def kill_all(self) -> None:
        for proc in self.workers:
            signal_group(proc, signal.SIGCONT)
            signal_group(proc, signal.SIGKILL)
            with suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=10)

    def log_tail(self, lines: int = 40) -> str:
        out = []
        for log in self.logs:
            text = log.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {log.name}\n" + "\n".join(text))
        return "\n".join(out)


def signal_group(proc: subprocess.Popen[bytes], sig: int) -> None:
    with suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


@contextmanager
def running(cluster: Cluster) -> Iterator[Cluster]:
    try:
        yield cluster
    finally:
        cluster.kill_all()


def schedule(engine: Engine, count: int, *, start_in: float = 3.0, every: float = 0.2) -> list[str]:
    """``count`` webhook posts, the first due ``start_in`` seconds from now."""
    first = datetime.now(UTC) + timedelta(seconds=start_in)
    return add_posts(
        engine,
        count,
        due=first,
        network="webhook",
        account="agency",
        story=f"e2e{uuid.uuid4().hex[:6]}",
        spacing=timedelta(seconds=every),
    )


def statuses(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {r.post_id: r.status for r in conn.execute(select(POST.c.post_id, POST.c.status))}


def wait_for(predicate: Callable[[], bool], timeout: float, cluster: Cluster, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{cluster.log_tail()}")


def wait_all_published(engine: Engine, ids: list[str], timeout: float, cluster: Cluster) -> None:
    def done() -> bool:
        st = statuses(engine)
        return all(st.get(p) == "published" for p in ids)

    try:
        wait_for(done, timeout, cluster, "every post to be published")
    except AssertionError as exc:
        st = statuses(engine)
        pending = {p: st.get(p) for p in ids if st.get(p) != "published"}
        raise AssertionError(f"{exc}\nnot published: {pending}") from None


def due_times(engine: Engine) -> dict[str, datetime]:
    with engine.connect() as conn:
        return {r.post_id: r.due_utc for r in conn.execute(select(POST.c.post_id, POST.c.due_utc))}


def assert_exactly_once_on_time(engine: Engine, sink: Sink, ids: list[str]) -> None:
    counts = sink.counts()
    assert {p: counts.get(p, 0) for p in ids} == dict.fromkeys(ids, 1)
    due = due_times(engine)
    for post_id, at in sink.first_arrival().items():
        due_at = due[post_id]
        if due_at.tzinfo is None:
            due_at = due_at.replace(tzinfo=UTC)
        assert at >= due_at.timestamp(), f"{post_id} arrived before it was due"


def attempt_outcomes(engine: Engine, post_id: str) -> list[str]:
    with engine.connect() as conn:
        q = select(ATTEMPT.c.outcome).where(ATTEMPT.c.post_id == post_id).order_by(ATTEMPT.c.id)
        return list(conn.execute(q).scalars())


def sending_worker_pid(engine: Engine, post_id: str) -> int:
    with engine.connect() as conn:
        q = select(ATTEMPT.c.worker).where(ATTEMPT.c.post_id == post_id).order_by(ATTEMPT.c.id)
        worker = conn.execute(q).scalars().first()
    assert worker is not None
    return int(worker.rsplit(":", 1)[1])
