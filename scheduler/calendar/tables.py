"""The calendar's tables: one ``Post`` row per post id, one ``Attempt`` row per try.

Datetime columns are ``timestamp with time zone`` (SQLModel's default): PostgreSQL keeps the
instant, SQLite keeps the text with its offset. Every value written is aware UTC, and
:func:`scheduler.db.from_db` normalises what comes back, so no naive datetime escapes.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel


class PostState(StrEnum):
    """The fixed state names of DESIGN §6."""

    PLANNED = "planned"
    QUEUED = "queued"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    RETRY_WAIT = "retry_wait"
    FAILED = "failed"
    RECONCILING = "reconciling"
    NEEDS_REVIEW = "needs_review"
    CANCELLED = "cancelled"
    HELD = "held"


#: Posts sync may still rewrite; the others are in flight or done.
MUTABLE_STATES = frozenset({PostState.PLANNED, PostState.HELD, PostState.RETRY_WAIT})
#: States a post never leaves on its own.
TERMINAL_STATES = frozenset(
    {PostState.PUBLISHED, PostState.FAILED, PostState.CANCELLED, PostState.NEEDS_REVIEW}
)


class Post(SQLModel, table=True):
    __tablename__ = "post"
    __table_args__ = (
        # "What is due now": a range scan on (status, due_utc), whatever the history size.
        Index("ix_post_status_due", "status", "due_utc"),
        Index("ix_post_status_next_attempt", "status", "next_attempt_at"),
        Index("ix_post_status_lease", "status", "lease_until"),
        Index("ix_post_story", "story"),
        Index("ix_post_network_account", "network", "account"),
    )

    post_id: str = Field(primary_key=True, max_length=400)
    story: str = Field(max_length=200)
    beat: str = Field(max_length=100)
    network: str = Field(max_length=50)
    market: str = Field(max_length=50)
    account: str = Field(max_length=200)
    account_name: str = Field(default="", max_length=200)
    campaign: str = Field(default="", max_length=200)
    text: str = Field(sa_column=Column(Text, nullable=False))
    title: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    link: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    media_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    first_comment: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    content_hash: str = Field(max_length=64)
    due_utc: datetime
    timezone: str = Field(max_length=64)
    status: str = Field(default=PostState.PLANNED, max_length=20)
    status_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attempts: int = 0
    # Claim bookkeeping (DESIGN §6): who may publish, until when.
    attempt_token: str | None = Field(default=None, max_length=64)
    lease_until: datetime | None = None
    next_attempt_at: datetime | None = None
    # Multi-step flows (containers, resumable uploads) checkpoint here, as JSON.
    checkpoint_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    remote_id: str | None = Field(default=None, max_length=400)
    url: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None = None


class Attempt(SQLModel, table=True):
    __tablename__ = "attempt"
    __table_args__ = (Index("ix_attempt_post", "post_id", "started_at"),)

    id: int | None = Field(default=None, primary_key=True)
    post_id: str = Field(max_length=400, foreign_key="post.post_id")
    attempt_token: str | None = Field(default=None, max_length=64)
    started_at: datetime
    finished_at: datetime | None = None
    outcome: str = Field(max_length=30)  # published | transient | permanent | needs_auth | ...
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    http_status: int | None = None
    latency_ms: int | None = None
    worker: str | None = Field(default=None, max_length=200)
