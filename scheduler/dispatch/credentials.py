"""The credentials a publisher gets: the secrets file's fields, with the database's newer tokens.

Why layered: the secrets file is read-only (it may be a mounted secret), yet X hands out a new
refresh token with every renewal. So the file gives the app's fields (``client_id``...) and the
first tokens; :class:`~scheduler.dispatch.tokens.TokenStore` keeps every renewal, and wins
while the file is unchanged. :class:`StoredCredentials` is the registry's
:class:`~scheduler.publishers.registry.CredentialSource`, plus the two things the dispatcher
and the beat need: :meth:`~StoredCredentials.renew` after a 401, and
:meth:`~StoredCredentials.check_all` ahead of expiry.

A token expired already (the beat was down) is renewed before the post is sent; the stored
tokens are cached per process for a few seconds, so a burst of posts costs no database read
per post, and never a token request per post (bench ``token_refresh``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from scheduler.calendar.moves import move
from scheduler.core.errors import ConfigError, NeedsAuth, PublishError
from scheduler.core.lifecycle import Cause, PostState
from scheduler.dispatch.context import POST, Context, utc
from scheduler.dispatch.outcomes import REAUTH_REASON
from scheduler.dispatch.sealing import KeyMissing, KeyWrong
from scheduler.dispatch.tokens import Stored, TokenStore
from scheduler.publishers.auth.base import GrantRefused, TokenLifecycle, TokenSet, with_tokens
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import redact

log = logging.getLogger(__name__)

#: How long a process reuses the tokens it read (another worker's renewal is seen after this,
#: or at once on a 401).
CACHE = timedelta(seconds=30)


class FileSource(Protocol):
    """The secrets file and environment (:class:`scheduler.app.secrets.Secrets`)."""

    def credentials(self, network: str, account: str) -> Credentials | None: ...

    def has_network(self, network: str) -> bool: ...

    def accounts(self) -> list[tuple[str, str]]: ...


@dataclass(frozen=True, slots=True)
class _Cached:
    credentials: Credentials | None
    until: datetime
    expires_at: datetime | None


@dataclass
class TokenReport:
    """What one pass of the beat did (counts; the refused accounts with their message)."""

    checked: int = 0
    renewed: int = 0
    failed: int = 0
    refused: list[tuple[str, str, str]] = field(default_factory=list)

    def to_json(self) -> dict[str, int]:
        return {
            "checked": self.checked,
            "renewed": self.renewed,
            "failed": self.failed,
            "refused": len(self.refused),
        }


class StoredCredentials:
    """A CredentialSource over the secrets file and the token store."""

    def __init__(
        self,
        file: FileSource,
        store: TokenStore,
        lifecycles: Callable[[str], TokenLifecycle | None],
        *,
        clock: Callable[[], datetime],
        cache: timedelta = CACHE,
    ) -> None:
        self.file = file
        self.store = store
        self.lifecycles = lifecycles
        self.clock = clock
        self.cache = cache
        self._cached: dict[tuple[str, str], _Cached] = {}
        self._lock = threading.Lock()
        self._stored_networks: set[str] | None = None

    # -- CredentialSource -----------------------------------------------------------------

    def credentials(self, network: str, account: str) -> Credentials | None:
        """The file's fields with the tokens to use now; raises NeedsAuth while the network
        has refused the account's grant (until the file changes or it is re-connected)."""
        file = self.file.credentials(network, account)
        lifecycle = self.lifecycles(network)
        if lifecycle is None:
            return file
        now = self.clock()
        key = (network, account)
        hit = self._cached.get(key)
        if hit is not None and now < hit.until and (hit.expires_at is None or now < hit.expires_at):
            return hit.credentials
        stored = self.store.read(network, account)
        if stored is not None and stored.refused_now(file):
            raise GrantRefused(stored.last_error or lifecycle.reconnect_hint(account))
        try:
            tokens = self.store.effective(stored, file, lifecycle, now)
        except KeyWrong as exc:
            raise NeedsAuth(str(exc)) from None
        if tokens is None:
            made = file
        else:
            if tokens.expires_at is not None and tokens.expires_at <= now:
                tokens = self._renew_expired(lifecycle, file, network, account, tokens)
            made = with_tokens(file or Credentials(network, account, {}), tokens)
        expires = tokens.expires_at if tokens is not None else None
        with self._lock:
            self._cached[key] = _Cached(made, now + self.cache, expires)
        return made

    def has_network(self, network: str) -> bool:
        if self.file.has_network(network):
            return True
        if self._stored_networks is None:
            self._stored_networks = {r.network for r in self.store.read_all() if r.sealed}
        return network in self._stored_networks

    # -- renewals -------------------------------------------------------------------------

    def renew(self, network: str, account: str, used: Credentials) -> Credentials | None:
        """After a 401: renew once (or take another worker's renewal) and answer the new
        credentials; None when the network has no renewal. Raises NeedsAuth (hold the
        account: the grant is dead, or the key to store it is missing) or Transient."""
        lifecycle = self.lifecycles(network)
        if lifecycle is None:
            return None
        file = self.file.credentials(network, account)
        self.forget(network, account)
        try:
            tokens = self.store.renew(
                lifecycle,
                file or Credentials(network, account, {}),
                seen_access=used.get("access_token"),
                force=True,
            )
        except (KeyMissing, KeyWrong) as exc:
            raise NeedsAuth(str(exc)) from None
        if tokens.access_token == used.get("access_token"):
            return None  # a check that found the token as it was: renewing cannot help
        return with_tokens(file or Credentials(network, account, {}), tokens)

    def forget(self, network: str, account: str) -> None:
        with self._lock:
            self._cached.pop((network, account), None)

    def _renew_expired(
        self,
        lifecycle: TokenLifecycle,
        file: Credentials | None,
        network: str,
        account: str,
        tokens: TokenSet,
    ) -> TokenSet:
        """An expired token, renewed before use; on a passing failure the old one is used
        (the network's 401 then brings the renewal back through :meth:`renew`)."""
        try:
            return self.store.renew(
                lifecycle,
                file or Credentials(network, account, {}),
                seen_access=tokens.access_token,
            )
        except GrantRefused:
            raise
        except (PublishError, ConfigError) as exc:
            log.warning("%s:%s: could not renew the expired token: %s", network, account, exc)
            return tokens

    def accounts(self) -> list[tuple[str, str]]:
        """Every account with credentials: the file's and the stored (connected) ones."""
        seen = dict.fromkeys(self.file.accounts())
        seen.update(dict.fromkeys((r.network, r.account) for r in self.store.read_all()))
        return list(seen)

    def check_all(self, on_refused: Callable[[str, str, str], None] | None = None) -> TokenReport:
        """The beat: renew every token due (ahead of expiry, or a check of a token that
        cannot be renewed). A refused grant is recorded by the store and handed to
        ``on_refused(network, account, message)`` (the dispatcher holds the posts)."""
        report = TokenReport()
        now = self.clock()
        for network, account in self.accounts():
            lifecycle = self.lifecycles(network)
            if lifecycle is None:
                continue
            file = self.file.credentials(network, account)
            creds = file or Credentials(network, account, {})
            try:
                stored = self.store.read(network, account)
                if stored is not None and stored.refused_now(file):
                    continue  # told once already; waits for a person
                if file is not None and lifecycle.min_age and not _describes(stored, file):
                    self.store.note_first_seen(lifecycle, file)  # its age counts from now
                    stored = self.store.read(network, account)
                tokens = self.store.effective(stored, file, lifecycle, now)
                if tokens is None or not lifecycle.refresh_due(tokens, now):
                    continue
                report.checked += 1
                renewed = self.store.renew(lifecycle, creds, seen_access=tokens.access_token)
            except GrantRefused as exc:
                report.refused.append((network, account, str(exc)))
                if on_refused is not None:
                    on_refused(network, account, str(exc))
                continue
            except KeyMissing:
                continue  # start-up said so; nothing can be stored without the key
            except (PublishError, ConfigError) as exc:
                report.failed += 1
                why = redact(str(exc), creds.secret_values())
                log.warning(
                    "%s:%s: token renewal failed, retried next check: %s", network, account, why
                )
                continue
            if renewed.access_token != tokens.access_token:
                report.renewed += 1
            self.forget(network, account)
        return report


