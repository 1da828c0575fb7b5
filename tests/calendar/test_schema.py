"""Migrations: shipped in the package, upgrade to head, agree with the models; clear errors."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from scheduler.calendar import store
from scheduler.calendar.database import make_engine
from scheduler.core.errors import DatabaseError, DatabaseUnreachable, SchemaBehind


@pytest.fixture
def empty(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_upgrading_an_empty_database_reaches_head(empty: Engine) -> None:
    before, after = store.upgrade(empty)
    assert (before, after) == (None, store.head_revision())
    store.ensure_schema(empty)


def test_the_migrated_schema_matches_the_models(empty: Engine) -> None:
    store.upgrade(empty)
    with empty.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_the_due_index_exists_after_migrating(empty: Engine) -> None:
    store.upgrade(empty)
    indexes = {ix["name"]: ix["column_names"] for ix in inspect(empty).get_indexes("post")}
    assert indexes["ix_post_status_due"] == ["status", "due_utc"]


def test_upgrading_twice_is_harmless(empty: Engine) -> None:
    store.upgrade(empty)
    head = store.head_revision()
    assert store.upgrade(empty) == (head, head)


def test_an_empty_database_asks_for_an_upgrade(empty: Engine) -> None:
    with pytest.raises(SchemaBehind, match=r"^no calendar yet: run `storyline db upgrade`$"):
        store.ensure_schema(empty)


def test_a_schema_behind_the_code_names_both_revisions(
    empty: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.upgrade(empty)
    monkeypatch.setattr(store, "head_revision", lambda: "0002_next")
    with pytest.raises(SchemaBehind) as caught:
        store.ensure_schema(empty)
    assert str(caught.value) == (
        "the calendar database schema is at 0001_calendar, the code needs 0002_next: "
        "run `storyline db upgrade`"
    )


def test_a_schema_newer_than_the_code_says_to_upgrade_storyline(empty: Engine) -> None:
    store.upgrade(empty)
    with empty.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    with pytest.raises(DatabaseError, match="newer than this code"):
        store.ensure_schema(empty)


def test_tables_made_without_migrations_are_reported(empty: Engine) -> None:
    SQLModel.metadata.create_all(empty)
    with pytest.raises(SchemaBehind, match="no migration history"):
        store.ensure_schema(empty)


def test_upgrade_refuses_tables_made_without_migrations(empty: Engine) -> None:
    SQLModel.metadata.create_all(empty)
    with pytest.raises(SchemaBehind, match="no migration history"):
        store.upgrade(empty)


def test_an_unreachable_database_names_the_url_without_its_password() -> None:
    engine = make_engine("postgresql+psycopg://storyline:s3cret@127.0.0.1:1/calendar")
    try:
        with pytest.raises(DatabaseUnreachable) as caught:
            store.ensure_schema(engine)
    finally:
        engine.dispose()
    message = str(caught.value)
    assert "storyline:***@127.0.0.1:1/calendar" in message
    assert "s3cret" not in message


def test_the_migrations_ship_inside_the_package() -> None:
    assert (store.MIGRATIONS_DIR / "env.py").is_file()
    assert (store.MIGRATIONS_DIR / "script.py.mako").is_file()
    assert store.MIGRATIONS_DIR.parent.parent.name == "scheduler"
