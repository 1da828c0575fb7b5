"""resolve: story text -> translation -> network override -> market override (the last word)."""

from __future__ import annotations

import pytest

from scheduler.core.model import Content, Market
from scheduler.core.resolve import resolve

from .conftest import STORY, ContentDir, only

TRANSLATED = (
    STORY.replace("  headline: Hello", "  headline: Hello\n  hook: Look\n  body: The story")
    + "link: https://holdout.example/a\n"
    + "hashtags: [Aurora]\n"
    + "locales:\n"
    + "  fr: {headline: Bonjour, hook: Regardez, body: L'histoire}\n"
    + "overrides:\n"
    + "  network:\n"
    + "    x: {hashtags: [AuroraX], link: 'https://holdout.example/x'}\n"
    + "  market:\n"
    + "    fr: {link: 'https://holdout.example/fr'}\n"
)


@pytest.fixture
def loaded(content: ContentDir) -> Content:
    content.story("s", TRANSLATED)
    return content.load()


def test_the_story_text_when_no_layer_applies(loaded: Content) -> None:
    r = resolve(loaded.stories["s"], "facebook", loaded.markets["us"])
    assert (r.headline, r.hook, r.body) == ("Hello", "Look", "The story")
    assert r.hashtags == ("Aurora",) and r.link == "https://holdout.example/a"
    assert r.locale == r.text_locale == "en"


def test_the_translation_for_the_markets_locale(loaded: Content) -> None:
    r = resolve(loaded.stories["s"], "facebook", loaded.markets["fr"])
    assert (r.headline, r.hook) == ("Bonjour", "Regardez")
    assert r.text_locale == "fr"


def test_network_override_beats_the_translation(loaded: Content) -> None:
    r = resolve(loaded.stories["s"], "x", loaded.markets["us"])
    assert r.hashtags == ("AuroraX",)
    assert r.link == "https://holdout.example/x"


def test_market_override_has_the_last_word(loaded: Content) -> None:
    r = resolve(loaded.stories["s"], "x", loaded.markets["fr"])
    assert r.link == "https://holdout.example/fr"
    assert r.hashtags == ("AuroraX",)
    assert r.headline == "Bonjour"


def test_missing_translation_warns_at_the_locales_key(loaded: Content) -> None:
    r = resolve(loaded.stories["s"], "facebook", loaded.markets["hu"])
    finding = only(r.findings, "missing-translation")
    assert finding.severity == "warning"
    assert (finding.line, finding.column) == (10, 1)
    assert r.headline == "Hello" and r.text_locale == "en" and r.locale == "hu"


def test_a_market_in_the_storys_own_language_needs_no_translation(loaded: Content) -> None:
    assert resolve(loaded.stories["s"], "facebook", loaded.markets["us"]).findings == ()


def test_a_monolingual_story_gets_no_translation_warning(content: ContentDir) -> None:
    content.story("s", STORY)
    loaded = content.load()
    assert resolve(loaded.stories["s"], "x", loaded.markets["hu"]).findings == ()


def test_regional_locale_falls_back_to_its_language(content: ContentDir) -> None:
    content.story("s", STORY + "locales:\n  pt: {headline: Olá}\n")
    story = content.load().stories["s"]
    br = Market("br", "Brasil", "America/Sao_Paulo", "pt-BR", claim="Inspirado em Você")
    r = resolve(story, "x", br)
    assert r.headline == "Olá" and r.text_locale == "pt" and r.locale == "pt-BR"


def test_partial_translation_warns(content: ContentDir) -> None:
    content.story("s", TRANSLATED.replace("hook: Regardez, body: L'histoire", "hook: Regardez"))
    loaded = content.load()
    finding = only(
        resolve(loaded.stories["s"], "x", loaded.markets["fr"]).findings, "partial-translation"
    )
    assert "body" in finding.message


def test_public_story_signs_with_the_claim(loaded: Content) -> None:
    assert resolve(loaded.stories["s"], "x", loaded.markets["fr"]).claim == "Inspired By You"


def test_pro_story_signs_with_claim_pro(content: ContentDir) -> None:
    content.story("p", STORY + "audience: pro\n")
    loaded = content.load()
    story = loaded.stories["p"]
    assert resolve(story, "x", loaded.markets["fr"]).claim == "Built Around Your Business"
    # Hungary has no claim_pro: it falls back to its (translated) public claim.
    assert resolve(story, "facebook", loaded.markets["hu"]).claim == "Önök inspirálnak minket"


def test_claim_is_overridable_per_market(content: ContentDir) -> None:
    content.story("c", STORY + "overrides:\n  market:\n    us: {claim: Made For You}\n")
    loaded = content.load()
    assert resolve(loaded.stories["c"], "x", loaded.markets["us"]).claim == "Made For You"


def test_a_network_text_override_over_a_translation_warns(content: ContentDir) -> None:
    content.story("s", TRANSLATED.replace("hashtags: [AuroraX]", "hook: Stop scrolling"))
    loaded = content.load()
    r = resolve(loaded.stories["s"], "x", loaded.markets["fr"])
    assert r.hook == "Stop scrolling"
    assert "overrides.market.fr.hook" in only(r.findings, "untranslated-override").message


def test_media_of_a_translation_replace_the_storys(content: ContentDir) -> None:
    content.media("a.jpg")
    content.story(
        "m",
        STORY
        + "media: [{file: media/a.jpg, alt: A car}]\n"
        + "locales:\n  fr: {headline: Salut, media: [{file: media/a.jpg, alt: Une voiture}]}\n",
    )
    loaded = content.load()
    r = resolve(loaded.stories["m"], "x", loaded.markets["fr"])
    assert [m.alt for m in r.media] == ["Une voiture"]
