"""Which publisher sends a post, through the ``storyline.publishers`` entry points.

Built-ins register exactly like a third party's plugin would (the Datasette habit), so adding a
network is a package with one entry point. The mode is explicit: ``outbox`` (``forced_outbox``)
writes every post to the outbox; ``live`` sends every post through its network's publisher, and
an account without credentials raises :class:`~scheduler.core.errors.NoCredentials` (its posts
are held, never parked in a local file). An account may be *relayed*: its posts keep their
network and market but go out through another publisher's account (``via: webhook:<account>``
in ``markets.yaml``, an agency posting on the brand's behalf). Every publisher class is built as
``cls(settings, http)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import Any, Protocol

from scheduler.core.errors import ConfigError, NeedsAuth, NoCredentials, PublishError
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
    kind: str  # "outbox" or the network name of the real publisher ("webhook" for a relay)


#: An account's key, ``(network, account)``: relays map one to the account that sends for it.
AccountKey = tuple[str, str]


def no_credentials_reason(network: str, account: str, relay: AccountKey | None = None) -> str:
    """The held post's reason, the same wherever it is decided (claim or publish)."""
    reason = f"no credentials for {network}:{account}"
    if relay is not None:
        reason += f" (relayed through {relay[0]}:{relay[1]}, which has none)"
    return reason


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
        relays: Mapping[AccountKey, AccountKey] | None = None,
    ) -> None:
        self.settings = settings
        self.http = http or HttpClient()
        self.secrets = secrets
        self.forced_outbox = forced_outbox
        #: ``(network, account)`` -> the ``(publisher network, account)`` that sends its posts.
        self.relays: Mapping[AccountKey, AccountKey] = dict(relays or {})
        self._instances: dict[str, Any] = {}

    @property
    def live(self) -> bool:
        """``live`` mode: posts reach their networks, accounts without credentials are held."""
        return not self.forced_outbox

    def sender(self, network: str, account: str) -> AccountKey:
        """Whose publisher and credentials send this account's posts: a relay's, or its own."""
        return self.relays.get((network, account), (network, account))

    def has_credentials(self, network: str, account: str) -> bool:
        """True when a post of this account can leave in this mode (always, in ``outbox``)."""
        if not self.live or network == "outbox":
            return True
        try:
            return self.secrets.credentials(*self.sender(network, account)) is not None
        except PublishError:  # present but refused (a dead grant): the send holds it for that
            return True

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
        """The publisher of one account. In ``live`` mode an account without credentials
        raises :class:`NoCredentials`: the outbox is never a fallback."""
        check_network(network)
        empty = Credentials(network, account, {})
        if network == "outbox" or self.forced_outbox:
            return Route(self.outbox_for(network), empty, "outbox")
        relay = self.relays.get((network, account))
        sender, key = relay or (network, account)
        credentials = self.secrets.credentials(sender, key)
        if credentials is None:
            raise NoCredentials(no_credentials_reason(network, account, relay))
        cls = load_class(sender)
        if cls is None:
            raise ConfigError(
                f"{sender}:{key} has credentials but no publisher for {sender!r} "
                f"is installed (entry point group {GROUP!r})"
            )
        missing = [f for f in getattr(cls, "requires", ()) if not credentials.get(f)]
        if missing:
            raise NeedsAuth(
                f"{sender}:{key}: the secrets lack {', '.join(missing)} "
                "(STORYLINE_SECRETS_FILE or STORYLINE_SECRET_* variables)"
            )
        return Route(self._instance(sender, cls), credentials, sender)

    def renew(self, route: Route, network: str, account: str) -> Route | None:
        """After the network refused ``route``'s token (401): the route with renewed
        credentials, once, when the credential source can renew (the token store,
        :mod:`scheduler.dispatch.credentials`); None when renewing cannot help. Raises
        NeedsAuth (the grant is dead) or Transient (the token endpoint did not answer)."""
        renew = getattr(self.secrets, "renew", None)
        if route.kind == "outbox" or not callable(renew):
            return None
        sender, key = self.sender(network, account)  # a relay renews its own token
        renewed: Credentials | None = renew(sender, key, route.credentials)
        if renewed is None:
            return None
        return Route(route.publisher, renewed, route.kind)

    def close(self) -> None:
        self.http.close()
