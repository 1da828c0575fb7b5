"""The application's metrics puller: the calendar, the registry and the pull ages, from the
settings (docs/operations.md, "Metrics"). The worker keeps one per process; the CLI makes one
per command."""

from __future__ import annotations

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
