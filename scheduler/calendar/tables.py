"""The calendar's tables: one ``Post`` row per post id, one ``Attempt`` row per try, and what
running unattended needs: refreshed tokens, notifications, pauses, the operators' audit trail
and the beat's heartbeat; and what each post earned: metric snapshots and web outcomes.

Datetime columns are ``timestamp with time zone`` (SQLModel's default): PostgreSQL keeps the
instant, SQLite keeps the text with its offset. Every value written is aware UTC, and
:func:`scheduler.calendar.database.from_db` normalises what comes back, so no naive datetime
escapes. The state columns (``status``, ``hold_reason``, ``set_by``) hold the values of
:mod:`scheduler.core.lifecycle`.
"""

from __future__ import annotations

from datetime import date, datetime

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
        # The social wall: the newest published posts (migration 0006_wall).
        Index("ix_post_status_published", "status", "published_at"),
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
    #: Where a published post went: ``outbox`` (the local outbox: the embedded demo), or the
    #: network whose publisher sent it (``webhook`` for a relayed account; ``network`` on rows
    #: published before this column). Shown everywhere, so an outbox file never passes for a post.
    destination: str | None = Field(default=None, max_length=20)


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


class AccountToken(SQLModel, table=True):
    """An account's tokens as a refresh or ``storyline accounts connect`` left them.

    ``sealed`` is the token set encrypted with ``STORYLINE_SECRET_KEY`` (Fernet): nothing in
    this row reveals a token. ``seed`` fingerprints the secrets-file fields it was derived from:
    when the file changes (an operator pasted a new token), the file wins again. ``version``
    goes up with every write, so a worker can tell that another refreshed meanwhile.
    """

    __tablename__ = "account_token"

    network: str = Field(primary_key=True, max_length=50)
    account: str = Field(primary_key=True, max_length=200)
    sealed: str = Field(sa_column=Column(Text, nullable=False))
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    seed: str | None = Field(default=None, max_length=64)
    version: int = 0
    #: ``ok``, or ``refused`` once the network refused the grant (re-connect needed).
    status: str = Field(default="ok", max_length=20)
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    checked_at: datetime | None = None
    updated_at: datetime


class NotificationEvent(SQLModel, table=True):
    """Something people must hear about, recorded once (``key`` is unique) in the same
    transaction as what caused it, then delivered by the notifier, batched by kind."""

    __tablename__ = "notification_event"
    __table_args__ = (Index("ix_notification_event_created", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=400, unique=True)
    kind: str = Field(max_length=40)
    market: str | None = Field(default=None, max_length=50)
    network: str | None = Field(default=None, max_length=50)
    account: str | None = Field(default=None, max_length=200)
    post_id: str | None = Field(default=None, max_length=400)
    detail: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime


class NotificationDelivery(SQLModel, table=True):
    """One event's delivery to one channel: sent, or when to try again."""

    __tablename__ = "notification_delivery"
    __table_args__ = (Index("ix_notification_delivery_due", "sent_at", "next_attempt_at"),)

    event_id: int = Field(primary_key=True, foreign_key="notification_event.id")
    channel: str = Field(primary_key=True, max_length=64)
    sent_at: datetime | None = None
    attempts: int = 0
    next_attempt_at: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class Pause(SQLModel, table=True):
    """A pause in force: ``scope`` is all, story, market, network or account; ``value`` names
    which (empty for all). No post it covers is claimed until ``storyline resume``."""

    __tablename__ = "pause"

    scope: str = Field(primary_key=True, max_length=20)
    value: str = Field(primary_key=True, max_length=400, default="")
    reason: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    by: str = Field(max_length=200)
    created_at: datetime


class AuditRecord(SQLModel, table=True):
    """What an operator command did: who, when, what, to how many posts."""

    __tablename__ = "audit"
    __table_args__ = (Index("ix_audit_at", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime
    by: str = Field(max_length=200)
    command: str = Field(max_length=50)
    selector: str = Field(sa_column=Column(Text, nullable=False))  # JSON
    changed: int = 0
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))  # JSON


class Heartbeat(SQLModel, table=True):
    """The last time a process did its job (``beat``: a tick), for ``storyline health``."""

    __tablename__ = "heartbeat"

    name: str = Field(primary_key=True, max_length=200)
    at: datetime
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class MetricSnapshot(SQLModel, table=True):
    """What a network said of one published post at one moment: append-only, never updated.

    ``window`` names the scheduled pull (``1h``, ``24h``, ``7d``, ``28d``) or ``manual``; a
    re-pull of the same window writes nothing (unique post and window). A count the network did
    not give is NULL, never 0: a missing snapshot is not a post nobody saw.
    """

    __tablename__ = "metric_snapshot"
    __table_args__ = (
        Index("ux_metric_snapshot_window", "post_id", "window", unique=True),
        Index("ix_metric_snapshot_taken", "taken_at"),
        # storyline report: a post's latest snapshot in one seek (migration 0005_report_indexes).
        Index("ix_metric_snapshot_latest", "post_id", "taken_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    post_id: str = Field(max_length=400, foreign_key="post.post_id")
    window: str = Field(max_length=20)
    taken_at: datetime
    impressions: int | None = None
    reach: int | None = None
    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    clicks: int | None = None
    #: The network's own answer, for what the columns above do not hold (JSON).
    raw: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class MetricState(SQLModel, table=True):
    """Why metrics are not pulled for a post (``deleted`` on the network) or an account
    (``no_permission``: no insights scope), reported once, not an error per post."""

    __tablename__ = "metric_state"

    network: str = Field(primary_key=True, max_length=50)
    account: str = Field(primary_key=True, max_length=200)
    #: Empty for a state of the whole account.
    post_id: str = Field(primary_key=True, max_length=400, default="")
    state: str = Field(max_length=30)
    detail: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    since: datetime


class WebOutcome(SQLModel, table=True):
    """One row of a web-analytics export (GA4's exploration shape), joined to posts through
    ``utm_content`` — the post id Storyline wrote into every tracked link."""

    __tablename__ = "web_outcome"
    __table_args__ = (
        Index("ix_web_outcome_content", "utm_content"),
        Index(
            "ux_web_outcome_row",
            "day",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "utm_content",
            unique=True,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    day: date
    utm_source: str = Field(max_length=200)
    utm_medium: str = Field(max_length=200)
    utm_campaign: str = Field(max_length=200)
    utm_content: str = Field(max_length=400)
    sessions: int = 0
    conversions: int = 0
    revenue: float | None = None
    #: The import it came from (``analytics_import.id``).
    import_id: int = Field(foreign_key="analytics_import.id")


class AnalyticsImport(SQLModel, table=True):
    """One imported file, by the hash of its content: a re-import of the same file is a no-op."""

    __tablename__ = "analytics_import"

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, unique=True)
    name: str = Field(max_length=400)
    rows: int = 0
    unmatched: int = 0
    imported_at: datetime
