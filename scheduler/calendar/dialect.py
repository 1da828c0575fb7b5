"""Everything the calendar does differently on PostgreSQL and on SQLite, in one module.

:class:`Dialect` is the plain way: SQLAlchemy Core, right on any database SQLAlchemy speaks.
:class:`SQLite` and :class:`PostgreSQL` override a method only where their own way is required
(the write lock, the connection settings) or measurably faster on ``python -m bench sync``
(docs/benchmarks.md). Each override sits beside the plain method it replaces, and
``tests/calendar/test_dialect.py`` holds the two to the same result. Callers ask for a
capability ("can each publish step be one statement?"), never for a database's name: this is
the only module that knows them.

The overrides that stay, measured when they were moved here (``python -m bench sync``'s 50k
posts, median of fresh processes, driver-level vs plain Core): reading the rows sync compares,
0.40 s vs 0.60 s on SQLite and 0.45 s vs 0.63 s on PostgreSQL; inserting them, 0.99 s vs
1.62 s and 1.17 s vs 2.89 s; updating every post, 2.13 s vs 2.90 s and 2.29 s vs 3.18 s.
Within SQLite's writers, formatting each distinct datetime once (instead of once per value)
took a first sync from 2.27 s to 1.85 s on a loaded machine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from functools import cache
from operator import itemgetter
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, bindparam, event, insert, select, text, update
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.selectable import CTE

from scheduler.calendar.tables import Post

POST = Post.__table__  # type: ignore[attr-defined]
#: Rows per executemany batch (and per progress report).
WRITE_CHUNK = 2_000
SQLITE_BUSY_TIMEOUT_MS = 30_000

Progress = Callable[[int], None] | None
Row = dict[str, Any]


def aware(dt: datetime) -> datetime:
    """An instant as aware UTC (SQLite hands back naive UTC values)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def chunks(rows: list[Row], size: int = WRITE_CHUNK) -> Iterator[list[Row]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


class Dialect:
    """The plain SQLAlchemy Core way, and what a database can do."""

    #: Each publish step (the guarded update and its ``Attempt``) can be one statement, with
    #: data-modifying CTEs and ``RETURNING``, run on one autocommit connection held for the
    #: whole publish: one round trip and one commit per step.
    single_statement_steps = False
    #: Migrations copy a table to change it (Alembic's batch mode): ``ALTER`` is limited.
    batch_migrations = False
    #: A file the embedded default creates on first use (``storyline sync`` on a fresh clone).
    embedded = False

    # --- engines ----------------------------------------------------------------------------

    def engine_options(self, url: URL) -> dict[str, Any]:
        # Kept open: a worker's threads (8) plus its tick. A smaller pool made every
        # connection above it an "overflow" one, closed when handed back and opened again for
        # the next post: a new database backend per publish in a burst.
        return {"pool_pre_ping": True, "pool_size": 10, "max_overflow": 10}

    def prepare(self, engine: Engine) -> None:
        """Anything every new connection of ``engine`` needs."""

    def file_missing(self, engine: Engine) -> bool:
        """Whether the database is an embedded file that does not exist yet (``plan`` then
        compares with an empty calendar rather than create it)."""
        return False

    # --- locks --------------------------------------------------------------------------------

    def lock_calendar(self, conn: Connection, key: int, timeout_s: float) -> None:
        """Take the calendar's write lock for the transaction (waiting at most ``timeout_s``);
        other databases have none to take."""

    def lock_migrations(self, conn: Connection, key: int) -> None:
        """Make concurrent migrations take turns, for the transaction."""

    # --- the claim ----------------------------------------------------------------------------

    def claim_where(self, picked: CTE, state: str) -> list[ColumnElement[bool]]:
        """How the claim's UPDATE reaches the candidates it picked (``picked.post_id``).

        Without row locks the state guard does the work, and the statement holds the write
        lock for its duration."""
        return [POST.c.post_id.in_(select(picked.c.post_id)), POST.c.status == state]

    # --- sync's bulk reads and writes ---------------------------------------------------------

    def read_rows(self, conn: Connection, columns: Sequence[str]) -> list[list[Any]]:
        """Every post's ``columns``, datetimes as aware UTC."""
        stamps = [i for i, name in enumerate(columns) if _is_datetime(name)]
        out = []
        for row in conn.execute(select(*(POST.c[name] for name in columns))):
            values = list(row)
            for i in stamps:
                if values[i] is not None:
                    values[i] = aware(values[i])
            out.append(values)
        return out

    def insert_rows(
        self, conn: Connection, columns: Sequence[str], rows: list[Row], progress: Progress
    ) -> None:
        """Insert new posts (each row a dict of ``columns``)."""
        for chunk in chunks(rows):
            conn.execute(insert(POST), chunk)
            if progress:
                progress(len(chunk))

    def update_rows(
        self, conn: Connection, columns: Sequence[str], rows: list[Row], progress: Progress
    ) -> int:
        """Guarded updates (``WHERE post_id = :b_post_id AND status = :b_seen``) of
        ``columns``; returns how many rows the guard skipped (their state changed since)."""
        if not rows:
            return 0
        guarded = (POST.c.post_id == bindparam("b_post_id")) & (
            POST.c.status == bindparam("b_seen")
        )
        stmt = update(POST).where(guarded).values({c: bindparam(c) for c in columns})
        sane = conn.dialect.supports_sane_multi_rowcount
        skipped = 0
        for chunk in chunks(rows):
            result = conn.execute(stmt, chunk)
            if sane and result.rowcount >= 0:
                skipped += len(chunk) - result.rowcount
            if progress:
                progress(len(chunk))
        return skipped


def _is_datetime(name: str) -> bool:
    kind = POST.c[name].type
    return isinstance(getattr(kind, "impl_instance", kind), DateTime)  # SQLModel decorates it


def _read_with_driver(conn: Connection, columns: Sequence[str]) -> list[list[Any]]:
    """Every post's ``columns`` through the driver's own cursor: no per-value processing by
    SQLAlchemy, which was a third of an unchanged re-sync. SQLite keeps datetimes as text."""
    raw: Any = conn.connection.dbapi_connection
    cursor = raw.cursor()
    try:
        cursor.execute(f"SELECT {', '.join(columns)} FROM post")  # noqa: S608 (constant names)
        fetched = cursor.fetchall()
    finally:
        cursor.close()
    stamps = [i for i, name in enumerate(columns) if _is_datetime(name)]
    out = []
    for r in fetched:
        values = list(r)
        for i in stamps:
            when = values[i]
            if when is None:
                continue
            if isinstance(when, str):
                when = datetime.fromisoformat(when)
            values[i] = aware(when)
        out.append(values)
    return out


class SQLite(Dialect):
    batch_migrations = True
    embedded = True

    #: SQLAlchemy's storage format for a SQLite DATETIME (UTC, no offset).
    DATETIME_TEXT = "%Y-%m-%d %H:%M:%S.%f"

    def engine_options(self, url: URL) -> dict[str, Any]:
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000}}

    def prepare(self, engine: Engine) -> None:
        event.listen(engine, "connect", sqlite_pragmas)
        database = engine.url.database
        if database and database != ":memory:" and not database.startswith("file:"):
            folder = Path(database).parent

            def make_folder(*_args: Any) -> None:
                # On the first connection, not when the engine is made: `plan` makes an engine
                # but must not create the data dir, nor the database file (file_missing).
                folder.mkdir(parents=True, exist_ok=True)

            event.listen(engine, "do_connect", make_folder)

    def file_missing(self, engine: Engine) -> bool:
        database = engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return False
        return not Path(database).exists()

    def lock_calendar(self, conn: Connection, key: int, timeout_s: float) -> None:
        # ``BEGIN IMMEDIATE``: the database's own write lock, taken up front so the rows read
        # for the diff cannot change before the write. The busy timeout only matters while
        # waiting for it: set for this BEGIN, then the pooled connection gets its usual one.
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")

    def lock_migrations(self, conn: Connection, key: int) -> None:
        # SQLite's DDL is transactional: take the write lock first, so a second upgrade (two
        # first syncs of a fresh file) waits, then finds the schema at head.
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    def read_rows(self, conn: Connection, columns: Sequence[str]) -> list[list[Any]]:
        return _read_with_driver(conn, columns)

    def _stored(self, rows: list[Row]) -> None:
        """Datetimes as SQLAlchemy stores them on SQLite, in place. Many posts share a due
        instant (a launch in every market) and every row the same ``now``: each distinct value
        is formatted once."""
        text_of: dict[datetime, str] = {}
        for r in rows:
            for name, value in r.items():
                if isinstance(value, datetime):
                    stored = text_of.get(value)
                    if stored is None:
                        stored = text_of[value] = value.astimezone(UTC).strftime(self.DATETIME_TEXT)
                    r[name] = stored

    def insert_rows(
        self, conn: Connection, columns: Sequence[str], rows: list[Row], progress: Progress
    ) -> None:
        """The driver's own ``executemany``, values already in SQLAlchemy's storage format:
        going around its per-row parameter processing keeps a 50k-post first sync fast."""
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO post ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608
        values = itemgetter(*columns)
        for chunk in chunks(rows):
            self._stored(chunk)
            conn.exec_driver_sql(sql, [values(r) for r in chunk])
            if progress:
                progress(len(chunk))

    def update_rows(
        self, conn: Connection, columns: Sequence[str], rows: list[Row], progress: Progress
    ) -> int:
        sets = ", ".join(f"{c} = ?" for c in columns)
        sql = f"UPDATE post SET {sets} WHERE post_id = ? AND status = ?"  # noqa: S608
        values = itemgetter(*columns, "b_post_id", "b_seen")
        skipped = 0
        for chunk in chunks(rows):
            self._stored(chunk)
            result = conn.exec_driver_sql(sql, [values(r) for r in chunk])
            skipped += len(chunk) - result.rowcount
            if progress:
                progress(len(chunk))
        return skipped


