"""The sub-states of a post in columns of their own: ``hold_reason`` and ``set_by``.

Before this revision they hid in ``status_reason`` (text for people): "account needs re-auth: ...",
"removed from the content: ...", and "a planned post with a reason was moved by an operator".
The upgrade reads those texts one last time to fill the new columns; from here on nothing
parses a reason. The downgrade drops the columns: the reasons are still written as before, so
the older code finds what it reads.

Revision ID: 0002_state_columns
Revises: 0001_calendar
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_state_columns"
down_revision: str | None = "0001_calendar"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Why a held post is held, from the reasons the earlier code wrote (lifecycle.HoldReason).
HOLD_REASON = """
UPDATE post SET hold_reason = CASE
    WHEN status_reason = 'story is draft' THEN 'draft'
    WHEN status_reason = 'past due' THEN 'past_due'
    WHEN status_reason LIKE 'account needs re-auth%' THEN 'needs_reauth'
    ELSE 'operator'
END
WHERE status = 'held'
"""

#: Who made the last move (lifecycle.Actor). Sync wrote no reason on its planned posts, and
#: "removed from the content: ..." on the posts it cancelled; every held reason but the two of
#: sync's own and the account's re-auth was someone's by hand.
SET_BY = """
UPDATE post SET set_by = CASE
    WHEN status = 'planned' AND status_reason IS NULL THEN 'sync'
    WHEN status = 'planned' THEN 'operator'
    WHEN status = 'cancelled' AND status_reason LIKE 'removed from the content%' THEN 'sync'
    WHEN status = 'cancelled' THEN 'operator'
    WHEN status = 'held' AND hold_reason IN ('draft', 'past_due') THEN 'sync'
    WHEN status = 'held' AND hold_reason = 'needs_reauth' THEN 'dispatcher'
    WHEN status = 'held' THEN 'operator'
    ELSE 'dispatcher'
END
"""


def upgrade() -> None:
    op.add_column("post", sa.Column("hold_reason", sa.String(length=20), nullable=True))
    op.add_column("post", sa.Column("set_by", sa.String(length=20), nullable=True))
    op.execute(HOLD_REASON)
    op.execute(SET_BY)


def downgrade() -> None:
    with op.batch_alter_table("post") as batch:
        batch.drop_column("set_by")
        batch.drop_column("hold_reason")
