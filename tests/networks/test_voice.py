"""Voice rules of an editorial line: parsed from line.yaml, checked on a post (scheduler.voice)."""

from __future__ import annotations

from typing import Any

import pytest

from scheduler.content.files import RULES_SHAPE
from scheduler.content.shapes import conform
from scheduler.content.yamlpos import Kind, Node
from scheduler.core.diagnostics import Finding, Position
from scheduler.lines.model import RulePath
from scheduler.text.voice import LinkPolicy, VoiceRules, check_voice, rules_from

POS = Position("editorial_lines/x/line.yaml", 3, 3)
LINK = "https://brand.example/suv"


def at(path: RulePath) -> Position:
    """Where the test pretends each rule was written: line = depth, column = last key length."""
    return Position(
        "editorial_lines/x/line.yaml", 10 + len(path), len(str(path[-1])) if path else 0
    )


def node(value: Any, path: RulePath = ()) -> Node:
    """``value`` as the YAML reader gives it, each key and value written at ``at(path)``."""
    if isinstance(value, dict):
        fields = {str(k): node(v, (*path, str(k))) for k, v in value.items()}
        key_pos = {k: at((*path, k)) for k in fields}
        return Node(Kind.MAP, at(path), fields=fields, key_pos=key_pos)
    if isinstance(value, list):
        items = tuple(node(v, (*path, i)) for i, v in enumerate(value))
        return Node(Kind.SEQ, at(path), items=items)
    return Node(Kind.SCALAR, at(path), value=value, raw=str(value))


def parse(raw: Any) -> tuple[VoiceRules, list[Finding]]:
    """``rules:`` as the line loader reads them: their shape checked, then their meaning."""
    if raw is None:
        return rules_from({}), []
    checked, findings = conform(node(raw), RULES_SHAPE, "rules")
    return rules_from(checked or {}), findings


def voice(rules: VoiceRules, text: str, **overrides: Any) -> list[Finding]:
    args: dict[str, Any] = {"locale": "en", "signature": None, "link": None, "pos": POS}
    return check_voice(rules, text=text, **(args | overrides))


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


# --- parsing --------------------------------------------------------------------------------


def test_the_design_example_parses_without_findings() -> None:
    rules, findings = parse(
        {
            "max_hashtags": 3,
            "emoji": {"max": 0},
            "banned": {"en": ["discount", "deal", "% off"], "fr": ["remise", "promo", "soldes"]},
            "require_signature": True,
            "link": "inline",
        }
    )
    assert findings == []
    assert rules.max_hashtags == 3
    assert rules.max_emoji == 0
    assert rules.banned["fr"] == ("remise", "promo", "soldes")
    assert rules.require_signature is True
    assert rules.link is LinkPolicy.INLINE


def test_no_rules_means_no_limits_and_tracked_inline_links() -> None:
    rules, findings = parse(None)
    assert findings == []
    assert rules == VoiceRules()
    assert (rules.max_hashtags, rules.link, rules.utm) == (None, LinkPolicy.INLINE, True)


def test_utm_can_be_turned_off() -> None:
    assert parse({"utm": False})[0].utm is False


def test_an_unknown_rule_suggests_the_close_one() -> None:
    _, findings = parse({"max_hashtag": 2})
    assert codes(findings) == ["unknown-rule"]
    assert "did you mean 'max_hashtags'?" in findings[0].message


def test_an_unknown_rule_is_reported_where_it_was_written() -> None:
    [finding] = parse({"max_hashtag": 2})[1]
    assert (finding.line, finding.column) == (11, len("max_hashtag"))


def test_an_unknown_emoji_setting_suggests_max() -> None:
    _, findings = parse({"emoji": {"mx": 1}})
    assert codes(findings) == ["unknown-rule"]
    assert "did you mean 'max'?" in findings[0].message