class PostgreSQL(Dialect):
    single_statement_steps = True

    def lock_calendar(self, conn: Connection, key: int, timeout_s: float) -> None:
        # A transaction-scoped advisory lock, released at commit or rollback.
        conn.execute(text(f"SET LOCAL lock_timeout = '{int(timeout_s * 1000)}ms'"))
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})
        conn.execute(text("SET LOCAL lock_timeout = 0"))

    def lock_migrations(self, conn: Connection, key: int) -> None:
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": key})

    def claim_where(self, picked: CTE, state: str) -> list[ColumnElement[bool]]:
        # The candidates are locked (``SKIP LOCKED`` re-checks their state once locked) and
        # limited once, in a materialized CTE, then updated through the primary key. Written
        # as ``IN (subquery)``, the planner of a table not yet analyzed ran the locking
        # subquery once per due row: 1.1 s for 3,000 due posts, and each run applied its own
        # LIMIT (docs/operations.md, "Bursts").
        return [POST.c.post_id == picked.c.post_id]

    def read_rows(self, conn: Connection, columns: Sequence[str]) -> list[list[Any]]:
        return _read_with_driver(conn, columns)

    def insert_rows(
        self, conn: Connection, columns: Sequence[str], rows: list[Row], progress: Progress
    ) -> None:
        """``COPY ... FROM STDIN``."""
        raw: Any = conn.connection.driver_connection
        values = itemgetter(*columns)
        copy_sql = f"COPY post ({', '.join(columns)}) FROM STDIN"
        with raw.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for i, row in enumerate(rows, 1):
                copy.write_row(values(row))
                if progress and i % WRITE_CHUNK == 0:
                    progress(WRITE_CHUNK)
        if progress and len(rows) % WRITE_CHUNK:
            progress(len(rows) % WRITE_CHUNK)

    def update_rows(
        self, conn: Connection, columns: Sequence[str], rows: list[Row], progress: Progress
    ) -> int:
        """The rows are copied into a temporary table and applied by one ``UPDATE ... FROM``."""
        if not rows:
            return 0
        names = ("b_post_id", "b_seen", *columns)
        assignments = ", ".join(f"{c} = u.{c}" for c in columns)
        raw: Any = conn.connection.driver_connection
        values = itemgetter(*names)
        with raw.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE sync_update ON COMMIT DROP AS "  # noqa: S608 (constant names)
                f"SELECT post_id AS b_post_id, status AS b_seen, {', '.join(columns)} "
                "FROM post WITH NO DATA"
            )
            with cursor.copy(f"COPY sync_update ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(values(row))
            cursor.execute(
                f"UPDATE post SET {assignments} FROM sync_update u "  # noqa: S608 (constant names)
                "WHERE post.post_id = u.b_post_id AND post.status = u.b_seen"
            )
            changed = int(cursor.rowcount)
            cursor.execute("DROP TABLE sync_update")
        if progress:
            progress(len(rows))
        return len(rows) - changed


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Every SQLite connection: WAL (readers never block the writer), a busy timeout (a second
    writer waits instead of failing at once), NORMAL sync under WAL, and foreign keys."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


@cache
def dialect_named(name: str) -> Dialect:
    """The calendar's dialect for a SQLAlchemy backend name (``engine.dialect.name``)."""
    if name == "postgresql":
        return PostgreSQL()
    if name == "sqlite":
        return SQLite()
    return Dialect()


def dialect_for(bind: Engine | Connection) -> Dialect:
    return dialect_named(bind.dialect.name)
