"""The token store: each account's renewed tokens in ``account_token``, sealed, renewed once.

Why a lock and not just a version check: X's refresh tokens work once. Two workers that both
send the same refresh token lose the account (the second request spends nothing and is refused,
and the first answer may be lost with its worker). So a renewal runs under the account's lock:
on PostgreSQL a transaction-scoped advisory lock on the account (its row may not exist yet) and
``SELECT ... FOR UPDATE`` of the row; on SQLite ``BEGIN IMMEDIATE`` (the database's one write
lock). After the lock the row is read again: if another worker renewed meanwhile (the access
token differs from the one the caller used) its tokens are used without a request; otherwise
the network is asked, and the new pair is committed *before* anyone uses it.

Which tokens win: the database's while they were derived from the secrets file as it is now.
``seed`` fingerprints the file's token fields when the row is written; an operator who pastes a
new token in the file changes the fingerprint, and the file wins again (docs/operations.md,
"Tokens"). A grant the network refused for good is kept as ``status = 'refused'`` with the
message (the notifications read it) until the file changes or the account is re-connected.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine, RowMapping

from scheduler.calendar.database import check_reachable, from_db
from scheduler.calendar.tables import AccountToken
from scheduler.core.errors import ConfigError
from scheduler.dispatch.sealing import KeyMissing, Sealer
from scheduler.publishers.auth.base import GrantRefused, TokenLifecycle, TokenSet, secrets_of
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import redact

log = logging.getLogger(__name__)

TOKENS = AccountToken.__table__  # type: ignore[attr-defined]

OK = "ok"
REFUSED = "refused"

#: The secrets-file fields that are tokens (the others, such as ``client_id``, name the app):
#: the fingerprint covers these, so a new token in the file wins over the stored one.
TOKEN_FIELDS = ("access_token", "refresh_token", "user_access_token", "app_password", "identifier")


def fingerprint(credentials: Credentials | None) -> str:
    """SHA-256 of the file's token fields (domain-separated; 64 hex characters). Tokens are
    long random strings, so the digest reveals nothing of them (docs/security.md)."""
    fields = {k: credentials.get(k) for k in TOKEN_FIELDS} if credentials is not None else {}
    shown = sorted((k, v) for k, v in fields.items() if v)
    return hashlib.sha256(("storyline-seed-v1\0" + json.dumps(shown)).encode()).hexdigest()


def lock_key(network: str, account: str) -> int:
    """The account's PostgreSQL advisory lock key (a signed 64-bit integer)."""
    digest = hashlib.sha256(f"storyline-token:{network}:{account}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@dataclass(frozen=True, slots=True, repr=False)
class Stored:
    """One ``account_token`` row (``sealed`` still sealed: its repr shows no value)."""

    network: str
    account: str
    sealed: str
    seed: str | None
    version: int
    status: str
    last_error: str | None
    expires_at: datetime | None
    refresh_expires_at: datetime | None
    checked_at: datetime | None

    @classmethod
    def of(cls, row: RowMapping) -> Stored:
        return cls(
            network=row["network"],
            account=row["account"],
            sealed=row["sealed"] or "",
            seed=row["seed"],
            version=int(row["version"] or 0),
            status=row["status"] or OK,
            last_error=row["last_error"],
            expires_at=from_db(row["expires_at"]),
            refresh_expires_at=from_db(row["refresh_expires_at"]),
            checked_at=from_db(row["checked_at"]),
        )

    def __repr__(self) -> str:
        return f"Stored({self.network}:{self.account}, v{self.version}, {self.status})"

    @property
    def what(self) -> str:
        return f"{self.network}:{self.account}"

    def matches(self, credentials: Credentials | None) -> bool:
        """True while the secrets file is as it was when this row was written."""
        return self.seed == fingerprint(credentials)

    def refused_now(self, credentials: Credentials | None) -> bool:
        return self.status == REFUSED and self.matches(credentials)


class TokenStore:
    """The ``account_token`` table: read, renew under the account's lock, store, re-seal."""

    def __init__(self, engine: Engine, sealer: Sealer, *, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.sealer = sealer
        self.clock = clock
        self._ready: bool | None = None

    def ready(self) -> bool:
        """True when the calendar has the table (an old or absent calendar stores nothing)."""
        if self._ready is None:
            check_reachable(self.engine)  # an unreachable database: its URL, not a traceback
            self._ready = inspect(self.engine).has_table(TOKENS.name)
        return self._ready

    def read(self, network: str, account: str) -> Stored | None:
        if not self.ready():
            return None
        with self.engine.connect() as conn:
            return _read(conn, network, account)

    def read_all(self) -> list[Stored]:
        if not self.ready():
            return []
        with self.engine.connect() as conn:
            rows = conn.execute(select(TOKENS).order_by(TOKENS.c.network, TOKENS.c.account))
            return [Stored.of(r) for r in rows.mappings()]

    def effective(
        self,
        stored: Stored | None,
        credentials: Credentials | None,
        lifecycle: TokenLifecycle,
        now: datetime,
    ) -> TokenSet | None:
        """The tokens to use: the row's while the file is unchanged, else the file's own."""
        if stored is not None and stored.sealed and stored.matches(credentials):
            return self.sealer.unseal(stored.sealed, what=stored.what)
        if credentials is None:
            return None
        first = lifecycle.initial(credentials, now)
        if first is not None and stored is not None and stored.matches(credentials):
            # A check recorded without a key: what the network said of the file's token.
            return first.with_changes(expires_at=stored.expires_at, checked_at=stored.checked_at)
        return first

    @contextmanager
    def locked(self, network: str, account: str) -> Iterator[tuple[Connection, Stored | None]]:
        """The account's row, read again under its lock; commits when the block ends."""
        if not self.ready():
            raise ConfigError("the calendar has no account_token table: run `storyline db upgrade`")
        with self.engine.begin() as conn:
            name = conn.dialect.name
            if name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            elif name == "postgresql":
                conn.execute(
                    text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key(network, account)}
                )
            yield conn, _read(conn, network, account, for_update=name != "sqlite")

    def renew(
        self,
        lifecycle: TokenLifecycle,
        credentials: Credentials,
        *,
        seen_access: str | None = None,
        force: bool = False,
    ) -> TokenSet:
        """Renew the account's tokens once across every worker and beat; the answer is the
        tokens to use now. ``seen_access`` is the access token the caller used (a 401): if
        the stored one differs, another worker already renewed. Without ``force`` a token
        that is not due (:meth:`TokenLifecycle.refresh_due`) is returned as it is.

        Raises :class:`GrantRefused` (recorded in the row first), ``Transient`` (nothing
        written), :class:`KeyMissing` before any request when nothing could be stored, and
        ``KeyWrong`` when the stored tokens cannot be opened (nothing written)."""
        network, account = credentials.network, credentials.account
        refused: GrantRefused | None = None
        with self.locked(network, account) as (conn, stored):
            now = self.clock()
            current = self.effective(stored, credentials, lifecycle, now)
            if current is not None and seen_access not in (None, current.access_token):
                return current  # renewed meanwhile (another worker, or a new file)
            if stored is not None and stored.refused_now(credentials) and not force:
                raise GrantRefused(stored.last_error or lifecycle.reconnect_hint(account))
            if not force and current is not None and not lifecycle.refresh_due(current, now):
                return current
            renewing = current is None or lifecycle.can_refresh(current)
            if renewing and not self.sealer.available:  # before any request
                raise KeyMissing(
                    f"STORYLINE_SECRET_KEY is not set: {network}:{account} cannot be renewed, "
                    "because the renewed tokens could not be stored (docs/security.md)"
                )
            ask = lifecycle.refresh if renewing else lifecycle.recheck
            try:
                renewed = ask(credentials, current, now)
            except GrantRefused as exc:
                message = redact(str(exc), secrets_of(credentials, current))
                self._write_refused(conn, stored, credentials, current, message, now)
                refused = GrantRefused(message, http_status=exc.http_status)
            else:
                self._write(conn, stored, credentials, renewed, now)
                log.info("%s:%s: tokens renewed", network, account)
                return renewed
        raise refused

    def note_first_seen(self, lifecycle: TokenLifecycle, credentials: Credentials) -> bool:
        """Keep the secrets file's token with the time it was first seen, for networks that
        renew only a token at least ``min_age`` old (Threads, Instagram): without it every
        process would see the token as new. Written only while no row describes the file's
        token (never over a renewal); True when written."""
        if not self.sealer.available:
            return False
        with self.locked(credentials.network, credentials.account) as (conn, stored):
            if stored is not None and stored.matches(credentials):
                return False
            now = self.clock()
            first = lifecycle.initial(credentials, now)
            if first is None:
                return False
            self._write(conn, stored, credentials, first, now)
            return True

    def put(self, credentials: Credentials, tokens: TokenSet) -> None:
        """Store tokens a person just granted (``storyline accounts connect``)."""
        self.sealer.seal(tokens)  # KeyMissing before taking any lock
        with self.locked(credentials.network, credentials.account) as (conn, stored):
            self._write(conn, stored, credentials, tokens, self.clock())

    def rotate(self) -> int:
        """Re-seal every stored token set with the first key; the number of rows re-sealed.
        All rows are opened before any is written: one row no key opens changes nothing."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            query = select(TOKENS)
            if conn.dialect.name != "sqlite":
                query = query.with_for_update()
            rows = [Stored.of(r) for r in conn.execute(query).mappings()]
            resealed = [(r, self.sealer.rotate(r.sealed, what=r.what)) for r in rows if r.sealed]
            for row, sealed in resealed:
                conn.execute(_where(update(TOKENS), row.network, row.account).values(sealed=sealed))
        return len(resealed)

    def check_readable(self) -> int:
        """Refuse to go on when stored tokens exist that the key cannot open (or no key is
        set): nothing may overwrite them. The number of stored token sets."""
        rows = [r for r in self.read_all() if r.sealed]
        if rows and not self.sealer.available:
            raise KeyMissing(
                f"{len(rows)} account token set(s) are stored encrypted in the calendar but "
                "STORYLINE_SECRET_KEY is not set: set it to the key they were sealed with "
                "(docs/security.md). Nothing was changed."
            )
        for row in rows:
            self.sealer.unseal(row.sealed, what=row.what)
        return len(rows)

    def _write(
        self,
        conn: Connection,
        stored: Stored | None,
        credentials: Credentials,
        tokens: TokenSet,
        now: datetime,
    ) -> None:
        # Without a key only a check is recorded (a token that cannot be renewed is the
        # file's own): its expiry and status, nothing sealed.
        values: dict[str, object] = {
            "sealed": self.sealer.seal(tokens) if self.sealer.available else "",
            "expires_at": tokens.expires_at,
            "refresh_expires_at": tokens.refresh_expires_at,
            "seed": fingerprint(credentials),
            "status": OK,
            "last_error": None,
            "checked_at": tokens.checked_at or now,
            "updated_at": now,
        }
        self._upsert(conn, stored, credentials, values)

    def _write_refused(
        self,
        conn: Connection,
        stored: Stored | None,
        credentials: Credentials,
        current: TokenSet | None,
        message: str,
        now: datetime,
    ) -> None:
        values: dict[str, object] = {
            "status": REFUSED,
            "last_error": message,
            "checked_at": now,
            "updated_at": now,
        }
        if stored is None or not stored.matches(credentials):
            # The row describes the file's tokens now (the stored ones were superseded).
            sealable = current is not None and self.sealer.available
            values["sealed"] = self.sealer.seal(current) if sealable and current else ""
            values["seed"] = fingerprint(credentials)
            values["expires_at"] = current.expires_at if current else None
        self._upsert(conn, stored, credentials, values)

    def _upsert(
        self,
        conn: Connection,
        stored: Stored | None,
        credentials: Credentials,
        values: dict[str, object],
    ) -> None:
        network, account = credentials.network, credentials.account
        if stored is None:
            values.setdefault("sealed", "")
            conn.execute(
                insert(TOKENS).values(network=network, account=account, version=1, **values)
            )
        else:
            conn.execute(
                _where(update(TOKENS), network, account).values(
                    version=stored.version + 1, **values
                )
            )


def _where(stmt, network: str, account: str):  # type: ignore[no-untyped-def]
    return stmt.where(TOKENS.c.network == network, TOKENS.c.account == account)


def _read(
    conn: Connection, network: str, account: str, *, for_update: bool = False
) -> Stored | None:
    query = _where(select(TOKENS), network, account)
    if for_update:
        query = query.with_for_update()
    row = conn.execute(query).mappings().first()
    return Stored.of(row) if row is not None else None
