"""The preview page, read as HTML: cards per network, folds, media, findings, escaping."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import preview_sample
import pytest
from markupsafe import escape

from scheduler.core.model import Media
from scheduler.core.post import PlannedPost
from scheduler.interfaces.preview import OFFLINE_CSP, render_preview_html
from scheduler.interfaces.preview.posts import MAX_EMBEDDED_BYTES, media_view

from .conftest import GENERATED_AT


def render(posts: list[PlannedPost], content_dir: Path | None = None) -> str:
    return render_preview_html(
        posts,
        title="The comfort SUV arrives",
        generated_at=GENERATED_AT,
        content_dir=content_dir,
        market_names=preview_sample.MARKET_NAMES,
    )


def post(text: str, network: str = "facebook", **changes: object) -> PlannedPost:
    local = datetime(2026, 12, 1, 9, 0, tzinfo=ZoneInfo("Europe/Paris"))
    values: dict[str, object] = {
        "post_id": f"s/reveal/{network}/fr",
        "story": "s",
        "beat": "reveal",
        "network": network,
        "market": "fr",
        "account": "holdout_fr",
        "account_name": "Holdout France",
        "timezone": "Europe/Paris",
        "due_utc": local.astimezone(UTC),
        "due_local": local,
        "text": text,
    }
    values.update(changes)
    return PlannedPost(**values)  # type: ignore[arg-type]


def cards(html: str) -> list[str]:
    return re.findall(r"<article class=\"card .*?</article>", html, flags=re.S)


def test_one_card_per_post() -> None:
    posts = preview_sample.planned_posts()
    assert len(cards(render(posts))) == len(posts)


def test_every_card_names_its_post_network_and_market() -> None:
    html = render([post("hello", network="linkedin")])
    assert 'data-post-id="s/reveal/linkedin/fr"' in html
    assert 'class="card card-linkedin layout-feed worst-ok"' in html
    assert '<span class="net-name">LinkedIn</span>' in html


def test_cards_are_grouped_by_beat_in_time_order_then_by_market() -> None:
    html = render(preview_sample.planned_posts())
    beats = re.findall(r'<section class="beat" id="beat-(\w+)"', html)
    assert beats == ["teaser", "reveal", "followup"]
    teaser = html.split('id="beat-teaser"')[1].split('id="beat-reveal"')[0]
    assert re.findall(r'<section class="market" data-market="(\w+)"', teaser) == [
        "cn",
        "de",
        "fr",
        "gb",
    ]


def test_the_header_counts_posts_errors_and_warnings() -> None:
    posts = preview_sample.planned_posts()
    html = render(posts)
    assert f'id="post-count" data-count="{len(posts)}"' in html
    assert 'id="error-count" data-count="1"' in html
    assert 'id="warning-count" data-count="4"' in html


def test_account_name_handle_and_avatar_initials_are_shown() -> None:
    html = render([post("hello", network="x", account="HoldoutFR", account_name="Holdout FR")])
    assert '<strong class="account">Holdout FR</strong>' in html
    assert '<span class="handle">@HoldoutFR</span>' in html
    assert ">HF</span>" in html


def test_numeric_page_ids_are_not_shown_as_handles() -> None:
    html = render([post("hello", account="100200300")])
    assert "@100200300" not in html


def test_local_time_and_zone_are_shown_with_utc_in_the_tooltip() -> None:
    html = render([post("hello")])
    assert (
        '<time datetime="2026-12-01T09:00:00+01:00" title="2026-12-01 08:00 UTC">'
        "Tue 1 Dec 2026, 09:00 CET</time>" in html
    )
    assert '<span class="tzname">Europe/Paris</span>' in html


@pytest.mark.parametrize(
    ("network", "fold_at"),
    [("facebook", 480), ("instagram", 125), ("linkedin", 210), ("weibo", 140), ("youtube", 150)],
)
def test_long_posts_fold_where_the_network_folds_them(network: str, fold_at: int) -> None:
    html = render([post("a" * (fold_at + 50), network=network)])
    assert f'<span class="shown">{"a" * fold_at}</span>' in html
    assert '<button type="button" class="see-more"' in html
    assert f'<span class="hidden-part" hidden> {"a" * 50}</span>' in html


@pytest.mark.parametrize("network", ["x", "mastodon", "bluesky", "threads"])
def test_networks_without_a_fold_show_the_whole_post(network: str) -> None:
    html = render([post("a" * 270, network=network)])
    assert 'class="see-more"' not in html


def test_the_length_badge_counts_the_network_way_against_its_limit() -> None:
    html = render([post("a" * 300, network="x")])
    assert re.search(r'class="badge badge-length over"[^>]*>300 / 280</span>', html)


def test_a_post_within_its_limit_has_a_plain_badge() -> None:
    html = render([post("hello", network="bluesky")])
    assert re.search(r'class="badge badge-length"[^>]*>5 / 300</span>', html)


def test_findings_are_shown_on_the_card_they_concern() -> None:
    html = render(preview_sample.planned_posts())
    (x_gb,) = [c for c in cards(html) if 'data-post-id="suv-comfort/reveal/x/gb"' in c]
    assert "worst-error" in x_gb
    assert 'data-code="x-too-long"' in x_gb
    assert "the post is 291 characters; X allows 280" in x_gb
    assert "content/stories/suv-comfort.yaml:22" in x_gb
    (x_fr,) = [c for c in cards(html) if 'data-post-id="suv-comfort/reveal/x/fr"' in c]
    assert 'class="findings"' not in x_fr


def test_youtube_cards_show_the_video_title_and_the_description() -> None:
    html = render([post("the description", network="youtube", title="Seven years of listening")])
    assert '<h4 class="video-title">Seven years of listening</h4>' in html
    assert '<div class="description">' in html


def test_instagram_cards_put_the_square_media_first_and_the_caption_under_it() -> None:
    media = (Media("media/none.jpg", "the SUV"),)
    (card,) = cards(render([post("caption", network="instagram", media=media)]))
    assert card.index("media-square") < card.index('class="shown">caption')
    assert '<strong class="caption-handle">holdout_fr</strong>' in card


def test_a_small_image_is_embedded_once_as_a_data_uri(content_dir: Path) -> None:
    html = render(preview_sample.planned_posts(), content_dir)
    assert html.count("data:image/png;base64,") == 1
    assert html.count('class="img img-1" role="img"') > 10


def test_the_alt_text_is_shown_with_the_media(content_dir: Path) -> None:
    media = (Media("media/suv-front.png", "The SUV from the front"),)
    html = render([post("hi", media=media)], content_dir)
    assert 'aria-label="The SUV from the front"' in html
    assert '<abbr title="alternative text">ALT</abbr> The SUV from the front' in html


def test_missing_media_becomes_a_placeholder_with_the_alt_text(content_dir: Path) -> None:
    view = media_view("media/missing.jpg", "The SUV", "image", content_dir)
    assert view.data_uri is None
    assert view.note == "file not found"


def test_big_media_is_not_embedded(content_dir: Path) -> None:
    (content_dir / "media" / "huge.jpg").write_bytes(b"\0" * (MAX_EMBEDDED_BYTES + 1))
    view = media_view("media/huge.jpg", "huge", "image", content_dir)
    assert view.data_uri is None
    assert "too big" in view.note


def test_media_outside_the_content_folder_is_never_read(content_dir: Path) -> None:
    (content_dir.parent / "secret.png").write_bytes(preview_sample.png_bytes(2, 2))
    view = media_view("../secret.png", "x", "image", content_dir)
    assert view.data_uri is None
    assert view.note == "outside the content folder"


def test_video_media_is_a_placeholder(content_dir: Path) -> None:
    assert media_view("media/suv-front.png", "x", "video", content_dir).data_uri is None


def test_a_link_not_in_the_text_gets_a_link_card() -> None:
    html = render([post("no link here", link="https://brand.example/suv")])
    assert '<a class="link-card" href="https://brand.example/suv"' in html


def test_the_first_comment_is_shown_under_the_post() -> None:
    html = render([post("hi", network="instagram", first_comment="Link: https://b.example")])
    assert '<div class="first-comment"><span class="fc-label">First comment</span>' in html


def test_draft_stories_are_marked() -> None:
    from scheduler.core.model import StoryStatus

    html = render([post("hi", story_status=StoryStatus.DRAFT)])
    assert '<span class="draft">draft</span>' in html


def test_hostile_post_text_is_escaped_everywhere() -> None:
    html = render([preview_sample.hostile_post()])
    body = html.split("<body", 1)[1]
    scripts = re.findall(r"<script>(.*?)</script>", body, flags=re.S)
    assert all("alert" not in s for s in scripts)
    assert "<img src=x" not in html
    assert "&lt;script&gt;alert(&#34;pwned&#34;)&lt;/script&gt;" in html
    assert "&lt;/title&gt;&lt;script&gt;alert(2)&lt;/script&gt;" in html
    assert 'href="javascript:' not in html
    assert "&lt;b&gt;bold&lt;/b&gt; message" in html


def test_the_page_forbids_every_request_with_a_content_security_policy() -> None:
    html = render([post("hi")])
    assert f'<meta http-equiv="Content-Security-Policy" content="{escape(OFFLINE_CSP)}">' in html
    assert "default-src 'none'" in OFFLINE_CSP


def test_the_page_loads_nothing_from_elsewhere() -> None:
    html = render(preview_sample.planned_posts())
    assert not re.search(r'(src|href)="(?!https://brand\.example|data:|#)', html)
    assert "<link" not in html
    assert "@import" not in html
    assert "url(http" not in html


def test_an_empty_plan_renders_a_page_that_says_so() -> None:
    html = render([])
    assert "Nothing to preview" in html


def test_the_reload_script_is_only_added_when_served() -> None:
    assert "storylineWatch" not in render([post("hi")])
    served = render_preview_html(
        [post("hi")], title="t", generated_at=GENERATED_AT, reload_version="abc"
    )
    assert 'storylineWatch("abc");' in served


def test_a_servers_own_limit_replaces_the_networks_in_the_badge() -> None:
    mastodon = post("a" * 600, network="mastodon")
    html = render_preview_html(
        [mastodon],
        title="t",
        generated_at=GENERATED_AT,
        limit_overrides={mastodon.post_id: 1000},
    )
    assert re.search(r'class="badge badge-length"[^>]*>600 / 1,000</span>', html)


def test_the_generation_time_is_shown_in_utc() -> None:
    paris = datetime(2026, 11, 28, 13, 0, tzinfo=ZoneInfo("Europe/Paris"))
    html = render_preview_html([post("hi")], title="t", generated_at=paris)
    assert "generated 2026-11-28 12:00 UTC" in html


def test_a_post_without_text_says_so_on_its_card() -> None:
    html = render([post("")])
    assert '<em class="no-text">No text: the template produced nothing' in html
