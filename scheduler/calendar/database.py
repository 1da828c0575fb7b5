"""Engines and sessions: the one place that knows how to open the calendar database.

SQLite gets WAL (readers never block the writer), a busy timeout (a second writer waits instead
of failing at once) and foreign keys; PostgreSQL gets a pre-ping pool so a restarted server
does not surface as an obscure error on the next tick.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.exc import OperationalError as SAOperationalError
from sqlmodel import Session, create_engine

from scheduler.core.errors import ConfigError, DatabaseUnreachable

SQLITE_BUSY_TIMEOUT_MS = 30_000
_ENGINES: dict[str, Engine] = {}


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def make_engine(url: str) -> Engine:
    """A new engine for ``url``; SQLite files get their folder created."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"not a database URL: {url!r}") from None
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}
    else:
        # Kept open: a worker's threads (8) plus its tick. A smaller pool made every
        # connection above it an "overflow" one, closed when handed back and opened again for
        # the next post: a new PostgreSQL backend per publish in a burst.
        kwargs.update(pool_pre_ping=True, pool_size=10, max_overflow=10)
    try:
        engine = create_engine(url, **kwargs)
    except NoSuchModuleError:
        raise ConfigError(f"unsupported database URL scheme: {parsed.drivername!r}") from None
    if parsed.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
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
    except SAOperationalError as exc:
        where = engine.url.render_as_string(hide_password=True)
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnreachable(f"cannot connect to {where}: {reason}") from None


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One transaction: commit on success, roll back on any error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def utcnow() -> datetime:
    """Aware UTC now, for the edges (the core takes ``now`` as an argument)."""
    return datetime.now(UTC)


def from_db(dt: datetime | None) -> datetime | None:
    """A stored datetime -> aware UTC (SQLite may hand back a naive UTC value)."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
