"""The social wall's read: the newest published posts, by publication instant.

Revision ID: 0006_wall
Revises: 0005_report_indexes
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0006_wall"
down_revision: str | None = "0005_report_indexes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Each poll of a wall reads the newest published posts: a range scan, not a sort of the
    # whole history.
    op.create_index("ix_post_status_published", "post", ["status", "published_at"])


def downgrade() -> None:
    op.drop_index("ix_post_status_published", table_name="post")
