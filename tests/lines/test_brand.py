"""``editorial_lines/_brand.yaml``: banned words and ban patterns every line shares."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scheduler.content.loader import load_content
from scheduler.core.diagnostics import Position
from scheduler.lines.loader import load_lines
from scheduler.planning.plan import plan
from scheduler.text.patterns import BanPattern, compile_ban_pattern
from scheduler.text.voice import VoiceRules, check_voice

from .conftest import MakeLines

ROOT = Path(__file__).resolve().parents[2]
SAMPLE_LINES = ROOT / "editorial_lines"
POS = Position("post", 1, 1)


def codes(text: str, locale: str = "fr", network: str = "x") -> list[str]:
    rules = load_lines(SAMPLE_LINES, eager=False).by_network[network].voice_rules
    found = check_voice(rules, text=text, locale=locale, signature=None, link=None, pos=POS)
    return [f.code for f in found]


def test_no_sample_line_keeps_its_own_copy_of_the_ban_list() -> None:
    for path in SAMPLE_LINES.glob("*/line.yaml"):
        assert "banned" not in path.read_text(encoding="utf-8"), path


def test_every_line_bans_the_brand_words() -> None:
    lines = load_lines(SAMPLE_LINES, eager=False)
    assert not [f for f in lines.findings if f.is_error]
    for line in lines.by_network.values():
        assert "remise" in line.voice_rules.banned["fr"]
    assert "banned-word" in codes("Une remise pour Noël", network="linkedin")


@pytest.mark.parametrize(
    ("text", "locale"),
    [
        ("Aurora, now -20% until Sunday", "en"),
        ("Aurora: 20 % off this week", "en"),
        ("Aurora : 5 000 € de remise sur la gamme", "fr"),
        ("Aurora : jusqu'à -30 % sur la gamme", "fr"),
        ("Aurora : 5\u202f000\u00a0€ de remise", "fr"),
    ],
)
def test_patterns_catch_discount_talk_words_miss(text: str, locale: str) -> None:
    assert "banned-pattern" in codes(text, locale)


@pytest.mark.parametrize(
    "text",
    [
        "Aurora charges from 10-80% in 20 minutes.",
        "0-100 km/h in 3.9 s, 10-80% charge in 18 min",
        "Recharge de 10 à 80 % en 18 minutes, 5 000 km d'essais.",
    ],
)
def test_charging_figures_are_not_discount_talk(text: str) -> None:
    assert codes(text, "en") == [] and codes(text, "fr") == []


def test_a_product_story_charging_from_10_to_80_percent_validates_clean(tmp_path: Path) -> None:
    content = tmp_path / "content"
    (content / "stories").mkdir(parents=True)
    (content / "markets.yaml").write_text(
        (ROOT / "content" / "markets.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (content / "stories" / "charge.yaml").write_text(
        textwrap.dedent(
            """\
            status: approved
            launch: 2027-05-04 09:00
            networks: [x]
            markets: [gb, us]
            story:
              headline: Aurora charges from 10-80% in 20 minutes
              hook: A coffee, and you are back on the road.
            link: https://holdout.example/aurora/charging
            """
        ),
        encoding="utf-8",
    )
    lines = load_lines(SAMPLE_LINES)
    loaded = load_content(content, networks=lines.networks)
    result = plan(loaded, lines, datetime(2027, 1, 1, tzinfo=UTC))
    assert result.posts and all("10-80%" in p.text for p in result.posts)
    assert [f.code for f in result.findings if f.code.startswith("banned")] == []


BRAND = """\
banned:
  en: [discount]
patterns:
  all:
    - '{pattern}'
may_extend: [{extend}]
"""


def write_brand(make_lines: MakeLines, pattern: str, extend: str = "", **files: str):  # type: ignore[no-untyped-def]
    return make_lines(
        {"_brand.yaml": BRAND.format(pattern=pattern, extend=extend), "x/default.j2": "hi", **files}
    )


def test_a_pattern_that_does_not_compile_is_a_finding_at_its_line(make_lines: MakeLines) -> None:
    lines = write_brand(make_lines, r"(\d+% off")
    found = [f for f in lines.findings if f.code == "bad-pattern"]
    assert len(found) == 1 and found[0].is_error
    assert found[0].file.endswith("_brand.yaml") and found[0].line == 5


def test_a_catastrophically_slow_pattern_is_a_finding_at_its_line(make_lines: MakeLines) -> None:
    lines = write_brand(make_lines, r"(a|a)+$")
    found = [f for f in lines.findings if f.code == "slow-pattern"]
    assert len(found) == 1 and found[0].is_error
    assert found[0].file.endswith("_brand.yaml") and found[0].line == 5
    assert lines.by_network["x"].voice_rules.patterns["all"] == ()  # left out, never run


def test_a_pattern_that_runs_too_long_on_a_post_is_stopped_and_reported() -> None:
    import regex

    slow = BanPattern("(a|a)+$", regex.compile("(a|a)+$"), Position("_brand.yaml", 9, 7))
    rules = VoiceRules(patterns={"all": (slow,)})
    found = check_voice(rules, text="a" * 60 + "!", locale="en", signature=None, link=None, pos=POS)
    assert [(f.code, f.line) for f in found] == [("pattern-too-slow", 9)]


def test_a_pattern_matching_nothing_at_all_is_refused() -> None:
    made = compile_ban_pattern("x*", POS)
    assert not isinstance(made, BanPattern) and made.code == "bad-pattern"


def test_a_line_not_allowed_to_extend_may_not_add_banned_words(make_lines: MakeLines) -> None:
    line = "voice: Plain.\nrules:\n  banned: {en: [bargain]}\n"
    lines = write_brand(make_lines, r"\d+%", **{"x/line.yaml": line})
    found = [f for f in lines.findings if f.code == "banned-not-extendable"]
    assert len(found) == 1 and found[0].file.endswith("x/line.yaml") and found[0].line == 3
    assert lines.by_network["x"].voice_rules.banned == {"en": ("discount",)}


def test_a_line_allowed_to_extend_adds_its_words_to_the_brand_list(make_lines: MakeLines) -> None:
    line = "voice: Plain.\nrules:\n  banned: {en: [bargain]}\n"
    lines = write_brand(make_lines, r"\d+%", extend="x", **{"x/line.yaml": line})
    assert not [f for f in lines.findings if f.is_error]
    assert lines.by_network["x"].voice_rules.banned["en"] == ("discount", "bargain")


def test_a_pattern_inside_a_link_does_not_count() -> None:
    assert codes("Details: https://holdout.example/offers/-20%25 and brand.example/x-30%") == []
    assert "banned-pattern" in codes("Now -20%: https://holdout.example/a")


@pytest.mark.parametrize(
    "text",
    [
        "Aurora <https://holdout.example/a>-20% until Sunday",
        "Aurora 'https://holdout.example/a'-20% until Sunday",
        'Aurora "https://holdout.example/a"-20% until Sunday',
    ],
)
def test_a_pattern_right_after_a_link_counts(text: str) -> None:
    """The link ends where the extractor says (before a quote or an angle bracket), not at the
    next space: what follows it is the voice's."""
    assert "banned-pattern" in codes(text, "en")
