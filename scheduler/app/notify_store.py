"""The notifier's reads and writes: the calendar rows it scans, the events it records once,
the deliveries it claims, and what happened to each.

Why these shapes: every write is safe with any number of beats and workers. An event goes in
with ``INSERT ... ON CONFLICT (key) DO NOTHING`` (its deliveries only if this process recorded
it); deliveries are claimed with one guarded ``UPDATE`` that stamps them with this run's own
instant in ``next_attempt_at`` (a lease: a run that dies leaves them due again when it ends),
so a message is sent by one process only.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from scheduler.app.notify_message import Pending
from scheduler.app.notify_plan import (
    DIGEST,
    POST_KINDS,
    UPCOMING,
    InsightsFact,
    Latest,
    NewEvent,
    PostFact,
    TokenFact,
    subject_of,
)
from scheduler.calendar.database import from_db
from scheduler.calendar.tables import (
    AccountToken,
    MetricState,
    NotificationDelivery,
    NotificationEvent,
    Post,
)
from scheduler.core.lifecycle import PostState
from scheduler.dispatch.metrics_pull import NO_PERMISSION

POST = Post.__table__  # type: ignore[attr-defined]
EVENT = NotificationEvent.__table__  # type: ignore[attr-defined]
DELIVERY = NotificationDelivery.__table__  # type: ignore[attr-defined]
TOKEN = AccountToken.__table__  # type: ignore[attr-defined]
STATE = MetricState.__table__  # type: ignore[attr-defined]

#: Token lifecycles the beat renews without a person (publishers/auth/base.py ``Kind``).
RENEWING = frozenset({"rotating-refresh", "refresh", "session"})


def _aware(dt: datetime | None) -> datetime:
    value = from_db(dt)
    assert value is not None
    return value


def _post_fact(r: Any) -> PostFact:
    return PostFact(
        post_id=r.post_id,
        network=r.network,
        market=r.market,
        account=r.account,
        status=r.status,
        due_utc=_aware(r.due_utc),
        timezone=r.timezone,
        hold_reason=r.hold_reason,
        reason=r.status_reason,
        account_name=r.account_name or "",
    )


_POST_COLUMNS = (
    POST.c.post_id,
    POST.c.network,
    POST.c.market,
    POST.c.account,
    POST.c.account_name,
    POST.c.status,
    POST.c.due_utc,
    POST.c.timezone,
    POST.c.hold_reason,
    POST.c.status_reason,
)


def notable_posts(conn: Connection) -> list[PostFact]:
    """Posts held, failed or needing review (a range scan of ``ix_post_status_due``)."""
    stmt = select(*_POST_COLUMNS).where(POST.c.status.in_([str(s) for s in POST_KINDS]))
    return [_post_fact(r) for r in conn.execute(stmt)]


def market_posts(conn: Connection, market: str, now: datetime) -> list[PostFact]:
    """A market's posts for its digest: due in the next 24 hours, or held."""
    upcoming = and_(
        POST.c.status.in_([str(s) for s in UPCOMING]),
        POST.c.due_utc >= now,
        POST.c.due_utc < now + timedelta(hours=24),
    )
    stmt = select(*_POST_COLUMNS).where(
        POST.c.market == market, or_(upcoming, POST.c.status == str(PostState.HELD))
    )
    return [_post_fact(r) for r in conn.execute(stmt)]


def post_zones(conn: Connection) -> dict[str, str]:
    """Each market's zone as its posts carry it (when markets.yaml cannot be read)."""
    return dict(conn.execute(select(POST.c.market, POST.c.timezone).distinct()).all())


def markets_of(
    conn: Connection, accounts: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], list[str]]:
    """The markets each (network, account) publishes in, from the calendar."""
    wanted = set(accounts)
    if not wanted:
        return {}
    networks = sorted({n for n, _ in wanted})
    rows = conn.execute(
        select(POST.c.network, POST.c.account, POST.c.market)
        .where(POST.c.network.in_(networks), POST.c.account.in_(sorted({a for _, a in wanted})))
        .distinct()
    )
    out: dict[tuple[str, str], list[str]] = {}
    for network, account, market in rows:
        if (network, account) in wanted:
            out.setdefault((network, account), []).append(market)
    return {k: sorted(v) for k, v in out.items()}


