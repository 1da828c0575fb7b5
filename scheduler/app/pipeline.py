"""The I/O edge of the content pipeline: read the lines and the content, then plan.

``content`` -> ``lines`` -> ``planning`` is a pipeline of pure steps (the Pelican shape); this
module is the one place that reads folders for them, so ``validate``, ``preview``, ``plan``,
``sync`` and ``run`` all see exactly the same posts. It imports nothing heavy (no database,
no broker, no HTTP client): ``storyline preview`` must start fast.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path, PurePath

from scheduler.app.settings import Settings
from scheduler.content.approvals import load_approvals, media_digests
from scheduler.content.loader import load_content
from scheduler.core.diagnostics import Finding, sort_findings
from scheduler.core.errors import ContentError, NotFound
from scheduler.core.memory import paused_gc
from scheduler.core.model import Content
from scheduler.core.selectors import check_names
from scheduler.core.suggest import unknown
from scheduler.lines.book import LineBook
from scheduler.lines.loader import load_lines
from scheduler.planning.plan import ALL, Plan, Selection, blocking, plan
from scheduler.planning.signoff import apply_signoff, needs_signoff
from scheduler.text import xlength

#: Told (phase, done, total) as the work goes: "loading" story files, then "checking" stories.
Progress = Callable[[str, int, int], None]


def load_plan(
    settings: Settings,
    now: datetime,
    selection: Selection = ALL,
    *,
    progress: Progress | None = None,
) -> Plan:
    """Load the editorial lines and the content named by ``settings``, and plan them.

    The plan's findings are everything found on the way — lines, content, rendering,
    checks — in reading order. Nothing raises for bad content; a story, network, market or
    beat the selection names but the content does not hold raises
    :class:`~scheduler.core.errors.NotFound` with the closest names (a typo on the command line,
    not in the content), and a selected story that fails to load raises
    :class:`~scheduler.core.errors.ContentError` with its findings.
    """
    with paused_gc():  # loading a year of YAML allocates as planning does
        return _load_plan(settings, now, selection, progress)


def _phase(progress: Progress | None, phase: str) -> Callable[[int, int], None] | None:
    if progress is None:
        return None
    return lambda done, total: progress(phase, done, total)


def _load_plan(
    settings: Settings, now: datetime, selection: Selection, progress: Progress | None = None
) -> Plan:
    # Planning everything (validate, sync) compiles every template so none hides a syntax
    # error; a preview of some stories compiles only the templates it renders.
    lines = load_lines(
        settings.lines_dir,
        eager=selection.stories is None,
        cache_dir=settings.data_dir / "cache" / "templates",
    )
    content = load_content(
        settings.content_dir, networks=lines.networks, progress=_phase(progress, "loading")
    )
    _check_selection(selection, content, lines)
    x_cache = settings.data_dir / "cache" / X_LENGTHS_FILE
    xlength.remember_x_lengths(_read_x_lengths(x_cache))
    planned = plan(content, lines, now, selection, progress=_phase(progress, "checking"))
    _write_x_lengths(x_cache)
    planned = with_signoff(planned, content, settings.content_dir, whole=selection == ALL)
    # A template that does not compile was reported when the lines were read: its posts'
    # copy of that finding (grouped, "rendering ... and 25 other post(s)") says it twice.
    known = {(f.file, f.line, f.column, f.code) for f in lines.findings}
    rendered = [f for f in planned.findings if (f.file, f.line, f.column, f.code) not in known]
    findings = sort_findings((*lines.findings, *content.findings, *rendered))
    broken, unplaced = _broken_stories(content, planned, findings)
    return replace(
        planned,
        findings=tuple(findings),
        broken=broken,
        unplaced_errors=unplaced,
        networks=tuple(sorted(lines.networks)),
    )


def _broken_stories(
    content: Content, planned: Plan, findings: list[Finding]
) -> tuple[tuple[str, ...], bool]:
    """Which stories have an error (in their file or a post), and whether some error belongs
    to no story at all. One broken story must block nothing else (docs/calendar.md)."""
    by_file = {s.path: s.id for s in content.stories.values()}
    by_file.update((path, story) for story, path in content.broken.items())
    broken = set(content.broken)
    on_posts: set[Finding] = set()
    for post in planned.posts:
        errors = list(blocking(post.findings))
        if errors:
            broken.add(post.story)
            on_posts.update(errors)
    unplaced = False
    withheld = {f for f in findings if f.is_error and not blocking((f,))}
    for f in findings:
        # A market withheld for a required translation loses only its own posts (plan.py)
        if not f.is_error or f in on_posts or f in withheld:
            continue
        story = by_file.get(f.file)
        if story is None:
            unplaced = True
        else:
            broken.add(story)
    return tuple(sorted(broken)), unplaced


def with_signoff(planned: Plan, content: Content, content_dir: Path, *, whole: bool) -> Plan:
    """The plan with each sign-off market's posts checked against ``approvals/`` (docs/signoff.md).

    Only the media of posts that need a sign-off are read and hashed; a content without any
    sign-off market reads nothing at all.
    """
    signing = {code for code, market in content.markets.items() if needs_signoff(market)}
    if not signing:
        return planned
    files = {m.file for p in planned.posts if p.market in signing for m in p.media}
    digests = media_digests(content_dir, files)
    return apply_signoff(planned, content, load_approvals(content_dir), digests, whole=whole)


#: X weighted lengths kept between runs, under ``<data dir>/cache/``.
X_LENGTHS_FILE = "x-lengths.json"
#: Most lengths kept: a year of content's X posts, a few hundred kilobytes.
X_LENGTHS_MAX = 20_000


def _x_cache_version() -> str:
    """What a cached X length depends on: the counting code and the vendored twitter-text."""
    return xlength.counting_version()


def _read_x_lengths(path: Path) -> dict[str, int]:
    """The cached X lengths, or none when the cache is missing, unreadable or stale."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != _x_cache_version():
        return {}
    lengths = data.get("lengths")
    if not isinstance(lengths, dict):
        return {}
    return {
        key: value
        for key, value in lengths.items()
        if isinstance(key, str) and isinstance(value, int) and not isinstance(value, bool)
    }