def test_a_misspelt_link_policy_is_invalid_with_a_suggestion() -> None:
    rules, findings = parse({"link": "first-comment"})
    assert codes(findings) == ["invalid-rule"]
    assert "did you mean 'first_comment'?" in findings[0].message
    assert rules.link is LinkPolicy.INLINE


@pytest.mark.parametrize("value", [-1, "3", True, 2.5])
def test_max_hashtags_must_be_a_whole_number(value: object) -> None:
    rules, findings = parse({"max_hashtags": value})
    assert codes(findings) == ["invalid-rule"]
    assert rules.max_hashtags is None


def test_require_signature_must_be_a_boolean() -> None:
    assert codes(parse({"require_signature": "yes"})[1]) == ["invalid-rule"]


def test_a_banned_entry_that_is_not_a_word_is_invalid_and_the_rest_kept() -> None:
    rules, findings = parse({"banned": {"fr": ["promo", 3, ""]}})
    assert codes(findings) == ["invalid-rule", "invalid-rule"]
    assert rules.banned["fr"] == ("promo",)


def test_every_bad_rule_is_reported_not_only_the_first() -> None:
    _, findings = parse({"emoji": 2, "link": "inlined", "colour": "red"})
    assert sorted(codes(findings)) == ["invalid-rule", "invalid-rule", "unknown-rule"]


def test_rules_that_are_not_a_mapping_are_invalid() -> None:
    assert codes(parse(["max_hashtags"])[1]) == ["invalid-rule"]


# --- banned vocabulary ----------------------------------------------------------------------

BANNED = parse(
    {
        "banned": {
            "en": ["discount", "deal", "% off", "limited time", "promo*"],
            "fr": ["remise", "soldes"],
            "all": ["cheap"],
        }
    }
)[0]


def test_a_banned_word_is_found_whatever_its_case() -> None:
    [finding] = voice(BANNED, "Huge DISCOUNT today")
    assert finding.code == "banned-word"
    assert "'DISCOUNT'" in finding.message


def test_a_banned_word_finding_says_where_in_the_text() -> None:
    [finding] = voice(BANNED, "The new SUV.\nA real deal.")
    assert "line 2, column 8 of the text" in finding.message


def test_a_banned_word_respects_word_boundaries() -> None:
    assert voice(BANNED, "An ideal dealer network") == []


def test_a_banned_phrase_starting_with_a_symbol_matches_inside_a_number() -> None:
    [finding] = voice(BANNED, "Now 20% OFF every trim")
    assert finding.code == "banned-word"
    assert "'% OFF'" in finding.message


def test_a_banned_phrase_matches_across_any_spacing() -> None:
    assert codes(voice(BANNED, "For a limited\n  time only")) == ["banned-word"]


def test_a_trailing_star_bans_every_ending() -> None:
    assert codes(voice(BANNED, "Our promotions")) == ["banned-word"]


def test_accents_are_folded_on_both_sides() -> None:
    rules = parse({"banned": {"fr": ["prix cassé"]}})[0]
    assert codes(voice(rules, "Des PRIX CASSE !", locale="fr")) == ["banned-word"]
    assert codes(voice(BANNED, "Une REMISÉ exceptionnelle", locale="fr")) == ["banned-word"]


def test_the_list_of_the_post_locale_applies() -> None:
    assert codes(voice(BANNED, "Grandes soldes", locale="fr")) == ["banned-word"]


def test_another_locale_list_does_not_apply() -> None:
    assert voice(BANNED, "A great deal of comfort", locale="fr") == []


def test_a_regional_locale_falls_back_to_its_language_list() -> None:
    assert codes(voice(BANNED, "Grandes soldes", locale="fr-CA")) == ["banned-word"]


def test_the_all_list_applies_to_every_locale() -> None:
    assert codes(voice(BANNED, "Pas cheap du tout", locale="fr")) == ["banned-word"]
    assert codes(voice(BANNED, "便宜 cheap", locale="zh-CN")) == ["banned-word"]


