"""The unit of work (scheduler/calendar/unit.py): what commits together, and where a statement
runs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from scheduler.calendar.dialect import POST
from scheduler.calendar.unit import UnitOfWork

from .conftest import brand


def count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(POST)).scalar_one())


def _row(i: int) -> dict[str, object]:
    p = brand()[0]
    return {
        "post_id": f"p{i}",
        "story": p.story,
        "beat": p.beat,
        "network": p.network,
        "market": p.market,
        "account": p.account,
        "account_name": p.account_name,
        "campaign": p.campaign,
        "text": p.text,
        "media_json": "[]",
        "content_hash": p.content_hash,
        "due_utc": p.due_utc,
        "timezone": p.timezone,
        "status": "planned",
        "attempts": 0,
        "created_at": p.due_utc,
        "updated_at": p.due_utc,
    }


def test_a_nested_transaction_joins_the_open_one(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    with uow.transaction() as outer, uow.transaction() as inner:
        assert inner is outer
        with uow.statement() as conn:
            assert conn is outer


def test_everything_in_a_transaction_rolls_back_together(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    with pytest.raises(RuntimeError), uow.transaction() as conn:
        conn.execute(POST.insert(), [_row(1)])
        with uow.transaction() as same:
            same.execute(POST.insert(), [_row(2)])
        raise RuntimeError("the outcome could not be written")
    assert count(engine) == 0
    with uow.transaction() as conn:
        conn.execute(POST.insert(), [_row(1)])
    assert count(engine) == 1


def test_a_publish_holds_one_connection_where_each_step_is_one_statement(engine: Engine) -> None:
    uow = UnitOfWork(engine)
    with uow.holding():
        with uow.statement() as first, uow.statement() as second:
            pass
        held = first is second
    assert held is uow.dialect.single_statement_steps
    with uow.statement() as conn:
        conn.execute(POST.insert(), [_row(3)])  # autocommit: its own transaction
    assert count(engine) == 1
