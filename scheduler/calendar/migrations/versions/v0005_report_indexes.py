"""The index ``storyline report`` reads a post's latest snapshot through: one seek per post,
whatever the number of snapshots kept.

Revision ID: 0005_report_indexes
Revises: 0004_analytics
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005_report_indexes"
down_revision: str | None = "0004_analytics"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_metric_snapshot_latest", "metric_snapshot", ["post_id", "taken_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_metric_snapshot_latest", table_name="metric_snapshot")
