"""`storyline run --demo` re-times the loaded plan in memory; the live feed reads the calendar."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from scheduler.core.post import PlannedPost
from scheduler.dispatch.demo import DEMO_LEAD, DEMO_STEP, demo_shift
from scheduler.dispatch.events import events_since

from .conftest import T0, add_posts

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def planned(post_id: str, due: datetime, zone: str = "Europe/Paris") -> PlannedPost:
    story, beat, network, market = post_id.split("/")
    return PlannedPost(
        post_id=post_id,
        story=story,
        beat=beat,
        network=network,
        market=market,
        account="1",
        account_name="Brand",
        timezone=zone,
        due_utc=due,
        due_local=due,
        text="hello",
    )


LAUNCH = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PLAN = [
    planned("suv/reveal/x/fr", LAUNCH),
    planned("suv/reveal/facebook/fr", LAUNCH),
    planned("suv/teaser/x/fr", LAUNCH - timedelta(days=7)),
    planned("suv/reveal/x/br", LAUNCH + timedelta(hours=4), "America/Sao_Paulo"),
]


def test_the_demo_starts_shortly_after_now_and_keeps_the_order():
    shifted = {p.post_id: p.due_utc for p in demo_shift(PLAN, NOW)}
    assert shifted["suv/teaser/x/fr"] == NOW + DEMO_LEAD
    assert shifted["suv/reveal/x/fr"] == NOW + DEMO_LEAD + DEMO_STEP
    assert shifted["suv/reveal/x/br"] == NOW + DEMO_LEAD + 2 * DEMO_STEP


def test_posts_due_together_stay_together():
    shifted = {p.post_id: p.due_utc for p in demo_shift(PLAN, NOW)}
    assert shifted["suv/reveal/x/fr"] == shifted["suv/reveal/facebook/fr"]


def test_the_local_time_follows_the_new_instant_in_the_market_zone():
    br = next(p for p in demo_shift(PLAN, NOW) if p.market == "br")
    assert br.due_local == br.due_utc
    assert br.due_local.utcoffset() == timedelta(hours=-3)


def test_nothing_but_the_due_times_changes():
    for before, after in zip(PLAN, demo_shift(PLAN, NOW), strict=True):
        assert replace(after, due_utc=before.due_utc, due_local=before.due_local) == before


def test_the_feed_lists_posts_that_reached_a_watched_state(engine):
    [published] = add_posts(engine, status="published", remote_id="outbox/x.json")
    add_posts(engine, story="quiet")  # planned: not news
    events = events_since(engine, T0 - timedelta(days=2))
    assert [(e.post_id, e.status, e.remote_id) for e in events] == [
        (published, "published", "outbox/x.json")
    ]
    assert events_since(engine, T0) == []
