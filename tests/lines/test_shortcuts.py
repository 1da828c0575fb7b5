"""The speed shortcuts of the lines layer change nothing a template can see.

Each shortcut is one function beside its plain version (``scheduler/lines/sandbox.py``:
``FastLineEnvironment``'s ``make_globals``, ``call`` and ``getattr`` over ``LineEnvironment``'s;
``scheduler/lines/loader.py``: ``_bytecode_cache`` over no cache). Templates drawn by Hypothesis
from the constructs they touch — globals, a template's own and imported macros, loop
variables, phrases, macro modules, names that are safe, unsafe, missing or a mapping's own
methods — render to the same text, or fail the same way, with and without each shortcut.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import Environment

from scheduler.lines import sandbox
from scheduler.lines.loader import load_lines
from scheduler.lines.model import Draft, PostContext
from scheduler.lines.sandbox import (
    FastLineEnvironment,
    LineEnvironment,
    PreloadedLoader,
    run_budgeted,
)

from .conftest import _make_context

MACROS = """\
{% macro tags(hashtags, limit=3) -%}
{%- for tag in hashtags[:limit] %}#{{ tag }}{% if not loop.last %} {% endif %}{% endfor -%}
{%- endmacro %}
{% macro twice(x) %}{{ x }}{{ x }}{% endmacro %}
{% set answer = 42 %}
{% set fmt = "{0.__class__}".format %}
"""

#: Attribute names: of a loop, of a macro module, of a mapping, private, dunder, missing.
NAMES = st.sampled_from(
    [
        "index",
        "index0",
        "first",
        "last",
        "length",
        "revindex",
        "cycle",
        "changed",
        "depth",
        "tags",
        "twice",
        "answer",
        "fmt",
        "soon",
        "ask",
        "get",
        "keys",
        "items",
        "copy",
        "format",
        "missing",
        "_private",
        "__class__",
        "__dict__",
        "_Context__self",
    ]
)


@st.composite
def fragments(draw: st.DrawFn) -> str:
    name = draw(NAMES)
    n = draw(st.integers(min_value=-2, max_value=4))
    return draw(
        st.sampled_from(
            [
                f"{{{{ phrases.{name} }}}}",
                f"{{{{ phrases['{name}'] }}}}",
                f"{{% for f in facts %}}{{{{ loop.{name} }}}}{{{{ f }}}}{{% endfor %}}",
                "{% for f in facts %}{{ loop.cycle('a', 'b') }}{% endfor %}",
                f"{{{{ m.{name} }}}}",
                f"{{{{ m.tags(hashtags, {n}) }}}}",
                "{{ m.twice(headline) }}",
                f"{{{{ own(headline, {n}) }}}}",
                f"{{{{ own(limit={n}) }}}}",
                f"{{{{ range({n})|list }}}}",
                "{{ dict(a=1) }}",
                "{{ namespace(a=1).a }}",
                "{{ cycler(1, 2).next() }}",
                "{{ joiner(', ')() }}",
                f"{{{{ '{{}}!'.format({name!r}) }}}}",
                f"{{{{ headline.{name} }}}}",
                f"{{{{ {name} }}}}",
                f"{{% set x = {n} %}}{{{{ x }}}}",
            ]
        )
    )


#: Templates: the constructs above in any order, with a macro of the template's own.
TEMPLATES = st.lists(fragments(), min_size=1, max_size=6).map(
    lambda parts: (
        '{% import "_shared/m.j2" as m %}'
        "{% macro own(x='-', limit=2) %}<{{ x }}:{{ limit }}>{% endmacro %}" + "\n".join(parts)
    )
)

PHRASES = st.dictionaries(
    st.sampled_from(["soon", "ask", "get", "keys", "items", "copy", "_private", "format"]),
    st.text(max_size=5),
    max_size=4,
)


class _Recorded(sandbox._Budget):
    """The render budget, remembered: a shortcut must charge what the plain sandbox does."""

    last: sandbox._Budget | None = None

    def __init__(self, units: int) -> None:
        super().__init__(units)
        _Recorded.last = self


def _outcome(env: Environment, source: str, variables: dict[str, Any]) -> tuple[object, ...]:
    """What one render gives: its text, or the kind and message of its failure; and its cost."""
    plain_budget, sandbox._Budget = sandbox._Budget, _Recorded  # type: ignore[misc]
    try:
        template = env.from_string(source)
        text, exported = run_budgeted(template, variables)
    except Exception as exc:  # every failure is compared, not raised
        outcome: tuple[object, ...] = ("fails", type(exc).__name__, _no_address(str(exc)))
    else:
        outcome = ("renders", _no_address(text), _no_address(repr(sorted(exported))))
    finally:
        sandbox._Budget = plain_budget  # type: ignore[misc]
    spent = None if _Recorded.last is None else sandbox.MAX_WORK - _Recorded.last.left
    _Recorded.last = None
    return (*outcome, spent)


def _no_address(text: str) -> str:
    """Objects printed with their id (a bound method, a loop) differ only by address."""
    return re.sub(r" at 0x[0-9a-f]+", "", text)


def _env(kind: type[LineEnvironment]) -> LineEnvironment:
    return kind(PreloadedLoader({"_shared/m.j2": (MACROS, "_shared/m.j2")}))


#: Each shortcut alone on the plain sandbox, and all of them (what the loader builds).
SHORTCUTS = {
    name: type(f"Only_{name}", (LineEnvironment,), {name: getattr(FastLineEnvironment, name)})
    for name in ("make_globals", "call", "getattr")
} | {"all": FastLineEnvironment}


@pytest.mark.parametrize("shortcut", sorted(SHORTCUTS))
@settings(max_examples=150, deadline=None)
@given(source=TEMPLATES, phrases=PHRASES, facts=st.lists(st.text(max_size=3), max_size=3))
def test_a_sandbox_shortcut_renders_what_the_plain_sandbox_renders(
    shortcut: str, source: str, phrases: dict[str, str], facts: list[str]
) -> None:
    ctx: PostContext = _make_context(phrases=MappingProxyType(phrases), facts=tuple(facts))
    variables = ctx.as_template_vars()
    plain = _outcome(_env(LineEnvironment), source, variables)
    assert _outcome(_env(SHORTCUTS[shortcut]), source, variables) == plain


@settings(max_examples=25, deadline=None)
@given(source=TEMPLATES, phrases=PHRASES)
def test_templates_read_from_the_compiled_cache_render_as_freshly_compiled_ones(
    source: str, phrases: dict[str, str]
) -> None:
    ctx = _make_context(phrases=MappingProxyType(phrases))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "lines"
        (root / "x").mkdir(parents=True)
        (root / "_shared").mkdir()
        (root / "x" / "line.yaml").write_text("voice: v\n", encoding="utf-8")
        (root / "x" / "default.j2").write_text(source, encoding="utf-8")
        (root / "_shared" / "m.j2").write_text(MACROS, encoding="utf-8")
        cache = Path(tmp) / "cache"
        plain = load_lines(root).render(ctx)
        writes = load_lines(root, cache_dir=cache).render(ctx)
        assert any(cache.glob("storyline-*.cache"))  # the macros compile, whatever the template
        reads = load_lines(root, cache_dir=cache).render(ctx)
    assert _same(writes) == _same(plain)
    assert _same(reads) == _same(plain)


def _same(draft: Draft) -> Draft:
    return replace(draft, text=_no_address(draft.text))