def _write_x_lengths(path: Path) -> None:
    """Add the X lengths counted by this run to the cache (newest kept); best effort only:
    a read-only data dir costs the next run its counting, nothing else."""
    counted = xlength.counted_x_lengths()
    if not counted:
        return
    merged = {**_read_x_lengths(path), **counted}
    kept = dict(list(merged.items())[-X_LENGTHS_MAX:])
    payload = json.dumps({"version": _x_cache_version(), "lengths": kept}, separators=(",", ":"))
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary.write_text(payload, encoding="utf-8")
        temporary.replace(path)
    except OSError:
        temporary.unlink(missing_ok=True)


def _check_selection(selection: Selection, content: Content, lines: LineBook) -> None:
    """A name on the command line that matches nothing is a typo: say so, with suggestions.

    A story whose file exists but does not load is not "unknown": its findings are the answer.
    """
    for name in sorted(selection.stories or ()):
        if name in content.stories:
            continue
        own = [f for f in content.findings if PurePath(f.file).stem == name and f.is_error]
        if own:
            raise ContentError(own, f"story {name!r} has errors: fix them to preview it")
        raise NotFound(unknown("story", name, sorted(content.stories)))
    known = {
        "network": sorted(lines.by_network),
        "market": sorted(content.markets),
        "beat": sorted({b.name for s in content.stories.values() for b in s.beats}),
    }
    check_names(
        (kind, sorted(chosen or ()), known[kind])
        for kind, chosen in (
            ("network", selection.networks),
            ("market", selection.markets),
            ("beat", selection.beats),
        )
    )