def missing_insights(conn: Connection) -> list[InsightsFact]:
    """Accounts the metrics pull found without the insights permission (docs/analytics.md)."""
    rows = conn.execute(
        select(STATE.c.network, STATE.c.account, STATE.c.detail).where(
            STATE.c.post_id == "", STATE.c.state == NO_PERMISSION
        )
    )
    return [InsightsFact(r.network, r.account, r.detail) for r in rows]


def tokens(conn: Connection, kinds: Mapping[str, str]) -> list[TokenFact]:
    """Stored tokens; ``kinds`` maps a network to its token lifecycle kind."""
    out = []
    for r in conn.execute(select(TOKEN)):
        expires, refresh_expires = from_db(r.expires_at), from_db(r.refresh_expires_at)
        renewable = kinds.get(r.network) in RENEWING and (
            # A "refresh" network without a refresh token (LinkedIn's 60-day tokens) cannot
            # renew: its long access token is its horizon. Short tokens are always renewed.
            refresh_expires is not None
            or expires is None
            or (r.updated_at is not None and expires - _aware(r.updated_at) <= timedelta(days=1))
        )
        out.append(
            TokenFact(
                network=r.network,
                account=r.account,
                status=r.status,
                expires_at=expires,
                refresh_expires_at=refresh_expires,
                renewable=renewable,
                last_error=r.last_error,
            )
        )
    return out


def _latest(rows: Iterable[Any]) -> dict[str, Latest]:
    out: dict[str, Latest] = {}
    for r in rows:
        subject, seq = subject_of(r.key)
        before = out.get(subject)
        if before is None or seq > before.seq:
            condition = str(json.loads(r.detail or "{}").get("condition", ""))
            out[subject] = Latest(subject, seq, r.kind, condition)
    return out


def latest_events(conn: Connection) -> dict[str, Latest]:
    """The newest event of every post and account subject (digests have none)."""
    newest = (
        select(func.max(EVENT.c.id).label("id"))
        .where(EVENT.c.post_id.is_not(None))
        .group_by(EVENT.c.post_id)
        .subquery()
    )
    posts = conn.execute(
        select(EVENT.c.key, EVENT.c.kind, EVENT.c.detail).join(newest, EVENT.c.id == newest.c.id)
    )
    accounts = conn.execute(
        select(EVENT.c.key, EVENT.c.kind, EVENT.c.detail).where(
            EVENT.c.post_id.is_(None), EVENT.c.kind != DIGEST
        )
    )
    return _latest(posts) | _latest(accounts)


