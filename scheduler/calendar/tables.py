"""The calendar's tables: one ``Post`` row per post id, one ``Attempt`` row per try.

Datetime columns are ``timestamp with time zone`` (SQLModel's default): PostgreSQL keeps the
instant, SQLite keeps the text with its offset. Every value written is aware UTC, and
:func:`scheduler.calendar.database.from_db` normalises what comes back, so no naive datetime
escapes. The state columns (``status``, ``hold_reason``, ``set_by``) hold the values of
:mod:`scheduler.core.lifecycle`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from scheduler.core.lifecycle import PostState


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
    #: Why a held post is held (``lifecycle.HoldReason``); NULL in every other state.
    hold_reason: str | None = Field(default=None, max_length=20)
    #: Who made the last move (``lifecycle.Actor``): a planned post an operator moved keeps
    #: its slot; a post sync cancelled comes back with its content.
    set_by: str | None = Field(default=None, max_length=20)
    #: For people: why the post is in its state. Never read back by the code.
    status_reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    attempts: int = 0
    # Claim bookkeeping (docs/operations.md, "How a post goes out"): who may publish, until when.
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
    outcome: str = Field(max_length=30)  # a lifecycle.AttemptOutcome
    error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    http_status: int | None = None
    latency_ms: int | None = None
    worker: str | None = Field(default=None, max_length=200)
