"""Guarded UPDATEs built from the lifecycle table: the only way the code changes a post's state.

``move(cause)`` is ``UPDATE post SET status = <target>, hold_reason = ..., set_by = ...
WHERE status IN (<the states the cause may start from>)``; the caller adds its own guard (the
post, the attempt token, the lease) with ``.where(...)`` and its columns with ``.values(...)``.
A move that is not in :data:`scheduler.core.lifecycle.TRANSITIONS` cannot be built, and a row
in any other state is left alone: the row count says who won.
"""

from __future__ import annotations

from sqlalchemy import Update, update

from scheduler.calendar.tables import Post
from scheduler.core import lifecycle
from scheduler.core.lifecycle import Cause

POST = Post.__table__  # type: ignore[attr-defined]


def move(*causes: Cause) -> Update:
    """The guarded UPDATE of ``causes`` (several only if they write the same columns: a post
    published by its own send or found by a lookup)."""
    first, *others = causes
    columns = lifecycle.columns(first)
    if any(lifecycle.columns(c) != columns for c in others):
        raise lifecycle.IllegalMove(f"{', '.join(causes)} do not make the same move")
    states = [str(s) for s in dict.fromkeys(s for c in causes for s in lifecycle.sources(c))]
    guard = POST.c.status == states[0] if len(states) == 1 else POST.c.status.in_(states)
    return update(POST).where(guard).values(**columns)
