"""The application's publishers: a registry built from the settings and the secrets.

The publishers package knows nothing of settings files or the environment; this is where the
two meet, so that every entry point (the worker, the CLI, tests) chooses publishers alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine

from scheduler.app.secrets import Secrets, load_secrets
from scheduler.app.settings import Settings
from scheduler.calendar.database import engine_for, utcnow
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.dispatch.policy import Policy, http_timeout
from scheduler.publishers.http import HttpClient
from scheduler.publishers.registry import Registry


def registry_for(
    settings: Settings,
    *,
    http: HttpClient | None = None,
    secrets: Secrets | None = None,
    engine: Engine | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Registry:
    """A registry for one process: in ``outbox`` mode every post goes to the outbox; in
    ``live`` mode credentials come from the secrets file with the database's renewed tokens
    (:func:`scheduler.app.tokens.credential_source`)."""
    from scheduler.app.tokens import credential_source

    http = http or HttpClient()
    file = secrets if secrets is not None else load_secrets(settings)
    outbox = settings.publisher_mode == "outbox"
    source = file if outbox else credential_source(settings, file, http, engine=engine, clock=clock)
    return Registry(settings, secrets=source, http=http, forced_outbox=outbox)


def dispatcher_for(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = utcnow,
    publishers: bool = True,
) -> Dispatcher:
    """The calendar's dispatcher. With ``publishers`` its registry (secrets, one HTTP client
    whose timeouts fit inside the lease) is built on first use; without, it refuses to publish,
    which is all an operator command needs."""
    policy = Policy.from_settings(settings)

    engine = engine or engine_for(settings.database_url)

    def make_registry() -> Registry:
        http = HttpClient(timeout=http_timeout(policy))
        return registry_for(settings, http=http, engine=engine, clock=clock)

    return Dispatcher(
        engine,
        settings,
        clock=clock,
        policy=policy,
        make_registry=make_registry if publishers else None,
    )
