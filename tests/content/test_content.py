"""load_content: typed, frozen stories and markets that remember where each value was written."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest

from scheduler.content.stories import parse_offset
from scheduler.core.model import Audience, Offset, StoryStatus

from .conftest import NETWORKS, STORY, ContentDir


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("-7d", Offset(days=-7, text="-7d")),
        ("+3d", Offset(days=3, text="+3d")),
        ("-2h", Offset(hours=-2, text="-2h")),
        ("+1d2h", Offset(days=1, hours=2, text="+1d2h")),
        ("30m", Offset(minutes=30, text="30m")),
        ("-1d2h30m", Offset(days=-1, hours=-2, minutes=-30, text="-1d2h30m")),
        ("0", Offset(text="0")),
    ],
)
def test_offsets_parse_into_calendar_days_and_a_clock_part(text: str, expected: Offset) -> None:
    assert parse_offset(text) == expected


@pytest.mark.parametrize("text", ["-7x", "7", "d", "+", "--1d", "1h1d", "-99999d", ""])
def test_bad_offsets_do_not_parse(text: str) -> None:
    assert parse_offset(text) is None


def test_story_id_is_the_file_name(content: ContentDir) -> None:
    content.story("aurora-launch", STORY)
    assert content.load().stories["aurora-launch"].id == "aurora-launch"


def test_defaults_every_line_every_market_draft_public_english(content: ContentDir) -> None:
    content.story("d", "launch: 2027-01-12 09:00\nstory: {headline: Hi}\n")
    story = content.load().stories["d"]
    assert story.networks == NETWORKS
    assert story.markets == ("fr", "hu", "us")
    assert story.status is StoryStatus.DRAFT
    assert story.audience is Audience.PUBLIC
    assert story.language == "en"
    assert story.title == "Hi" and story.campaign == "d"
    assert [(b.name, b.offset.is_zero) for b in story.beats] == [("reveal", True)]


def test_local_launch_is_a_naive_wall_time(content: ContentDir) -> None:
    content.story("s", STORY)
    launch = content.load().stories["s"].launch
    assert launch.local == datetime(2027, 1, 12, 9, 0)
    assert not launch.is_world_premiere


def test_world_premiere_is_one_instant(content: ContentDir) -> None:
    content.story("p", STORY.replace("2027-01-12 09:00", "2027-02-10T18:00 Europe/Paris"))
    launch = content.load().stories["p"].launch
    assert launch.is_world_premiere
    assert launch.instant == datetime(2027, 2, 10, 17, 0, tzinfo=UTC)
    assert launch.zone == "Europe/Paris"


def test_launch_with_seconds_is_read_as_written(content: ContentDir) -> None:
    content.story("s", STORY.replace("09:00", "09:00:00"))
    assert content.load().stories["s"].launch.local == datetime(2027, 1, 12, 9, 0)


def test_beats_keep_order_offsets_and_restrictions(content: ContentDir) -> None:
    content.story(
        "b",
        STORY
        + "beats:\n  teaser: -7d\n  reveal: {offset: 0}\n"
        + "  followup: {offset: +3d, networks: [x], markets: [us]}\n",
    )
    beats = content.load().stories["b"].beats
    assert [b.name for b in beats] == ["teaser", "reveal", "followup"]
    assert beats[0].offset.days == -7 and beats[0].networks is None
    assert beats[2].networks == ("x",) and beats[2].markets == ("us",)


def test_positions_are_keyed_by_path(content: ContentDir) -> None:
    content.media("a.jpg")
    content.story(
        "p",
        STORY + "beats:\n  teaser: {offset: -7d}\nmedia:\n  - {file: media/a.jpg, alt: A car}\n",
    )
    story = content.load().stories["p"]
    assert (story.pos("story", "headline").line, story.pos("story", "headline").column) == (5, 13)
    assert (
        story.pos("beats", "teaser", "offset").line,
        story.pos("beats", "teaser", "offset").column,
    ) == (7, 20)
    assert story.pos("media", 0, "alt").line == 9
    assert story.pos("media", 0, "alt").file == content.file("p")
    assert story.pos("locales", "fr").line == 1  # absent: falls back to the file


def test_hashtags_lose_their_hash(content: ContentDir) -> None:
    content.story("h", STORY + "hashtags: ['#Aurora', Comfort]\n")
    assert content.load().stories["h"].hashtags == ("Aurora", "Comfort")


def test_numbers_in_text_fields_are_kept_as_written(content: ContentDir) -> None:
    content.story("n", STORY.replace("headline: Hello", "headline: 1962") + "  facts: [312, 1.1]\n")
    story = content.load().stories["n"]
    assert story.text["headline"] == "1962"
    assert story.text["facts"] == ("312", "1.1")


def test_media_kind_and_alt(content: ContentDir) -> None:
    content.media("clip.mp4")
    content.story("m", STORY + "media:\n  - {file: media/clip.mp4, alt: A drive, kind: video}\n")
    (media,) = content.load().stories["m"].media
    assert (media.file, media.alt, media.kind) == ("media/clip.mp4", "A drive", "video")


def test_account_ids_written_as_numbers_become_text(content: ContentDir) -> None:
    content.markets(
        "markets:\n  fr:\n    name: France\n    timezone: Europe/Paris\n    locale: fr\n"
        "    accounts:\n      facebook: {id: 100200300}\n"
        "      mastodon: {handle: holdout@social.example, max_characters: 1000}\n"
    )
    fr = content.load().markets["fr"]
    assert fr.accounts["facebook"].id == "100200300"
    assert fr.accounts["facebook"].key == "100200300"
    assert fr.accounts["mastodon"].extra["max_characters"] == "1000"


def test_a_broken_market_is_left_out_without_cascading_errors(content: ContentDir) -> None:
    content.markets(
        "markets:\n  fr: {name: France, timezone: Europe/Pairs, locale: fr}\n"
        "  us: {name: USA, timezone: America/New_York, locale: en}\n"
    )
    content.story("s", STORY + "markets: [fr, us]\n")
    loaded = content.load()
    assert [f.code for f in loaded.findings] == ["bad-timezone"]
    assert loaded.stories["s"].markets == ("us",)


def test_models_are_frozen(content: ContentDir) -> None:
    content.story("s", STORY)
    story = content.load().stories["s"]
    with pytest.raises(dataclasses.FrozenInstanceError):
        story.title = "changed"  # type: ignore[misc]
    with pytest.raises(TypeError):
        story.text["headline"] = "changed"  # type: ignore[index]


def test_findings_come_sorted_by_file_and_position(content: ContentDir) -> None:
    content.story("b", STORY + "hashtag: []\n")
    content.story("a", STORY + "netwroks: []\n")
    findings = content.load().findings
    assert [f.file for f in findings] == sorted(f.file for f in findings)
