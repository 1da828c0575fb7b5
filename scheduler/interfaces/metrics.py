"""Prometheus metrics of a worker, served on ``STORYLINE_METRICS_PORT``.

Two kinds of numbers, each taken where it is true (docs/decisions.md, "Metrics under a
prefork pool"):

* **Events** — attempts by outcome and network, publish lateness, tick duration — happen in
  whichever process runs the task: a prefork child, a thread of the main process. They are
  recorded with ``prometheus_client``'s multiprocess mode: every process writes its own
  memory-mapped file in a directory of this worker (``PROMETHEUS_MULTIPROC_DIR``, set before
  the pool forks), and the endpoint in the main process adds the files up.
* **State** — posts by state, each account's token seconds-to-expiry — belongs to the
  calendar, not to a process: it is read from the database at scrape time, so it is the same
  on every worker and survives restarts.

Only this module (with the worker and the broker) imports ``prometheus_client``; the
dispatcher reports through :mod:`scheduler.dispatch.observe`.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from scheduler.app.settings import pass_to_children
from scheduler.calendar.health import posts_by_state, token_expiries
from scheduler.dispatch import observe
from scheduler.dispatch.observe import AttemptEnded

log = logging.getLogger(__name__)

#: Seconds past due: a post on time is within a tick or two; a late one up to the lateness
#: limits (1 h to 12 h by network).
LATENESS_BUCKETS = (0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 12 * 3600)
TICK_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)

#: The environment variable prometheus_client reads in every process of the worker.
MULTIPROC_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


class Instruments:
    """The event metrics, in multiprocess mode: made in the worker's main process, written
    by every process it forks (each to its own file)."""

    def __init__(self) -> None:
        from prometheus_client import Counter, Histogram

        self.attempts = Counter(
            "storyline_attempts",
            "Publish attempts by network and outcome.",
            ["network", "outcome"],
        )
        self.lateness = Histogram(
            "storyline_publish_lateness_seconds",
            "Seconds from a post's due time to its publication.",
            ["network"],
            buckets=LATENESS_BUCKETS,
        )
        self.tick = Histogram(
            "storyline_tick_duration_seconds",
            "How long one tick (reconcile, re-enqueue, claim) took.",
            buckets=TICK_BUCKETS,
        )

    def attempt_ended(self, event: AttemptEnded) -> None:
        self.attempts.labels(event.network, event.outcome).inc()
        if event.lateness_seconds is not None:
            self.lateness.labels(event.network).observe(event.lateness_seconds)

    def tick_ended(self, seconds: float) -> None:
        self.tick.observe(seconds)


class CalendarCollector:
    """Posts by state and token seconds-to-expiry, read from the calendar at each scrape. A
    database that does not answer shows as ``storyline_calendar_up 0``, never a failed scrape."""

    def __init__(self, engine: Engine, now: Callable[[], datetime]) -> None:
        self.engine = engine
        self.now = now

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        up = GaugeMetricFamily("storyline_calendar_up", "1 when the calendar answered.")
        try:
            states = posts_by_state(self.engine)
            expiries = token_expiries(self.engine)
        except Exception as exc:
            log.warning("metrics: the calendar did not answer: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        finally:
            # No connection stays open in the main process: a pool child forked later must
            # not inherit one.
            self.engine.dispose()
        up.add_metric([], 1)
        yield up
        posts = GaugeMetricFamily(
            "storyline_posts", "Posts in the calendar by state.", labels=["state"]
        )
        for state, count in sorted(states.items()):
            posts.add_metric([state], count)
        yield posts
        tokens = GaugeMetricFamily(
            "storyline_token_seconds_to_expiry",
            "Seconds until an account's stored access token expires (negative: expired).",
            labels=["network", "account"],
        )
        now = self.now()
        for network, account, expires in sorted(expiries):
            tokens.add_metric([network, account], (expires - now).total_seconds())
        yield tokens


def metrics_dir(data_dir: Path, pid: int) -> Path:
    """This worker's multiprocess directory: one per main process, so two workers on one
    host (or a restarted one) never add up each other's files."""
    return data_dir.resolve() / "metrics" / str(pid)


def prepare(directory: Path) -> None:
    """Before the pool forks: an empty directory, named in the environment the children
    inherit, and prometheus_client switched to multiprocess values (it chose its value class
    when first imported, maybe before the variable was set)."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    pass_to_children(MULTIPROC_VARIABLE, str(directory))
    from prometheus_client import values

    values.ValueClass = values.MultiProcessValue()  # type: ignore[no-untyped-call]


def registry_for(directory: Path, engine: Engine, now: Callable[[], datetime]) -> Any:
    """What the endpoint serves: every process's events, added up, and the calendar's state."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.multiprocess import MultiProcessCollector

    registry = CollectorRegistry()
    MultiProcessCollector(registry, path=str(directory))  # type: ignore[no-untyped-call]
    registry.register(CalendarCollector(engine, now))
    return registry


def serve(address: str, port: int, registry: Any) -> Any:
    """Serve ``/metrics`` from a thread of the calling (main) process."""
    from prometheus_client import start_http_server

    server, _thread = start_http_server(port, addr=address, registry=registry)
    return server


class WorkerMetrics:
    """A worker's metrics from start to shutdown."""

    def __init__(self, data_dir: Path, engine: Engine, now: Callable[[], datetime]) -> None:
        self.directory = metrics_dir(data_dir, os.getpid())
        self.engine = engine
        self.now = now
        self.instruments: Instruments | None = None
        self.server: Any = None

    def start(self, address: str, port: int) -> None:
        prepare(self.directory)
        self.instruments = Instruments()
        observe.subscribe(self.instruments)
        self.server = serve(address, port, registry_for(self.directory, self.engine, self.now))
        log.info("metrics on http://%s:%d/metrics (%s)", address, port, self.directory)

    def stop(self) -> None:
        if self.instruments is not None:
            observe.unsubscribe(self.instruments)
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        shutil.rmtree(self.directory, ignore_errors=True)
