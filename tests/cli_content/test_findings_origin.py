"""Findings point at what the writer fixes: the field that produced the text, the template's
line and column, the phrase or field by name; and say how to fix it (issue 16, item 1)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

Run = Callable[..., Result]
STORY = Path("content") / "stories" / "aurora-launch.yaml"
LONG = "with room for everyone " * 12  # 276 characters


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    """The 1-based line of ``path`` where ``needle`` is written."""
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in text:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def findings(result: Result, code: str, post: str = "") -> list[str]:
    """The lines of one finding code about one post; a finding grouped over several posts
    (``{a,b}/reveal/x/{gb,us} (8 posts):``) is read as the line of the post asked for."""
    lines = (ungrouped(line, post) for line in result.output.splitlines())
    return [ln for ln in lines if f"[{code}]" in ln and post in ln]


GROUPED = re.compile(r"\]: (.+?) \(\d+ posts\):")


def ungrouped(line: str, post: str) -> str:
    found = GROUPED.search(line)
    if not post or found is None:
        return line
    wanted = post.rstrip(":")
    named = re.split(r", | and ", found.group(1))
    ids = [i for name in named for i in expanded(name) if i == wanted or i.endswith("/" + wanted)]
    if not ids:
        return line
    return line[: found.start(1)] + ids[0] + ":" + line[found.end() :]


def expanded(name: str) -> list[str]:
    """``{a,b}/reveal/x/{gb,us}`` -> the four post ids it names."""
    ids = [""]
    for part in re.findall(r"\{[^}]*\}|[^{}]+", name):
        options = part.strip("{}").split(",") if part.startswith("{") else [part]
        ids = [i + o for i in ids for o in options]
    return ids


def test_an_x_post_too_long_points_at_the_override_that_wrote_it(run: Run, brand: Path) -> None:
    story = brand / STORY
    edit(story, "    x: {hashtags: [HoldoutAurora]}", f"    x: {{headline: 'Aurora {LONG}'}}")
    result = run("validate", root=brand)
    assert result.exit_code == 1
    (line,) = findings(result, "x-too-long", "aurora-launch/reveal/x/gb:")
    at = line_of(story, "    x: {headline:")
    assert line.startswith(f"{story}:{at}:19: error[x-too-long]: aurora-launch/reveal/x/gb: ")
    assert (
        f"; the text comes from `overrides.network.x.headline` (line {at}); shorten "
        "`overrides.network.x.headline` by 169 characters (template " in line
    )


def test_a_story_field_too_long_for_x_suggests_an_x_override(run: Run, brand: Path) -> None:
    story = brand / STORY
    edit(story, "  headline: Meet Aurora, the comfort SUV", f"  headline: Meet Aurora {LONG}")
    result = run("validate", root=brand)
    (line,) = findings(result, "x-too-long", "reveal/x/us:")
    at = line_of(story, "  headline: Meet Aurora with")
    assert line.startswith(f"{story}:{at}:13: error[x-too-long]: ")
    assert (
        f"the text comes from `story.headline` (line {at}); shorten `headline` by 174 "
        "characters, or give `overrides.network.x.headline` (template" in line
    )


def test_a_translation_too_long_suggests_the_markets_own_x_override(run: Run, brand: Path) -> None:
    story = brand / STORY
    edit(
        story, "    headline: Voici Aurora, le SUV du confort", f"    headline: Voici Aurora {LONG}"
    )
    result = run("validate", root=brand)
    (line,) = findings(result, "x-too-long", "reveal/x/fr:")
    at = line_of(story, "    headline: Voici Aurora with")
    assert line.startswith(f"{story}:{at}:15: error[x-too-long]: ")
    assert (
        f"`locales.fr.headline` (line {at}); shorten `locales.fr.headline` by 185 characters, "
        "or give `overrides.market.fr.network.x.headline`" in line
    )


def test_text_from_several_fields_names_each_of_them(run: Run, brand: Path) -> None:
    (brand / "editorial_lines" / "x" / "reveal.j2").write_text(
        "{{ headline }}\n{{ hook }}\n{{ body }}\n{{ link }}\n", encoding="utf-8"
    )
    story = brand / STORY
    result = run("validate", root=brand)
    (line,) = findings(result, "x-too-long", "aurora-launch/reveal/x/gb:")
    body, hook, headline = (
        line_of(story, "  body: >-"),
        line_of(story, "  hook: Seven seats"),
        line_of(story, "  headline: Meet Aurora"),
    )
    assert line.startswith(f"{story}:{body}:9: error[x-too-long]: ")
    assert (
        f"the text comes from `story.body` (line {body}), `story.hook` (line {hook}), "
        f"`story.headline` (line {headline}); shorten `body` by 112 characters, or give "
        "`overrides.network.x.body` (template" in line
    )


def test_a_banned_word_points_at_the_translation_that_says_it(run: Run, brand: Path) -> None:
    story = brand / STORY
    edit(story, "    hook: Sept places,", "    hook: Une remise, sept places,")
    result = run("validate", root=brand)
    assert findings(result, "banned-word", "reveal/x/fr:") == [], "X does not show the hook"
    (line,) = findings(result, "banned-word", "reveal/youtube/fr:")
    at = line_of(story, "    hook: Une remise")
    assert line.startswith(
        f"{story}:{at}:11: error[banned-word]: aurora-launch/reveal/youtube/fr: 'remise' is "
        "banned by the line (fr: 'remise'), at line "
    )
    assert f"; written in `locales.fr.hook` (line {at}) (template " in line


def test_a_banned_word_of_the_template_itself_points_at_the_template(run: Run, brand: Path) -> None:
    template = brand / "editorial_lines" / "x" / "reveal.j2"
    template.write_text("{{ headline }}\nA great deal.\n{{ link }}\n", encoding="utf-8")
    result = run("validate", root=brand)
    (line,) = findings(result, "banned-word", "aurora-launch/reveal/x/gb:")
    assert line.startswith(f"{template}:2:9: error[banned-word]: ")
    assert "; the template itself writes it (template " in line


def test_a_banned_word_of_a_phrase_points_at_the_line_yaml(run: Run, brand: Path) -> None:
    line_yaml = brand / "editorial_lines" / "x" / "line.yaml"
    edit(line_yaml, "    ask: Questions? Ask us.", "    ask: Questions? Ask us for a deal.")
    result = run("validate", root=brand)
    (line,) = findings(result, "banned-word", "aurora-launch/reveal/x/gb:")
    at = line_of(line_yaml, "    ask: Questions? Ask us for a deal.")
    assert line.startswith(f"{line_yaml}:{at}:10: error[banned-word]: ")
    assert f"; the phrase 'ask' of {line_yaml} writes it (template" in line


def test_a_template_syntax_error_has_jinjas_line_and_a_column(run: Run, brand: Path) -> None:
    template = brand / "editorial_lines" / "x" / "reveal.j2"
    template.write_text("{% if link %}\n  {{ headline }\n{% endif %}\n", encoding="utf-8")
    result = run("validate", root=brand)
    assert findings(result, "template-syntax") == [
        f"{template}:2:15: error[template-syntax]: unexpected '}}'"
    ]


def test_an_unknown_phrase_is_named_with_its_locale_line_and_the_known_ones(
    run: Run, brand: Path
) -> None:
    template = brand / "editorial_lines" / "x" / "teaser.j2"
    template.write_text("{{ hook }} {{ phrases.soon_now }}\n", encoding="utf-8")
    result = run("validate", root=brand)
    lines = findings(result, "template-undefined", "teaser/x/fr ")
    assert lines == [
        f"{template}:1:23: error[template-undefined]: unknown phrase 'soon_now' for locale fr "
        f"in {brand / 'editorial_lines' / 'x' / 'line.yaml'} (did you mean 'soon'?); known: "
        "soon, ask, help (rendering aurora-launch/teaser/x/fr and 1 other post(s))"
    ]
    assert "mappingproxy" not in result.output


def test_a_context_field_typo_gets_a_did_you_mean(run: Run, brand: Path) -> None:
    template = brand / "editorial_lines" / "x" / "reveal.j2"
    template.write_text("{{ link }}\n  {{ headlne }}\n", encoding="utf-8")
    result = run("validate", root=brand)
    (line,) = findings(result, "template-undefined")
    assert line.startswith(
        f"{template}:2:6: error[template-undefined]: 'headlne' is undefined "
        "(did you mean 'headline'?); the fields are: story, title,"
    )


def test_a_story_field_typo_is_one_finding(run: Run, brand: Path) -> None:
    story = brand / STORY
    edit(story, "  headline: Meet Aurora", "  headlin: Meet Aurora")
    result = run("validate", root=brand)
    at = line_of(story, "  headlin: Meet Aurora")
    errors = [ln for ln in result.output.splitlines() if ": error[" in ln]
    assert errors == [
        f"{story}:{at}:3: error[unknown-field]: unknown field 'headlin' in story (did you mean "
        "'headline'? it is required, and missing); known fields: headline, hook, body, facts"
    ]


def test_a_title_too_long_points_at_the_field_in_the_title(run: Run, brand: Path) -> None:
    template = brand / "editorial_lines" / "youtube" / "reveal.j2"
    edit(template, '|truncate(100, true, "…", 0)', "")
    story = brand / STORY
    edit(story, "  headline: Meet Aurora, the comfort SUV", f"  headline: Meet Aurora {LONG}")
    result = run("validate", root=brand)
    (line,) = findings(result, "youtube-title-too-long", "aurora-launch/reveal/youtube/us:")
    at = line_of(story, "  headline: Meet Aurora with")
    assert line.startswith(f"{story}:{at}:13: error[youtube-title-too-long]: ")
    assert f"; the text comes from `story.headline` (line {at}) (template" in line


def test_too_many_hashtags_point_at_the_hashtags_that_gave_them(run: Run, brand: Path) -> None:
    story = brand / STORY
    edit(story, "    x: {hashtags: [HoldoutAurora]}", "    x: {hashtags: [One, Two, Three]}")
    edit(
        brand / "editorial_lines" / "x" / "reveal.j2", "m.tags(hashtags, 1)", "m.tags(hashtags, 3)"
    )
    result = run("validate", root=brand)
    (line,) = findings(result, "too-many-hashtags", "aurora-launch/reveal/x/gb:")
    at = line_of(story, "    x: {hashtags: [One")
    assert line.startswith(f"{story}:{at}:9: error[too-many-hashtags]: ")
    assert f"; the post's hashtags come from `overrides.network.x.hashtags` (line {at})" in line


def test_a_link_the_template_leaves_out_points_at_the_template(run: Run, brand: Path) -> None:
    template = brand / "editorial_lines" / "x" / "reveal.j2"
    template.write_text("{{ headline }}\n", encoding="utf-8")
    result = run("validate", root=brand)
    (line,) = findings(result, "link-missing", "aurora-launch/reveal/x/gb:")
    assert line.startswith(f"{template}:1:1: error[link-missing]: ")
    assert "; the template does not write the link (`{{ link }}`)" in line


def test_a_field_of_another_file_is_named_with_its_file(run: Run, brand: Path) -> None:
    (brand / "editorial_lines" / "x" / "reveal.j2").write_text(
        "{{ headline }}\n{{ link }}\n{{ claim }}\n", encoding="utf-8"
    )
    story, markets = brand / STORY, brand / "content" / "markets.yaml"
    edit(story, "  headline: Meet Aurora, the comfort SUV", f"  headline: Meet Aurora {LONG}")
    result = run("validate", root=brand)
    (line,) = findings(result, "x-too-long", "aurora-launch/reveal/x/gb:")
    at = line_of(story, "  headline: Meet Aurora with")
    claim = next(
        n
        for n, text in enumerate(markets.read_text(encoding="utf-8").splitlines(), 1)
        if "claim:" in text and n > line_of(markets, "  gb:")
    )
    assert (
        f"the text comes from `story.headline` (line {at}), `markets.gb.claim` "
        f"({markets}:{claim}); shorten `headline` by" in line
    )


def test_a_required_market_field_typo_is_one_finding_and_no_cascade(run: Run, brand: Path) -> None:
    markets = brand / "content" / "markets.yaml"
    edit(markets, "    timezone: Europe/Paris", "    timezon: Europe/Paris")
    result = run("validate", root=brand)
    at = line_of(markets, "    timezon: Europe/Paris")
    problems = [ln for ln in result.output.splitlines() if ": error[" in ln or ": warning[" in ln]
    assert problems == [
        f"{markets}:{at}:5: error[unknown-field]: unknown field 'timezon' in markets.fr (did you "
        "mean 'timezone'? it is required, and missing); known fields: name, timezone, locale, "
        "claim, claim_pro, accounts, signoff, translation"
    ]


def test_a_banned_word_in_a_hashtag_points_at_the_hashtags(run: Run, brand: Path) -> None:
    story = brand / STORY
    edit(story, "    x: {hashtags: [HoldoutAurora]}", "    x: {hashtags: [Deal]}")
    result = run("validate", root=brand)
    (line,) = findings(result, "banned-word", "aurora-launch/reveal/x/gb:")
    at = line_of(story, "    x: {hashtags: [Deal]}")
    assert line.startswith(f"{story}:{at}:9: error[banned-word]: ")
    assert f"; written in `overrides.network.x.hashtags` (line {at})" in line


def test_a_media_attribute_typo_names_what_a_media_item_has(run: Run, brand: Path) -> None:
    template = brand / "editorial_lines" / "x" / "reveal.j2"
    template.write_text("{{ headline }} {{ media[0].alt_txt }}\n{{ link }}\n", encoding="utf-8")
    result = run("validate", root=brand)
    (line,) = findings(result, "template-undefined")
    assert line.startswith(
        f"{template}:1:28: error[template-undefined]: a media item has no attribute 'alt_txt' "
        "(did you mean 'alt'?); it has: file, alt, kind (rendering "
    )
