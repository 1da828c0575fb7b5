"""Each database's own way of reading and writing the calendar in bulk (the shortcuts of
scheduler/calendar/dialect.py) gives exactly what the plain SQLAlchemy Core way gives."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.engine import Connection, Engine

from scheduler.calendar.apply import CONTENT_COLUMNS, INSERT_COLUMNS, STATE_COLUMNS
from scheduler.calendar.dialect import POST, Dialect, PostgreSQL, SQLite, dialect_for
from scheduler.calendar.diff import Existing
from scheduler.core.lifecycle import Actor, HoldReason, PostState

PLAIN = Dialect()

texts = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=40)
maybe = st.none() | texts
instants = st.datetimes(
    min_value=datetime(2001, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)
)


@st.composite
def posts(draw: st.DrawFn, n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        status = draw(st.sampled_from(list(PostState)))
        out.append(
            {
                "post_id": f"s/b{i}/x/fr",
                "story": draw(texts),
                "beat": f"b{i}",
                "network": "x",
                "market": "fr",
                "account": draw(texts),
                "account_name": draw(texts),
                "campaign": draw(texts),
                "text": draw(texts),
                "title": draw(maybe),
                "link": draw(maybe),
                "media_json": "[]",
                "first_comment": draw(maybe),
                "content_hash": draw(st.text("0123456789abcdef", min_size=32, max_size=32)),
                "due_utc": draw(instants),
                "timezone": "Europe/Paris",
                "status": str(status),
                "status_reason": draw(maybe),
                "hold_reason": str(draw(st.sampled_from(HoldReason)))
                if status == PostState.HELD
                else None,
                "set_by": str(draw(st.sampled_from(Actor))),
                "attempts": 0,
                "created_at": draw(instants),
                "updated_at": draw(instants),
            }
        )
    return out


def table(conn: Connection) -> list[tuple[Any, ...]]:
    rows = conn.execute(select(POST).order_by(POST.c.post_id)).all()
    return [tuple(_utc(v) for v in r) for r in rows]


def _utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value


def inserted(engine: Engine, dialect: Dialect, rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """What the table holds after ``dialect`` inserted ``rows`` (rolled back afterwards)."""
    with engine.connect() as conn, conn.begin() as txn:
        dialect.insert_rows(conn, INSERT_COLUMNS, [dict(r) for r in rows], None)
        try:
            return table(conn)
        finally:
            txn.rollback()


FAST = {"sqlite": SQLite, "postgresql": PostgreSQL}
SLOW_HYPOTHESIS = settings(
    max_examples=25,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def test_each_database_gets_its_own_dialect(engine: Engine) -> None:
    assert type(dialect_for(engine)) is FAST[engine.dialect.name]


@SLOW_HYPOTHESIS
@given(rows=posts(4))
def test_the_fast_insert_writes_what_the_plain_insert_writes(
    engine: Engine, rows: list[dict[str, Any]]
) -> None:
    assert inserted(engine, dialect_for(engine), rows) == inserted(engine, PLAIN, rows)


@SLOW_HYPOTHESIS
@given(rows=posts(4))
def test_the_fast_read_reads_what_the_plain_read_reads(
    engine: Engine, rows: list[dict[str, Any]]
) -> None:
    columns = Existing._fields
    with engine.connect() as conn, conn.begin() as txn:
        PLAIN.insert_rows(conn, INSERT_COLUMNS, [dict(r) for r in rows], None)
        fast = dialect_for(conn).read_rows(conn, columns)
        plain = PLAIN.read_rows(conn, columns)
        txn.rollback()
    assert sorted(fast) == sorted(plain)
    assert all(r[columns.index("due_utc")].tzinfo is UTC for r in fast)


@SLOW_HYPOTHESIS
@given(rows=posts(4), new=posts(4), seen_right=st.lists(st.booleans(), min_size=4, max_size=4))
def test_the_fast_guarded_update_writes_and_skips_what_the_plain_one_does(
    engine: Engine,
    rows: list[dict[str, Any]],
    new: list[dict[str, Any]],
    seen_right: list[bool],
) -> None:
    columns = (*CONTENT_COLUMNS, *STATE_COLUMNS)
    updates = []
    for old, row, right in zip(rows, new, seen_right, strict=True):
        update = {c: row[c] for c in columns}
        update.update(b_post_id=old["post_id"], b_seen=old["status"] if right else "nothing")
        updates.append(update)

    def after(dialect: Dialect) -> tuple[int, list[tuple[Any, ...]]]:
        with engine.connect() as conn, conn.begin() as txn:
            PLAIN.insert_rows(conn, INSERT_COLUMNS, [dict(r) for r in rows], None)
            skipped = dialect.update_rows(conn, columns, [dict(u) for u in updates], None)
            result = table(conn)
            txn.rollback()
        return skipped, result

    fast = after(dialect_for(engine))
    assert fast == after(PLAIN)
    assert fast[0] == seen_right.count(False)


def test_progress_counts_every_row_either_way(engine: Engine) -> None:
    rows = [
        {**r, "post_id": f"p{i}", "due_utc": datetime(2026, 12, 1, tzinfo=UTC) + timedelta(i)}
        for i, r in enumerate([_plain_row()] * 4_500)
    ]
    for dialect in (dialect_for(engine), PLAIN):
        written: list[int] = []
        with engine.connect() as conn, conn.begin() as txn:
            dialect.insert_rows(conn, INSERT_COLUMNS, [dict(r) for r in rows], written.append)
            txn.rollback()
        assert sum(written) == len(rows)


def _plain_row() -> dict[str, Any]:
    now = datetime(2026, 11, 28, tzinfo=UTC)
    return {
        "post_id": "",
        "story": "s",
        "beat": "b",
        "network": "x",
        "market": "fr",
        "account": "a",
        "account_name": "A",
        "campaign": "",
        "text": "t",
        "title": None,
        "link": None,
        "media_json": "[]",
        "first_comment": None,
        "content_hash": "0" * 32,
        "due_utc": now,
        "timezone": "Europe/Paris",
        "status": "planned",
        "status_reason": None,
        "hold_reason": None,
        "set_by": "sync",
        "attempts": 0,
        "created_at": now,
        "updated_at": now,
    }
