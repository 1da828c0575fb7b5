"""The application's token store: built from the settings, checked at start, and the person's
side of it (``storyline accounts connect``, ``accounts rotate-key``).

Why a start-up check: stored tokens sealed with another key cannot be read, and a worker that
went on would renew from the secrets file and overwrite them (X's refresh tokens work once).
So the worker, ``run`` and the ``accounts`` commands refuse to start while stored tokens exist
that ``STORYLINE_SECRET_KEY`` cannot open, or no key is set (docs/security.md).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy.engine import Engine

from scheduler.app.secrets import Secrets
from scheduler.app.settings import Settings
from scheduler.calendar.database import engine_for
from scheduler.core.errors import ConfigError, PublishError
from scheduler.dispatch.credentials import StoredCredentials
from scheduler.dispatch.sealing import Sealer
from scheduler.dispatch.tokens import TokenStore
from scheduler.publishers.auth.base import GrantRefused, TokenLifecycle, TokenSet
from scheduler.publishers.auth.connect import CallbackReceiver, connect
from scheduler.publishers.auth.registry import LIFECYCLES, lifecycle_for
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import HttpClient, redact

log = logging.getLogger(__name__)


def store_for(
    settings: Settings,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] | None = None,
) -> TokenStore:
    return TokenStore(
        engine or engine_for(settings.database_url),
        Sealer(settings.secret_keys),
        clock=clock or settings.now,
    )


def lifecycles_for(settings: Settings, http: HttpClient) -> Callable[[str], TokenLifecycle | None]:
    """Each network's token lifecycle, made once (None for a network without tokens)."""

    @cache
    def lifecycle(network: str) -> TokenLifecycle | None:
        return lifecycle_for(network, settings, http) if network in LIFECYCLES else None

    return lifecycle


def credential_source(
    settings: Settings,
    secrets: Secrets,
    http: HttpClient,
    *,
    engine: Engine | None = None,
    clock: Callable[[], datetime] | None = None,
) -> StoredCredentials:
    """The secrets file layered with the stored tokens (what ``live`` publishers read)."""
    store = store_for(settings, engine=engine, clock=clock)
    return StoredCredentials(
        secrets, store, lifecycles_for(settings, http), clock=clock or settings.now
    )


def refuse_unreadable_tokens(settings: Settings, *, engine: Engine | None = None) -> int:
    """Raise ConfigError while stored tokens exist that the key cannot open (or no key is
    set, or a key is malformed); the number of stored token sets otherwise."""
    return store_for(settings, engine=engine).check_readable()


def connect_account(
    settings: Settings,
    secrets: Secrets,
    network: str,
    account: str,
    *,
    open_url: Callable[[str], None],
    receiver: CallbackReceiver,
    http: HttpClient,
    engine: Engine | None = None,
    scopes: Sequence[str] | None = None,
) -> TokenSet:
    """``storyline accounts connect``: the authorization-code flow with PKCE, then the
    tokens stored encrypted. The app's ``client_id`` (and ``client_secret``) come from the
    secrets file; the key is checked before the person is sent anywhere."""
    lifecycle = lifecycles_for(settings, http)(network)
    if lifecycle is None:
        from scheduler.core.suggest import unknown

        raise ConfigError(unknown("network with tokens", network, sorted(LIFECYCLES)))
    store = store_for(settings, engine=engine)
    store.check_readable()
    if not store.sealer.available:
        raise ConfigError(
            "STORYLINE_SECRET_KEY is not set: the tokens could not be stored "
            "(make one with `storyline accounts new-key`; docs/security.md)"
        )
    credentials = secrets.credentials(network, account) or Credentials(network, account, {})
    if not credentials.get("client_id"):
        where = secrets.source or "the secrets file (STORYLINE_SECRETS_FILE)"
        raise ConfigError(
            f"{where}: {network}.{account} has no client_id: add the app's client_id "
            f"(and client_secret) under {network}: {account}: before connecting"
        )
    tokens = connect(lifecycle, credentials, open_url=open_url, receiver=receiver, scopes=scopes)
    store.put(credentials, tokens)
    return tokens


def rotate_key(settings: Settings, *, engine: Engine | None = None) -> int:
    """Re-seal every stored token set with the first key of ``STORYLINE_SECRET_KEY``."""
    store = store_for(settings, engine=engine)
    if store.sealer.key_count < 1:
        raise ConfigError("STORYLINE_SECRET_KEY is not set: there is no key to rotate to")
    return store.rotate()


