"""The sample brand (Holdout Motors) loads clean and shows every feature of the format."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from scheduler.content.loader import load_content
from scheduler.core.model import Audience, Content, Offset, StoryStatus
from scheduler.core.resolve import resolve
from scheduler.core.timezones import apply_offset

from .conftest import NETWORKS, SAMPLE


@pytest.fixture(scope="module")
def sample() -> Content:
    return load_content(SAMPLE, networks=NETWORKS)


def test_sample_validates_without_any_finding(sample: Content) -> None:
    assert [f.format() for f in sample.findings] == []


def test_sample_has_eight_markets_in_at_least_five_zones(sample: Content) -> None:
    assert len(sample.markets) >= 8
    assert len({m.timezone for m in sample.markets.values()}) >= 5
    zones = {code: m.timezone for code, m in sample.markets.items()}
    assert zones["fr"] == "Europe/Paris"
    assert zones["hu"] == "Europe/Budapest"
    assert zones["br"] == "America/Sao_Paulo"
    assert zones["cn"] == "Asia/Shanghai"
    assert zones["us"] == "America/New_York"


def test_france_uses_the_accounts_of_design_section_7(sample: Content) -> None:
    fr = sample.markets["fr"]
    assert fr.accounts["x"].handle == "HoldoutFR"
    assert fr.accounts["facebook"].id == "100200300"
    assert fr.accounts["mastodon"].handle == "holdout@social.example"
    assert fr.accounts["bluesky"].handle == "holdout-fr.bsky.social"


def test_china_publishes_on_weibo_only(sample: Content) -> None:
    assert set(sample.markets["cn"].accounts) == {"weibo"}


def test_hungary_translates_the_signature(sample: Content) -> None:
    assert sample.markets["hu"].claim != sample.markets["fr"].claim


def test_every_network_has_an_account_somewhere(sample: Content) -> None:
    used = {n for m in sample.markets.values() for n in m.accounts}
    assert used == set(NETWORKS)


def test_sample_has_the_required_kinds_of_story(sample: Content) -> None:
    stories = sample.stories
    assert len(stories) >= 6
    launch = stories["aurora-launch"]
    teaser, followup = launch.beat("teaser"), launch.beat("followup")
    assert teaser is not None and teaser.offset.days == -7
    assert followup is not None and followup.networks == ("linkedin",)
    assert {"fr", "de", "it", "hu", "pt", "zh"} <= set(launch.locales)
    assert stories["fleet-economics"].audience is Audience.PRO
    assert stories["nova-world-premiere"].launch.is_world_premiere
    assert [s.id for s in stories.values() if s.status is StoryStatus.DRAFT] == ["hydrogen-concept"]


def test_every_launch_is_after_the_fifth_of_december_and_every_beat_ahead(
    sample: Content,
) -> None:
    today = datetime(2026, 11, 28, tzinfo=UTC)
    for story in sample.stories.values():
        for code in story.markets:
            zone = sample.markets[code].timezone
            assert apply_offset(story.launch, Offset(), zone).utc > datetime(
                2026, 12, 5, tzinfo=UTC
            )
            for beat in story.beats:
                assert apply_offset(story.launch, beat.offset, zone).utc > today, story.id


def test_the_dst_story_crosses_both_changes_at_nine_local(sample: Content) -> None:
    story = sample.stories["ev-charging-dst"]
    for code, beat in (("fr", "teaser"), ("us", "early-teaser")):
        b = story.beat(beat)
        assert b is not None
        due = apply_offset(story.launch, b.offset, sample.markets[code].timezone)
        reveal = apply_offset(story.launch, story.beats[-1].offset, sample.markets[code].timezone)
        assert due.local.hour == reveal.local.hour == 9
        assert due.local.utcoffset() != reveal.local.utcoffset()


def test_sample_media_are_real_small_images(sample: Content) -> None:
    files = {m.file for s in sample.stories.values() for m in s.media}
    assert files
    for name in files:
        assert (SAMPLE / name).read_bytes()[:3] == b"\xff\xd8\xff", name  # a real JPEG
    media_dir = sum(p.stat().st_size for p in (SAMPLE / "media").iterdir())
    assert media_dir < 200 * 1024


def test_every_market_reads_the_launch_in_its_language(sample: Content) -> None:
    story = sample.stories["aurora-launch"]
    cn = resolve(story, "weibo", sample.markets["cn"])
    assert cn.text_locale == "zh" and cn.hashtags == ("好德极光",)
    fr = resolve(story, "x", sample.markets["fr"])
    assert fr.headline.startswith("Voici Aurora") and fr.hashtags == ("HoldoutAurora",)
    assert fr.media[0].alt.startswith("Le Holdout Aurora")
    assert all(not resolve(story, "facebook", m).findings for m in sample.markets.values())
