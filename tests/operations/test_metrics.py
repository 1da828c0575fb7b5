"""The worker's Prometheus endpoint under a prefork pool: two child processes publish, the
main process serves, and the numbers scraped are the calendar's."""

from __future__ import annotations

import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert, select

from scheduler.calendar.database import make_engine
from scheduler.calendar.migrate import upgrade
from scheduler.calendar.tables import AccountToken, Attempt, Post
from scheduler.dispatch.sealing import Sealer, new_key
from scheduler.publishers.auth.base import TokenSet

from .conftest import (
    BIN,
    Processes,
    Receiver,
    add_webhook_posts,
    base_env,
    closed_port,
    wait_until,
    webhook_secrets,
)

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

POSTS = 6


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of the endpoint: (name, sorted labels) -> value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        body = answer.read().decode()
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }


def test_a_prefork_worker_serves_the_calendars_numbers(
    pg_url: str, redis_url: str, queue: str, tmp_path: Path, processes: Processes
) -> None:
    receiver = Receiver(delay=0.4)  # each answer takes a while: both children get posts
    key = new_key()
    sealer = Sealer([key])  # a stored token the worker's key opens (else it refuses to start)
    engine = make_engine(pg_url)
    try:
        upgrade(engine)
        now = datetime.now(UTC)
        with engine.begin() as conn:
            conn.execute(
                insert(AccountToken.__table__),  # type: ignore[attr-defined]
                [{"network": "x", "account": "BrandFR", "sealed": sealer.seal(TokenSet("t")),
                  "updated_at": now, "expires_at": now + timedelta(hours=2)}],
            )  # fmt: skip
        ids = add_webhook_posts(engine, POSTS, due=now + timedelta(seconds=4))
        port = closed_port()
        env = base_env(
            STORYLINE_DATA_DIR=str(tmp_path),
            STORYLINE_DATABASE_URL=pg_url,
            STORYLINE_BROKER_URL=redis_url,
            STORYLINE_QUEUE=queue,
            STORYLINE_TICK_SECONDS="0.5",
            STORYLINE_PUBLISH_BATCH="1",
            STORYLINE_METRICS_PORT=str(port),
            STORYLINE_SECRET_KEY=key,
            **webhook_secrets(receiver.url),
        )
        worker = processes.start(
            [
                str(BIN / "celery"), "-A", "worker", "worker", "--beat", "--pool=processes",
                "--concurrency=2", f"--schedule={tmp_path / 'schedule'}", "--without-mingle",
                "--without-gossip", f"--hostname=metrics-{queue}@%h",
            ],
            env,
            "worker",
        )  # fmt: skip

        def all_published() -> bool:
            with engine.connect() as conn:
                states = conn.execute(select(Post.status).where(Post.post_id.in_(ids))).scalars()  # type: ignore[attr-defined]
                return list(states) == ["published"] * POSTS

        wait_until(all_published, 25, "every post published", processes.tails())
        with engine.connect() as conn:
            workers = set(conn.execute(select(Attempt.worker)).scalars())
        assert len(workers) == 2, (
            f"both pool children should have published: {workers}\n{processes.tails(80)}"
        )

        samples = scrape(port)
        net = (("network", "webhook"),)
        assert samples[("storyline_attempts_total", (*net, ("outcome", "published")))] == POSTS
        assert samples[("storyline_publish_lateness_seconds_count", net)] == POSTS
        # The lateness observed is the calendar's: published_at - due_utc of each post (the
        # observer reads the clock a moment after the row is written).
        with engine.connect() as conn:
            rows = conn.execute(
                select(Post.published_at, Post.due_utc).where(Post.post_id.in_(ids))  # type: ignore[attr-defined]
            ).all()
        lateness = [(published - due).total_seconds() for published, due in rows]
        assert min(lateness) >= 0
        observed = samples[("storyline_publish_lateness_seconds_sum", net)]
        assert sum(lateness) <= observed < sum(lateness) + 0.5 * POSTS
        assert (
            samples[("storyline_publish_lateness_seconds_bucket", (("le", "60.0"), *net))] == POSTS
        )
        assert samples[("storyline_posts", (("state", "published"),))] == POSTS
        assert samples[("storyline_posts", (("state", "planned"),))] == 0
        assert samples[("storyline_calendar_up", ())] == 1
        assert samples[("storyline_tick_duration_seconds_count", ())] >= 2
        expiry = samples[
            ("storyline_token_seconds_to_expiry", (("account", "BrandFR"), ("network", "x")))
        ]
        assert 7000 < expiry <= 7200
        assert receiver.counts == dict.fromkeys(ids, 1)
        # The sums came from several processes' files: each pool child wrote its own.
        files = list((tmp_path / "metrics" / str(worker.pid)).glob("counter_*.db"))
        assert len(files) >= 2, files
    finally:
        engine.dispose()
        receiver.close()


def test_one_process_serves_its_own_events_and_the_calendars_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default thread pool: one process records and serves (multiprocess mode still)."""
    from prometheus_client import REGISTRY, values

    from scheduler.dispatch import observe
    from scheduler.dispatch.observe import AttemptEnded
    from scheduler.interfaces.metrics import WorkerMetrics

    monkeypatch.setattr(values, "ValueClass", values.ValueClass)  # restored afterwards
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # restored (removed) afterwards
    engine = make_engine(f"sqlite:///{tmp_path / 'calendar.db'}")
    upgrade(engine)
    now = datetime.now(UTC)
    add_webhook_posts(engine, 3, due=now)
    metrics = WorkerMetrics(tmp_path / "data", engine, lambda: now)
    port = closed_port()
    metrics.start("127.0.0.1", port)
    try:
        observe.attempt_ended(AttemptEnded("x", "BrandFR", "published", 1.5))
        observe.attempt_ended(AttemptEnded("x", "BrandFR", "retry_wait"))
        observe.tick_ended(0.02)
        samples = scrape(port)
    finally:
        metrics.stop()
        assert metrics.instruments is not None
        for instrument in vars(metrics.instruments).values():
            REGISTRY.unregister(instrument)
        engine.dispose()
    x = (("network", "x"),)
    assert samples[("storyline_attempts_total", (*x, ("outcome", "published")))] == 1
    assert samples[("storyline_attempts_total", (*x, ("outcome", "retry_wait")))] == 1
    assert samples[("storyline_publish_lateness_seconds_sum", x)] == 1.5
    assert samples[("storyline_publish_lateness_seconds_bucket", (("le", "1.0"), *x))] == 0
    assert samples[("storyline_publish_lateness_seconds_bucket", (("le", "2.0"), *x))] == 1
    assert samples[("storyline_tick_duration_seconds_count", ())] == 1
    assert samples[("storyline_posts", (("state", "planned"),))] == 3
    assert not (tmp_path / "data" / "metrics").exists() or not any(
        (tmp_path / "data" / "metrics").iterdir()
    )


def test_a_calendar_that_does_not_answer_is_a_gauge_not_a_failed_scrape() -> None:
    from scheduler.interfaces.metrics import CalendarCollector

    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/none"
    engine = make_engine(url)
    families = list(CalendarCollector(engine, lambda: datetime.now(UTC)).collect())
    assert [(f.name, [s.value for s in f.samples]) for f in families] == [
        ("storyline_calendar_up", [0])
    ]
