"""Guarded UPDATEs built from the lifecycle table: the only way the code changes a post's state.

``move(cause, *where)`` is ``UPDATE post SET status = <target>, hold_reason = ..., set_by = ...
WHERE <where> AND status IN (<the states the cause may start from>)``; the caller's conditions
say which posts (the primary key and attempt token, an account) and its columns are added with
``.values(...)``. A move that is not in :data:`scheduler.core.lifecycle.TRANSITIONS` cannot be
built, and a row in any other state is left alone: the row count says who won.

How the state guard is written depends on how the rows are found (``guard=``):

* ``"key"`` (the default): the caller addresses the posts (by primary key, by account). The
  guard is ``status IS NOT DISTINCT FROM ...`` (``IS`` on SQLite), which no planner uses as an
  index condition, so a post addressed by its key is always looked up by it. Written
  ``status = 'queued'``, PostgreSQL costed an index on ``status`` and the primary key alike on
  a table it had not analyzed yet (or where ``queued`` was rare in its statistics) and could
  take the status index, visiting every queued post for each publish of a burst.
* ``"select"``: the states are how the rows are found (the tick's reconciliation scan of
  ``(status, lease_until)``): ``status = a OR status = b``, indexable.
* ``"locked"``: the caller picked the rows in a source state under a row lock that re-checks it
  (the claim's ``FOR UPDATE SKIP LOCKED``), or guards them itself: no second guard, which would
  turn PostgreSQL's primary-key join into a scan of the table.

ORs, never ``IN``: an IN list is an "expanding" parameter that SQLAlchemy renders again at every
execution, which the prebuilt statements of the publish path are there to avoid.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Literal

from sqlalchemy import ColumnElement, Update, or_, update

from scheduler.calendar.tables import Post
from scheduler.core import lifecycle
from scheduler.core.lifecycle import Cause

POST = Post.__table__  # type: ignore[attr-defined]


def state_is(state: Any) -> ColumnElement[bool]:
    """``status = state`` for a post addressed by its primary key (never an index condition)."""
    guard: ColumnElement[bool] = POST.c.status.is_not_distinct_from(state)
    return guard


def _sources(causes: tuple[Cause, ...]) -> list[str]:
    return [str(s) for s in dict.fromkeys(s for c in causes for s in lifecycle.sources(c))]


Guard = Literal["key", "select", "locked"]


def _guard(causes: tuple[Cause, ...], *, indexable: bool) -> ColumnElement[bool]:
    if indexable:
        return or_(*(POST.c.status == s for s in _sources(causes)))
    return or_(*(state_is(s) for s in _sources(causes)))


def _base(causes: tuple[Cause, ...]) -> Update:
    first, *others = causes
    columns = lifecycle.columns(first)
    if any(lifecycle.columns(c) != columns for c in others):
        raise lifecycle.IllegalMove(f"{', '.join(causes)} do not make the same move")
    return update(POST).values(**columns)


# Built once, as the publish path's statements are: building them cost more per tick than
# running them on SQLite.
_BASES = MappingProxyType({cause: _base((cause,)) for cause in Cause})
_GUARDS = MappingProxyType({cause: _guard((cause,), indexable=False) for cause in Cause})
_SELECTING = MappingProxyType({cause: _guard((cause,), indexable=True) for cause in Cause})


def move(
    cause: Cause | tuple[Cause, ...], *where: ColumnElement[bool], guard: Guard = "key"
) -> Update:
    """The guarded UPDATE of ``cause`` (a tuple of causes only if they write the same columns:
    a post published by its own send or found by a lookup)."""
    if not isinstance(cause, tuple):
        if guard == "locked":
            return _BASES[cause].where(*where)
        return _BASES[cause].where(*where, (_GUARDS if guard == "key" else _SELECTING)[cause])
    causes = cause
    statement = _base(causes).where(*where)
    if guard == "locked":
        return statement
    return statement.where(_guard(causes, indexable=guard == "select"))
