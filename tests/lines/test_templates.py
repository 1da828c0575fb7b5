"""Templates per beat with a default fallback, shared macros, exported titles, link policies."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from scheduler.lines.book import LineBook
from scheduler.lines.loader import load_lines
from scheduler.lines.model import PostContext

MakeLines = Callable[..., LineBook]


def test_a_beat_with_its_own_template_uses_it(make_lines: MakeLines, ctx: PostContext) -> None:
    lines = make_lines({"x/reveal.j2": "REVEAL {{ headline }}", "x/default.j2": "DEFAULT"})
    draft = lines.render(ctx)
    assert draft.text == "REVEAL Voici le SUV du confort"
    assert draft.template.endswith("x/reveal.j2")


def test_a_beat_without_a_template_falls_back_to_default(
    make_lines: MakeLines, ctx: PostContext
) -> None:
    lines = make_lines({"x/reveal.j2": "REVEAL", "x/default.j2": "DEFAULT {{ beat }}"})
    draft = lines.render(replace(ctx, beat="countdown"))
    assert draft.text == "DEFAULT countdown"
    assert draft.template.endswith("x/default.j2")


def test_a_beat_with_neither_template_nor_default_is_a_finding(
    make_lines: MakeLines, ctx: PostContext
) -> None:
    lines = make_lines({"x/teaser.j2": "TEASER"})
    draft = lines.render(ctx)
    assert draft.text == ""
    assert [f.code for f in draft.findings] == ["template-missing"]
    assert "x/reveal.j2 or default.j2" in draft.findings[0].message


def test_a_line_without_default_template_is_warned_at_load(make_lines: MakeLines) -> None:
    lines = make_lines({"x/teaser.j2": "TEASER"})
    assert "line-no-default" in [f.code for f in lines.findings]


def test_shared_macros_are_importable_from_every_line(
    make_lines: MakeLines, ctx: PostContext
) -> None:
    lines = make_lines(
        {
            "_shared/macros.j2": "{% macro tag(t) %}#{{ t }}{% endmacro %}",
            "x/default.j2": '{% import "_shared/macros.j2" as m %}{{ m.tag(hashtags[0]) }}',
        }
    )
    assert lines.render(ctx).text == "#ComfortSUV"


def test_a_template_exports_the_title_a_network_needs(
    make_lines: MakeLines, ctx: PostContext
) -> None:
    lines = make_lines({"x/default.j2": "{% set title = headline|upper %}{{ body }}"})
    draft = lines.render(ctx)
    assert draft.title == "VOICI LE SUV DU CONFORT"
    assert draft.text == "Un habitacle calme comme une bibliothèque."


def test_phrases_speak_the_market_language_with_english_filling_gaps(
    make_lines: MakeLines, context: Callable[..., PostContext]
) -> None:
    lines = make_lines({"x/default.j2": "{{ phrases.soon }} / {{ phrases.ask }}"})
    phrases = lines.by_network["x"].phrases_for("fr")
    assert lines.render(context(phrases=phrases)).text == "Bientôt / Questions?"


def test_a_regional_locale_falls_back_to_its_language_then_english(
    make_lines: MakeLines,
) -> None:
    lines = make_lines({"x/default.j2": "x"})
    assert lines.by_network["x"].phrases_for("fr-CA")["soon"] == "Bientôt"
    assert lines.by_network["x"].phrases_for("ja")["soon"] == "Coming soon"


def test_first_comment_policy_moves_the_link_out_of_the_text(
    make_lines: MakeLines, context: Callable[..., PostContext]
) -> None:
    line = "voice: v\nrules: {link: first_comment}\n"
    lines = make_lines({"x/line.yaml": line, "x/default.j2": "{{ headline }}{{ link or '' }}"})
    tracked = "https://brand.example/suv?utm_source=x"
    draft = lines.render(context(link=None), tracked_link=tracked)
    assert draft.text == "Voici le SUV du confort"
    assert draft.first_comment == tracked
    assert draft.link == tracked


def test_no_link_policy_drops_the_link(
    make_lines: MakeLines, context: Callable[..., PostContext]
) -> None:
    lines = make_lines({"x/line.yaml": "voice: v\nrules: {link: none}\n", "x/default.j2": "hi"})
    draft = lines.render(context(link=None), tracked_link="https://brand.example/")
    assert draft.link is None
    assert draft.first_comment is None


def test_output_is_tidied_trailing_spaces_and_runs_of_blank_lines(
    make_lines: MakeLines, ctx: PostContext
) -> None:
    lines = make_lines({"x/default.j2": "\n\none   \n\n\n\ntwo\n\n"})
    assert lines.render(ctx).text == "one\n\ntwo"


def test_templates_cannot_mutate_the_context(make_lines: MakeLines, ctx: PostContext) -> None:
    lines = make_lines({"x/default.j2": "{{ hashtags.append('x') }}{% set l = [1] %}{{ l.pop() }}"})
    draft = lines.render(ctx)
    assert draft.text == ""
    assert draft.findings[0].code in {"template-undefined", "template-unsafe"}


def test_lazy_loading_compiles_only_on_first_render(
    make_lines: MakeLines, ctx: PostContext
) -> None:
    lines = make_lines({"x/default.j2": "ok", "x/teaser.j2": "{% if %}"}, eager=False)
    assert not [f for f in lines.findings if f.code == "template-syntax"]
    assert lines.render(ctx).text == "ok"


def test_compiled_templates_are_cached_and_a_changed_template_is_recompiled(
    tmp_path: Path, ctx: PostContext
) -> None:
    root, cache = tmp_path / "lines", tmp_path / "cache"
    (root / "x").mkdir(parents=True)
    (root / "x" / "line.yaml").write_text("voice: v\n", encoding="utf-8")
    (root / "x" / "default.j2").write_text("one {{ market }}", encoding="utf-8")
    assert load_lines(root, cache_dir=cache).render(ctx).text == "one fr"
    assert len(list(cache.glob("storyline-*.cache"))) == 1
    (root / "x" / "default.j2").write_text("two {{ market }}", encoding="utf-8")
    assert load_lines(root, cache_dir=cache).render(ctx).text == "two fr"