def existing_keys(conn: Connection, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` are recorded already."""
    if not keys:
        return set()
    return set(conn.execute(select(EVENT.c.key).where(EVENT.c.key.in_(list(keys)))).scalars())


def _insert(conn: Connection) -> Any:
    make = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return make(EVENT)


def record(conn: Connection, events: Sequence[NewEvent], now: datetime) -> list[NewEvent]:
    """Record each event once (by key) with a delivery row per channel; answers the events
    this call recorded (another beat may have recorded the others a moment ago)."""
    recorded = []
    deliveries = []
    for e in events:
        stmt = (
            _insert(conn)
            .values(
                key=e.key,
                kind=e.kind,
                market=e.market,
                network=e.network,
                account=e.account,
                post_id=e.post_id,
                detail=json.dumps(e.detail, ensure_ascii=False, sort_keys=True),
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(EVENT.c.id)
        )
        event_id = conn.execute(stmt).scalar()
        if event_id is None:
            continue
        recorded.append(e)
        deliveries += [
            {"event_id": event_id, "channel": c, "attempts": 0, "next_attempt_at": None}
            for c in e.channels
        ]
    if deliveries:
        conn.execute(DELIVERY.insert(), deliveries)
    return recorded


def _due(now: datetime, max_attempts: int) -> Any:
    return and_(
        DELIVERY.c.sent_at.is_(None),
        DELIVERY.c.attempts < max_attempts,
        or_(DELIVERY.c.next_attempt_at.is_(None), DELIVERY.c.next_attempt_at <= now),
    )


def claim(
    conn: Connection, now: datetime, channels: Sequence[str], lease: timedelta, max_attempts: int
) -> list[Pending]:
    """Take every due delivery of ``channels`` for this run (one guarded UPDATE), with its
    event. A run that dies leaves its deliveries due again once ``lease`` is over."""
    if not channels:
        return []
    # This run's own mark: the lease's end plus a random sub-millisecond part.
    mark = now + lease + timedelta(microseconds=secrets.randbelow(1000) * 1000 + 1)
    conn.execute(
        update(DELIVERY)
        .where(_due(now, max_attempts), DELIVERY.c.channel.in_(list(channels)))
        .values(next_attempt_at=mark, attempts=DELIVERY.c.attempts + 1)
    )
    rows = conn.execute(
        select(DELIVERY.c.event_id, DELIVERY.c.channel, DELIVERY.c.attempts, EVENT)
        .join(EVENT, EVENT.c.id == DELIVERY.c.event_id)
        .where(DELIVERY.c.next_attempt_at == mark, DELIVERY.c.sent_at.is_(None))
    )
    return [
        Pending(
            event_id=r.event_id,
            channel=r.channel,
            kind=r.kind,
            detail=json.loads(r.detail or "{}"),
            market=r.market,
            network=r.network,
            account=r.account,
            post_id=r.post_id,
            attempts=r.attempts,
        )
        for r in rows
    ]


def _of(event_ids: Sequence[int], channel: str) -> Any:
    return and_(DELIVERY.c.event_id.in_(list(event_ids)), DELIVERY.c.channel == channel)


def mark_sent(conn: Connection, event_ids: Sequence[int], channel: str, now: datetime) -> None:
    conn.execute(
        update(DELIVERY)
        .where(_of(event_ids, channel))
        .values(sent_at=now, next_attempt_at=None, last_error=None)
    )


def mark_failed(
    conn: Connection,
    event_ids: Sequence[int],
    channel: str,
    error: str,
    next_attempt_at: datetime | None,
) -> None:
    """Not delivered: try again at ``next_attempt_at`` (None: given up)."""
    conn.execute(
        update(DELIVERY)
        .where(_of(event_ids, channel))
        .values(next_attempt_at=next_attempt_at, last_error=error)
    )


def release(conn: Connection, event_ids: Sequence[int], channel: str) -> None:
    """Claimed but not tried: due again now, the claim's attempt taken back."""
    conn.execute(
        update(DELIVERY)
        .where(_of(event_ids, channel), DELIVERY.c.sent_at.is_(None))
        .values(next_attempt_at=None, attempts=DELIVERY.c.attempts - 1)
    )


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """One unsent delivery, for ``storyline notify status``."""

    event_id: int
    key: str
    kind: str
    channel: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime


def unsent(conn: Connection) -> list[DeliveryRow]:
    rows = conn.execute(
        select(DELIVERY, EVENT.c.key, EVENT.c.kind, EVENT.c.created_at)
        .join(EVENT, EVENT.c.id == DELIVERY.c.event_id)
        .where(DELIVERY.c.sent_at.is_(None))
        .order_by(EVENT.c.created_at, DELIVERY.c.event_id, DELIVERY.c.channel)
    )
    return [
        DeliveryRow(
            event_id=r.event_id,
            key=r.key,
            kind=r.kind,
            channel=r.channel,
            attempts=r.attempts,
            next_attempt_at=from_db(r.next_attempt_at),
            last_error=r.last_error,
            created_at=_aware(r.created_at),
        )
        for r in rows
    ]


def sent_count(conn: Connection) -> int:
    return int(
        conn.execute(
            select(func.count()).select_from(DELIVERY).where(DELIVERY.c.sent_at.is_not(None))
        ).scalar_one()
    )
