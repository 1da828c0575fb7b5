"""Loading line.yaml files: voice, rules (parsed by voice), phrases; mistakes as findings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from scheduler.lines.book import LineBook
from scheduler.lines.loader import load_lines
from scheduler.text.voice import LinkPolicy

MakeLines = Callable[..., LineBook]

ROOT = Path(__file__).resolve().parents[2]
NETWORKS = {
    "facebook",
    "instagram",
    "x",
    "linkedin",
    "youtube",
    "weibo",
    "mastodon",
    "bluesky",
    "threads",
    "webhook",  # line-defined: its limits are in its line.yaml
}


def test_the_sample_brand_has_a_line_for_every_network_without_errors() -> None:
    lines = load_lines(ROOT / "editorial_lines")
    assert set(lines.by_network) == NETWORKS
    assert [f.format() for f in lines.findings if f.is_error] == []


def test_every_sample_line_has_its_own_teaser_reveal_followup_and_default() -> None:
    lines = load_lines(ROOT / "editorial_lines")
    for line in lines.by_network.values():
        assert {"teaser", "reveal", "followup", "default"} <= set(line.templates), line.network


def test_every_sample_line_bans_discount_talk_in_every_brand_language() -> None:
    lines = load_lines(ROOT / "editorial_lines")
    for line in lines.by_network.values():
        assert {"en", "fr", "de", "it", "hu", "pt", "zh"} <= set(line.voice_rules.banned)
        assert "% off" in line.voice_rules.banned["en"]
        assert "优惠" in line.voice_rules.banned["zh"]


def test_the_sample_voices_are_really_distinct() -> None:
    lines = load_lines(ROOT / "editorial_lines")
    rules = {n: line.voice_rules for n, line in lines.by_network.items()}
    assert rules["linkedin"].max_emoji == 0
    assert rules["instagram"].link is LinkPolicy.NONE
    assert rules["threads"].max_hashtags == 1
    assert len({line.voice for line in lines.by_network.values()}) == len(NETWORKS)


def test_rules_are_parsed_by_voice_and_keep_their_positions(make_lines: MakeLines) -> None:
    lines = make_lines(
        {"x/line.yaml": "voice: v\nrules:\n  link: first_comment\n  emoji: {max: 1}\n"}
    )
    line = lines.by_network["x"]
    assert line.link_policy is LinkPolicy.FIRST_COMMENT
    assert line.voice_rules.max_emoji == 1
    assert line.rule_pos("emoji", "max").line == 4


def test_a_bad_rule_is_a_finding_at_its_line(make_lines: MakeLines) -> None:
    lines = make_lines({"x/line.yaml": "voice: v\nrules:\n  link: inlined\n"})
    (finding,) = [f for f in lines.findings if f.code == "invalid-rule"]
    assert finding.line == 3
    assert finding.file.endswith("x/line.yaml")


def test_an_unknown_field_gets_a_did_you_mean(make_lines: MakeLines) -> None:
    lines = make_lines({"x/line.yaml": "voice: v\nphrase:\n  en: {a: b}\n"})
    (finding,) = [f for f in lines.findings if f.code == "unknown-field"]
    assert finding.line == 2
    assert "did you mean 'phrases'" in finding.message


def test_a_duplicate_key_is_an_error_not_a_silent_overwrite(make_lines: MakeLines) -> None:
    lines = make_lines({"x/line.yaml": "voice: one\nvoice: two\n"})
    (finding,) = [f for f in lines.findings if f.code == "duplicate-key"]
    assert finding.line == 2


def test_a_line_states_its_voice(make_lines: MakeLines) -> None:
    lines = make_lines({"x/line.yaml": "rules: {}\n"})
    assert "missing-field" in [f.code for f in lines.findings]


def test_a_network_folder_without_line_yaml_is_an_error(make_lines: MakeLines) -> None:
    lines = make_lines({"threads/default.j2": "hi"})
    (finding,) = [f for f in lines.findings if f.code == "line-missing"]
    assert finding.file.endswith("editorial_lines/threads")
    assert "threads" not in lines.by_network


def test_malformed_yaml_is_a_finding_with_its_position(make_lines: MakeLines) -> None:
    lines = make_lines({"x/line.yaml": "voice: v\nrules: [unclosed\n"})
    errors = [f for f in lines.findings if f.is_error]
    assert errors and errors[0].file.endswith("x/line.yaml") and errors[0].line >= 2


def test_a_phrase_missing_in_one_locale_is_a_warning(make_lines: MakeLines) -> None:
    yaml = "voice: v\nphrases:\n  en: {soon: Soon, ask: Ask}\n  fr: {soon: Bientôt}\n"
    lines = make_lines({"x/line.yaml": yaml})
    (finding,) = [f for f in lines.findings if f.code == "phrase-missing"]
    assert finding.severity == "warning"
    assert "'ask'" in finding.message


def test_a_missing_lines_folder_is_one_clear_error(tmp_path: Path) -> None:
    lines = load_lines(tmp_path / "nowhere")
    assert [f.code for f in lines.findings] == ["lines-missing"]


def test_a_huge_template_is_refused_before_it_is_compiled(make_lines: MakeLines) -> None:
    lines = make_lines({"x/default.j2": "x" * 200_000})
    assert "template-too-large" in [f.code for f in lines.findings]


def test_a_line_for_google_plus_is_refused_with_the_reason(make_lines: MakeLines) -> None:
    lines = make_lines({"googleplus/line.yaml": "voice: v\n", "googleplus/default.j2": "hi"})
    (finding,) = [f for f in lines.findings if f.code == "line-unknown-network"]
    assert finding.file.endswith("editorial_lines/googleplus")
    assert "2019" in finding.message
    assert "googleplus" not in lines.by_network


def test_a_line_for_an_unknown_network_is_refused(make_lines: MakeLines) -> None:
    lines = make_lines({"myspace/line.yaml": "voice: v\n"})
    assert "line-unknown-network" in [f.code for f in lines.findings]
    assert "myspace" not in lines.by_network
