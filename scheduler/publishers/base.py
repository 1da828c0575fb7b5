"""The publisher protocol (docs/publishers.md): what a network adapter is given and must answer.

Publishers never touch the database. They get an :class:`OutgoingPost` (a frozen copy of the
row), the account's :class:`Credentials`, and a ``checkpoint`` callback through which a
multi-step flow (container created, upload started) records its progress so that a crash
resumes instead of starting over. They answer :class:`Published` or raise one of the
:mod:`scheduler.core.errors` ``PublishError`` subclasses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, ClassVar, Protocol, runtime_checkable

from scheduler.core.model import Media

Checkpoint = Callable[[Mapping[str, Any]], None]


def _no_checkpoint(_: Mapping[str, Any]) -> None:
    return None


@dataclass(frozen=True, slots=True)
class OutgoingPost:
    """The post as a publisher sees it: everything needed to send it, nothing to mutate."""

    post_id: str
    story: str
    beat: str
    network: str
    market: str
    account: str  # the account key: its id or handle from markets.yaml
    account_name: str
    due_utc: datetime  # aware UTC
    text: str
    title: str | None = None
    link: str | None = None
    media: tuple[Media, ...] = ()
    first_comment: str | None = None
    campaign: str = ""
    content_dir: Path = Path("content")  # media files are relative to it
    checkpoint: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    @property
    def marker(self) -> str:
        """A short, stable tag derived from the post id, for networks we can search later."""
        return marker_of(self.post_id)


def marker_of(post_id: str) -> str:
    """The ``sl-…`` tag of a post (what ``storyline status POST_ID`` shows, to search for)."""
    import hashlib

    return "sl-" + hashlib.sha256(post_id.encode()).hexdigest()[:12]


class Credentials(Mapping[str, str]):
    """An account's secret fields. Its repr and str never show a value (secrets stay secret)."""

    __slots__ = ("_fields", "account", "network")

    def __init__(self, network: str, account: str, fields: Mapping[str, str]) -> None:
        self.network = network
        self.account = account
        self._fields = dict(fields)

    def __getitem__(self, key: str) -> str:
        return self._fields[key]

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"Credentials({self.network}:{self.account}, fields={sorted(self._fields)})"

    __str__ = __repr__

    def secret_values(self) -> list[str]:
        """Every value, so loggers and error messages can redact them."""
        return [v for v in self._fields.values() if v]


class PublisherSettings(Protocol):
    """What a publisher may know of the settings: where the data lives, the media's public
    URL, and each network's base URL. The application's ``Settings`` satisfies it; publishers
    never read the environment or import the application (docs/architecture.md)."""

    @property
    def data_dir(self) -> Path: ...

    @property
    def outbox_dir(self) -> Path: ...

    @property
    def media_base_url(self) -> str | None: ...

    @property
    def linkedin_version(self) -> str | None: ...

    def api_base(self, network: str, default: str) -> str:
        """The network's base URL: the configured one, else ``default``."""
        ...

    def api_base_override(self, network: str) -> str | None:
        """The configured base URL of ``network``, if any."""
        ...

    def token_url(self, network: str, default: str) -> str:
        """The token endpoint of a network whose endpoint is on another host than its API."""
        ...


@dataclass(frozen=True, slots=True)
class AccountStatus:
    """What is known of one account's credentials, as a publisher's ``check`` answers it.

    ``valid`` is None when it could not be verified (no credentials, no online check, the
    network unreachable); ``expires_at`` is None when the token never expires or it is unknown.
    """

    present: bool
    valid: bool | None = None
    expires_at: datetime | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Published:
    remote_id: str
    url: str | None = None


@runtime_checkable
class Publisher(Protocol):
    """A network adapter. ``network`` names it; ``requires`` lists the secret fields it needs."""

    network: ClassVar[str]
    requires: ClassVar[tuple[str, ...]]

    def publish(
        self, post: OutgoingPost, credentials: Credentials, checkpoint: Checkpoint = _no_checkpoint
    ) -> Published:
        """Send the post once. Raise Transient/Permanent/NeedsAuth on failure."""
        ...

    def find(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        """Look for an earlier attempt on the network: found, certainly absent (None), or
        raise :class:`~scheduler.core.errors.CannotCheck`."""
        ...
