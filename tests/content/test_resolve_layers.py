"""Per-beat content and one network in one market: the layers of resolution, and where each
value came from (``Resolved.sources``, what ``storyline explain`` prints)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.core.model import Content
from scheduler.core.resolve import resolve

from .conftest import STORY, ContentDir, only

LAYERED = (
    STORY.replace("  headline: Hello", "  headline: Hello\n  hook: Look\n  facts: [7 seats]")
    + "link: https://holdout.example/a\n"
    + "media: [{file: media/front.jpg, alt: The car}]\n"
    + "locales:\n"
    + "  fr: {headline: Bonjour, hook: Regardez, facts: [7 places]}\n"
    + "beats:\n"
    + "  teaser:\n"
    + "    offset: -7d\n"
    + "    story: {hook: Soon.}\n"
    + "    media: [{file: media/teaser.jpg, alt: Covered}]\n"
    + "    locales:\n"
    + "      fr: {hook: Bientôt.}\n"
    + "  reveal: 0\n"
    + "overrides:\n"
    + "  network:\n"
    + "    x: {link: 'https://holdout.example/x'}\n"
    + "  market:\n"
    + "    fr:\n"
    + "      link: 'https://holdout.example/fr'\n"
    + "      network:\n"
    + "        facebook: {facts: [Pour les flottes]}\n"
)


@pytest.fixture
def loaded(content: ContentDir) -> Content:
    content.media("front.jpg")
    content.media("teaser.jpg")
    content.story("s", LAYERED)
    found = content.load()
    assert not [f for f in found.findings if f.is_error], found.findings
    return found


def line_of(content: ContentDir, text: str) -> int:
    lines = Path(content.file("s")).read_text(encoding="utf-8").splitlines()
    hits = [i for i, line in enumerate(lines, 1) if text in line]
    assert len(hits) == 1, hits
    return hits[0]


def test_a_beat_with_content_tells_its_own_and_falls_back_to_the_story(loaded: Content) -> None:
    story = loaded.stories["s"]
    teaser, reveal = story.beat("teaser"), story.beat("reveal")
    r = resolve(story, "facebook", loaded.markets["us"], teaser)
    assert r.hook == "Soon." and r.headline == "Hello"  # the headline falls back
    assert [m.file for m in r.media] == ["media/teaser.jpg"]
    assert [m.file for m in resolve(story, "facebook", loaded.markets["us"], reveal).media] == [
        "media/front.jpg"
    ]


def test_a_beat_translation_serves_its_locale(loaded: Content) -> None:
    story = loaded.stories["s"]
    r = resolve(story, "facebook", loaded.markets["fr"], story.beat("teaser"))
    assert (r.headline, r.hook) == ("Bonjour", "Bientôt.")


def test_one_network_in_one_market_overrides_only_there(loaded: Content) -> None:
    story = loaded.stories["s"]
    fr, us = loaded.markets["fr"], loaded.markets["us"]
    assert resolve(story, "facebook", fr).facts == ("Pour les flottes",)
    assert resolve(story, "x", fr).facts == ("7 places",)
    assert resolve(story, "facebook", us).facts == ("7 seats",)


def test_the_market_override_beats_the_network_override(loaded: Content) -> None:
    story = loaded.stories["s"]
    assert resolve(story, "x", loaded.markets["fr"]).link == "https://holdout.example/fr"
    assert resolve(story, "x", loaded.markets["us"]).link == "https://holdout.example/x"


def test_every_value_says_where_it_was_written(content: ContentDir, loaded: Content) -> None:
    story = loaded.stories["s"]
    r = resolve(story, "facebook", loaded.markets["fr"], story.beat("teaser"))
    got = {name: (s.label, s.pos.line) for name, s in r.sources.items()}
    assert got["headline"] == ("locales.fr.headline", line_of(content, "fr: {headline: Bonjour"))
    assert got["hook"] == ("beats.teaser.locales.fr.hook", line_of(content, "Bientôt"))
    assert got["facts"] == (
        "overrides.market.fr.network.facebook.facts",
        line_of(content, "Pour les flottes"),
    )
    assert got["link"][0] == "overrides.market.fr.link"
    assert got["media"] == ("beats.teaser.media", line_of(content, "media/teaser.jpg"))
    assert got["claim"][0] == "markets.fr.claim"


def test_an_override_for_a_network_the_story_does_not_use_in_a_market_is_unused(
    content: ContentDir,
) -> None:
    content.story(
        "s",
        STORY + "overrides:\n  market:\n    fr:\n      network:\n        youtube: {hook: Hi}\n",
    )
    finding = only(content.load().findings, "unused-override")
    assert "overrides.market.fr.network.youtube" in finding.message
    assert finding.line == 10  # the youtube key


def test_an_untranslated_beat_text_is_a_warning_for_translated_markets(
    content: ContentDir,
) -> None:
    content.story(
        "s",
        STORY
        + "locales:\n  fr: {headline: Bonjour}\n"
        + "beats:\n  teaser: {offset: -7d, story: {hook: Soon.}}\n  reveal: 0\n",
    )
    loaded = content.load()
    story = loaded.stories["s"]
    r = resolve(story, "x", loaded.markets["fr"], story.beat("teaser"))
    finding = only(r.findings, "untranslated-beat")
    assert not finding.is_error and "beats.teaser.locales.fr.hook" in finding.message
    assert resolve(story, "x", loaded.markets["us"], story.beat("teaser")).findings == ()


@pytest.mark.parametrize(
    ("tail", "code", "text"),
    [
        (
            "beats:\n  teaser:\n    offset: -7d\n    media: [{file: media/nope.jpg, alt: A}]\n",
            "missing-media",
            "media/nope.jpg",
        ),
        ("beats:\n  teaser: {offset: -7d, story: {hedline: Hi}}\n", "unknown-field", "hedline"),
        ("beats:\n  teaser: {offset: -7d, locales: {French: {hook: Hi}}}\n", "bad-key", "French"),
        (
            "overrides:\n  market:\n    fr:\n      network:\n        myspace: {hook: Hi}\n",
            "unknown-network",
            "myspace",
        ),
        (
            "overrides:\n  market:\n    fr:\n      network:\n        x: {tone: Hi}\n",
            "unknown-field",
            "tone",
        ),
    ],
)
def test_bad_per_beat_content_and_overrides_name_their_line(
    content: ContentDir, tail: str, code: str, text: str
) -> None:
    path = content.story("s", STORY + tail)
    finding = only(content.load().findings, code)
    assert finding.is_error and finding.file == str(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert text in lines[finding.line - 1]
