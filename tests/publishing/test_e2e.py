"""End to end: real ``celery -A worker worker --beat`` processes publish a calendar to a local
HTTP sink through the webhook publisher; every post must arrive exactly once, never early."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from scheduler.calendar.database import make_engine

from .cluster import (
    Cluster,
    assert_exactly_once_on_time,
    attempt_outcomes,
    running,
    schedule,
    sending_worker_pid,
    signal_group,
    statuses,
    wait_all_published,
    wait_for,
)
from .conftest import create_schema

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

REDIS_DB = 11  # this area's own Redis database number; flushed after each test


@pytest.fixture
def sqlite_calendar(tmp_path: Path) -> Iterator[tuple[str, Engine]]:
    url = f"sqlite:///{tmp_path / 'calendar.db'}"
    engine = make_engine(url)
    create_schema(engine)
    yield url, engine
    engine.dispose()


@pytest.fixture
def pg_calendar(pg_url: str) -> Iterator[tuple[str, Engine]]:
    engine = make_engine(pg_url)
    create_schema(engine)
    yield pg_url, engine
    engine.dispose()


@pytest.fixture
def redis_broker() -> Iterator[str]:
    import redis

    url = f"redis://127.0.0.1:6379/{REDIS_DB}"
    yield url
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()


def delete_amqp_queue(name: str) -> None:
    from kombu import Connection

    with Connection("amqp://guest:guest@127.0.0.1:5672//") as conn:
        channel = conn.channel()
        channel.queue_delete(name)
        channel.close()


def test_embedded_default_sqlite_calendar_and_sqlite_broker(tmp_path, sqlite_calendar, sink):
    url, engine = sqlite_calendar
    cluster = Cluster(tmp_path / "data", url, None, sink)
    cluster.data_dir.mkdir()
    ids = schedule(engine, 12)
    with running(cluster):
        cluster.start_worker()
        wait_all_published(engine, ids, 60, cluster)
    assert_exactly_once_on_time(engine, sink, ids)
    assert (cluster.data_dir / "broker.db").exists()


@pytest.mark.postgres
@pytest.mark.redis
def test_postgres_and_redis_with_two_workers_and_two_beats(
    tmp_path, pg_calendar, redis_broker, sink
):
    url, engine = pg_calendar
    cluster = Cluster(tmp_path / "data", url, redis_broker, sink)
    cluster.data_dir.mkdir()
    ids = schedule(engine, 40, every=0.05)
    with running(cluster):
        cluster.start_worker(beat=True)
        cluster.start_worker(beat=True)
        wait_all_published(engine, ids, 60, cluster)
    assert_exactly_once_on_time(engine, sink, ids)


@pytest.mark.postgres
@pytest.mark.redis
def test_a_burst_due_in_one_second_travels_in_batches_and_each_post_goes_out_once(
    tmp_path, pg_calendar, redis_broker, sink
):
    url, engine = pg_calendar
    cluster = Cluster(tmp_path / "data", url, redis_broker, sink)
    cluster.data_dir.mkdir()
    ids = schedule(engine, 150, every=0.0)
    with running(cluster):
        cluster.start_worker(beat=True)
        cluster.start_worker(beat=False)
        wait_all_published(engine, ids, 60, cluster)
    assert_exactly_once_on_time(engine, sink, ids)
    assert "storyline.publish_batch" in cluster.log_tail(lines=10_000)


@pytest.mark.postgres
@pytest.mark.rabbitmq
def test_postgres_and_rabbitmq(tmp_path, pg_calendar, sink):
    url, engine = pg_calendar
    cluster = Cluster(tmp_path / "data", url, "amqp://guest:guest@127.0.0.1:5672//", sink)
    cluster.data_dir.mkdir()
    ids = schedule(engine, 20, every=0.1)
    try:
        with running(cluster):
            cluster.start_worker()
            wait_all_published(engine, ids, 60, cluster)
    finally:
        delete_amqp_queue(cluster.queue)
    assert_exactly_once_on_time(engine, sink, ids)


def test_a_worker_killed_mid_publish_is_reconciled_without_a_duplicate(
    tmp_path, sqlite_calendar, sink
):
    url, engine = sqlite_calendar
    cluster = Cluster(tmp_path / "data", url, None, sink, lease_seconds=4)
    cluster.data_dir.mkdir()
    ids = schedule(engine, 4, every=0.5)
    first = ids[0]
    sink.delay = lambda post_id: 3.0 if post_id == first else 0.0
    with running(cluster):
        doomed = cluster.start_worker(concurrency=1)
        wait_for(lambda: first in sink.counts(), 30, cluster, "the first request")
        signal_group(doomed, signal.SIGKILL)  # the machine dies while the network answers
        doomed.wait(timeout=10)
        cluster.start_worker()
        wait_all_published(engine, ids, 45, cluster)
    assert_exactly_once_on_time(engine, sink, ids)
    assert attempt_outcomes(engine, first) == ["worker_lost", "found"]


def test_a_worker_killed_holding_fetched_messages_on_the_embedded_broker_loses_nothing(
    tmp_path, sqlite_calendar, sink
):
    url, engine = sqlite_calendar
    cluster = Cluster(tmp_path / "data", url, None, sink, lease_seconds=4)
    cluster.data_dir.mkdir()
    ids = schedule(engine, 8, every=0.0)  # all due at once: a backlog the worker holds
    sink.delay = lambda _post_id: 1.5
    with running(cluster):
        doomed = cluster.start_worker(concurrency=1)
        wait_for(lambda: bool(sink.counts()), 30, cluster, "the first request")
        signal_group(doomed, signal.SIGKILL)
        doomed.wait(timeout=10)
        sink.delay = lambda _post_id: 0.0
        cluster.start_worker()
        wait_all_published(engine, ids, 45, cluster)
    assert_exactly_once_on_time(engine, sink, ids)


def test_a_worker_stopped_past_its_lease_and_resumed_sends_nothing_more(
    tmp_path, sqlite_calendar, sink
):
    url, engine = sqlite_calendar
    cluster = Cluster(tmp_path / "data", url, None, sink, lease_seconds=4)
    cluster.data_dir.mkdir()
    ids = schedule(engine, 3, every=0.3)
    first = ids[0]
    sink.delay = lambda post_id: 0.8 if post_id == first else 0.0
    with running(cluster):
        cluster.start_worker()
        cluster.start_worker()
        wait_for(lambda: first in sink.counts(), 30, cluster, "the first request")
        zombie = sending_worker_pid(engine, first)
        os.kill(zombie, signal.SIGSTOP)
        try:
            wait_all_published(engine, ids, 45, cluster)  # the other worker took over
        finally:
            os.kill(zombie, signal.SIGCONT)
        wait_for(
            lambda: "published_after_takeover" in attempt_outcomes(engine, first),
            20,
            cluster,
            "the zombie to wake up and record its late answer",
        )
    assert_exactly_once_on_time(engine, sink, ids)
    assert statuses(engine)[first] == "published"


def test_the_same_task_sent_twice_publishes_once(tmp_path, sqlite_calendar, sink):
    url, engine = sqlite_calendar
    cluster = Cluster(tmp_path / "data", url, None, sink)
    cluster.data_dir.mkdir()
    ids = schedule(engine, 1, start_in=0.0)
    env = cluster.env()
    # Claim it here and send the publish message twice, as a redelivering broker would.
    import subprocess
    import sys

    script = (
        "from scheduler.interfaces import worker as tasks\n"
        "jobs = []\n"
        "tasks.dispatcher().tick(jobs.extend)\n"
        "for p, t in jobs:\n"
        "    tasks.publish.delay(p, t)\n"
        "    tasks.publish.delay(p, t)\n"
        "print(len(jobs))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        env=env,
        cwd=cluster.data_dir.parent.parent,
        check=True,
        capture_output=True,
        text=True,
    )
    assert out.stdout.strip() == "1"
    with running(cluster):
        cluster.start_worker(beat=False)
        wait_all_published(engine, ids, 30, cluster)
        wait_for(
            lambda: (
                "publish" in cluster.log_tail(200)
                and cluster.log_tail(200).count(": duplicate") >= 1
            ),
            20,
            cluster,
            "the second delivery to be processed",
        )
    assert_exactly_once_on_time(engine, sink, ids)
