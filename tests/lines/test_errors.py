"""Template mistakes and attacks become findings naming the template file and line."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from scheduler.lines.book import LineBook
from scheduler.lines.model import PostContext

MakeLines = Callable[..., LineBook]


def test_an_undefined_variable_names_the_template_file_and_line(
    make_lines: MakeLines, ctx: PostContext
) -> None:
    lines = make_lines({"x/default.j2": "first line\n{{ headline }}\n{{ subtitle }}\n"})
    (finding,) = lines.render(ctx).findings
    assert finding.code == "template-undefined"
    assert finding.file.endswith("editorial_lines/x/default.j2")
    assert finding.line == 3
    assert "'subtitle' is undefined" in finding.message
    assert "suv/reveal/x/fr" in finding.message


def test_an_undefined_variable_in_a_shared_macro_names_the_macro_file(
    make_lines: MakeLines, ctx: PostContext
) -> None:
    lines = make_lines(
        {
            "_shared/macros.j2": "{% macro sig() %}\n\n{{ signature }}{% endmacro %}",
            "x/default.j2": '{% import "_shared/macros.j2" as m %}\n{{ m.sig() }}',
        }
    )
    (finding,) = lines.render(ctx).findings
    assert finding.file.endswith("_shared/macros.j2")
    assert finding.line == 3


def test_a_missing_phrase_is_an_undefined_error_at_its_line(
    make_lines: MakeLines, ctx: PostContext
) -> None:
    lines = make_lines({"x/default.j2": "{{ phrases.soon }}\n{{ phrases.nope }}"})
    (finding,) = lines.render(ctx).findings
    assert (finding.code, finding.line) == ("template-undefined", 2)


def test_a_syntax_error_is_reported_at_load_with_its_position(make_lines: MakeLines) -> None:
    lines = make_lines({"x/default.j2": "ok\n\n{% if headline %}\nno end"})
    (finding,) = [f for f in lines.findings if f.code == "template-syntax"]
    assert finding.file.endswith("x/default.j2")
    assert finding.line == 4
    assert "endif" in finding.message


def test_a_broken_beat_template_does_not_silently_fall_back_to_default(
    make_lines: MakeLines, ctx: PostContext
) -> None:
    lines = make_lines({"x/reveal.j2": "{{ headline", "x/default.j2": "default"})
    draft = lines.render(ctx)
    assert draft.text == ""
    assert draft.findings[0].code == "template-syntax"
    assert draft.findings[0].file.endswith("x/reveal.j2")


ESCAPES = [
    "{{ ''.__class__.__mro__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ cycler.__init__.__globals__ }}",
    "{{ joiner.__init__.__globals__.os }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{{ hashtags.__class__.__base__.__subclasses__() }}",
    "{{ ''['__class__'] }}",
    "{{ '{0.__class__}'.format(headline) }}",
    "{{ due_local.__class__.__init__.__globals__ }}",
]


@pytest.mark.parametrize("source", ESCAPES)
def test_reaching_python_internals_is_refused_as_a_finding(
    make_lines: MakeLines, ctx: PostContext, source: str
) -> None:
    lines = make_lines({"x/default.j2": f"line one\n{source}\n"})
    draft = lines.render(ctx)
    assert draft.text == ""
    (finding,) = draft.findings
    assert finding.code == "template-unsafe"
    assert finding.file.endswith("x/default.j2")
    assert finding.line == 2


def test_lipsum_and_other_builtins_that_make_text_from_nothing_are_gone(
    make_lines: MakeLines, ctx: PostContext
) -> None:
    lines = make_lines({"x/default.j2": "{{ lipsum(1000) }}"})
    assert lines.render(ctx).findings[0].code == "template-undefined"


BOMBS = {
    "huge range": "{% for i in range(10**9) %}x{% endfor %}",
    "nested loops": "{% for a in range(1000) %}{% for b in range(1000) %}{% endfor %}{% endfor %}",
    "string repeat": "{{ 'a' * 10**9 }}",
    "list repeat": "{{ ([1] * 10**8)|length }}",
    "huge power": "{{ 10 ** 1000000 }}",
    "power tower": "{{ (2 ** 64) ** 64 ** 64 }}",
    "doubling concat": (
        "{% set ns = namespace(s='ab') %}{% for i in range(64) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}"
    ),
    "wide center": "{{ headline|center(10**9) }}",
    "wide printf": "{{ '%999999999s' % headline }}",
    "wide format": "{{ '{:>999999999}'.format(headline) }}",
    "ljust": "{{ headline.ljust(10**9) }}",
    "replace growth": "{% set s = 'a' * 1000 %}{{ s.replace('a', s).replace('a', s) }}",
    "join growth": "{% set s = 'a' * 40000 %}{{ ''.join([s, s, s]) }}",
    "batch padding": "{{ facts|batch(10**9, 'x')|list|length }}",
    "exponential macro": (
        "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}"
    ),
    "endless output": "{% for i in range(1000) %}{{ 'x' * 5000 }}{% endfor %}",
    "doubling set block": (
        "{% set ns = namespace(s='ab') %}{% for i in range(64) %}"
        "{% set ns.s %}{{ ns.s }}{{ ns.s }}{% endset %}{% endfor %}{{ ns.s|length }}"
    ),
    "doubling filtered set block": (
        "{% set ns = namespace(s='ab') %}{% for i in range(64) %}"
        "{% set ns.s | trim %}{{ ns.s }}{{ ns.s }}{% endset %}{% endfor %}{{ ns.s|length }}"
    ),
    "quadratic list growth": (
        "{% set ns = namespace(l=[]) %}{% for i in range(1000) %}{% for j in range(100) %}"
        "{% set ns.l = ns.l + [1] %}{% endfor %}{% endfor %}"
    ),
    "sorting a big list again and again": (
        "{% set l = range(1000)|list %}{% for i in range(1000) %}{{ (l * 40)|sort|length }}"
        "{% endfor %}"
    ),
    "slow filters on big text in a loop": (
        "{% for i in range(1000) %}{{ ('a ' * 20000)|wordwrap(1)|length }}{% endfor %}"
    ),
}


@pytest.mark.parametrize("source", BOMBS.values(), ids=BOMBS.keys())
def test_resource_bombs_are_stopped_quickly_as_findings(
    make_lines: MakeLines, ctx: PostContext, source: str
) -> None:
    lines = make_lines({"x/default.j2": source})
    started = time.perf_counter()
    draft = lines.render(ctx)
    assert time.perf_counter() - started < 5
    assert draft.text == ""
    assert draft.findings[0].code == "template-budget", draft.findings


def test_a_budget_is_per_render_not_per_load(make_lines: MakeLines, ctx: PostContext) -> None:
    lines = make_lines({"x/default.j2": "{% for i in range(900) %}.{% endfor %}"})
    for market in ("fr", "de", "gb", "it", "hu", "br", "cn", "us", "jp", "es") * 20:
        assert lines.render(replace(ctx, market=market)).ok


def test_ordinary_arithmetic_and_formatting_still_work(
    make_lines: MakeLines, ctx: PostContext
) -> None:
    lines = make_lines(
        {
            "x/default.j2": "{{ 2 ** 10 }} {{ '%05.1f' % 3.14159 }} {{ '{:>4}'.format(7) }} "
            "{{ '-' * 3 }} {{ facts|join(', ') }} {{ range(3)|list }}"
        }
    )
    assert lines.render(ctx).text == "1024 003.1    7 --- 7 places, 600 km [0, 1, 2]"