def test_a_banned_word_inside_a_link_is_not_the_voice() -> None:
    text = "The new SUV https://brand.example/suv?utm_campaign=summer-deal"
    assert voice(BANNED, text) == []


# --- signature ------------------------------------------------------------------------------

SIGNED = parse({"require_signature": True})[0]


def test_the_market_claim_must_appear() -> None:
    [finding] = voice(SIGNED, "The new SUV.", signature="Inspired By You")
    assert finding.code == "missing-signature"
    assert "'Inspired By You'" in finding.message


def test_the_claim_is_found_whatever_its_case_and_line_breaks() -> None:
    assert voice(SIGNED, "The new SUV.\nInspired\nby you", signature="Inspired By You") == []


def test_a_translated_claim_is_checked_as_written() -> None:
    assert voice(SIGNED, "Az új SUV. Ön ihlette", signature="Ön ihlette", locale="hu") == []


def test_a_market_without_claim_cannot_satisfy_the_rule() -> None:
    [finding] = voice(SIGNED, "The new SUV.", signature=None)
    assert finding.code == "missing-signature"
    assert "has none" in finding.message


def test_without_the_rule_the_claim_is_optional() -> None:
    assert voice(VoiceRules(), "The new SUV.", signature="Inspired By You") == []


# --- hashtags, emoji, mentions ---------------------------------------------------------------


def test_hashtags_over_the_line_maximum() -> None:
    rules = parse({"max_hashtags": 2})[0]
    assert voice(rules, "#SUV #Comfort") == []
    assert codes(voice(rules, "#SUV #Comfort #Launch")) == ["too-many-hashtags"]


def test_the_same_hashtag_twice_counts_once() -> None:
    assert voice(parse({"max_hashtags": 1})[0], "#SUV and again #suv") == []


def test_emoji_max_zero_refuses_one_emoji() -> None:
    [finding] = voice(parse({"emoji": {"max": 0}})[0], "Ready? 🚗")
    assert finding.code == "too-many-emoji"
    assert "🚗" in finding.message


def test_an_emoji_sequence_is_one_emoji() -> None:
    rules = parse({"emoji": {"max": 2}})[0]
    assert voice(rules, "👨‍👩‍👧‍👦 on the road 🇫🇷") == []
    assert codes(voice(rules, "👨‍👩‍👧‍👦 🇫🇷 👍🏽")) == ["too-many-emoji"]


def test_text_symbols_are_not_emoji() -> None:
    assert voice(parse({"emoji": {"max": 0}})[0], "Brand© — 100% ☺ #1") == []


def test_mentions_over_the_line_maximum() -> None:
    rules = parse({"mentions": {"max": 1}})[0]
    assert codes(voice(rules, "@a and @b")) == ["too-many-mentions"]


# --- link policy ----------------------------------------------------------------------------


def test_inline_requires_the_story_link_in_the_text() -> None:
    [finding] = voice(VoiceRules(), "The new SUV.", link=LINK)
    assert finding.code == "link-missing"


def test_inline_accepts_the_tracked_link() -> None:
    text = f"The new SUV: {LINK}?utm_source=x&utm_medium=social"
    assert voice(VoiceRules(), text, link=LINK) == []


def test_inline_without_a_story_link_asks_nothing() -> None:
    assert voice(VoiceRules(), "The new SUV.", link=None) == []


def test_first_comment_refuses_a_link_in_the_text() -> None:
    rules = parse({"link": "first_comment"})[0]
    [finding] = voice(rules, f"The new SUV: {LINK}", link=LINK)
    assert finding.code == "link-not-allowed"
    assert "first comment" in finding.message


def test_first_comment_is_satisfied_by_a_text_without_link() -> None:
    assert voice(parse({"link": "first_comment"})[0], "Link in the first comment", link=LINK) == []


def test_none_refuses_any_link_even_a_bare_domain() -> None:
    rules = parse({"link": "none"})[0]
    assert codes(voice(rules, "Visit www.brand.com today")) == ["link-not-allowed"]
