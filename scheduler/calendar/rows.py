"""A post and its attempts as people read them: the rows of ``storyline calendar``,
``storyline status`` and the HTML month grid.

One :class:`CalendarRow` for every reader: built from the database by
:mod:`scheduler.calendar.queries`, or straight from the content (:meth:`CalendarRow.of_planned`)
by ``storyline serve`` before anything is synced. Plain values only, so the preview, which must
start fast, imports no database code to show one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from scheduler.calendar.planned import Planned


@dataclass(frozen=True, slots=True)
class CalendarRow:
    """One post of the calendar (datetimes aware UTC; ``timezone`` is its market's zone).

    A row made from the content rather than the database has no history: no ``account`` key,
    attempts, times of creation or change. ``story_title`` is the story's title when the
    content is at hand (the database does not keep it).
    """

    post_id: str
    story: str
    beat: str
    network: str
    market: str
    account_name: str
    timezone: str
    due_utc: datetime
    status: str
    text: str = ""
    account: str = ""
    campaign: str = ""
    status_reason: str | None = None
    title: str | None = None
    link: str | None = None
    media: tuple[dict[str, str], ...] = ()
    first_comment: str | None = None
    attempts: int = 0
    remote_id: str | None = None
    url: str | None = None
    last_error: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    published_at: datetime | None = None
    story_title: str = ""
    #: Where a published post went (``Post.destination``): ``outbox``, or the network that sent it.
    destination: str | None = None

    @property
    def to_outbox(self) -> bool:
        """Published to the local outbox: written to a file, never sent to its network."""
        return self.status == "published" and self.destination == "outbox"

    @property
    def shown_status(self) -> str:
        """The state as people read it: ``published (outbox)`` never looks like a live post;
        a relayed post says which publisher delivered it."""
        if self.status != "published" or self.destination in (None, self.network, "network"):
            return self.status
        return f"published ({self.destination})"

    @property
    def due_local(self) -> datetime:
        return self.due_utc.astimezone(ZoneInfo(self.timezone))

    @classmethod
    def of_planned(
        cls, post: Planned, *, status: str, story_title: str = "", error: str | None = None
    ) -> CalendarRow:
        """The row of a post straight from the content (``storyline serve``, before any sync)."""
        return cls(
            post_id=post.post_id,
            story=post.story,
            beat=post.beat,
            network=post.network,
            market=post.market,
            account_name=post.account_name,
            timezone=post.timezone,
            due_utc=post.due_utc,
            status=status,
            text=post.text,
            story_title=story_title,
            last_error=error,
        )


@dataclass(frozen=True, slots=True)
class AttemptRow:
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    error: str | None
    http_status: int | None
    latency_ms: int | None
    worker: str | None