@dataclass(frozen=True, slots=True)
class TokenNote:
    """What ``accounts check`` says of an account's tokens (never a value)."""

    expires_at: datetime | None = None
    stored: bool = False  # the tokens in use come from the database, not the secrets file
    renewed: bool = False
    refused: str | None = None
    error: str | None = None
    #: Storyline renews it before it expires (a refresh token or a renewable kind, and a key).
    renewable: bool = False
    #: The lifecycle's sentence when a person must act soon (a token that cannot be renewed).
    warning: str | None = None
    unknown_expiry: bool = False

    def detail(self) -> str:
        parts = []
        if self.renewed:
            parts.append("token renewed now")
        elif self.stored:
            parts.append("token from the database (renewed or connected)")
        elif self.unknown_expiry:
            parts.append("token from the secrets file, its expiry not known yet")
        if self.error:
            parts.append(f"could not renew: {self.error}")
        return "; ".join(parts)


def describe_tokens(
    source: StoredCredentials, network: str, account: str, *, refresh: bool = False
) -> TokenNote:
    """The account's token expiry as stored (or as renewed now with ``refresh``)."""
    lifecycle = source.lifecycles(network)
    if lifecycle is None:
        return TokenNote()
    file = source.file.credentials(network, account)
    creds = file or Credentials(network, account, {})
    renewed, error = False, None
    if refresh and (file is not None or source.store.read(network, account) is not None):
        try:
            source.store.renew(lifecycle, creds, force=True)
            renewed = True
        except GrantRefused as exc:
            return TokenNote(refused=str(exc))
        except (PublishError, ConfigError) as exc:
            error = redact(str(exc), creds.secret_values())
        source.forget(network, account)
    stored = source.store.read(network, account)
    if stored is not None and stored.refused_now(file):
        return TokenNote(refused=stored.last_error or lifecycle.reconnect_hint(account))
    tokens = source.store.effective(stored, file, lifecycle, source.clock())
    from_store = stored is not None and stored.sealed != "" and stored.matches(file)
    now = source.clock()
    return TokenNote(
        expires_at=tokens.expires_at if tokens is not None else None,
        stored=from_store,
        renewed=renewed,
        error=error,
        renewable=tokens is not None
        and source.store.sealer.available
        and lifecycle.can_refresh(tokens)
        and error is None,
        warning=lifecycle.warning(tokens, now, account=account) if tokens is not None else None,
        unknown_expiry=tokens is not None
        and tokens.expires_at is None
        and lifecycle.kind_of(tokens) != "never",
    )


def startup_checks(settings: Settings, *, engine: Engine | None = None) -> None:
    """What the worker, the beat and ``run`` check before anything is claimed: the secrets
    file (networks, fields, and accounts against ``markets.yaml`` when the content is here)
    and the stored tokens against the key. Raises ConfigError with the file and line."""
    from scheduler.app.secrets import check_accounts_known, load_secrets
    from scheduler.content.files import MARKETS_FILE_NAME

    if settings.secrets_file is not None:
        secrets = load_secrets(settings)
        if (settings.content_dir / MARKETS_FILE_NAME).is_file():
            from scheduler.app.accounts import load_markets

            check_accounts_known(secrets, load_markets(settings))
        if not settings.secret_keys:
            _warn_without_key(secrets)
    refuse_unreadable_tokens(settings, engine=engine)


#: Kinds whose renewal must be stored (a Bluesky session lives in its publisher).
STORED_KINDS = ("rotating-refresh", "refresh", "long-lived")


def _warn_without_key(secrets: Secrets) -> None:
    """Say at start which accounts will be held when their token expires: renewing needs a
    key to store the answer."""
    renewable = [
        f"{network}:{account}"
        for network, account in secrets.accounts()
        if network in LIFECYCLES and LIFECYCLES[network].kind in STORED_KINDS
    ]
    if renewable:
        shown = ", ".join(renewable[:5]) + (", ..." if len(renewable) > 5 else "")
        log.warning(
            "STORYLINE_SECRET_KEY is not set: the tokens of %d account(s) (%s) cannot be "
            "renewed and their posts will be held when they expire; set it "
            "(`storyline accounts new-key`, docs/security.md)",
            len(renewable),
            shown,
        )
