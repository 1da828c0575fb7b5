"""The live feed of ``storyline run``: posts that reached a state worth telling the operator."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.engine import Engine

from scheduler.calendar.database import from_db
from scheduler.calendar.tables import Post
from scheduler.core.lifecycle import PostState

POST = Post.__table__  # type: ignore[attr-defined]

#: The states the feed reports (docs/operations.md: ✓ published, ✗ failed, ? needs_review,
#: ‖ held, ↻ retry_wait).
WATCHED = (
    PostState.PUBLISHED,
    PostState.FAILED,
    PostState.NEEDS_REVIEW,
    PostState.HELD,
    PostState.RETRY_WAIT,
)


@dataclass(frozen=True)
class Event:
    """A post that reached a state worth telling the operator about."""

    post_id: str
    status: str
    network: str
    market: str
    due_utc: datetime
    timezone: str
    remote_id: str | None
    url: str | None
    reason: str | None
    at: datetime
    #: Where a published post went: ``outbox`` or the network that sent it (``Post.destination``).
    destination: str | None = None


def events_since(engine: Engine, since: datetime) -> list[Event]:
    """Posts that changed to a watched state after ``since``, oldest change first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(POST)
            .where(POST.c.status.in_(WATCHED), POST.c.updated_at > since.astimezone(UTC))
            .order_by(POST.c.updated_at, POST.c.post_id)
        ).mappings()
        out = []
        for r in rows:
            due, at = from_db(r["due_utc"]), from_db(r["updated_at"])
            assert due is not None and at is not None
            out.append(
                Event(
                    post_id=r["post_id"],
                    status=r["status"],
                    network=r["network"],
                    market=r["market"],
                    due_utc=due,
                    timezone=r["timezone"],
                    remote_id=r["remote_id"],
                    url=r["url"],
                    reason=r["status_reason"],
                    at=at,
                    destination=r["destination"],
                )
            )
        return out
