"""The token lifecycle interface: what a network's tokens are, and what can be done with them.

Why an interface of its own: the publishers use a token, they never obtain or renew one. The
database side (the encrypted store, the once-across-workers lock, the beat, the dispatcher's
401 -> refresh) needs, for every network, the same few answers: what the secrets file gives
(:meth:`TokenLifecycle.initial`), when to renew (:meth:`~TokenLifecycle.refresh_due`), how
(:meth:`~TokenLifecycle.refresh`), whether a person must act soon
(:meth:`~TokenLifecycle.warning`), what the network says of the token
(:meth:`~TokenLifecycle.inspect`), and how a person connects an account
(:meth:`~TokenLifecycle.authorization_url`, :meth:`~TokenLifecycle.exchange_code`). These
classes are pure HTTP: they take the current :class:`TokenSet` and answer the next one; storing
it (before using it: X's refresh tokens work once) is the caller's job.

Errors are the publishers' own: :class:`GrantRefused` (a :class:`NeedsAuth`) when the network
refuses the grant for good, with the ``storyline accounts connect`` hint; :class:`Transient`
for timeouts, 429 and 5xx, through the shared :class:`HttpClient`. No token value is ever put
in a message or a repr (docs/security.md).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, ClassVar, Literal
from urllib.parse import urlsplit, urlunsplit

from scheduler.core.errors import NeedsAuth, StorylineError
from scheduler.publishers.base import Credentials, PublisherSettings
from scheduler.publishers.http import HttpClient

#: How a network's tokens live (docs/publishers.md#tokens):
#: ``rotating-refresh`` short access tokens, single-use refresh tokens (X);
#: ``refresh`` short access tokens, a reusable refresh token (YouTube, LinkedIn with one);
#: ``long-lived`` a 60-day token that renews itself once a day old (Threads, Instagram Login);
#: ``page-token`` a Page token derived from a long-lived user token (Facebook);
#: ``session`` a session created from an app password, refreshed with its refresh JWT (Bluesky);
#: ``never`` tokens that do not expire (Mastodon);
#: ``warn-only`` tokens that expire and cannot be renewed without a person (Weibo, LinkedIn
#: without a refresh token, Instagram through Facebook Login).
Kind = Literal[
    "rotating-refresh", "refresh", "long-lived", "page-token", "session", "never", "warn-only"
]


class GrantRefused(NeedsAuth):
    """The network refused the token or the grant for good (``invalid_grant``, revoked, a
    spent single-use refresh token). A caller racing another worker on a rotating refresh
    token should re-read the stored pair once before holding the account."""


class ConnectFailed(StorylineError):
    """The authorization-code flow could not finish (refused, timed out, forged callback)."""


def _aware(name: str, value: datetime | None) -> None:
    if value is not None and value.utcoffset() is None:
        raise ValueError(f"TokenSet.{name} must be an aware datetime")


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


def _from_iso(value: Any) -> datetime | None:
    return datetime.fromisoformat(str(value)).astimezone(UTC) if value else None


@dataclass(frozen=True, slots=True, repr=False)
class TokenSet:
    """One account's tokens as the network last gave them.

    ``expires_at`` / ``refresh_expires_at`` are aware UTC, None when the token never expires
    or the expiry is unknown. ``issued_at`` is when Storyline received the token (Threads and
    Instagram refuse to renew a token less than 24 hours old); ``checked_at`` when the network
    last confirmed it (a refresh or a check). ``extra`` holds the network's
    non-secret companions (Bluesky ``did`` and ``handle``, Threads ``user_id``). Its repr
    names the fields present, never a value.
    """

    access_token: str
    refresh_token: str | None = None
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    scope: str | None = None
    issued_at: datetime | None = None
    checked_at: datetime | None = None
    extra: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        for name in ("expires_at", "refresh_expires_at", "issued_at", "checked_at"):
            _aware(name, getattr(self, name))
        object.__setattr__(self, "extra", MappingProxyType(dict(self.extra)))

    def __repr__(self) -> str:
        shown = ["access_token=***"]
        if self.refresh_token:
            shown.append("refresh_token=***")
        for name in ("expires_at", "refresh_expires_at", "issued_at", "checked_at"):
            value = getattr(self, name)
            if value is not None:
                shown.append(f"{name}={_iso(value)}")
        if self.scope:
            shown.append(f"scope={self.scope!r}")
        if self.extra:
            shown.append(f"extra={sorted(self.extra)}")
        return f"TokenSet({', '.join(shown)})"

    __str__ = __repr__

    def secret_values(self) -> list[str]:
        """The token values, so messages can be redacted."""
        return [v for v in (self.access_token, self.refresh_token) if v]

    def expires_in(self, now: datetime) -> timedelta | None:
        return self.expires_at - now if self.expires_at is not None else None

    def with_changes(self, **changes: Any) -> TokenSet:
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready form for the encrypted store (timestamps in ISO 8601, UTC)."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": _iso(self.expires_at),
            "refresh_expires_at": _iso(self.refresh_expires_at),
            "scope": self.scope,
            "issued_at": _iso(self.issued_at),
            "checked_at": _iso(self.checked_at),
            "extra": dict(self.extra),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TokenSet:
        return cls(
            access_token=str(data["access_token"]),
            refresh_token=str(data["refresh_token"]) if data.get("refresh_token") else None,
            expires_at=_from_iso(data.get("expires_at")),
            refresh_expires_at=_from_iso(data.get("refresh_expires_at")),
            scope=str(data["scope"]) if data.get("scope") else None,
            issued_at=_from_iso(data.get("issued_at")),
            checked_at=_from_iso(data.get("checked_at")),
            extra={str(k): str(v) for k, v in (data.get("extra") or {}).items()},
        )


@dataclass(frozen=True, slots=True)
class TokenStatus:
    """What is known of a token now. ``valid`` is None when the network was not asked (it
    documents no check); ``expires_at`` None means never or unknown."""

    valid: bool | None
    expires_at: datetime | None = None
    scope: str | None = None
    detail: str = ""


def with_tokens(credentials: Credentials, tokens: TokenSet) -> Credentials:
    """The account's credentials with the current tokens in place of the secrets file's, as a
    publisher reads them (``access_token``; ``refresh_token`` when there is one)."""
    fields = dict(credentials)
    fields["access_token"] = tokens.access_token
    if tokens.refresh_token:
        fields["refresh_token"] = tokens.refresh_token
    return Credentials(credentials.network, credentials.account, fields)


def secrets_of(credentials: Credentials, *tokens: TokenSet | None) -> list[str]:
    """Every secret a message about this account could contain, for :func:`redact`."""
    values = list(credentials.secret_values())
    for token_set in tokens:
        if token_set is not None:
            values.extend(token_set.secret_values())
    return values


def on_stand_in(default: str, stand_in: str | None) -> str:
    """``default`` with the scheme and host of ``stand_in`` (a configured test or sandbox URL),
    its own path kept: how an authorization page or a sibling endpoint follows its token
    endpoint when ``STORYLINE_API_BASE_<NETWORK>`` or ``STORYLINE_TOKEN_URL_<NETWORK>`` moves it."""
    if not stand_in:
        return default
    moved, own = urlsplit(stand_in), urlsplit(default)
    return urlunsplit((moved.scheme, moved.netloc, own.path, own.query, ""))


def _days(delta: timedelta) -> str:
    if delta <= timedelta(0):
        return "already"
    hours = delta.total_seconds() / 3600
    return f"in {hours:.0f} h" if hours < 48 else f"in {hours / 24:.0f} days"


class TokenLifecycle(ABC):
    """One network's documented token lifecycle; subclasses fill in the requests.

    Class data, read by the database side and the secrets validation:

    * ``kind``: see :data:`Kind`; :meth:`kind_of` refines it for one account's tokens;
    * ``fields``: every secret field this lifecycle reads, in the network's own words;
    * ``refresh_ahead``: renew when the access token has less than this left;
    * ``min_age``: never renew a token younger than this (Threads, Instagram: 24 h);
    * ``refresh_unknown_expiry``: renew a token whose expiry is unknown (learns it);
    * ``recheck_every``: how often a token that cannot be renewed is checked with the network
      (its "refresh" is a check that learns its expiry or finds it revoked);
    * ``warn_ahead``: tell a person this long before a token that cannot be renewed dies;
    * ``default_scopes``, ``scope_separator``, ``pkce``: the authorization request.
    """

    network: ClassVar[str]
    kind: ClassVar[Kind]
    fields: ClassVar[tuple[str, ...]]
    refresh_ahead: ClassVar[timedelta] = timedelta(0)
    min_age: ClassVar[timedelta] = timedelta(0)
    refresh_unknown_expiry: ClassVar[bool] = False
    warn_ahead: ClassVar[timedelta] = timedelta(days=7)
    recheck_every: ClassVar[timedelta | None] = timedelta(days=1)
    default_scopes: ClassVar[tuple[str, ...]] = ()
    scope_separator: ClassVar[str] = " "
    pkce: ClassVar[bool] = False

    def __init__(self, settings: PublisherSettings, http: HttpClient) -> None:
        self.settings = settings
        self.http = http

    # -- rules (no network) -----------------------------------------------------------------

    def kind_of(self, tokens: TokenSet | None) -> Kind:
        """The lifecycle of these tokens (LinkedIn renews only with a refresh token)."""
        return self.kind

    def can_refresh(self, tokens: TokenSet) -> bool:
        return self.kind_of(tokens) in ("rotating-refresh", "refresh", "long-lived", "session")

    def initial(self, credentials: Credentials, now: datetime) -> TokenSet | None:
        """The tokens the secrets file gives, before any refresh. Their expiry is unknown;
        ``issued_at`` is ``now`` (first seen), the safe side of the 24-hour rule."""
        access = credentials.get("access_token")
        if not access:
            return None
        return TokenSet(
            access_token=access,
            refresh_token=credentials.get("refresh_token") or None,
            issued_at=now,
        )

    def refresh_due(self, tokens: TokenSet, now: datetime) -> bool:
        """Should the beat call :meth:`refresh` now? For tokens that cannot be renewed, once
        every ``recheck_every`` (the refresh is then a check)."""
        if not self.can_refresh(tokens):
            return self.recheck_due(tokens, now)
        if tokens.issued_at is not None and now - tokens.issued_at < self.min_age:
            return False
        if tokens.expires_at is None:
            return self.refresh_unknown_expiry
        return tokens.expires_at - now <= self.refresh_ahead

    def recheck_due(self, tokens: TokenSet, now: datetime) -> bool:
        if self.recheck_every is None:
            return False
        return tokens.checked_at is None or now - tokens.checked_at >= self.recheck_every

    def ending(self, tokens: TokenSet) -> list[tuple[str, datetime, timedelta]]:
        """What dies without a person, when, and how early to say so: a token that cannot be
        renewed, a long-lived token whose renewals fail, a refresh token's own end."""
        ends: list[tuple[str, datetime, timedelta]] = []
        if tokens.expires_at is not None and not self.can_refresh(tokens):
            ends.append(("token", tokens.expires_at, self.warn_ahead))
        elif tokens.expires_at is not None and self.kind_of(tokens) == "long-lived":
            ends.append(("token (renewals are failing)", tokens.expires_at, self.warn_ahead))
        if tokens.refresh_expires_at is not None and tokens.refresh_token:
            ends.append(("refresh token", tokens.refresh_expires_at, self.warn_ahead))
        return ends

    def warning(self, tokens: TokenSet, now: datetime, *, account: str) -> str | None:
        """A sentence for a person when these tokens die soon and renewing cannot help."""
        for what, when, ahead in sorted(self.ending(tokens), key=lambda end: end[1]):
            if when - now <= ahead:
                verb = "expired" if when <= now else f"expires {_days(when - now)}"
                return (
                    f"{self.network}:{account}: the {what} {verb} "
                    f"({when.astimezone(UTC):%Y-%m-%d %H:%M} UTC); {self.reconnect_hint(account)}"
                )
        return None

    def reconnect_hint(self, account: str) -> str:
        return f"re-connect with `storyline accounts connect {self.network} {account}`"

    # -- network ----------------------------------------------------------------------------

    @abstractmethod
    def refresh(
        self, credentials: Credentials, current: TokenSet | None, now: datetime
    ) -> TokenSet:
        """Renew the tokens (``current`` None: start from the secrets file). Raises
        :class:`GrantRefused` when only a person can fix it, :class:`Transient` otherwise."""

    def recheck(
        self, credentials: Credentials, current: TokenSet | None, now: datetime
    ) -> TokenSet:
        """The "refresh" of a token that cannot be renewed: ask the network (:meth:`inspect`);
        valid -> the same token, its expiry as the network says; refused -> GrantRefused."""
        current = current or self.initial(credentials, now)
        status = self.inspect(credentials, current, now)
        if current is None or status.valid is False:
            raise GrantRefused(
                f"{self.network}:{credentials.account}: the token is not valid "
                f"({status.detail or 'none in the secrets file'}) and cannot be renewed; "
                f"{self.reconnect_hint(credentials.account)}"
            )
        if status.valid is None:
            return current
        return current.with_changes(
            expires_at=status.expires_at, scope=status.scope or current.scope, checked_at=now
        )

    def inspect(
        self, credentials: Credentials, current: TokenSet | None, now: datetime
    ) -> TokenStatus:
        """What the network says of the token; without a documented check, what is stored."""
        if current is None:
            return TokenStatus(valid=None, detail="no token stored yet")
        return TokenStatus(
            valid=None,
            expires_at=current.expires_at,
            scope=current.scope,
            detail=f"{self.network} documents no token check; expiry as last received",
        )

    # -- connecting an account ----------------------------------------------------------------

    def authorization_url(
        self,
        credentials: Credentials,
        *,
        redirect_uri: str,
        state: str,
        code_challenge: str,
        scopes: Sequence[str] | None = None,
    ) -> str:
        """The page a person opens to grant Storyline access (``code_challenge`` is S256;
        networks without PKCE ignore it)."""
        raise ConnectFailed(f"{self.network}: accounts are not connected through a browser")

    def exchange_code(
        self,
        credentials: Credentials,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
        now: datetime,
    ) -> TokenSet:
        """Trade the authorization code for the account's tokens."""
        raise ConnectFailed(f"{self.network}: accounts are not connected through a browser")

    # -- helpers for subclasses ----------------------------------------------------------------

    def scope_of(self, scopes: Sequence[str] | None) -> str:
        return self.scope_separator.join(scopes if scopes is not None else self.default_scopes)

    def refused(self, exc: NeedsAuth, account: str) -> GrantRefused:
        """The same refusal, saying what to do about it."""
        if isinstance(exc, GrantRefused) and self.reconnect_hint(account) in str(exc):
            return exc
        return GrantRefused(f"{exc}; {self.reconnect_hint(account)}", http_status=exc.http_status)

    def client_field(self, credentials: Credentials, name: str) -> str:
        value = credentials.get(name)
        if not value:
            raise NeedsAuth(
                f"{self.network}:{credentials.account}: the secrets file has no {name} "
                f"(the app's {name.replace('_', ' ')}), needed to renew or connect the account"
            )
        return value
