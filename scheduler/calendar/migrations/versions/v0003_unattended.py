"""What running unattended needs: refreshed tokens (encrypted), notifications, pauses, the
operators' audit trail, the beat's heartbeat, and where each published post went.

Revision ID: 0003_unattended
Revises: 0002_state_columns
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_unattended"
down_revision: str | None = "0002_state_columns"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("post", sa.Column("destination", sa.String(length=20), nullable=True))
    # Before this revision a published post's remote id said where it went: outbox/... .
    op.execute(
        "UPDATE post SET destination = CASE WHEN remote_id LIKE 'outbox/%' "
        "THEN 'outbox' ELSE 'network' END WHERE status = 'published'"
    )
    op.create_table(
        "account_token",
        sa.Column("network", sa.String(length=50), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("sealed", sa.Text(), nullable=False),
        sa.Column("expires_at", WHEN, nullable=True),
        sa.Column("refresh_expires_at", WHEN, nullable=True),
        sa.Column("seed", sa.String(length=64), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("checked_at", WHEN, nullable=True),
        sa.Column("updated_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("network", "account"),
    )
    op.create_table(
        "notification_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=400), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("market", sa.String(length=50), nullable=True),
        sa.Column("network", sa.String(length=50), nullable=True),
        sa.Column("account", sa.String(length=200), nullable=True),
        sa.Column("post_id", sa.String(length=400), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index("ix_notification_event_created", "notification_event", ["created_at"])
    op.create_table(
        "notification_delivery",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("sent_at", WHEN, nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", WHEN, nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["event_id"], ["notification_event.id"]),
        sa.PrimaryKeyConstraint("event_id", "channel"),
    )
    op.create_index(
        "ix_notification_delivery_due", "notification_delivery", ["sent_at", "next_attempt_at"]
    )
    op.create_table(
        "pause",
        sa.Column("scope", sa.String(length=20), nullable=False),
        sa.Column("value", sa.String(length=400), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("created_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("scope", "value"),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("by", sa.String(length=200), nullable=False),
        sa.Column("command", sa.String(length=50), nullable=False),
        sa.Column("selector", sa.Text(), nullable=False),
        sa.Column("changed", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_table(
        "heartbeat",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("at", WHEN, nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("heartbeat")
    op.drop_index("ix_audit_at", table_name="audit")
    op.drop_table("audit")
    op.drop_table("pause")
    op.drop_index("ix_notification_delivery_due", table_name="notification_delivery")
    op.drop_table("notification_delivery")
    op.drop_index("ix_notification_event_created", table_name="notification_event")
    op.drop_table("notification_event")
    op.drop_table("account_token")
    with op.batch_alter_table("post") as batch:
        batch.drop_column("destination")
