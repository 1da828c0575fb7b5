"""Guarded UPDATEs built from the lifecycle table: the only way the code changes a post's state.

``move(cause)`` is ``UPDATE post SET status = <target>, hold_reason = ..., set_by = ...
WHERE status IN (<the states the cause may start from>)``; the caller adds its own guard (the
post, the attempt token, the lease) with ``.where(...)`` and its columns with ``.values(...)``.
A move that is not in :data:`scheduler.core.lifecycle.TRANSITIONS` cannot be built, and a row
in any other state is left alone: the row count says who won. One statement per cause is built
when the module loads, as the publish path's statements are: building one costs more than
running it on SQLite.
"""

from __future__ import annotations

from types import MappingProxyType

from sqlalchemy import Update, or_, update

from scheduler.calendar.tables import Post
from scheduler.core import lifecycle
from scheduler.core.lifecycle import Cause

POST = Post.__table__  # type: ignore[attr-defined]


def _build(causes: tuple[Cause, ...]) -> Update:
    first, *others = causes
    columns = lifecycle.columns(first)
    if any(lifecycle.columns(c) != columns for c in others):
        raise lifecycle.IllegalMove(f"{', '.join(causes)} do not make the same move")
    states = [str(s) for s in dict.fromkeys(s for c in causes for s in lifecycle.sources(c))]
    # ``status = a OR status = b``, not ``IN``: an IN list is an "expanding" parameter that
    # SQLAlchemy renders again at every execution, which the prebuilt statements of the
    # publish path are there to avoid (it cost a sixth of a publish on SQLite).
    guard = or_(*(POST.c.status == s for s in states))
    return update(POST).where(guard).values(**columns)


_MOVES = MappingProxyType({cause: _build((cause,)) for cause in Cause})


def move(*causes: Cause) -> Update:
    """The guarded UPDATE of ``causes`` (several only if they write the same columns: a post
    published by its own send or found by a lookup)."""
    return _MOVES[causes[0]] if len(causes) == 1 else _build(causes)
