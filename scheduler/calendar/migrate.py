"""The calendar's schema: Alembic upgrades, and a readable error when the database is not at
the code's revision.

The migrations ship inside the package and the configuration is built in code (no
``alembic.ini`` to find), so an installed wheel can upgrade its database. Concurrent upgrades
(several ``storyline run`` starting at once) take turns on the database's own lock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine

from scheduler.calendar.database import check_reachable, translate_busy
from scheduler.calendar.dialect import SQLITE_BUSY_TIMEOUT_MS, dialect_for
from scheduler.calendar.unit import UnitOfWork
from scheduler.core.errors import DatabaseError, SchemaBehind

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: ``pg_advisory_xact_lock`` key of migrations (ASCII "SYNCMIG"): a constant, so every
#: Storyline process on the database agrees on it.
MIGRATE_LOCK_KEY = 0x5359_4E43_4D49_4701

NO_HISTORY = (
    "the calendar database has tables but no migration history: it was not made by "
    "`storyline db upgrade`; point STORYLINE_DATABASE_URL at a new database"
)


def alembic_config() -> Any:
    """The Alembic configuration, built in code so migrations run from an installed wheel."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # "v0002_what_changed.py": a module name mypy accepts (no leading digit).
    cfg.set_main_option("file_template", "v%%(rev)s_%%(slug)s")
    return cfg


def head_revision() -> str:
    """The revision this code needs."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _revision_of(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def current_revision(engine: Engine) -> str | None:
    """The database's revision; None for a database the migrations never touched."""
    check_reachable(engine)
    with engine.connect() as conn:
        return _revision_of(conn)


def _is_empty(conn: Connection) -> bool:
    names = set(inspect(conn).get_table_names())
    return not names & {"post", "attempt", "alembic_version"}


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Apply every missing migration; returns (revision before, revision after)."""
    from alembic import command

    check_reachable(engine)
    cfg = alembic_config()
    with (
        translate_busy(engine, SQLITE_BUSY_TIMEOUT_MS / 1000),
        UnitOfWork(engine).transaction() as conn,
    ):
        dialect_for(conn).lock_migrations(conn, MIGRATE_LOCK_KEY)
        before = _revision_of(conn)
        if before is None and not _is_empty(conn):
            raise SchemaBehind(NO_HISTORY)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        after = _revision_of(conn)
    assert after is not None
    return before, after


#: A fresh clone's calendar (the embedded SQLite file) is made by the first sync.
NO_CALENDAR_EMBEDDED = (
    "no calendar yet: `storyline sync` creates it from the content "
    "(`storyline db upgrade`: an empty one)"
)
NO_CALENDAR = "no calendar yet: run `storyline db upgrade`"


def ensure_schema(engine: Engine) -> None:
    """Raise a readable error unless the database is reachable and at the code's revision.

    A missing embedded file is not created on the way (reading commands must not leave an
    empty database behind), and the error names the command a fresh clone needs: `sync`."""
    dialect = dialect_for(engine)
    if dialect.file_missing(engine):
        raise SchemaBehind(NO_CALENDAR_EMBEDDED)
    check_reachable(engine)
    with engine.connect() as conn:
        current = _revision_of(conn)
        empty = current is None and _is_empty(conn)
    head = head_revision()
    if current == head:
        return
    if empty:
        raise SchemaBehind(NO_CALENDAR_EMBEDDED if dialect.embedded else NO_CALENDAR)
    if current is None:
        raise SchemaBehind(NO_HISTORY)
    if current not in known_revisions():
        raise DatabaseError(
            f"the calendar database schema is at {current}, newer than this code ({head}): "
            "upgrade storyline"
        )
    raise SchemaBehind(
        f"the calendar database schema is at {current}, the code needs {head}: "
        "run `storyline db upgrade`"
    )


def is_new_embedded(engine: Engine) -> bool:
    """True for an embedded database (a SQLite file) with nothing in it yet: the default of a
    fresh clone, which ``sync`` may create without an explicit ``storyline db upgrade``."""
    if not dialect_for(engine).embedded:
        return False
    check_reachable(engine)
    with engine.connect() as conn:
        return _is_empty(conn)
