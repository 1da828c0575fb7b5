"""The calendar: post and attempt tables, with the indexes that keep "due now" cheap.

Revision ID: 0001_calendar
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_calendar"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "post",
        sa.Column("post_id", sa.String(length=400), nullable=False),
        sa.Column("story", sa.String(length=200), nullable=False),
        sa.Column("beat", sa.String(length=100), nullable=False),
        sa.Column("network", sa.String(length=50), nullable=False),
        sa.Column("market", sa.String(length=50), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("account_name", sa.String(length=200), nullable=False),
        sa.Column("campaign", sa.String(length=200), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("link", sa.Text(), nullable=True),
        sa.Column("media_json", sa.Text(), nullable=False),
        sa.Column("first_comment", sa.Text(), nullable=True),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("due_utc", UTC_DATETIME, nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("attempt_token", sa.String(length=64), nullable=True),
        sa.Column("lease_until", UTC_DATETIME, nullable=True),
        sa.Column("next_attempt_at", UTC_DATETIME, nullable=True),
        sa.Column("checkpoint_json", sa.Text(), nullable=True),
        sa.Column("remote_id", sa.String(length=400), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", UTC_DATETIME, nullable=False),
        sa.Column("updated_at", UTC_DATETIME, nullable=False),
        sa.Column("published_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("post_id"),
    )
    op.create_index("ix_post_status_due", "post", ["status", "due_utc"])
    op.create_index("ix_post_status_next_attempt", "post", ["status", "next_attempt_at"])
    op.create_index("ix_post_status_lease", "post", ["status", "lease_until"])
    op.create_index("ix_post_story", "post", ["story"])
    op.create_index("ix_post_network_account", "post", ["network", "account"])

    op.create_table(
        "attempt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.String(length=400), nullable=False),
        sa.Column("attempt_token", sa.String(length=64), nullable=True),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.Column("outcome", sa.String(length=30), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("latency_ms", sa.Integer(), nullable=True),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["post_id"], ["post.post_id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_attempt_post", "attempt", ["post_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_attempt_post", table_name="attempt")
    op.drop_table("attempt")
    for name in (
        "ix_post_network_account",
        "ix_post_story",
        "ix_post_status_lease",
        "ix_post_status_next_attempt",
        "ix_post_status_due",
    ):
        op.drop_index(name, table_name="post")
    op.drop_table("post")
