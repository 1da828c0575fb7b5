"""The application's publishers: a registry built from the settings and the secrets.

The publishers package knows nothing of settings files or the environment; this is where the
two meet, so that every entry point (the worker, the CLI, tests) chooses publishers alike.
"""

from __future__ import annotations

from scheduler.app.secrets import Secrets, load_secrets
from scheduler.app.settings import Settings
from scheduler.publishers.http import HttpClient
from scheduler.publishers.registry import Registry


def registry_for(
    settings: Settings, *, http: HttpClient | None = None, secrets: Secrets | None = None
) -> Registry:
    """A registry for one process: ``STORYLINE_PUBLISHER=outbox`` forces the outbox."""
    return Registry(
        settings,
        secrets=secrets if secrets is not None else load_secrets(settings),
        http=http,
        forced_outbox=(settings.publisher_override or "").lower() == "outbox",
    )
