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

from scheduler.config import Settings
from scheduler.content import load_content
from scheduler.diagnostics import sort_findings
from scheduler.errors import NotFound
from scheduler.lines import load_lines
from scheduler.planning import ALL, Plan, Selection, plan


def load_plan(settings: Settings, now: datetime, selection: Selection = ALL) -> Plan:
    """Load the editorial lines and the content named by ``settings``, and plan them.

    The plan's findings are everything found on the way — lines, content, rendering,
    checks — in reading order. Nothing raises for bad content; a story the selection names
    but the content does not hold raises :class:`~scheduler.errors.NotFound`, with the
    closest ids, because that is a typo on the command line, not in the content.
    """
    # Planning everything (validate, sync) compiles every template so none hides a syntax
    # error; a preview of some stories compiles only the templates it renders.
    lines = load_lines(
        settings.lines_dir,
        eager=selection.stories is None,
        cache_dir=settings.data_dir / "cache" / "templates",
    )
    content = load_content(settings.content_dir, networks=tuple(lines.lines))
    if selection.stories is not None:
        missing = sorted(selection.stories - set(content.stories))
        if missing:
            raise NotFound(_unknown_story(missing[0], sorted(content.stories)))
    planned = plan(content, lines, now, selection)
    findings = sort_findings((*lines.findings, *content.findings, *planned.findings))
    return replace(planned, findings=tuple(findings))


def _unknown_story(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    if close:
        return f"no story {name!r}; did you mean: {', '.join(close)}?"
    if known:
        shown = ", ".join(known[:10]) + (", ..." if len(known) > 10 else "")
        return f"no story {name!r}; the stories are: {shown}"
    return f"no story {name!r}: the content has no stories"
