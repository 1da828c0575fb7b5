"""Alembic environment: run migrations on the connection :func:`scheduler.calendar.migrate.upgrade`
hands in.

The configuration is built in code (no ``alembic.ini`` to find at run time), so the migrations
work from an installed wheel as well as from a checkout. Given only a URL (``alembic`` run by
hand with ``-x url=...``), a short-lived engine is made for it.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import scheduler.calendar.tables  # noqa: F401  (registers the tables on SQLModel.metadata)
from scheduler.calendar.dialect import dialect_for

config = context.config
target_metadata = SQLModel.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place: batch mode copies the table instead.
        render_as_batch=dialect_for(connection).batch_migrations,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    if not url:
        raise SystemExit("give the database: alembic -x url=postgresql+psycopg://... upgrade head")
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            _run(conn)
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit(
        "offline (SQL script) migrations are not supported: run `storyline db upgrade`"
    )
run_migrations_online()
