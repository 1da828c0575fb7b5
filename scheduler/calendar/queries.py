"""What the calendar, status and the dispatcher read: the CLI's queries and "what is due now".

Reads only, through the ORM session the CLI opens (or plain Core statements for the
dispatcher's hot path); the rows come back as :mod:`scheduler.calendar.rows` values with aware
UTC datetimes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select
from sqlmodel import Session

from scheduler.calendar.dialect import aware
from scheduler.calendar.rows import AttemptRow, CalendarRow
from scheduler.calendar.tables import Attempt, Post
from scheduler.core.errors import NotFound
from scheduler.core.lifecycle import PostState
from scheduler.core.suggest import closest

POST = Post.__table__  # type: ignore[attr-defined]
ATTEMPT = Attempt.__table__  # type: ignore[attr-defined]

#: The instant each claimable state waits for.
DUE_COLUMN = {PostState.PLANNED: POST.c.due_utc, PostState.RETRY_WAIT: POST.c.next_attempt_at}


def _opt(dt: datetime | None) -> datetime | None:
    return None if dt is None else aware(dt)


def _row_of(post: Any) -> CalendarRow:
    """A CalendarRow from a ``post`` row (Core result row or ORM object: same attributes)."""
    return CalendarRow(
        post_id=post.post_id,
        story=post.story,
        beat=post.beat,
        network=post.network,
        market=post.market,
        account=post.account,
        account_name=post.account_name,
        campaign=post.campaign,
        timezone=post.timezone,
        due_utc=aware(post.due_utc),
        status=post.status,
        status_reason=post.status_reason,
        text=post.text,
        title=post.title,
        link=post.link,
        media=tuple(json.loads(post.media_json or "[]")),
        first_comment=post.first_comment,
        attempts=post.attempts,
        remote_id=post.remote_id,
        url=post.url,
        last_error=post.last_error,
        created_at=aware(post.created_at),
        updated_at=aware(post.updated_at),
        published_at=_opt(post.published_at),
        destination=post.destination,
    )


def calendar_rows(
    session: Session,
    *,
    from_date: date | None = None,
    to_date: date | None = None,
    networks: Iterable[str] = (),
    markets: Iterable[str] = (),
    statuses: Iterable[str] = (),
    stories: Iterable[str] = (),
) -> list[CalendarRow]:
    """Posts in due order; ``from_date``/``to_date`` are inclusive dates in each post's own zone.

    The database narrows by a UTC window one day wider on each side (zones run from UTC-12 to
    UTC+14); the exact local-date test is done here, per post, in its market's zone.
    """
    # Core rows, not ORM objects: no identity map to fill for a 50k-post export.
    stmt = select(POST).order_by(POST.c.due_utc, POST.c.post_id)
    if from_date is not None:
        start = datetime.combine(from_date - timedelta(days=1), datetime.min.time(), UTC)
        stmt = stmt.where(POST.c.due_utc >= start)
    if to_date is not None:
        end = datetime.combine(to_date + timedelta(days=2), datetime.min.time(), UTC)
        stmt = stmt.where(POST.c.due_utc < end)
    if nets := list(networks):
        stmt = stmt.where(POST.c.network.in_(nets))
    if mkts := list(markets):
        stmt = stmt.where(POST.c.market.in_(mkts))
    if sts := list(statuses):
        stmt = stmt.where(POST.c.status.in_(sts))
    if names := list(stories):
        stmt = stmt.where(POST.c.story.in_(names))
    rows = [_row_of(p) for p in session.execute(stmt)]
    if from_date is None and to_date is None:
        return rows
    lo, hi = from_date or date.min, to_date or date.max
    return [r for r in rows if lo <= r.due_local.date() <= hi]


#: ``state_counts``' key for the posts written to the outbox: never counted as ``published``.
PUBLISHED_OUTBOX = "published_outbox"


def state_counts(
    session: Session,
    *,
    stories: Iterable[str] = (),
    markets: Iterable[str] = (),
    networks: Iterable[str] = (),
) -> dict[str, int]:
    """How many posts are in each state, every state listed (zeros included); the filters
    count only the posts of these stories, markets and networks. Posts written to the outbox
    are counted apart (:data:`PUBLISHED_OUTBOX`), right after ``published``: a file in the
    outbox is not a publication."""
    chosen = []
    for column, values in (
        (POST.c.story, stories),
        (POST.c.market, markets),
        (POST.c.network, networks),
    ):
        if wanted := list(values):
            chosen.append(column.in_(wanted))
    found = dict(
        session.execute(
            select(POST.c.status, func.count()).where(*chosen).group_by(POST.c.status)
        ).all()
    )
    outbox = int(
        session.execute(
            select(func.count()).where(
                *chosen, POST.c.status == PostState.PUBLISHED, POST.c.destination == "outbox"
            )
        ).scalar_one()
    )
    counts: dict[str, int] = {}
    for s in PostState:
        counts[str(s)] = int(found.pop(str(s), 0))
        if s is PostState.PUBLISHED:
            counts[str(s)] -= outbox
            counts[PUBLISHED_OUTBOX] = outbox
    counts.update({str(k): int(v) for k, v in found.items()})
    return counts


def post_detail(session: Session, post_id: str) -> tuple[CalendarRow, list[AttemptRow]]:
    """One post with its attempts, oldest first; NotFound names close matches."""
    post = session.get(Post, post_id)
    if post is None:
        story = post_id.split("/", 1)[0]
        ids = session.execute(select(POST.c.post_id).where(POST.c.story == story)).scalars()
        close = closest(post_id, ids, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise NotFound(f"no post {post_id!r} in the calendar{hint}")
    attempts = session.execute(
        select(ATTEMPT)
        .where(ATTEMPT.c.post_id == post_id)
        .order_by(ATTEMPT.c.started_at, ATTEMPT.c.id)
    ).all()
    return _row_of(post), [
        AttemptRow(
            started_at=aware(a.started_at),
            finished_at=_opt(a.finished_at),
            outcome=a.outcome,
            error=a.error,
            http_status=a.http_status,
            latency_ms=a.latency_ms,
            worker=a.worker,
        )
        for a in attempts
    ]


def due_query(now: datetime, limit: int = 100, state: PostState = PostState.PLANNED) -> Select[Any]:
    """ "What is due now": the candidates of the dispatcher's claim (and what the benchmark
    measures), locked where the database has row locks (``FOR UPDATE SKIP LOCKED``).

    ``status = 'planned' AND due_utc <= now ORDER BY due_utc LIMIT n`` is a range scan of
    ``ix_post_status_due`` (``ix_post_status_next_attempt`` for ``retry_wait``): its cost
    follows the number of due posts, not the history's size.
    """
    column = DUE_COLUMN[state]
    return (
        select(POST.c.post_id, column)
        .where(POST.c.status == state, column <= aware(now))
        .order_by(column)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
