"""Sync as a transaction: all or nothing, one at a time, and the schema it needs."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from scheduler.calendar import apply, diff, migrate
from scheduler.calendar.database import make_engine
from scheduler.calendar.diff import Action
from scheduler.core.errors import DatabaseBusy, SchemaBehind

from .conftest import NOW, brand, rows


def many(n_stories: int = 30) -> list:  # type: ignore[type-arg]
    return brand(stories=tuple(f"story-{i:03d}" for i in range(n_stories)))


def test_two_syncs_at_once_insert_each_post_once(engine: Engine) -> None:
    posts = many()
    results: list[apply.SyncResult] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait()
            results.append(apply.sync(engine, posts, NOW))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(rows(engine)) == len(posts)
    added = sorted(r.diff.counts[Action.ADD] for r in results)
    assert added == [0, len(posts)]  # the second waited, then found everything in place


def test_a_sync_that_fails_half_way_writes_nothing(engine: Engine) -> None:
    posts = many(300)  # 2,400 posts: more than one write batch

    def explode_after_first_batch(_d: diff.Diff) -> Callable[[int], None]:
        def progress(_n: int) -> None:
            raise RuntimeError("power cut")

        return progress

    with pytest.raises(RuntimeError, match="power cut"):
        apply.sync(engine, posts, NOW, on_diff=explode_after_first_batch)
    assert rows(engine) == {}


def test_progress_counts_every_written_row(engine: Engine) -> None:
    written: list[int] = []
    apply.sync(engine, many(), NOW, on_diff=lambda _d: written.append)
    assert sum(written) == len(many())


def test_a_locked_sqlite_calendar_is_reported_busy(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'calendar.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    holder = make_engine(url)
    try:
        with holder.connect() as conn:
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # another process is writing
            with pytest.raises(DatabaseBusy, match="locked by another process"):
                apply.sync(engine, brand(), NOW, lock_timeout_s=0.2)
            conn.exec_driver_sql("ROLLBACK")
        assert apply.sync(engine, brand(), NOW).diff.counts[Action.ADD] == 8
    finally:
        holder.dispose()
        engine.dispose()


@pytest.mark.postgres
def test_a_postgres_sync_waiting_too_long_for_another_is_reported_busy(pg_url: str) -> None:
    engine = make_engine(pg_url)
    migrate.upgrade(engine)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": apply.SYNC_LOCK_KEY})
            with pytest.raises(DatabaseBusy, match="locked by another process"):
                apply.sync(engine, brand(), NOW, lock_timeout_s=0.2)
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": apply.SYNC_LOCK_KEY})
            conn.commit()
        assert rows(engine) == {}
        assert apply.sync(engine, brand(), NOW).diff.counts[Action.ADD] == 8
    finally:
        engine.dispose()


def test_a_brand_new_sqlite_file_gets_its_schema_on_first_sync(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh' / 'storyline.db'}")
    try:
        result = apply.sync(engine, brand(), NOW)
        assert result.created_schema
        assert migrate.current_revision(engine) == migrate.head_revision()
    finally:
        engine.dispose()


def test_two_first_syncs_of_a_brand_new_sqlite_file_create_it_once(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'storyline.db'}")
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run() -> None:
        try:
            start.wait()
            apply.sync(engine, brand(), NOW)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        assert len(rows(engine)) == 8
    finally:
        engine.dispose()


def test_plan_on_a_brand_new_sqlite_file_adds_everything(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'storyline.db'}")
    try:
        assert diff.compare(engine, brand(), NOW).counts[Action.ADD] == 8
        assert migrate.current_revision(engine) is None  # plan wrote nothing, not even a schema
    finally:
        engine.dispose()


@pytest.mark.postgres
def test_an_empty_postgres_database_must_be_upgraded_explicitly(pg_url: str) -> None:
    engine = make_engine(pg_url)
    try:
        with pytest.raises(SchemaBehind, match=r"no calendar yet: run `storyline db upgrade`"):
            apply.sync(engine, brand(), NOW)
    finally:
        engine.dispose()


def test_a_template_change_rewrites_every_post_in_bulk(engine: Engine) -> None:
    from dataclasses import replace

    posts = many(300)  # 2,400 posts: more than one write batch
    apply.sync(engine, posts, NOW)
    edited = [replace(p, text=p.text + " #new") for p in posts]
    result = apply.sync(engine, edited, NOW)
    assert (result.diff.counts[Action.UPDATE], result.skipped) == (len(posts), 0)
    assert all(str(r["text"]).endswith(" #new") for r in rows(engine).values())


def test_removing_everything_cancels_every_planned_post_in_bulk(engine: Engine) -> None:
    posts = many(300)
    apply.sync(engine, posts, NOW)
    result = apply.sync(engine, [], NOW)
    assert result.diff.counts[Action.CANCEL] == len(posts)
    assert {r["status"] for r in rows(engine).values()} == {"cancelled"}
