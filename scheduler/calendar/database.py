"""Engines: the one place that opens the calendar database, and says so when it cannot.

What each database needs (SQLite's WAL and busy timeout, PostgreSQL's pool) is
:mod:`scheduler.calendar.dialect`'s; this module makes one engine per URL and process, and
turns a refused connection or a lock held too long into a message an operator can act on.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlmodel import create_engine

from scheduler.calendar.dialect import dialect_named
from scheduler.core.errors import ConfigError, DatabaseBusy, DatabaseUnreachable

_ENGINES: dict[str, Engine] = {}


def make_engine(url: str) -> Engine:
    """A new engine for ``url``; SQLite files get their folder created."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"not a database URL: {url!r}") from None
    dialect = dialect_named(parsed.get_backend_name())
    try:
        engine = create_engine(url, **dialect.engine_options(parsed))
    except NoSuchModuleError:
        raise ConfigError(f"unsupported database URL scheme: {parsed.drivername!r}") from None
    dialect.prepare(engine)
    return engine


def engine_for(url: str) -> Engine:
    """The process-wide engine for ``url`` (one pool per process, per URL)."""
    engine = _ENGINES.get(url)
    if engine is None:
        engine = _ENGINES[url] = make_engine(url)
    return engine


def dispose_all() -> None:
    """Drop every pooled connection (after a fork, or at the end of a test)."""
    for engine in _ENGINES.values():
        engine.dispose()
    _ENGINES.clear()


def check_reachable(engine: Engine) -> None:
    """Raise DatabaseUnreachable with the URL (password hidden) if no connection can be made."""
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnreachable(
            f"cannot connect to {where}: {reason}; start the database server "
            "or fix STORYLINE_DATABASE_URL"
        ) from None


@contextmanager
def translate_busy(engine: Engine, timeout_s: float) -> Iterator[None]:
    """A lock waited for in vain (another sync or migration) becomes :class:`DatabaseBusy`."""
    try:
        yield
    except OperationalError as exc:
        message = str(exc.orig or exc).lower()
        if "locked" in message or "lock timeout" in message or "lock_timeout" in message:
            where = engine.url.render_as_string(hide_password=True)
            raise DatabaseBusy(
                f"the calendar is locked by another process ({where}); "
                f"waited {timeout_s:g} s: try again when the other sync or migration has finished"
            ) from None
        raise


def utcnow() -> datetime:
    """Aware UTC now, for the edges (the core takes ``now`` as an argument)."""
    return datetime.now(UTC)


def from_db(dt: datetime | None) -> datetime | None:
    """A stored datetime -> aware UTC (SQLite may hand back a naive UTC value)."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
