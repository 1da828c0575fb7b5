"""Each network's hard limits, counted the network's own way (scheduler.text.networks)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twitter_text import parse_tweet

from scheduler.core.diagnostics import Finding, Position, Severity
from scheduler.text import extract, networks, xlength

POS = Position("content/stories/suv.yaml", 14, 5)
IMAGE = ("media/suv-front.jpg",)
FAMILY = "👨‍👩‍👧‍👦"  # 4 people joined by 3 ZWJ: 7 code points, 25 UTF-8 bytes, 1 grapheme
LONG_URL = "https://brand.example/" + "a" * 200


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


# --- the registry -------------------------------------------------------------------------


def test_every_network_of_the_design_has_a_spec() -> None:
    assert set(networks.NETWORKS) == {
        "facebook",
        "instagram",
        "x",
        "linkedin",
        "youtube",
        "weibo",
        "mastodon",
        "bluesky",
        "threads",
    }


def test_publishers_that_are_not_networks_have_no_spec() -> None:
    assert "outbox" not in networks.NETWORKS
    assert "webhook" not in networks.NETWORKS


@pytest.mark.parametrize("name", ["google+", "googleplus", "google_plus", "gplus"])
def test_google_plus_is_retired_with_a_message_saying_when(name: str) -> None:
    assert "shut down" in networks.RETIRED[name]
    assert "2019" in networks.RETIRED[name]


def test_asking_for_a_retired_network_raises_its_message() -> None:
    with pytest.raises(networks.UnknownNetwork, match="Google\\+ was shut down"):
        networks.measure("Google+", "hello")


def test_an_unknown_network_names_the_known_ones() -> None:
    with pytest.raises(networks.UnknownNetwork, match="known: bluesky, facebook"):
        networks.check("myspace", text="hi", pos=POS)


# --- X: twitter-text v3 --------------------------------------------------------------------


def test_x_counts_any_url_as_23() -> None:
    assert networks.measure("x", LONG_URL.replace("brand.example", "brand.com")) == 23


def test_x_weighs_cjk_characters_2() -> None:
    assert networks.measure("x", "新型SUV") == 2 * 2 + 3


def test_x_counts_an_emoji_sequence_as_2() -> None:
    assert networks.measure("x", FAMILY) == 2


def test_x_counts_skin_tone_and_flag_emoji_as_2_each() -> None:
    assert networks.measure("x", "👍🏽🇫🇷") == 4


def test_x_post_of_281_is_too_long_with_the_design_code() -> None:
    findings = networks.check("x", text="a" * 281, pos=POS)
    assert codes(findings) == ["x-too-long"]
    assert findings[0].format().startswith("content/stories/suv.yaml:14:5: error[x-too-long]:")


def test_x_post_of_280_is_fine() -> None:
    assert networks.check("x", text="a" * 280, pos=POS) == []


def test_140_cjk_characters_fill_an_x_post() -> None:
    assert networks.check("x", text="車" * 140, pos=POS) == []
    assert codes(networks.check("x", text="車" * 141, pos=POS)) == ["x-too-long"]


# --- Bluesky: 300 graphemes and 3,000 bytes -------------------------------------------------


def test_bluesky_counts_a_family_emoji_as_one_grapheme() -> None:
    assert networks.measure("bluesky", FAMILY) == 1


def test_bluesky_300_graphemes_pass_the_grapheme_limit() -> None:
    assert networks.check("bluesky", text="é" * 300, pos=POS) == []


def test_bluesky_301_graphemes_are_too_long() -> None:
    assert codes(networks.check("bluesky", text="a" * 301, pos=POS)) == ["bluesky-too-long"]


def test_bluesky_300_family_emoji_fit_in_graphemes_but_not_in_bytes() -> None:
    text = FAMILY * 300
    assert networks.measure("bluesky", text) == 300
    assert codes(networks.check("bluesky", text=text, pos=POS)) == ["bluesky-too-many-bytes"]


def test_bluesky_counts_a_url_in_full() -> None:
    assert networks.measure("bluesky", LONG_URL) == len(LONG_URL)


# --- Mastodon: 500, server's max_characters, URL 23, remote mention as @user ---------------


def test_mastodon_counts_a_url_as_23() -> None:
    assert networks.measure("mastodon", f"read {LONG_URL}") == 5 + 23


def test_mastodon_counts_a_remote_mention_by_its_user_part() -> None:
    assert networks.measure("mastodon", "@brand@social.example.org hi") == len("@brand hi")


def test_mastodon_counts_a_local_mention_in_full() -> None:
    assert networks.measure("mastodon", "@brand hi") == 9


def test_mastodon_default_limit_is_500() -> None:
    assert networks.check("mastodon", text="a" * 500, pos=POS) == []
    assert codes(networks.check("mastodon", text="a" * 501, pos=POS)) == ["mastodon-too-long"]


def test_mastodon_server_max_characters_overrides_the_default() -> None:
    assert networks.check("mastodon", text="a" * 501, pos=POS, limit_override=1000) == []
    findings = networks.check("mastodon", text="a" * 401, pos=POS, limit_override=400)
    assert codes(findings) == ["mastodon-too-long"]
    assert "400" in findings[0].message


def test_a_limit_override_does_not_loosen_a_network_without_server_limits() -> None:
    assert codes(networks.check("x", text="a" * 281, pos=POS, limit_override=1000)) == [
        "x-too-long"
    ]


def test_mastodon_url_concession_makes_a_long_link_fit() -> None:
    text = "a" * 470 + " " + LONG_URL
    assert networks.check("mastodon", text=text, pos=POS) == []


# --- Threads: 500, emoji by UTF-8 bytes, 5 links, 1 tag -------------------------------------


def test_threads_counts_an_emoji_as_its_utf8_bytes() -> None:
    assert networks.measure("threads", "ok 👍") == 3 + 4
    assert networks.measure("threads", FAMILY) == 25


def test_threads_counts_other_characters_one_each() -> None:
    assert networks.measure("threads", "Nouveauté 新车") == 12


def test_threads_125_emoji_fill_500() -> None:
    assert networks.check("threads", text="😀" * 125, pos=POS) == []
    assert codes(networks.check("threads", text="😀" * 126, pos=POS)) == ["threads-too-long"]


def test_threads_allows_five_distinct_links() -> None:
    five = " ".join(f"https://brand.example/{i}" for i in range(5))
    assert networks.check("threads", text=five + " https://brand.example/0", pos=POS) == []


def test_threads_refuses_a_sixth_link() -> None:
    six = " ".join(f"https://brand.example/{i}" for i in range(6))
    assert codes(networks.check("threads", text=six, pos=POS)) == ["threads-too-many-links"]


def test_threads_allows_one_tag() -> None:
    assert networks.check("threads", text="New #SUV", pos=POS) == []
    assert codes(networks.check("threads", text="#New #SUV", pos=POS)) == [
        "threads-too-many-hashtags"
    ]


# --- Instagram: 2,200, 30 hashtags, 20 mentions, media required ----------------------------


def test_instagram_accepts_30_hashtags() -> None:
    text = " ".join(f"#tag{i}" for i in range(30))
    assert networks.check("instagram", text=text, media=IMAGE, pos=POS) == []


def test_instagram_refuses_31_hashtags() -> None:
    text = " ".join(f"#tag{i}" for i in range(31))
    findings = networks.check("instagram", text=text, media=IMAGE, pos=POS)
    assert codes(findings) == ["instagram-too-many-hashtags"]
    assert "31" in findings[0].message


def test_instagram_counts_story_hashtags_with_those_in_the_text_once_each() -> None:
    text = " ".join(f"#tag{i}" for i in range(29))
    tags = ["TAG0", "Tag1", "extra1", "extra2"]
    findings = networks.check("instagram", text=text, hashtags=tags, media=IMAGE, pos=POS)
    assert codes(findings) == ["instagram-too-many-hashtags"]


def test_instagram_requires_media() -> None:
    assert codes(networks.check("instagram", text="Hello", pos=POS)) == ["instagram-media-required"]


def test_instagram_refuses_21_mentions() -> None:
    text = " ".join(f"@user{i}" for i in range(21))
    assert codes(networks.check("instagram", text=text, media=IMAGE, pos=POS)) == [
        "instagram-too-many-mentions"
    ]


def test_an_email_address_is_not_a_mention() -> None:
    assert extract.mentions_in("write to press@brand.example") == []


def test_instagram_caption_limit_is_2200() -> None:
    assert networks.check("instagram", text="a" * 2200, media=IMAGE, pos=POS) == []
    assert codes(networks.check("instagram", text="a" * 2201, media=IMAGE, pos=POS)) == [
        "instagram-too-long"
    ]


def test_a_hash_inside_a_link_is_not_a_hashtag() -> None:
    assert extract.hashtags_in("see https://brand.example/suv#specs and #SUV") == ["SUV"]


# --- YouTube: title 100, description 5,000 bytes, no < > -----------------------------------


def test_youtube_title_of_101_characters_is_too_long() -> None:
    findings = networks.check("youtube", text="ok", title="T" * 101, media=IMAGE, pos=POS)
    assert codes(findings) == ["youtube-title-too-long"]


def test_youtube_title_of_100_characters_is_fine() -> None:
    assert networks.check("youtube", text="ok", title="T" * 100, media=IMAGE, pos=POS) == []


def test_youtube_forbids_angle_brackets_in_the_title() -> None:
    findings = networks.check("youtube", text="ok", title="SUV <new>", media=IMAGE, pos=POS)
    assert codes(findings) == ["youtube-forbidden-character"]
    assert "'<' '>'" in findings[0].message and "title" in findings[0].message


def test_youtube_forbids_angle_brackets_in_the_description() -> None:
    findings = networks.check("youtube", text="0 > 1", title="SUV", media=IMAGE, pos=POS)
    assert codes(findings) == ["youtube-forbidden-character"]
    assert "description" in findings[0].message


def test_youtube_description_is_counted_in_utf8_bytes() -> None:
    assert networks.measure("youtube", "é") == 2
    assert networks.check("youtube", text="é" * 2500, title="t", media=IMAGE, pos=POS) == []
    findings = networks.check("youtube", text="é" * 2501, title="t", media=IMAGE, pos=POS)
    assert codes(findings) == ["youtube-too-long"]


def test_youtube_needs_a_video() -> None:
    [finding] = networks.check("youtube", text="ok", title="t", pos=POS)
    assert finding.code == "youtube-media-required"
    assert finding.message.endswith("add a video")


# --- Weibo: half characters -----------------------------------------------------------------


def test_weibo_counts_a_chinese_character_as_one() -> None:
    assert networks.measure("weibo", "全新舒适SUV") == 4 + 2  # "SUV" is 1.5, rounded up


def test_weibo_counts_ascii_as_half() -> None:
    assert networks.measure("weibo", "abcd") == 2


def test_weibo_counts_a_link_as_ten() -> None:
    assert networks.measure("weibo", "https://brand.example/suv-comfort-launch") == 10


def test_weibo_limit_is_2000() -> None:
    assert codes(networks.check("weibo", text="车" * 2001, pos=POS)) == ["weibo-too-long"]


def test_weibo_over_140_warns_about_long_weibo() -> None:
    findings = networks.check("weibo", text="车" * 141, pos=POS)
    assert [(f.code, f.severity) for f in findings] == [("weibo-long-text", Severity.WARNING)]


# --- LinkedIn, Facebook ---------------------------------------------------------------------


def test_linkedin_commentary_limit_is_3000() -> None:
    assert networks.check("linkedin", text="a" * 3000, pos=POS) == []
    assert codes(networks.check("linkedin", text="a" * 3001, pos=POS)) == ["linkedin-too-long"]


def test_facebook_message_limit_is_63206() -> None:
    assert networks.check("facebook", text="a" * 63_206, pos=POS) == []
    assert codes(networks.check("facebook", text="a" * 63_207, pos=POS)) == ["facebook-too-long"]


def test_findings_carry_the_position_passed_in() -> None:
    [finding] = networks.check("linkedin", text="a" * 3001, pos=POS)
    assert (finding.file, finding.line, finding.column) == ("content/stories/suv.yaml", 14, 5)


# --- X fast path: the same answers as twitter-text's parse_tweet -----------------------------

_NO_EMOJI_CHARS = st.characters(
    max_codepoint=0x203B, codec="utf-8", exclude_characters="\u00a9\u00ae"
)
_PIECES = st.one_of(
    st.text(_NO_EMOJI_CHARS, max_size=30),
    st.sampled_from(
        [
            " https://brand.com/suv?x=1 ",
            "www.example.org/a",
            " http://t.co/abcdef ",
            "brand.example",
            "\r\n",
            "e\u0301",  # NFC composes it to é
            "\u1100\u1161",  # Hangul jamo NFC composes to a syllable weighted 2
            "#SUV @brand",
        ]
    ),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join))
def test_x_length_without_emoji_equals_parse_tweet(text: str) -> None:
    assert xlength.x_weighted_length(text) == parse_tweet(text).weightedLength


@pytest.mark.parametrize("text", ["©", "1\u20e3", "‼", "ok 👍🏽", "新车", "™ 2026"])
def test_x_length_with_possible_emoji_is_parse_tweet(text: str) -> None:
    assert xlength.x_weighted_length(text) == parse_tweet(text).weightedLength
