"""The notification planner, pure: which events are due, each once, routed to whom, batched."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from scheduler.app.notify_message import Pending, batch
from scheduler.app.notify_plan import (
    CLEARED,
    DIGEST,
    EXPIRING,
    HELD,
    INSIGHTS,
    REAUTH,
    InsightsFact,
    Latest,
    NewEvent,
    PostFact,
    Routes,
    TokenFact,
    digest_due,
    digest_event,
    plan_events,
    subject_of,
)

NOW = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)  # 08:30 in Paris, 02:30 in New York
ROUTES = Routes(everywhere=("ops",), by_market={"fr": ("cm-fr",), "us": ("cm-us",)})


def post(
    n: int = 1,
    *,
    status: str = "held",
    hold: str | None = "no_credentials",
    market: str = "fr",
    account: str = "BrandFR",
    network: str = "x",
) -> PostFact:
    return PostFact(
        post_id=f"suv/b{n}/{network}/{market}",
        network=network,
        market=market,
        account=account,
        status=status,
        due_utc=NOW + timedelta(hours=n),
        timezone="Europe/Paris" if market == "fr" else "America/New_York",
        hold_reason=hold if status == "held" else None,
        reason=f"no credentials for {network}:{account}" if status == "held" else "HTTP 400",
    )


def latest_of(events: list[NewEvent]) -> dict[str, Latest]:
    out = {}
    for e in events:
        subject, seq = subject_of(e.key)
        out[subject] = Latest(subject, seq, e.kind, str(e.detail.get("condition", "")))
    return out


def test_a_held_post_is_one_event_routed_to_everyone_and_its_market() -> None:
    [event] = plan_events(NOW, posts=[post()], latest={}, routes=ROUTES)
    assert (event.kind, event.key, event.post_id) == (HELD, "post:suv/b1/x/fr#1", "suv/b1/x/fr")
    assert event.channels == ("ops", "cm-fr")


def test_a_market_channel_never_hears_another_market() -> None:
    [event] = plan_events(
        NOW, posts=[post(market="us", account="BrandUS")], latest={}, routes=ROUTES
    )
    assert event.channels == ("ops", "cm-us")


def test_an_event_already_told_is_not_planned_again() -> None:
    first = plan_events(NOW, posts=[post()], latest={}, routes=ROUTES)
    assert plan_events(NOW, posts=[post()], latest=latest_of(first), routes=ROUTES) == []


def test_two_scans_at_once_propose_the_same_key_so_the_database_keeps_one() -> None:
    a = plan_events(NOW, posts=[post()], latest={}, routes=ROUTES)
    b = plan_events(NOW, posts=[post()], latest={}, routes=ROUTES)
    assert [e.key for e in a] == [e.key for e in b]


def test_a_post_that_fails_after_being_held_is_told_again() -> None:
    told = latest_of(plan_events(NOW, posts=[post()], latest={}, routes=ROUTES))
    [event] = plan_events(NOW, posts=[post(status="failed")], latest=told, routes=ROUTES)
    assert (event.kind, event.key) == ("failed", "post:suv/b1/x/fr#2")


def test_a_released_post_is_cleared_silently_and_a_new_hold_is_told_again() -> None:
    told = latest_of(plan_events(NOW, posts=[post()], latest={}, routes=ROUTES))
    [cleared] = plan_events(NOW, posts=[], latest=told, routes=ROUTES)
    assert (cleared.kind, cleared.channels, cleared.key) == (CLEARED, (), "post:suv/b1/x/fr#2")
    [again] = plan_events(NOW, posts=[post()], latest=latest_of([cleared]), routes=ROUTES)
    assert (again.kind, again.key) == (HELD, "post:suv/b1/x/fr#3")


def test_posts_held_for_re_auth_also_tell_that_the_account_needs_re_auth_once() -> None:
    posts = [post(n, hold="needs_reauth") for n in range(1, 4)]
    events = plan_events(NOW, posts=posts, latest={}, routes=ROUTES)
    [reauth] = [e for e in events if e.kind == REAUTH]
    assert reauth.key == "reauth:x:BrandFR#1"
    assert reauth.detail["held"] == 3
    assert reauth.channels == ("ops", "cm-fr")


def test_a_refused_token_needs_re_auth_routed_to_the_markets_of_its_account() -> None:
    token = TokenFact("x", "BrandFR", status="refused", last_error="invalid_grant")
    [event] = plan_events(
        NOW,
        posts=[],
        tokens=[token],
        latest={},
        routes=ROUTES,
        markets_of={("x", "BrandFR"): ["fr"]},
    )
    assert (event.kind, event.market, event.channels) == (REAUTH, "fr", ("ops", "cm-fr"))
    assert event.detail["reason"] == "invalid_grant"


def test_a_token_that_dies_within_the_configured_days_is_told_once_per_expiry() -> None:
    end = NOW + timedelta(days=5)
    token = TokenFact("linkedin", "9001", expires_at=end)
    [event] = plan_events(NOW, posts=[], tokens=[token], latest={}, routes=ROUTES, expiry_days=7)
    assert (event.kind, event.detail["expires_at"]) == (EXPIRING, end.isoformat())
    told = latest_of([event])
    assert plan_events(NOW, posts=[], tokens=[token], latest=told, routes=ROUTES) == []
    later = TokenFact("linkedin", "9001", expires_at=end + timedelta(days=1))
    assert [
        e.key for e in plan_events(NOW, posts=[], tokens=[later], latest=told, routes=ROUTES)
    ] == ["expiry:linkedin:9001#2"]


NO_INSIGHTS = InsightsFact(
    "instagram", "17841", "instagram: 403 (#10) missing instagram_manage_insights"
)


def test_an_account_without_the_insights_permission_is_told_once_to_its_markets() -> None:
    markets = {("instagram", "17841"): ["fr"]}
    [event] = plan_events(
        NOW, posts=[], latest={}, routes=ROUTES, markets_of=markets, no_insights=[NO_INSIGHTS]
    )
    assert (event.kind, event.key, event.channels) == (
        INSIGHTS,
        "insights:instagram:17841#1",
        ("ops", "cm-fr"),
    )
    assert event.detail["reason"] == NO_INSIGHTS.detail
    told = latest_of([event])
    again = plan_events(NOW, posts=[], latest=told, routes=ROUTES, no_insights=[NO_INSIGHTS])
    assert again == []


def test_a_granted_insights_permission_clears_the_subject_silently() -> None:
    [event] = plan_events(NOW, posts=[], latest={}, routes=ROUTES, no_insights=[NO_INSIGHTS])
    [cleared] = plan_events(NOW, posts=[], latest=latest_of([event]), routes=ROUTES)
    assert (cleared.kind, cleared.channels) == (CLEARED, ())


def test_the_insights_message_says_posts_still_go_out_and_how_to_grant_it() -> None:
    [event] = plan_events(
        NOW, posts=[], latest={}, routes=Routes(everywhere=("ops",)), no_insights=[NO_INSIGHTS]
    )
    [message] = batch(
        [Pending(1, "ops", event.kind, event.detail, event.market, event.network, event.account)]
    )
    assert message.title == "Storyline · instagram:17841: no insights permission"
    assert "No insights permission: instagram: 403 (#10)" in message.body
    assert "storyline accounts connect instagram 17841" in message.body


def test_a_token_further_than_the_configured_days_is_not_told() -> None:
    token = TokenFact("linkedin", "9001", expires_at=NOW + timedelta(days=8))
    assert plan_events(NOW, posts=[], tokens=[token], latest={}, routes=ROUTES, expiry_days=7) == []


def test_a_renewable_token_is_judged_by_its_refresh_token_not_its_hour_long_access_token() -> None:
    short = TokenFact("x", "BrandFR", expires_at=NOW + timedelta(hours=2), renewable=True)
    assert plan_events(NOW, posts=[], tokens=[short], latest={}, routes=ROUTES) == []
    dying = TokenFact(
        "x",
        "BrandFR",
        expires_at=NOW + timedelta(hours=2),
        refresh_expires_at=NOW + timedelta(days=2),
        renewable=True,
    )
    [event] = plan_events(NOW, posts=[], tokens=[dying], latest={}, routes=ROUTES)
    assert event.kind == EXPIRING


def test_the_digest_is_due_in_each_markets_own_local_hour() -> None:
    zones = {"fr": "Europe/Paris", "us": "America/New_York"}
    assert digest_due(NOW, zones, 8) == {"fr": date(2026, 12, 1)}
    assert digest_due(NOW + timedelta(hours=6), zones, 8) == {"us": date(2026, 12, 1)}
    assert digest_due(NOW, zones, None) == {}


def test_the_digest_lists_the_next_24_hours_and_what_is_held() -> None:
    posts = [
        post(1, status="planned"),
        post(30, status="planned"),  # after the next 24 h
        post(2, status="held"),
        post(3, status="published"),
    ]
    event = digest_event(NOW, "fr", date(2026, 12, 1), "Europe/Paris", posts, ROUTES)
    assert (event.kind, event.key) == (DIGEST, "digest:fr:2026-12-01")
    assert [p["post_id"] for p in event.detail["upcoming"]] == ["suv/b1/x/fr"]
    assert event.detail["upcoming"][0]["due_local"] == "2026-12-01 09:30 CET"
    assert [p["post_id"] for p in event.detail["held"]] == ["suv/b2/x/fr"]
    assert event.channels == ("ops", "cm-fr")


def test_seventy_posts_of_one_account_held_at_once_make_one_message_per_channel() -> None:
    events = plan_events(NOW, posts=[post(n) for n in range(70)], latest={}, routes=ROUTES)
    pending = [
        Pending(i, c, e.kind, e.detail, e.market, e.network, e.account, e.post_id)
        for i, e in enumerate(events)
        for c in e.channels
    ]
    messages = batch(pending)
    assert sorted(m.channel for m in messages) == ["cm-fr", "ops"]
    ops = next(m for m in messages if m.channel == "ops")
    assert len(ops.event_ids) == 70
    assert ops.title == "Storyline · x:BrandFR [fr]: 70 held"
    assert "no credentials for x:BrandFR" in ops.body
    assert "… and 50 more" in ops.body
    assert "storyline release --account x:BrandFR" in ops.body


def test_kinds_of_one_account_share_its_message_and_accounts_do_not() -> None:
    posts = [post(1), post(2, status="failed"), post(3, account="BrandFR2")]
    events = plan_events(NOW, posts=posts, latest={}, routes=Routes(everywhere=("ops",)))
    pending = [
        Pending(i, "ops", e.kind, e.detail, e.market, e.network, e.account, e.post_id)
        for i, e in enumerate(events)
    ]
    titles = sorted(m.title for m in batch(pending))
    assert titles == [
        "Storyline · x:BrandFR [fr]: 1 held, 1 failed",
        "Storyline · x:BrandFR2 [fr]: 1 held",
    ]
