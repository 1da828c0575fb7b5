"""Which publisher sends a post, through the ``storyline.publishers`` entry points.

Built-ins register exactly like a third party's plugin would (the Datasette habit), so adding a
network is a package with one entry point. The rule: a network uses its real publisher when the
account has credentials, the outbox otherwise; ``STORYLINE_PUBLISHER=outbox`` forces the outbox
everywhere. Every publisher class is built as ``cls(settings, http)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any, Protocol

from scheduler.core.errors import ConfigError, NeedsAuth
from scheduler.publishers.base import Credentials, Publisher, PublisherSettings
from scheduler.publishers.http import HttpClient
from scheduler.publishers.outbox import OutboxPublisher

GROUP = "storyline.publishers"
GOOGLE_PLUS = {"google+", "googleplus", "google_plus", "google-plus", "gplus", "plus"}


@dataclass(frozen=True)
class Route:
    """The publisher chosen for one account, with the credentials to hand it."""

    publisher: Publisher
    credentials: Credentials
    kind: str  # "outbox" or the network name of the real publisher


def check_network(network: str) -> None:
    """Refuse networks that no longer exist, with the reason, before anything else."""
    if network.lower() in GOOGLE_PLUS:
        raise ConfigError(
            f"{network}: Google+ was shut down for consumers in April 2019; "
            "there is nothing to publish to"
        )


@cache
def publisher_classes() -> dict[str, Any]:
    """Entry point name -> the (not yet loaded) entry point."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load_class(network: str) -> type[Any] | None:
    """The publisher class registered for ``network``; None when none is installed or it is
    not importable yet."""
    ep = publisher_classes().get(network)
    if ep is None:
        return None
    try:
        cls: type[Any] = ep.load()
    except (ImportError, AttributeError):
        return None
    return cls


class CredentialSource(Protocol):
    """Where an account's credentials come from (the application's secrets)."""

    def credentials(self, network: str, account: str) -> Credentials | None:
        """The account's credentials, or None when none are configured."""
        ...

    def has_network(self, network: str) -> bool:
        """True when at least one account of ``network`` has credentials."""
        ...


class Registry:
    """Chooses publishers for one process: one shared HTTP client, credentials read once.

    ``forced_outbox`` sends every post to the outbox (``STORYLINE_PUBLISHER=outbox``); the
    application builds registries from its settings (:func:`scheduler.app.publishing.registry_for`).
    """

    def __init__(
        self,
        settings: PublisherSettings,
        *,
        secrets: CredentialSource,
        http: HttpClient | None = None,
        forced_outbox: bool = False,
    ) -> None:
        self.settings = settings
        self.http = http or HttpClient()
        self.secrets = secrets
        self.forced_outbox = forced_outbox
        self._instances: dict[str, Any] = {}

    def _instance(self, network: str, cls: type[Any]) -> Any:
        inst = self._instances.get(network)
        if inst is None:
            inst = self._instances[network] = cls(self.settings, self.http)
        return inst

    def outbox_for(self, network: str) -> OutboxPublisher:
        """The outbox, describing requests the way ``network``'s real publisher would."""
        cls = load_class(network)
        describe = None
        if cls is not None and callable(getattr(cls, "describe", None)):
            describe = self._instance(network, cls).describe
        return OutboxPublisher(self.settings, self.http, describe=describe)

    def uses_network(self, network: str) -> bool:
        """True when some account of ``network`` would reach the real network."""
        return not self.forced_outbox and self.secrets.has_network(network)

    def route(self, network: str, account: str) -> Route:
        check_network(network)
        empty = Credentials(network, account, {})
        if network == "outbox" or self.forced_outbox:
            return Route(self.outbox_for(network), empty, "outbox")
        credentials = self.secrets.credentials(network, account)
        if credentials is None:
            return Route(self.outbox_for(network), empty, "outbox")
        cls = load_class(network)
        if cls is None:
            raise ConfigError(
                f"{network}:{account} has credentials but no publisher for {network!r} "
                f"is installed (entry point group {GROUP!r})"
            )
        missing = [f for f in getattr(cls, "requires", ()) if not credentials.get(f)]
        if missing:
            raise NeedsAuth(
                f"{network}:{account}: the secrets lack {', '.join(missing)} "
                "(STORYLINE_SECRETS_FILE or STORYLINE_SECRET_* variables)"
            )
        return Route(self._instance(network, cls), credentials, network)

    def renew(self, route: Route, network: str, account: str) -> Route | None:
        """After the network refused ``route``'s token (401): the route with renewed
        credentials, once, when the credential source can renew (the token store,
        :mod:`scheduler.dispatch.credentials`); None when renewing cannot help. Raises
        NeedsAuth (the grant is dead) or Transient (the token endpoint did not answer)."""
        renew = getattr(self.secrets, "renew", None)
        if route.kind == "outbox" or not callable(renew):
            return None
        renewed: Credentials | None = renew(network, account, route.credentials)
        if renewed is None:
            return None
        return Route(route.publisher, renewed, route.kind)

    def close(self) -> None:
        self.http.close()
