"""What the social wall reads: the published posts, newest first, with their latest counts.

One read per poll of the wall page (``storyline wall``, ``/wall`` in ``storyline serve``):
the newest published posts (optionally of one campaign), or, with ``since``, only those
published after it and those whose counts changed after it, so a page that already shows the
wall asks only for what is new. The counts are those of the latest metric snapshots, a count
by count: a snapshot that lacks a number (NULL: the network did not give it) does not hide
the one an earlier snapshot had.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.engine import Connection

from scheduler.calendar.database import from_db
from scheduler.calendar.tables import MetricSnapshot, Post
from scheduler.core.lifecycle import PostState

POST = Post.__table__  # type: ignore[attr-defined]
SNAPSHOT = MetricSnapshot.__table__  # type: ignore[attr-defined]

#: The counts the wall shows, in the metric_snapshot columns' names.
COUNTS = ("impressions", "reach", "views", "likes", "comments", "shares", "saves", "clicks")


@dataclass(frozen=True, slots=True)
class WallPost:
    """One published post as the wall shows it (datetimes aware UTC)."""

    post_id: str
    story: str
    network: str
    market: str
    campaign: str
    account_name: str
    text: str
    title: str | None
    media: tuple[dict[str, str], ...]
    timezone: str
    published_at: datetime
    url: str | None
    destination: str | None
    #: Latest known value of each count the networks gave (absent: never given).
    counts: dict[str, int] = field(default_factory=dict)
    #: When the newest of those snapshots was taken (None: no snapshot yet).
    counted_at: datetime | None = None


def wall_posts(
    conn: Connection,
    *,
    campaign: str | None = None,
    since: datetime | None = None,
    limit: int = 50,
) -> list[WallPost]:
    """The newest published posts (at most ``limit``), newest first.

    With ``since``: only the posts published after it, or counted (a metric snapshot taken)
    after it. Ties on the publication instant are broken by post id, so the order is stable.
    """
    stmt = (
        select(POST)
        .where(POST.c.status == PostState.PUBLISHED, POST.c.published_at.is_not(None))
        .order_by(POST.c.published_at.desc(), POST.c.post_id.desc())
        .limit(limit)
    )
    if campaign:
        stmt = stmt.where(POST.c.campaign == campaign)
    if since is not None:
        at = since.astimezone(UTC)
        counted = select(SNAPSHOT.c.post_id).where(SNAPSHOT.c.taken_at > at)
        stmt = stmt.where(or_(POST.c.published_at > at, POST.c.post_id.in_(counted)))
    rows = conn.execute(stmt).mappings().all()
    counts = latest_counts(conn, [r["post_id"] for r in rows])
    out = []
    for r in rows:
        published = from_db(r["published_at"])
        assert published is not None  # filtered above
        values, counted_at = counts.get(r["post_id"], ({}, None))
        out.append(
            WallPost(
                post_id=r["post_id"],
                story=r["story"],
                network=r["network"],
                market=r["market"],
                campaign=r["campaign"],
                account_name=r["account_name"],
                text=r["text"],
                title=r["title"],
                media=tuple(json.loads(r["media_json"] or "[]")),
                timezone=r["timezone"],
                published_at=published,
                url=r["url"],
                destination=r["destination"],
                counts=values,
                counted_at=counted_at,
            )
        )
    return out


def latest_counts(
    conn: Connection, post_ids: Sequence[str]
) -> dict[str, tuple[dict[str, int], datetime | None]]:
    """Post id -> (each count's latest non-NULL value, when the newest snapshot was taken)."""
    if not post_ids:
        return {}
    stmt = (
        select(SNAPSHOT.c.post_id, SNAPSHOT.c.taken_at, *(SNAPSHOT.c[c] for c in COUNTS))
        .where(SNAPSHOT.c.post_id.in_(list(post_ids)))
        .order_by(SNAPSHOT.c.taken_at, SNAPSHOT.c.id)
    )
    out: dict[str, tuple[dict[str, int], datetime | None]] = {}
    for row in conn.execute(stmt).mappings():
        values, _ = out.get(row["post_id"], ({}, None))
        values.update({c: int(row[c]) for c in COUNTS if row[c] is not None})
        out[row["post_id"]] = (values, from_db(row["taken_at"]))
    return out
