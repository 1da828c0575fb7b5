"""The application's metrics puller: the calendar, the registry and the pull ages, from the
settings (docs/operations.md, "Metrics"). The worker keeps one per process; the CLI makes one
per command."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.engine import Engine

from scheduler.app.publishing import registry_for
from scheduler.app.settings import Settings
from scheduler.calendar.database import engine_for
from scheduler.dispatch.metrics_pull import MetricsPuller
from scheduler.publishers.http import HttpClient


def puller_for(
    settings: Settings, *, engine: Engine | None = None, http: HttpClient | None = None
) -> MetricsPuller:
    engine = engine or engine_for(settings.database_url)
    registry = registry_for(settings, http=http, engine=engine, clock=settings.now)
    return MetricsPuller(engine, registry, windows=settings.metrics_pull_after, clock=settings.now)


_puller: MetricsPuller | None = None
_made = threading.Lock()
_pulling = threading.Lock()


def pull_in_process(settings: Settings, engine: Engine) -> dict[str, Any]:
    """The worker's pull: one puller per process (its "not before" waits last between beat
    runs), one pull at a time (a pull still running when the next is due makes the next a
    no-op, so pulls never hold more than one of the worker's threads)."""
    global _puller
    if not _pulling.acquire(blocking=False):
        return {"skipped": "a pull is still running"}
    try:
        with _made:
            if _puller is None:
                _puller = puller_for(settings, engine=engine)
        return _puller.pull().to_json()
    finally:
        _pulling.release()
