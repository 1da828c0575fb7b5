"""What each post earned: metric snapshots from the networks, web outcomes from an analytics
export, and why a post or an account is not pulled.

Revision ID: 0004_analytics
Revises: 0003_unattended
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_analytics"
down_revision: str | None = "0003_unattended"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "metric_snapshot",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("post_id", sa.String(length=400), nullable=False),
        sa.Column("window", sa.String(length=20), nullable=False),
        sa.Column("taken_at", WHEN, nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=True)
            for name in (
                "impressions",
                "reach",
                "views",
                "likes",
                "comments",
                "shares",
                "saves",
                "clicks",
            )
        ),
        sa.Column("raw", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["post_id"], ["post.post_id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ux_metric_snapshot_window", "metric_snapshot", ["post_id", "window"], unique=True
    )
    op.create_index("ix_metric_snapshot_taken", "metric_snapshot", ["taken_at"])
    op.create_table(
        "metric_state",
        sa.Column("network", sa.String(length=50), nullable=False),
        sa.Column("account", sa.String(length=200), nullable=False),
        sa.Column("post_id", sa.String(length=400), nullable=False),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.Column("since", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("network", "account", "post_id"),
    )
    op.create_table(
        "analytics_import",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=400), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("unmatched", sa.Integer(), nullable=False),
        sa.Column("imported_at", WHEN, nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256"),
    )
    op.create_table(
        "web_outcome",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("utm_source", sa.String(length=200), nullable=False),
        sa.Column("utm_medium", sa.String(length=200), nullable=False),
        sa.Column("utm_campaign", sa.String(length=200), nullable=False),
        sa.Column("utm_content", sa.String(length=400), nullable=False),
        sa.Column("sessions", sa.Integer(), nullable=False),
        sa.Column("conversions", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.Float(), nullable=True),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["import_id"], ["analytics_import.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_web_outcome_content", "web_outcome", ["utm_content"])
    op.create_index(
        "ux_web_outcome_row",
        "web_outcome",
        ["day", "utm_source", "utm_medium", "utm_campaign", "utm_content"],
        unique=True,
    )


def downgrade() -> None:
    op.drop_index("ux_web_outcome_row", table_name="web_outcome")
    op.drop_index("ix_web_outcome_content", table_name="web_outcome")
    op.drop_table("web_outcome")
    op.drop_table("analytics_import")
    op.drop_table("metric_state")
    op.drop_index("ix_metric_snapshot_taken", table_name="metric_snapshot")
    op.drop_index("ux_metric_snapshot_window", table_name="metric_snapshot")
    op.drop_table("metric_snapshot")
