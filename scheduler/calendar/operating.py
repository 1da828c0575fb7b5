"""What operators keep in the calendar besides the posts: pauses in force, the audit trail of
their commands, and the SQL of a selector (``--story``, ``--market``, ...).

A pause is a row of ``pause`` (scope, value): the dispatcher reads them at every claim
(:func:`claim_filter`), so ``storyline pause`` takes effect at the next tick whatever process
runs the beat, and survives restarts. Every operator command appends one ``audit`` row: who,
when, what, on which selector, how many posts it changed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, false, insert, or_, select, true, update
from sqlalchemy.engine import Connection

from scheduler.calendar.database import from_db
from scheduler.calendar.tables import AuditRecord, Pause, Post
from scheduler.core.selectors import SCOPES, Selector

POST = Post.__table__  # type: ignore[attr-defined]
PAUSE = Pause.__table__  # type: ignore[attr-defined]
AUDIT = AuditRecord.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class PauseRow:
    scope: str
    value: str
    reason: str | None
    by: str
    since: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "scope": self.scope,
            "value": self.value,
            "reason": self.reason,
            "by": self.by,
            "since": self.since.isoformat().replace("+00:00", "Z"),
        }


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    by: str
    command: str
    selector: dict[str, Any]
    changed: int
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat().replace("+00:00", "Z"),
            "by": self.by,
            "command": self.command,
            "selector": self.selector,
            "changed": self.changed,
            "detail": self.detail,
        }


# --- selectors ---------------------------------------------------------------------------------


def _account_is(network: str, account: str) -> ColumnElement[bool]:
    return and_(POST.c.network == network, POST.c.account == account)


def matching(selector: Selector) -> ColumnElement[bool]:
    """The posts ``selector`` names: every kind given, any value of a kind."""
    if selector.everything:
        return true()
    parts: list[ColumnElement[bool]] = []
    if selector.stories:
        parts.append(POST.c.story.in_(selector.stories))
    if selector.markets:
        parts.append(POST.c.market.in_(selector.markets))
    if selector.networks:
        parts.append(POST.c.network.in_(selector.networks))
    if selector.accounts:
        parts.append(or_(*(_account_is(n, a) for n, a in selector.accounts)))
    return and_(*parts) if parts else false()


def known_values(conn: Connection) -> dict[str, list[str]]:
    """Every story, market, network and ``network:account`` the calendar holds (for "did you
    mean" when a selector names none of them)."""

    def distinct(*columns: Any) -> list[tuple[str, ...]]:
        return [tuple(r) for r in conn.execute(select(*columns).distinct()).all()]

    return {
        "story": sorted(r[0] for r in distinct(POST.c.story)),
        "market": sorted(r[0] for r in distinct(POST.c.market)),
        "network": sorted(r[0] for r in distinct(POST.c.network)),
        "account": sorted(f"{n}:{a}" for n, a in distinct(POST.c.network, POST.c.account)),
    }


# --- pauses ------------------------------------------------------------------------------------


def pauses(conn: Connection) -> list[PauseRow]:
    """The pauses in force: ``all`` first, then by scope and value."""
    rows = conn.execute(select(PAUSE)).all()
    out = []
    for r in rows:
        since = from_db(r.created_at)
        assert since is not None
        out.append(PauseRow(r.scope, r.value, r.reason, r.by, since))
    return sorted(out, key=lambda p: (SCOPES.index(p.scope), p.value))


def add_pauses(
    conn: Connection, selector: Selector, *, reason: str | None, by: str, now: datetime
) -> list[tuple[str, str]]:
    """Records each pause ``selector`` names; returns the ones that were not in force yet. A
    pause already in force keeps its start; a new ``reason`` replaces the old one."""
    existing = {(p.scope, p.value) for p in pauses(conn)}
    added = []
    for scope, value in selector.scopes():
        if (scope, value) in existing:
            if reason is not None:
                conn.execute(
                    update(PAUSE)
                    .where(PAUSE.c.scope == scope, PAUSE.c.value == value)
                    .values(reason=reason)
                )
            continue
        # Two operators pausing the same thing at once: one row, and no error for the second.
        won = conn.execute(
            _insert_new(conn)
            .values(scope=scope, value=value, reason=reason, by=by, created_at=now)
            .on_conflict_do_nothing()
            .returning(PAUSE.c.scope)
        ).first()
        if won is not None:
            added.append((scope, value))
    return added


def _insert_new(conn: Connection) -> Any:
    """``INSERT ... ON CONFLICT DO NOTHING`` in the calendar's dialect."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(PAUSE)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(PAUSE)


def remove_pauses(conn: Connection, selector: Selector) -> list[tuple[str, str]]:
    """Lifts each pause ``selector`` names; returns the ones that were in force."""
    removed = []
    for scope, value in selector.scopes():
        gone = conn.execute(
            delete(PAUSE).where(PAUSE.c.scope == scope, PAUSE.c.value == value)
        ).rowcount
        if gone:
            removed.append((scope, value))
    return removed


def claim_filter(conn: Connection) -> ColumnElement[bool] | None:
    """The condition a post must meet to be claimed while pauses are in force; None when there
    are none (the claim is then exactly what it was)."""
    found = pauses(conn)
    if not found:
        return None
    if any(p.scope == "all" for p in found):
        return false()
    columns = {"story": POST.c.story, "market": POST.c.market, "network": POST.c.network}
    paused: list[ColumnElement[bool]] = []
    for p in found:
        if p.scope == "account":
            network, _, account = p.value.partition(":")
            paused.append(_account_is(network, account))
        else:
            paused.append(columns[p.scope] == p.value)
    return ~or_(*paused)


def paused_by(
    found: list[PauseRow], story: str, market: str, network: str, account: str
) -> list[PauseRow]:
    """The pauses that stop one post (``status POST_ID``)."""
    values = {
        "all": "",
        "story": story,
        "market": market,
        "network": network,
        "account": f"{network}:{account}",
    }
    return [p for p in found if values.get(p.scope) == p.value]


# --- the audit trail ---------------------------------------------------------------------------


def record(
    conn: Connection,
    *,
    at: datetime,
    by: str,
    command: str,
    selector: dict[str, Any],
    changed: int,
    detail: dict[str, Any] | None = None,
) -> None:
    conn.execute(
        insert(AUDIT).values(
            at=at,
            by=by,
            command=command,
            selector=json.dumps(selector, ensure_ascii=False, sort_keys=True),
            changed=changed,
            detail=None if detail is None else json.dumps(detail, ensure_ascii=False),
        )
    )


def audit_entries(conn: Connection, since: datetime | None = None) -> list[AuditEntry]:
    """The audit trail, oldest first (from ``since`` on when given)."""
    stmt = select(AUDIT).order_by(AUDIT.c.at, AUDIT.c.id)
    if since is not None:
        stmt = stmt.where(AUDIT.c.at >= since)
    out = []
    for r in conn.execute(stmt).all():
        at = from_db(r.at)
        assert at is not None
        out.append(
            AuditEntry(
                at=at,
                by=r.by,
                command=r.command,
                selector=json.loads(r.selector or "{}"),
                changed=int(r.changed),
                detail=json.loads(r.detail) if r.detail else {},
            )
        )
    return out


# --- one post's marker -------------------------------------------------------------------------


def marker(conn: Connection, post_id: str) -> dict[str, Any] | None:
    """The state columns of one post as ``status POST_ID`` shows them (state, hold reason,
    who set it, destination, next try, attempts), with the pauses that stop it; None if there
    is no such post."""
    row = (
        conn.execute(
            select(
                POST.c.status,
                POST.c.hold_reason,
                POST.c.set_by,
                POST.c.destination,
                POST.c.next_attempt_at,
                POST.c.attempts,
                POST.c.story,
                POST.c.market,
                POST.c.network,
                POST.c.account,
            ).where(POST.c.post_id == post_id)
        )
        .mappings()
        .first()
    )
    if row is None:
        return None
    stopping = paused_by(pauses(conn), row["story"], row["market"], row["network"], row["account"])
    return {
        "state": row["status"],
        "hold_reason": row["hold_reason"],
        "set_by": row["set_by"],
        "destination": row["destination"],
        "next_try": from_db(row["next_attempt_at"]),
        "attempts": int(row["attempts"]),
        "paused_by": stopping,
    }
