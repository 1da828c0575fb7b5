"""``storyline sync``: the diff and its writes in one transaction, under the calendar's lock.

:func:`sync` takes the lock *before* reading the rows it diffs against and holds it until it
commits, so two syncs at once serialise and the second sees the first's rows (nothing is ever
inserted twice). Every update is guarded by the status the diff saw, so a post a dispatcher
claimed in the meantime is left alone rather than rewritten. The bulk writes themselves are
the dialect's (:mod:`scheduler.calendar.dialect`): 50k posts cost a few statements.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Connection, Engine

from scheduler.calendar.database import translate_busy
from scheduler.calendar.dialect import aware, dialect_for
from scheduler.calendar.diff import WRITING_ACTIONS, Action, Diff, Leave, diff
from scheduler.calendar.migrate import ensure_schema, is_new_embedded, upgrade
from scheduler.calendar.planned import Planned
from scheduler.calendar.unit import UnitOfWork
from scheduler.core.memory import paused_gc

#: ``pg_advisory_xact_lock`` key of syncs (ASCII "SYNCCAL"): a constant, so every Storyline
#: process on the database agrees on it.
SYNC_LOCK_KEY = 0x5359_4E43_4341_4C01
#: How long a second sync waits for the first before giving up with DatabaseBusy.
DEFAULT_LOCK_TIMEOUT_S = 30.0

CONTENT_COLUMNS = (
    "story",
    "beat",
    "network",
    "market",
    "account",
    "account_name",
    "campaign",
    "text",
    "title",
    "link",
    "media_json",
    "first_comment",
    "content_hash",
    "due_utc",
    "timezone",
)
#: What a sync writes of a post's state: never the claim columns (``attempt_token``,
#: ``lease_until``, ``next_attempt_at``) nor ``attempts``, ``remote_id``, ``url``.
STATE_COLUMNS = ("status", "status_reason", "hold_reason", "set_by", "updated_at")
INSERT_COLUMNS = ("post_id", *CONTENT_COLUMNS, *STATE_COLUMNS, "attempts", "created_at")


@dataclass(frozen=True, slots=True)
class SyncResult:
    diff: Diff
    #: Posts whose state changed between the diff and the write (a dispatcher claimed them):
    #: left alone (SQLite and PostgreSQL report them; other databases may not).
    skipped: int = 0
    created_schema: bool = False


def _content_values(p: Planned, content_hash: str) -> dict[str, Any]:
    media = [{"file": m.file, "alt": m.alt, "kind": m.kind} for m in p.media]
    return {
        "story": p.story,
        "beat": p.beat,
        "network": p.network,
        "market": p.market,
        "account": p.account,
        "account_name": p.account_name,
        "campaign": p.campaign,
        "text": p.text,
        "title": p.title,
        "link": p.link,
        "media_json": json.dumps(media, ensure_ascii=False) if media else "[]",
        "first_comment": p.first_comment,
        "content_hash": content_hash or p.content_hash,
        "due_utc": aware(p.due_utc),
        "timezone": p.timezone,
    }


def apply(
    conn: Connection,
    d: Diff,
    now: datetime,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write exactly ``d`` in the connection's transaction; returns how many rows were skipped.

    Every update is guarded by the status the diff saw (``WHERE status = :seen``): a post a
    dispatcher claimed since is skipped, never rewritten.
    """
    now = aware(now)
    inserts: list[dict[str, Any]] = []
    content_updates: list[dict[str, Any]] = []
    state_updates: list[dict[str, Any]] = []
    for c in d.changes:
        if c.action not in WRITING_ACTIONS:
            continue
        state = {
            "status": str(c.status_after),
            "hold_reason": c.hold_after,
            "set_by": c.set_by_after,
            "updated_at": now,
        }
        if c.action is Action.CANCEL:
            state.update(b_post_id=c.post_id, b_seen=str(c.status_before), status_reason=c.reason)
            state_updates.append(state)
            continue
        assert c.planned is not None
        values = _content_values(c.planned, c.content_hash)
        # due_utc: the content's slot, or the operator's (see diff.decide)
        values.update(state, due_utc=c.due_after, status_reason=c.stored_reason)
        if not c.exists:
            values.update(post_id=c.post_id, created_at=now, attempts=0)
            inserts.append(values)
        else:
            values.update(b_post_id=c.post_id, b_seen=str(c.status_before))
            content_updates.append(values)

    dialect = dialect_for(conn)
    dialect.insert_rows(conn, INSERT_COLUMNS, inserts, progress)
    skipped = dialect.update_rows(
        conn, (*CONTENT_COLUMNS, *STATE_COLUMNS), content_updates, progress
    )
    skipped += dialect.update_rows(conn, STATE_COLUMNS, state_updates, progress)
    return skipped


def sync(
    engine: Engine,
    planned: Sequence[Planned],
    now: datetime,
    *,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    on_diff: Callable[[Diff], Callable[[int], None] | None] | None = None,
    leave: Leave | None = None,
) -> SyncResult:
    """Make the calendar match ``planned`` in one transaction, under the calendar lock.

    A brand-new embedded calendar (a SQLite file: the default of a fresh clone) gets its schema
    first, so a fresh clone needs no extra command; every other database must be upgraded
    explicitly. ``on_diff`` is called with the diff before writing and may return a progress
    callback (rows written). ``leave(story, market, network)`` names the rows left exactly as
    they are (see :func:`scheduler.calendar.diff.diff`).
    """
    created = False
    if is_new_embedded(engine):
        upgrade(engine)
        created = True
    ensure_schema(engine)
    with (
        translate_busy(engine, lock_timeout_s),
        UnitOfWork(engine).transaction() as conn,
        paused_gc(),
    ):
        dialect_for(conn).lock_calendar(conn, SYNC_LOCK_KEY, lock_timeout_s)
        d = diff(conn, planned, now, leave=leave)
        progress = on_diff(d) if on_diff else None
        skipped = apply(conn, d, now, progress=progress)
    return SyncResult(diff=d, skipped=skipped, created_schema=created)
