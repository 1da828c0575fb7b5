"""Editorial-line templates are untrusted: known Jinja sandbox escapes are refused as findings.

Each payload is written into a real editorial line and rendered through the real loader
(:func:`scheduler.lines.loader.load_lines` + ``LineBook.render``). Every one must come back as
an error finding naming the template file and the payload's line, produce no text, run nothing (the
payloads that reach ``os`` would create a file in the working directory) and show nothing of
Python's internals (no class, module or function reprs, no addresses, no file contents).
The list is reproduced in docs/security.md.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = Path(__file__).resolve().parents[2]
REFUSED = {"template-unsafe", "template-undefined", "template-error"}
LEAK = re.compile(
    r"<(class|module|function|built-in|bound method|frame|code)\b"
    r"|object at 0x[0-9a-fA-F]+|root:x:0:0|'__builtins__'|\{'__name__'"
)

#: name -> template source. ``touch MARK`` would create ``MARK`` in the working directory.
ESCAPES: dict[str, str] = {
    # CVE-2016-10745: str.format reaches attributes through the format string.
    "cve-2016-10745 format": '{{ "{0.__class__}".format(headline) }}',
    "cve-2016-10745 format globals": '{{ "{0.__init__.__globals__}".format(cycler) }}',
    "format field index": '{{ "{0[__class__]}".format(phrases) }}',
    # CVE-2019-10906: the same through str.format_map.
    "cve-2019-10906 format_map": '{{ "{x.__class__.__mro__}".format_map({"x": headline}) }}',
    # CVE-2024-56326: an indirect reference to format, called later.
    "cve-2024-56326 indirect format": (
        '{% set f = "{0.__class__.__init__.__globals__}".format %}{{ f(1) }}'
    ),
    "cve-2024-56326 indirect format on a field": (
        '{% set f = "{0.__class__}".format %}{{ f(headline) }}'
    ),
    # CVE-2025-27516: the attr filter fetches format past the sandbox's check.
    "cve-2025-27516 attr format": '{{ "{0.__class__}"|attr("format")(headline) }}',
    "cve-2025-27516 attr format globals": (
        '{{ ("{0.__init__.__globals__}"|attr("format"))(cycler) }}'
    ),
    # The classic walks to subprocess.Popen.
    "str mro subclasses": "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "tuple base subclasses": "{{ ().__class__.__base__.__subclasses__() }}",
    "list subclasses in a loop": (
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}"
    ),
    "cycler globals os": "{{ cycler.__init__.__globals__.os.system('touch MARK') }}",
    "joiner globals os": "{{ joiner.__init__.__globals__.os.popen('touch MARK').read() }}",
    "namespace globals os": "{{ namespace.__init__.__globals__.os.system('touch MARK') }}",
    "namespace smuggling": (
        "{% set ns = namespace() %}{% set ns.f = cycler.__init__ %}{{ ns.f.__globals__ }}"
    ),
    "lipsum globals os": "{{ lipsum.__globals__.os.system('touch MARK') }}",
    "range globals": "{{ range.__globals__ }}",
    "self template reference context": "{{ self._TemplateReference__context }}",
    "self init globals": "{{ self.__init__.__globals__ }}",
    "macro globals": "{% macro m() %}{% endmacro %}{{ m.__init__.__globals__ }}",
    "macro func": "{% macro m() %}{% endmacro %}{{ m._func.__globals__ }}",
    "loop cycle func": "{% for x in [1] %}{{ loop.cycle.__func__.__globals__ }}{% endfor %}",
    "flask request": (
        "{{ request.application.__globals__.__builtins__.__import__('os').system('touch MARK') }}"
    ),
    "flask config": "{{ config.items() }}",
    "attr filter dunder": "{{ headline|attr('__class__') }}",
    "getattribute": "{{ headline.__getattribute__('__class__') }}",
    "map attribute dunder": "{{ [headline]|map(attribute='__class__')|list }}",
    "selectattr dunder": "{{ [headline]|selectattr('__class__')|list }}",
    "printf of a class": "{{ '%s' % headline.__class__ }}",
    "datetime tzinfo class": "{{ due_local.tzinfo.__class__ }}",
    "media item internals": "{{ media[0].__class__.__init__.__globals__ }}",
    "mutate the phrases": "{{ phrases.update({'a': 'b'}) }}",
    "mutate a list": "{% set l = [] %}{{ l.append(1) }}",
    "include an absolute path": '{% include "/etc/passwd" %}',
    "include a relative escape": '{% include "../../../../etc/passwd" %}',
    "import the line's yaml": '{% import "x/line.yaml" as l %}{{ l }}',
    "extends an absolute path": '{% extends "/etc/passwd" %}',
}

RenderTemplate = Callable[[str], Any]


@pytest.mark.parametrize("source", ESCAPES.values(), ids=ESCAPES.keys())
def test_a_known_sandbox_escape_is_refused_as_a_finding_at_its_line(
    render_template: RenderTemplate, source: str
) -> None:
    rendered = render_template(source)
    (finding,) = rendered.draft.findings
    assert finding.is_error
    assert finding.code in REFUSED, finding
    assert Path(finding.file) == rendered.template
    assert finding.line == 2  # the payload's line, under the comment line
    assert rendered.draft.text == ""


@pytest.mark.parametrize("source", ESCAPES.values(), ids=ESCAPES.keys())
def test_a_known_sandbox_escape_runs_nothing_and_leaks_nothing(
    render_template: RenderTemplate, source: str
) -> None:
    rendered = render_template(source)
    assert list(rendered.workdir.iterdir()) == []  # no MARK: nothing was executed
    said = rendered.draft.text + "".join(f.message for f in rendered.draft.findings)
    assert not LEAK.search(said), said


def test_the_loader_renders_with_the_immutable_sandbox(render_template: RenderTemplate) -> None:
    rendered = render_template("{{ headline }}")
    assert isinstance(rendered.lines.env, ImmutableSandboxedEnvironment)
    assert rendered.draft.text == "Voici le SUV du confort"


def test_an_unsafe_attribute_collected_in_a_list_is_refused_not_printed_as_undefined(
    render_template: RenderTemplate,
) -> None:
    """``map(attribute=...)`` keeps an unsafe attribute as an undefined value; printed in a
    list it would read ``[Undefined]`` in a real post unless the sandbox refuses it."""
    rendered = render_template("{{ [headline]|map(attribute='__class__')|list }}")
    assert [f.code for f in rendered.draft.findings] == ["template-unsafe"]


def test_an_undefined_value_inside_a_list_is_refused_not_printed_as_undefined(
    render_template: RenderTemplate,
) -> None:
    """StrictUndefined raises when printed, but Jinja's does not in ``repr`` (used when a list
    or dict is printed): a typo inside a list literal, or a missing attribute collected by
    ``map``, would reach the post as ``[Undefined]``."""
    rendered = render_template("{{ [headlin] }} {{ [headline]|map(attribute='nope')|list }}")
    assert "Undefined" not in rendered.draft.text
    assert [f.code for f in rendered.draft.findings] == ["template-undefined"]


def test_the_installed_jinja2_has_the_2025_sandbox_fixes() -> None:
    assert _version_tuple(version("jinja2")) >= (3, 1, 6)


def test_pyproject_pins_jinja2_at_least_3_1_6() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = [d for d in project["dependencies"] if re.match(r"(?i)jinja2\b", d)]
    assert len(pins) == 1
    match = re.fullmatch(r"(?i)jinja2\s*>=\s*([0-9.]+)(\s*,\s*<\s*[0-9.]+)?", pins[0].strip())
    assert match is not None, pins[0]
    assert _version_tuple(match.group(1)) >= (3, 1, 6)


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])
