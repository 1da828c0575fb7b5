"""The wall's feed over HTTP, on SQLite and PostgreSQL: newest first, one campaign, only what
is new since a cursor, the latest counts, and the last posts known while the database is down."""

from __future__ import annotations

import html
from datetime import timedelta
from urllib.parse import quote

import pytest
from sqlalchemy.engine import Engine
from wall_support import T0, Wall, add, add_snapshot, allow_connections, post_row


def ids(answer_posts: list[dict]) -> list[str]:
    return [p["id"] for p in answer_posts]


def test_the_feed_lists_published_posts_newest_first(calendar: Engine, wall_server: Wall) -> None:
    add(
        calendar,
        post_row("suv/teaser/x/fr", published_at=T0),
        post_row("suv/reveal/facebook/de", published_at=T0 + timedelta(hours=2)),
        post_row("suv/reveal/x/br", published_at=T0 + timedelta(hours=1)),
        post_row("suv/later/x/fr", published_at=None, status="planned"),
    )
    answer = wall_server.get("/wall/feed")
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("application/json")
    assert ids(answer.json()["posts"]) == [
        "suv/reveal/facebook/de",
        "suv/reveal/x/br",
        "suv/teaser/x/fr",
    ]


def test_each_post_carries_network_market_local_time_and_media(
    calendar: Engine, wall_server: Wall
) -> None:
    media = [{"file": "media/fleet-van.jpg", "alt": "The van", "kind": "image"}]
    add(calendar, post_row("suv/reveal/x/br", timezone="America/Sao_Paulo", media=media))
    [post] = wall_server.get("/wall/feed").json()["posts"]
    assert post["network_label"] == "X"
    assert post["market"] == "br"
    assert (post["local_time"], post["zone"]) == ("06:00", "America/Sao_Paulo")  # 09:00 UTC
    assert post["media"] == [
        {"src": "/wall/media/fleet-van.jpg", "alt": "The van", "kind": "image"}
    ]
    assert post["text"] == "Text of suv/reveal/x/br"
    assert post["outbox"] is True


def test_the_campaign_filter_keeps_one_campaign(calendar: Engine, wall_server: Wall) -> None:
    add(
        calendar,
        post_row("suv/reveal/x/fr", campaign="motor-show"),
        post_row("van/reveal/x/fr", campaign="fleet"),
    )
    answer = wall_server.get("/wall/feed?campaign=motor-show").json()
    assert ids(answer["posts"]) == ["suv/reveal/x/fr"]


def test_since_a_cursor_only_what_was_published_after_it(
    calendar: Engine, wall_server: Wall
) -> None:
    add(
        calendar,
        post_row("suv/old/x/fr", published_at=T0 - timedelta(hours=1)),
        post_row("suv/teaser/x/fr", published_at=T0),
    )
    first = wall_server.get("/wall/feed").json()
    assert first["cursor"] == "2026-12-07T09:00:00.000000Z"
    add(calendar, post_row("suv/reveal/x/fr", published_at=T0 + timedelta(minutes=5)))
    later = wall_server.get(f"/wall/feed?since={quote(first['cursor'])}").json()
    # The 30 s before the cursor are read again (a late commit is never missed): the teaser,
    # published at the cursor, comes again and the page keeps one card of it; the old post not.
    assert ids(later["posts"]) == ["suv/reveal/x/fr", "suv/teaser/x/fr"]
    assert later["cursor"] == "2026-12-07T09:05:00.000000Z"
    quiet = wall_server.get(f"/wall/feed?since={quote(later['cursor'])}").json()
    assert ids(quiet["posts"]) == ["suv/reveal/x/fr"]
    assert quiet["cursor"] == later["cursor"]


def test_a_post_counted_after_the_cursor_comes_again_with_its_counts(
    calendar: Engine, wall_server: Wall
) -> None:
    add(calendar, post_row("suv/teaser/x/fr", published_at=T0))
    cursor = wall_server.get("/wall/feed").json()["cursor"]
    add_snapshot(calendar, "suv/teaser/x/fr", "1h", T0 + timedelta(hours=1), likes=12, reach=300)
    later = wall_server.get(f"/wall/feed?since={quote(cursor)}").json()
    assert [(p["id"], p["counts"]) for p in later["posts"]] == [
        ("suv/teaser/x/fr", {"likes": 12, "reach": 300})
    ]
    assert later["cursor"] == "2026-12-07T10:00:00.000000Z"


def test_the_counts_are_the_latest_each_network_gave(calendar: Engine, wall_server: Wall) -> None:
    add(calendar, post_row("suv/teaser/x/fr"))
    add_snapshot(calendar, "suv/teaser/x/fr", "1h", T0 + timedelta(hours=1), likes=12, shares=3)
    # The 24 h pull has no shares (NULL: not given): the 1 h figure stays.
    add_snapshot(calendar, "suv/teaser/x/fr", "24h", T0 + timedelta(days=1), likes=40, shares=None)
    [post] = wall_server.get("/wall/feed").json()["posts"]
    assert post["counts"] == {"likes": 40, "shares": 3}


def test_a_cursor_the_feed_did_not_write_is_a_clear_400(wall_server: Wall) -> None:
    answer = wall_server.get("/wall/feed?since=yesterday")
    assert answer.status == 400
    assert "since='yesterday' is not a wall cursor" in answer.json()["error"]


def test_the_page_holds_no_post_and_reads_the_feed_of_its_campaign(wall_server: Wall) -> None:
    answer = wall_server.get("/wall?campaign=motor-show")
    assert answer.status == 200
    page = html.unescape(answer.body.decode())
    assert 'data-feed="/wall/feed?campaign=motor-show"' in page
    assert "img-src 'self' data:" in page
    assert wall_server.get("/").status == 200  # the redirect to /wall is followed


def test_media_come_from_the_content_media_folder_only(wall_server: Wall) -> None:
    image = wall_server.get("/wall/media/fleet-van.jpg")
    assert (image.status, image.headers["Content-Type"]) == (200, "image/jpeg")
    assert wall_server.get("/wall/media/aurora-film.mp4").headers["Content-Type"] == "video/mp4"
    assert wall_server.get("/wall/media/..%2Fsecret.txt").status == 404
    assert wall_server.get("/wall/media/missing.jpg").status == 404


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_database_down_then_back_503_with_the_last_known_posts(
    calendar: Engine, wall_server: Wall, database_url: str
) -> None:
    add(calendar, post_row("suv/teaser/x/fr"))
    cursor = wall_server.get("/wall/feed").json()["cursor"]
    calendar.dispose()
    allow_connections(database_url, False)
    try:
        down = wall_server.get(f"/wall/feed?since={quote(cursor)}")
        assert down.status == 503
        assert down.headers["Retry-After"] == "1"
        body = down.json()
        assert (body["stale"], ids(body["posts"]), body["cursor"]) == (
            True,
            ["suv/teaser/x/fr"],
            cursor,
        )
        assert body["error"].startswith("the calendar cannot be read:")
    finally:
        allow_connections(database_url, True)
    add(calendar, post_row("suv/reveal/x/fr", published_at=T0 + timedelta(minutes=5)))
    back = wall_server.get(f"/wall/feed?since={quote(cursor)}")
    assert back.status == 200
    assert ids(back.json()["posts"]) == ["suv/reveal/x/fr", "suv/teaser/x/fr"]  # + overlap
