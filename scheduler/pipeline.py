"""The I/O edge of the content pipeline: read the lines and the content, then plan.

``content`` -> ``lines`` -> ``planning`` is a pipeline of pure steps (the Pelican shape); this
module is the one place that reads folders for them, so ``validate``, ``preview``, ``plan``,
``sync`` and ``run`` all see exactly the same posts. It imports nothing heavy (no database,
no broker, no HTTP client): ``storyline preview`` must start fast.
"""

from __future__ import annotations

import difflib
from dataclasses import replace
from datetime import datetime
from pathlib import PurePath

from scheduler.config import Settings
from scheduler.content import Content, load_content
from scheduler.diagnostics import sort_findings
from scheduler.errors import ContentError, NotFound
from scheduler.lines import Lines, load_lines
from scheduler.planning import ALL, Plan, Selection, plan


def load_plan(settings: Settings, now: datetime, selection: Selection = ALL) -> Plan:
    """Load the editorial lines and the content named by ``settings``, and plan them.

    The plan's findings are everything found on the way — lines, content, rendering,
    checks — in reading order. Nothing raises for bad content; a story, network, market or
    beat the selection names but the content does not hold raises
    :class:`~scheduler.errors.NotFound` with the closest names (a typo on the command line,
    not in the content), and a selected story that fails to load raises
    :class:`~scheduler.errors.ContentError` with its findings.
    """
    # Planning everything (validate, sync) compiles every template so none hides a syntax
    # error; a preview of some stories compiles only the templates it renders.
    lines = load_lines(
        settings.lines_dir,
        eager=selection.stories is None,
        cache_dir=settings.data_dir / "cache" / "templates",
    )
    content = load_content(settings.content_dir, networks=tuple(lines.lines))
    _check_selection(selection, content, lines)
    planned = plan(content, lines, now, selection)
    findings = sort_findings((*lines.findings, *content.findings, *planned.findings))
    return replace(planned, findings=tuple(findings))


def _check_selection(selection: Selection, content: Content, lines: Lines) -> None:
    """A name on the command line that matches nothing is a typo: say so, with suggestions.

    A story whose file exists but does not load is not "unknown": its findings are the answer.
    """
    for name in sorted(selection.stories or ()):
        if name in content.stories:
            continue
        own = [f for f in content.findings if PurePath(f.file).stem == name and f.is_error]
        if own:
            raise ContentError(own, f"story {name!r} has errors: fix them to preview it")
        raise NotFound(_unknown("story", name, sorted(content.stories)))
    known = {
        "network": sorted(lines.lines),
        "market": sorted(content.markets),
        "beat": sorted({b.name for s in content.stories.values() for b in s.beats}),
    }
    for kind, chosen in (
        ("network", selection.networks),
        ("market", selection.markets),
        ("beat", selection.beats),
    ):
        for name in sorted(chosen or ()):
            if name not in known[kind]:
                raise NotFound(_unknown(kind, name, known[kind]))


def _unknown(kind: str, name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    if close:
        return f"no {kind} {name!r}; did you mean: {', '.join(close)}?"
    if known:
        shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        return f"no {kind} {name!r}; the {kind}s are: {shown}"
    return f"no {kind} {name!r}: there are none"