def hold_unsent(ctx: Context, network: str, account: str, message: str) -> int:
    """Every unsent post of the account ``held`` for re-auth (the lifecycle's
    ``needs_reauth``): the beat found its grant refused, so they would all get a 401."""
    values = {
        "status_reason": f"{REAUTH_REASON}: {message}",
        "lease_until": None,
        "updated_at": utc(ctx.now()),
    }
    unsent = [PostState.PLANNED, PostState.RETRY_WAIT, PostState.QUEUED]
    with ctx.uow.transaction() as conn:
        moved = conn.execute(
            move(
                Cause.NEEDS_AUTH,
                POST.c.network == network,
                POST.c.account == account,
                POST.c.status.in_(unsent),
            ).values(values)
        )
        return int(moved.rowcount or 0)


def check_tokens(ctx: Context) -> TokenReport:
    """The beat's token pass (``storyline.tokens``): renew what is due, hold the posts of an
    account whose grant the network refused. Nothing to do in ``outbox`` mode."""
    source = ctx.registry.secrets
    if not isinstance(source, StoredCredentials):
        return TokenReport()

    def refused(network: str, account: str, message: str) -> None:
        held = hold_unsent(ctx, network, account, message)
        log.warning("%s:%s: %s (%d post(s) held)", network, account, message, held)

    return source.check_all(on_refused=refused)


def _describes(stored: Stored | None, file: Credentials) -> bool:
    return stored is not None and stored.matches(file)
