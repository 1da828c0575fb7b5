"""Migrations: shipped in the package, upgrade to head, agree with the models; clear errors."""

from __future__ import annotations

import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from scheduler.calendar import migrate
from scheduler.calendar.database import make_engine
from scheduler.core.errors import DatabaseError, DatabaseUnreachable, SchemaBehind


@pytest.fixture
def empty(database_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_upgrading_an_empty_database_reaches_head(empty: Engine) -> None:
    before, after = migrate.upgrade(empty)
    assert (before, after) == (None, migrate.head_revision())
    migrate.ensure_schema(empty)


def test_the_migrated_schema_matches_the_models(empty: Engine) -> None:
    migrate.upgrade(empty)
    with empty.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_the_due_index_exists_after_migrating(empty: Engine) -> None:
    migrate.upgrade(empty)
    indexes = {ix["name"]: ix["column_names"] for ix in inspect(empty).get_indexes("post")}
    assert indexes["ix_post_status_due"] == ["status", "due_utc"]


def test_upgrading_twice_is_harmless(empty: Engine) -> None:
    migrate.upgrade(empty)
    head = migrate.head_revision()
    assert migrate.upgrade(empty) == (head, head)


def test_an_empty_database_asks_for_an_upgrade_or_on_sqlite_for_a_sync(empty: Engine) -> None:
    expected = (
        "no calendar yet: `storyline sync` creates it from the content "
        "(`storyline db upgrade`: an empty one)"
        if empty.dialect.name == "sqlite"
        else "no calendar yet: run `storyline db upgrade`"
    )
    with pytest.raises(SchemaBehind, match=f"^{re.escape(expected)}$"):
        migrate.ensure_schema(empty)


def test_a_schema_behind_the_code_names_both_revisions(
    empty: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    migrate.upgrade(empty)
    head = migrate.head_revision()
    monkeypatch.setattr(migrate, "head_revision", lambda: "9999_next")
    with pytest.raises(SchemaBehind) as caught:
        migrate.ensure_schema(empty)
    assert str(caught.value) == (
        f"the calendar database schema is at {head}, the code needs 9999_next: "
        "run `storyline db upgrade`"
    )


def test_a_schema_newer_than_the_code_says_to_upgrade_storyline(empty: Engine) -> None:
    migrate.upgrade(empty)
    with empty.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0099_future'"))
    with pytest.raises(DatabaseError, match="newer than this code"):
        migrate.ensure_schema(empty)


def test_tables_made_without_migrations_are_reported(empty: Engine) -> None:
    SQLModel.metadata.create_all(empty)
    with pytest.raises(SchemaBehind, match="no migration history"):
        migrate.ensure_schema(empty)


def test_upgrade_refuses_tables_made_without_migrations(empty: Engine) -> None:
    SQLModel.metadata.create_all(empty)
    with pytest.raises(SchemaBehind, match="no migration history"):
        migrate.upgrade(empty)


def test_an_unreachable_database_names_the_url_without_its_password() -> None:
    engine = make_engine("postgresql+psycopg://storyline:s3cret@127.0.0.1:1/calendar")
    try:
        with pytest.raises(DatabaseUnreachable) as caught:
            migrate.ensure_schema(engine)
    finally:
        engine.dispose()
    message = str(caught.value)
    assert "storyline:***@127.0.0.1:1/calendar" in message
    assert "s3cret" not in message


def test_the_migrations_ship_inside_the_package() -> None:
    assert (migrate.MIGRATIONS_DIR / "env.py").is_file()
    assert (migrate.MIGRATIONS_DIR / "script.py.mako").is_file()
    assert migrate.MIGRATIONS_DIR.parent.parent.name == "scheduler"


def test_the_state_columns_are_filled_from_the_reasons_of_an_older_calendar(empty: Engine) -> None:
    """Revision 0002 reads the sub-states that hid in ``status_reason`` one last time."""
    from alembic import command

    cfg = migrate.alembic_config()
    with empty.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "0001_calendar")
    cases = {
        # status, status_reason -> hold_reason, set_by
        "a": ("planned", None, None, "sync"),
        "b": ("planned", "released past due (was due 2026-12-01 08:00Z)", None, "operator"),
        "c": ("planned", "account released", None, "operator"),
        "d": ("held", "story is draft", "draft", "sync"),
        "e": ("held", "past due", "past_due", "sync"),
        "f": ("held", "account needs re-auth: token expired", "needs_reauth", "dispatcher"),
        "g": ("held", "held by alice", "operator", "operator"),
        "h": ("cancelled", "removed from the content: story removed", None, "sync"),
        "i": ("cancelled", "cancelled by an operator", None, "operator"),
        "j": ("published", None, None, "dispatcher"),
        "k": ("retry_wait", "retrying in 30s: HTTP 503", None, "dispatcher"),
    }
    with empty.begin() as conn:
        for key, (status, reason, _, _) in cases.items():
            conn.execute(
                text(
                    "INSERT INTO post (post_id, story, beat, network, market, account, "
                    "account_name, campaign, text, media_json, content_hash, due_utc, timezone, "
                    "status, status_reason, attempts, created_at, updated_at) VALUES (:id, 's', "
                    "'b', 'x', 'fr', 'a', 'A', '', 't', '[]', 'h', :when, 'Europe/Paris', "
                    ":status, :reason, 0, :when, :when)"
                ),
                {"id": key, "status": status, "reason": reason, "when": "2026-12-01 08:00:00"},
            )
    migrate.upgrade(empty)
    with empty.connect() as conn:
        found = {
            r.post_id: (r.hold_reason, r.set_by)
            for r in conn.execute(text("SELECT post_id, hold_reason, set_by FROM post"))
        }
    assert found == {key: (hold, by) for key, (_, _, hold, by) in cases.items()}

    with empty.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0001_calendar")
    columns = {c["name"] for c in inspect(empty).get_columns("post")}
    assert not columns & {"hold_reason", "set_by"}
    assert "status_reason" in columns
    migrate.upgrade(empty)
    migrate.ensure_schema(empty)
