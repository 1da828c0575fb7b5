"""The dispatcher tells its observers (the metrics) how each attempt ended and how long each
tick took, without knowing who listens; an observer that raises changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from scheduler.core.errors import Permanent
from scheduler.dispatch import observe
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.dispatch.observe import AttemptEnded
from scheduler.publishers.base import Published

from .conftest import T0, Clock, ScriptedPublisher, add_posts


class Recorder:
    def __init__(self) -> None:
        self.attempts: list[AttemptEnded] = []
        self.ticks: list[float] = []

    def attempt_ended(self, event: AttemptEnded) -> None:
        self.attempts.append(event)

    def tick_ended(self, seconds: float) -> None:
        self.ticks.append(seconds)


class Broken:
    def attempt_ended(self, event: AttemptEnded) -> None:
        raise RuntimeError("observer bug")

    def tick_ended(self, seconds: float) -> None:
        raise RuntimeError("observer bug")


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec, broken = Recorder(), Broken()
    observe.subscribe(broken)
    observe.subscribe(rec)
    yield rec
    observe.unsubscribe(rec)
    observe.unsubscribe(broken)


def publish_due(dispatcher: Dispatcher) -> list[str]:
    jobs: list[tuple[str, str]] = []
    dispatcher.tick(jobs.extend)
    return [dispatcher.publish(post_id, token) for post_id, token in jobs]


def test_a_published_attempt_is_told_with_its_lateness(
    engine: Engine, dispatcher: Dispatcher, clock: Clock, recorder: Recorder
) -> None:
    add_posts(engine, 1, due=T0, network="facebook", account="100")
    clock.advance(seconds=3)
    assert publish_due(dispatcher) == ["published"]
    assert recorder.attempts == [AttemptEnded("facebook", "100", "published", 3.0)]
    assert len(recorder.ticks) == 1 and recorder.ticks[0] >= 0


def test_a_failed_attempt_is_told_without_lateness(
    engine: Engine,
    dispatcher: Dispatcher,
    clock: Clock,
    publisher: ScriptedPublisher,
    recorder: Recorder,
) -> None:
    add_posts(engine, 1, due=T0 + timedelta(seconds=1))
    publisher.publish_script.append(Permanent("refused", http_status=400))
    clock.advance(seconds=1)
    assert publish_due(dispatcher) == ["failed"]
    assert recorder.attempts == [AttemptEnded("facebook", "100", "failed", None)]


def test_a_dead_workers_post_found_on_the_network_is_told_as_found(
    engine: Engine,
    dispatcher: Dispatcher,
    clock: Clock,
    publisher: ScriptedPublisher,
    recorder: Recorder,
) -> None:
    add_posts(engine, 1, due=T0)
    jobs: list[tuple[str, str]] = []
    dispatcher.tick(jobs.extend)
    assert dispatcher.begin(*jobs[0]) is not None  # the worker then dies mid-send
    clock.advance(seconds=61)
    publisher.find_script = [Published("r-9", "https://net/9")]
    assert publish_due(dispatcher) == ["published"]
    assert recorder.attempts == [AttemptEnded("facebook", "100", "found", None)]
