"""Resource bombs in templates: refused quickly, with a finding, in bounded memory.

A template is rendered for every post of every validate, preview and sync, so a template that
asks for a billion of anything must be stopped by the render budget of
:mod:`scheduler.lines` before it costs real time or memory. Wall time is measured in-process
(< 2 s); memory in a fresh interpreter (growth of the peak RSS, ``VmHWM``, < 200 MB), with
an address-space limit as a safety net so that a regression cannot take the machine down.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
MAX_SECONDS = 2.0
MAX_RSS_GROWTH_MB = 200

#: name -> template source: each asks for far more work or memory than any post needs.
BOMBS: dict[str, str] = {
    "repeat a string 10**9 times": "{{ 'x' * 10**9 }}",
    "repeat a list 10**9 times": "{{ [1] * 10**9 }}",
    "range of 10**9": "{% for i in range(10**9) %}{{ i }}{% endfor %}",
    "three nested loops of 1000": (
        "{% for a in range(1000) %}{% for b in range(1000) %}{% for c in range(1000) %}"
        "{% endfor %}{% endfor %}{% endfor %}"
    ),
    "center to 10**9": "{{ 'a'|center(10**9) }}",
    "indent by 10**9": "{{ 'x'|indent(10**9) }}",
    "str.join of 999 near-limit strings": "{{ ','.join(['x' * 49999] * 999) }}",
    "macro recursion": "{% macro r(n) %}{{ r(n) }}{% endmacro %}{{ r(1) }}",
    "printf width 999999999": "{{ '%999999999s' % 'x' }}",
    "format width 999999999": "{{ '{:>999999999}'.format('x') }}",
    "format repeats a field": "{{ '{0}{0}{0}{0}{0}{0}{0}{0}{0}{0}'.format('x' * 49000) }}",
    "concatenation doubling": (
        "{% set s = namespace(v='x') %}{% for i in range(60) %}{% set s.v = s.v ~ s.v %}"
        "{% endfor %}{{ s.v }}"
    ),
    "integer tower": "{{ ((2**64)**64)**64 }}",
    "exponent 10**9": "{{ 2 ** (10**9) }}",  # Jinja's ** is left-associative: parenthesise
    "output over the post limit": "{% for i in range(999) %}{{ 'x' * 999 }}{% endfor %}",
    "batch into a huge list": "{{ ('ab' * 20000)|batch(9999)|list }}",
}
#: Filters that multiply their input by a string argument: refused before the huge value is
#: built (finding S1 in docs/security.md: it used to cost ~380 MB and 1-2.5 s each).
AMPLIFIERS: dict[str, str] = {
    "join filter with a huge separator": "{{ ('x' * 40000)|list|join('y' * 9999) }}",
    "replace filter into every gap": "{{ ('y' * 40000)|replace('', 'x' * 9999) }}",
    "indent filter with a huge prefix": "{{ ('a\\n' * 20000)|indent('x' * 9999) }}",
}
#: The bombs whose memory is measured in a subprocess (each costs an interpreter start).
MEASURED = {
    **{
        name: BOMBS[name]
        for name in (
            "repeat a string 10**9 times",
            "str.join of 999 near-limit strings",
            "macro recursion",
            "concatenation doubling",
        )
    },
    **AMPLIFIERS,
}

RenderTemplate = Callable[[str], Any]


@pytest.mark.parametrize("source", BOMBS.values(), ids=BOMBS.keys())
def test_a_template_bomb_is_refused_with_a_finding_in_under_two_seconds(
    render_template: RenderTemplate, source: str
) -> None:
    started = time.perf_counter()
    rendered = render_template(source)
    elapsed = time.perf_counter() - started
    assert elapsed < MAX_SECONDS, f"{elapsed:.2f}s"
    (finding,) = rendered.draft.findings
    assert finding.code == "template-budget", finding
    assert finding.file == rendered.template.as_posix()
    assert rendered.draft.text == ""


_MEASURE = textwrap.dedent(
    """
    import json, resource, sys
    from datetime import datetime
    from pathlib import Path
    from dataclasses import replace
    from types import MappingProxyType

    # A safety net: a regression fails with MemoryError instead of exhausting the machine.
    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024**3, 3 * 1024**3))
    from scheduler.core.model import Media
    from scheduler.lines.loader import load_lines
    from scheduler.lines.model import PostContext

    root = Path(sys.argv[1])
    lines = load_lines(root)
    ctx = PostContext(
        story="suv", title="t", campaign="c", audience="public", beat="reveal", network="x",
        market="fr", market_name="France", locale="fr", timezone="UTC", account_name="B",
        account_handle=None, headline="h", hook="", body="", facts=(), hashtags=(), link=None,
        claim=None, media=(Media("media/a.jpg", "a"),), due_local=datetime(2027, 1, 1),
        phrases=MappingProxyType({}),
    )
    def peak_kib():
        # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across execve, so a child started by a
        # big parent (pytest after an in-process bomb) would inherit the parent's peak.
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmHWM:")[1].split()[0])

    lines.render(replace(ctx, beat="teaser"))  # warm up on default.j2: imports, first render
    before = peak_kib()
    draft = lines.render(ctx)
    after = peak_kib()
    print(json.dumps({"kib": after - before, "codes": [f.code for f in draft.findings]}))
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("source", MEASURED.values(), ids=MEASURED.keys())
def test_a_template_bomb_is_refused_in_bounded_memory(tmp_path: Path, source: str) -> None:
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "line.yaml").write_text("voice: v\n", encoding="utf-8")
    (tmp_path / "x" / "reveal.j2").write_text(source + "\n", encoding="utf-8")
    (tmp_path / "x" / "default.j2").write_text("{{ headline }}\n", encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert result["codes"] == ["template-budget"]
    assert result["kib"] / 1024 < MAX_RSS_GROWTH_MB, f"peak RSS grew {result['kib'] // 1024} MB"
