"""Calendar fixtures: an upgraded database (SQLite and PostgreSQL), posts planned in code."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from scheduler.calendar import migrate
from scheduler.calendar.database import make_engine
from scheduler.calendar.tables import Post
from scheduler.core.model import StoryStatus
from scheduler.core.post import PlannedPost, post_id

#: The clock of these tests: before the sample launch week.
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
#: 09:00 in Paris on launch day.
LAUNCH = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

ZONES = {
    "fr": "Europe/Paris",
    "de": "Europe/Berlin",
    "gb": "Europe/London",
    "br": "America/Sao_Paulo",
}


def planned(
    story: str = "suv",
    beat: str = "reveal",
    network: str = "x",
    market: str = "fr",
    *,
    due: datetime = LAUNCH,
    text: str | None = None,
    draft: bool = False,
    account: str | None = None,
) -> PlannedPost:
    """One post as the content would plan it."""
    zone = ZONES.get(market, "Europe/Paris")
    return PlannedPost(
        post_id=post_id(story, beat, network, market),
        story=story,
        beat=beat,
        network=network,
        market=market,
        account=account or f"Brand{market.upper()}",
        account_name=f"Brand {market.upper()}",
        timezone=zone,
        due_utc=due,
        due_local=due.astimezone(ZoneInfo(zone)),
        text=text if text is not None else f"The comfort SUV arrives ({network}, {market}).",
        story_status=StoryStatus.DRAFT if draft else StoryStatus.APPROVED,
        campaign="suv-launch",
    )


def brand(
    stories: tuple[str, ...] = ("suv",),
    beats: tuple[tuple[str, timedelta], ...] = (
        ("teaser", timedelta(days=-2)),
        ("reveal", timedelta(0)),
    ),
    networks: tuple[str, ...] = ("x", "facebook"),
    markets: tuple[str, ...] = ("fr", "de"),
    launch: datetime = LAUNCH,
) -> list[PlannedPost]:
    return [
        planned(s, b, n, m, due=launch + offset)
        for s in stories
        for b, offset in beats
        for n in networks
        for m in markets
    ]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An upgraded calendar, on SQLite and on PostgreSQL (the ``database_url`` fixture)."""
    eng = make_engine(database_url)
    migrate.upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()


def set_state(
    engine: Engine, pid: str, status: str, reason: str | None = None, **columns: object
) -> None:
    """What a dispatcher or an operator would do to a post (``columns``: ``set_by``...)."""
    with engine.begin() as conn:
        conn.execute(
            update(Post.__table__)  # type: ignore[attr-defined]
            .where(Post.__table__.c.post_id == pid)  # type: ignore[attr-defined]
            .values(status=status, status_reason=reason, **columns)
        )


def rows(engine: Engine) -> dict[str, dict[str, object]]:
    """Every calendar row, by post id, as plain dicts."""
    table = Post.__table__  # type: ignore[attr-defined]
    with engine.connect() as conn:
        return {r.post_id: dict(r._mapping) for r in conn.execute(select(table))}
