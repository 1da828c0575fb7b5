"""A brand crisis with a real worker and beat: `storyline pause --all` stops new claims within
one tick (measured: nothing due after the command returned is claimed), posts in flight
finish, and `storyline resume --all` sends what waited, each post exactly once. On the
embedded setup (SQLite, SQLite broker) and on the production one (PostgreSQL, Redis)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.engine import Engine

from scheduler.calendar.database import from_db, make_engine
from scheduler.interfaces.cli import cli

from .cluster import (
    ATTEMPT,
    Cluster,
    assert_exactly_once_on_time,
    due_times,
    running,
    schedule,
    statuses,
    wait_all_published,
    wait_for,
)
from .conftest import create_schema

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


REDIS_DB = 12  # this file's own Redis database number; flushed after each test


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("postgres+redis", marks=[pytest.mark.postgres, pytest.mark.redis]),
    ]
)
def setup(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[str, Engine, str | None]]:
    """(database URL, engine, broker URL): SQLite and its embedded broker, or PostgreSQL and
    Redis."""
    if request.param == "embedded":
        url, broker = f"sqlite:///{tmp_path / 'calendar.db'}", None
    else:
        url, broker = request.getfixturevalue("pg_url"), f"redis://127.0.0.1:6379/{REDIS_DB}"
    engine = make_engine(url)
    create_schema(engine)
    yield url, engine, broker
    engine.dispose()
    if broker is not None:
        import redis

        client = redis.Redis.from_url(broker)
        client.flushdb()
        client.close()


def storyline(url: str, *args: str) -> str:
    result = CliRunner().invoke(
        cli, list(args), env={"STORYLINE_DATABASE_URL": url}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return result.output


def first_attempts(engine: Engine) -> dict[str, datetime]:
    """When each post's first attempt started (the worker took its claim)."""
    with engine.connect() as conn:
        rows = conn.execute(select(ATTEMPT.c.post_id, ATTEMPT.c.started_at)).all()
    out: dict[str, datetime] = {}
    for post_id, started in rows:
        at = from_db(started)
        assert at is not None
        out[post_id] = min(at, out.get(post_id, at))
    return out


def test_pause_all_stops_claims_within_one_tick_and_resume_sends_them(tmp_path, setup, sink):
    url, engine, broker = setup
    cluster = Cluster(tmp_path / "data", url, broker, sink, tick_seconds=0.5)
    cluster.data_dir.mkdir()
    ids = schedule(engine, 40, start_in=3.0, every=0.25)  # due over ten seconds
    due = {
        p: d.replace(tzinfo=UTC) if d.tzinfo is None else d for p, d in due_times(engine).items()
    }
    with running(cluster):
        cluster.start_worker()
        wait_for(lambda: len(sink.counts()) >= 3, 30, cluster, "the first posts to go out")
        storyline(url, "pause", "--all", "--reason", "crisis", "--as", "e2e")
        paused_at = datetime.now(UTC)
        # Four ticks and more: every post due meanwhile would have been claimed by now.
        time.sleep(8 * cluster.tick_seconds)
        st = statuses(engine)
        waited = [p for p in ids if paused_at < due[p] < datetime.now(UTC)]
        assert len(waited) >= 5, "the test must leave posts due during the pause"
        claimed_after = [p for p in ids if due[p] > paused_at and st[p] != "planned"]
        assert claimed_after == [], f"claimed after the pause: {claimed_after}"
        # Posts claimed before the pause finish: none is left half-way.
        assert {st[p] for p in ids} <= {"planned", "published"}
        # The measure: the newest post any worker took was due before the pause. A tick that
        # began before the pause claims only what was due at its start; every later tick saw it.
        started = first_attempts(engine)
        newest_due = max(due[p] for p in started)
        assert newest_due <= paused_at, f"took a post due {newest_due - paused_at} after the pause"

        sent_before = len(sink.counts())
        resumed_at = time.time()
        storyline(url, "resume", "--all", "--as", "e2e")
        wait_all_published(engine, ids, 40, cluster)
        assert len(sink.counts()) > sent_before
        arrivals = sink.first_arrival()
        first_after = min(arrivals[p] for p in waited) - resumed_at
        assert 0 <= first_after <= 10, f"resume took {first_after:.1f} s to send"
    assert_exactly_once_on_time(engine, sink, ids)
    audit = storyline(url, "audit")
    assert "pause" in audit and "resume" in audit and "e2e" in audit
