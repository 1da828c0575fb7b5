"""Pulling metrics from the nine networks' documented endpoints, against local fakes.

Each behaviour is checked on every network: the counts land in one snapshot per window, the
requests are batched as the API allows, a deleted post is marked and never asked for again, a
missing permission is told once per account, and 5xx / 429 leave the snapshot missing (not 0)
until a later pull within the network's budget.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import pytest
from metrics_fakenet import MetricsNet
from sqlalchemy import select

from scheduler.calendar.tables import MetricSnapshot, MetricState, Post
from scheduler.dispatch.metrics_pull import MetricsPuller

from .conftest import ACCOUNTS, PUBLISHED, Clock, Secrets, seed

NETWORKS = sorted(ACCOUNTS)
BATCHING = {"x": 100, "youtube": 50, "bluesky": 25, "weibo": 100, "linkedin": 20}

SNAPSHOT = MetricSnapshot.__table__  # type: ignore[attr-defined]
STATE = MetricState.__table__  # type: ignore[attr-defined]

#: What each post shows on its network, and what the snapshot must hold of it.
SHOWN = {
    "impressions": 1200,
    "reach": 900,
    "views": 700,
    "likes": 40,
    "comments": 7,
    "retweets": 5,
    "quotes": 2,
    "saves": 3,
    "clicks": 11,
    "sends": 1,
}
EXPECTED: dict[str, dict[str, int | None]] = {
    "x": {"impressions": 1200, "likes": 40, "comments": 7, "shares": 7, "saves": 3},
    "youtube": {"views": 700, "likes": 40, "comments": 7},
    "bluesky": {"likes": 40, "comments": 7, "shares": 7},
    "weibo": {"likes": 40, "comments": 7, "shares": 5},
    "mastodon": {"likes": 40, "comments": 7, "shares": 7},
    "linkedin": {
        "impressions": 1200,
        "reach": 900,
        "likes": 40,
        "comments": 7,
        "shares": 5,
        "clicks": 11,
    },
    "facebook": {"impressions": 1200, "clicks": 11, "likes": 40},
    "instagram": {"reach": 900, "likes": 40, "comments": 7, "saves": 3, "shares": 5},
    "threads": {"views": 700, "likes": 40, "comments": 7, "shares": 8},
}
#: A published post's row, for tests that write their own.
ROW = {
    "story": "s",
    "beat": "b",
    "network": "x",
    "market": "fr",
    "account": "HoldoutFR",
    "text": "t",
    "media_json": "[]",
    "content_hash": "0" * 64,
    "due_utc": PUBLISHED,
    "timezone": "UTC",
    "status": "published",
    "created_at": PUBLISHED,
    "updated_at": PUBLISHED,
    "destination": "network",
}
COLUMNS = ("impressions", "reach", "views", "likes", "comments", "shares", "saves", "clicks")


def snapshots(engine: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(SNAPSHOT).order_by(SNAPSHOT.c.post_id, SNAPSHOT.c.window))
        return [dict(r._mapping) for r in rows]


def states(engine: Any) -> list[tuple[str, str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(STATE.c.network, STATE.c.post_id, STATE.c.state))
        return sorted((r[0], r[1], r[2]) for r in rows)


def show(net: MetricsNet, ids: list[str]) -> None:
    for remote in ids:
        net.counts[remote] = dict(SHOWN)


@pytest.mark.parametrize("network", NETWORKS)
def test_counts_are_kept_as_the_network_gave_them(
    network: str, engine: Any, nets: dict[str, MetricsNet], puller: MetricsPuller
) -> None:
    show(nets[network], seed(engine, network, 2))
    report = puller.pull()
    assert report.errors == [] and nets[network].violations == []
    rows = snapshots(engine)
    assert [r["window"] for r in rows] == ["1h", "1h"]
    expected = {c: EXPECTED[network].get(c) for c in COLUMNS}
    assert all({c: r[c] for c in COLUMNS} == expected for r in rows)  # absent counts: NULL
    assert report.written == 2


@pytest.mark.parametrize("network", NETWORKS)
def test_a_repull_of_the_same_window_changes_nothing(
    network: str, engine: Any, nets: dict[str, MetricsNet], puller: MetricsPuller
) -> None:
    show(nets[network], seed(engine, network, 1))
    puller.pull()
    asked = len(nets[network].metric_requests())
    again = puller.pull()
    assert again.due == 0 and len(nets[network].metric_requests()) == asked
    forced = puller.pull(everything=True)  # --all: a "manual" snapshot beside the 1h one
    assert forced.written == 1
    again = puller.pull(everything=True)
    assert again.unchanged == 1 and again.written == 0
    assert [r["window"] for r in snapshots(engine)] == ["1h", "manual"]


@pytest.mark.parametrize("network", NETWORKS)
def test_each_window_is_pulled_once_as_the_post_ages(
    network: str, engine: Any, nets: dict[str, MetricsNet], puller: MetricsPuller, clock: Clock
) -> None:
    show(nets[network], seed(engine, network, 1))
    windows = []
    for hours in (1, 2, 25, 24 * 7 + 1, 24 * 28 + 1, 24 * 60):
        clock.now = PUBLISHED + timedelta(hours=hours)
        puller.pull()
        windows = [r["window"] for r in snapshots(engine)]
    assert sorted(windows) == ["1h", "24h", "28d", "7d"]


@pytest.mark.parametrize(("network", "batch"), sorted(BATCHING.items()))
def test_requests_are_batched_as_the_api_allows(
    network: str, batch: int, engine: Any, nets: dict[str, MetricsNet], puller: MetricsPuller
) -> None:
    count = 2 * batch + 1
    show(nets[network], seed(engine, network, count))
    report = puller.pull()
    assert nets[network].violations == []
    assert len(nets[network].metric_requests()) == math.ceil(count / batch) == 3
    assert report.written == count


@pytest.mark.parametrize("network", sorted(set(NETWORKS) - {"linkedin"}))
def test_a_deleted_post_is_marked_and_never_pulled_again(
    network: str, engine: Any, nets: dict[str, MetricsNet], puller: MetricsPuller
) -> None:
    ids = seed(engine, network, 2)
    show(nets[network], ids)
    nets[network].deleted.add(ids[0])
    report = puller.pull()
    assert report.deleted == 1 and report.written == 1 and report.errors == []
    assert states(engine) == [(network, f"launch/{network}/fr/00000", "deleted")]
    before = len(nets[network].metric_requests())
    puller.pull(everything=True)
    asked = nets[network].metric_requests()[before:]
    assert all(ids[0] not in (r.raw_query + r.path) for r in asked)


def test_linkedin_statistics_left_out_are_missing_not_deleted(
    engine: Any, nets: dict[str, MetricsNet], puller: MetricsPuller
) -> None:
    ids = seed(engine, "linkedin", 2)
    show(nets["linkedin"], ids[1:])
    report = puller.pull()
    assert report.missing == 1 and report.deleted == 0 and states(engine) == []


@pytest.mark.parametrize("network", NETWORKS)
def test_a_missing_permission_is_told_once_per_account_not_per_post(
    network: str, engine: Any, nets: dict[str, MetricsNet], puller: MetricsPuller
) -> None:
    show(nets[network], seed(engine, network, 3))
    nets[network].no_permission = True
    first = puller.pull()
    key = f"{network}:{ACCOUNTS[network][0]}"
    assert first.no_permission == [key] and first.errors == []
    assert len(nets[network].metric_requests()) == 1  # not once per post
    assert states(engine) == [(network, "", "no_permission")]
    second = puller.pull()
    assert second.no_permission == [] and second.errors == []
    assert snapshots(engine) == []
    nets[network].no_permission = False  # the scope was granted: pulls resume, flag cleared
    puller.pull()
    assert len(snapshots(engine)) == 3 and states(engine) == []


@pytest.mark.parametrize("network", NETWORKS)
@pytest.mark.parametrize("status", [503, 429])
def test_5xx_and_429_leave_the_snapshot_missing_until_a_later_pull(
    network: str,
    status: int,
    engine: Any,
    nets: dict[str, MetricsNet],
    puller: MetricsPuller,
) -> None:
    show(nets[network], seed(engine, network, 1))
    nets[network].fail.append((status, {"retry-after": "120"}))
    wall = [1_000_000.0]
    puller.wall = lambda: wall[0]
    report = puller.pull()
    key = f"{network}:{ACCOUNTS[network][0]}"
    assert snapshots(engine) == []  # missing, not a row of zeros
    assert key in report.deferred and report.missing == 1 and report.errors == []
    asked = len(nets[network].metric_requests())
    puller.pull()  # within the wait the network asked for: not even tried
    assert len(nets[network].metric_requests()) == asked
    wall[0] += 121
    later = puller.pull()
    assert later.written == 1 and snapshots(engine)[0]["likes"] == 40


@pytest.mark.parametrize("network", ["x", "bluesky", "mastodon"])
def test_a_spent_rate_limit_window_is_not_spent_further(
    network: str, engine: Any, nets: dict[str, MetricsNet], puller: MetricsPuller
) -> None:
    batch = BATCHING.get(network, 1)
    show(nets[network], seed(engine, network, 3 * batch))
    nets[network].remaining = 1  # the first answer says: 0 left until the reset
    report = puller.pull()
    assert len(nets[network].metric_requests()) == 1
    assert report.written == batch and f"{network}:{ACCOUNTS[network][0]}" in report.deferred


@pytest.mark.postgres
def test_on_postgresql_snapshots_deleted_posts_and_permission_behave_alike(
    pg_url: str, nets: dict[str, MetricsNet], clock: Clock, tmp_path: Any
) -> None:
    from scheduler.app.settings import Settings
    from scheduler.calendar import migrate
    from scheduler.calendar.database import make_engine
    from scheduler.core.pulls import DEFAULT_PULL_AFTER, parse_windows
    from scheduler.publishers.http import HttpClient
    from scheduler.publishers.registry import Registry

    engine = make_engine(pg_url)
    migrate.upgrade(engine)
    settings = Settings(data_dir=tmp_path, api_bases={n: net.url for n, net in nets.items()})
    registry = Registry(settings, secrets=Secrets(), http=HttpClient())
    puller = MetricsPuller(engine, registry, windows=parse_windows(DEFAULT_PULL_AFTER), clock=clock)
    try:
        ids = seed(engine, "x", 3)
        show(nets["x"], ids)
        nets["x"].deleted.add(ids[0])
        nets["youtube"].no_permission = True
        show(nets["youtube"], seed(engine, "youtube", 2))
        first = puller.pull()
        assert (first.written, first.deleted, first.no_permission) == (2, 1, ["youtube:UCholdout"])
        again = puller.pull(everything=True)
        assert again.written == 2 and again.no_permission == []
        assert puller.pull(everything=True).unchanged == 2
        assert ("x", "launch/x/fr/00000", "deleted") in states(engine)
    finally:
        registry.close()
        engine.dispose()


def test_a_linkedin_members_posts_are_read_through_social_actions(
    engine: Any, nets: dict[str, MetricsNet], puller: MetricsPuller
) -> None:
    from scheduler.publishers.base import Credentials

    member = "urn:li:person:abc"

    class Member:
        def credentials(self, network: str, account: str) -> Credentials | None:
            return Credentials(network, account, {"access_token": "li-token"})

        def has_network(self, network: str) -> bool:
            return True

    puller.registry.secrets = Member()
    ids = seed(engine, "linkedin", 3, account=member)
    show(nets["linkedin"], ids[1:])
    report = puller.pull()
    assert nets["linkedin"].violations == [] and report.errors == []
    assert (report.written, report.deleted) == (2, 1)
    assert [(r["likes"], r["comments"], r["impressions"]) for r in snapshots(engine)] == [
        (40, 7, None)
    ] * 2


def test_instagram_with_too_few_viewers_leaves_the_snapshot_missing(
    engine: Any, nets: dict[str, MetricsNet], puller: MetricsPuller
) -> None:
    ids = seed(engine, "instagram", 1)
    show(nets["instagram"], ids)
    nets["instagram"].fail.append((400, {}))
    nets["instagram"].fail_body = {
        "error": {
            "message": "(#10) Not enough viewers for the media to show insights",
            "type": "OAuthException",
            "code": 10,
        }
    }
    report = puller.pull()
    assert report.missing == 1 and report.no_permission == [] and report.errors == []
    assert snapshots(engine) == [] and states(engine) == []


def test_a_token_the_network_refuses_is_an_error_of_the_account_once(
    engine: Any, nets: dict[str, MetricsNet], puller: MetricsPuller
) -> None:
    show(nets["x"], seed(engine, "x", 150))
    nets["x"].fail.append((401, {}))
    report = puller.pull()
    assert len(report.errors) == 1 and report.errors[0].startswith("x:HoldoutFR: ")
    assert len(nets["x"].metric_requests()) == 1 and report.missing == 150


def test_the_beats_due_query_agrees_with_the_window_rule(engine: Any) -> None:
    from datetime import UTC, datetime

    from scheduler.core.pulls import DEFAULT_PULL_AFTER, due_window, parse_windows
    from scheduler.dispatch.metrics_pull import due_posts

    windows = parse_windows(DEFAULT_PULL_AFTER)
    now = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
    ages = [timedelta(minutes=m) for m in (0, 59, 60, 61, 60 * 24, 60 * 30, 60 * 24 * 8)]
    ages += [timedelta(days=28), timedelta(days=40)]
    expected = {}
    with engine.begin() as conn:
        for n, age in enumerate(ages):
            for taken in ([], ["1h"], ["1h", "24h"], ["7d"], ["28d"]):
                post = f"p{n}-{'-'.join(taken)}"
                published = now - age
                conn.execute(
                    Post.__table__.insert(),  # type: ignore[attr-defined]
                    dict(ROW, post_id=post, published_at=published, remote_id=post),
                )
                for window in taken:
                    conn.execute(
                        SNAPSHOT.insert(), {"post_id": post, "window": window, "taken_at": now}
                    )
                expected[post] = due_window(published, now, windows, taken)
    with engine.connect() as conn:
        found = {d.post_id: d.window for d in due_posts(conn, now, windows)}
    assert found == {p: w for p, w in expected.items() if w is not None}
