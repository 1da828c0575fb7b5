"""Findings of the chaos work, each pinned by a test that states the behaviour we want.

Details, evidence and the fix: docs/reliability.md, "Findings".
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

from bench.chaoslib import Faults, Receiver, Scenario, schedule_posts
from scheduler.app.secrets import Secrets
from scheduler.app.settings import Settings
from scheduler.calendar.database import make_engine
from scheduler.calendar.migrate import upgrade
from scheduler.dispatch.dispatcher import Dispatcher, Policy
from scheduler.publishers.http import HttpClient
from scheduler.publishers.registry import Registry

HTTP_TIMEOUT = 0.3
SLOW = Faults(
    p_5xx=0,
    p_timeout=0,
    p_429=0,
    p_drop=0,
    p_lookup_5xx=0,
    p_slow_accept=1.0,  # every POST: answer held past the timeout, recorded afterwards
    timeout_sleep=1.0,
)


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def calendar(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'calendar.db'}")
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def slow_receiver() -> Iterator[Receiver]:
    r = Receiver("chaos0", "finding-secret", SLOW, seed=3)
    r.start()
    yield r
    r.close()


def test_a_post_the_receiver_commits_after_the_client_timed_out_is_not_sent_twice(
    tmp_path: Path, calendar: Engine, slow_receiver: Receiver
) -> None:
    env = {
        "STORYLINE_SECRET_WEBHOOK_CHAOS0_URL": slow_receiver.url,
        "STORYLINE_SECRET_WEBHOOK_CHAOS0_SECRET": slow_receiver.secret,
        "STORYLINE_SECRET_WEBHOOK_CHAOS0_LOOKUP_URL": slow_receiver.url,
    }
    settings = Settings.from_env(env).with_overrides(data_dir=tmp_path / "data")
    http = HttpClient(timeout=httpx.Timeout(HTTP_TIMEOUT, connect=HTTP_TIMEOUT))
    clock = Clock()
    dispatcher = Dispatcher(
        calendar,
        settings,
        clock=clock,
        policy=Policy(lease=timedelta(seconds=60), backoff_base=1.0),
        registry=Registry(settings, http=http, secrets=Secrets(environ=env)),
        worker="finding",
    )
    try:
        [post_id] = schedule_posts(calendar, Scenario(posts=1, accounts=1), time.time() - 1)
        jobs: list[tuple[str, str]] = []
        dispatcher.tick(jobs.extend)
        dispatcher.publish(*jobs.pop())  # times out; an immediate lookup finds nothing yet
        time.sleep(SLOW.timeout_sleep + 0.3)  # the receiver commits the first request now
        clock.now += timedelta(minutes=5)  # the backoff is over
        dispatcher.tick(jobs.extend)
        for job in jobs:
            dispatcher.publish(*job)
        time.sleep(SLOW.timeout_sleep + 0.3)
    finally:
        dispatcher.close()
    received = [a.post_id for a in slow_receiver.snapshot()]
    assert received == [post_id]
