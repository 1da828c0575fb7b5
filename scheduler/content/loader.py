"""Loads the content folder: ``markets.yaml`` and ``stories/*.yaml`` into one :class:`Content`."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from pathlib import Path
from types import MappingProxyType

from scheduler.content.files import MARKETS_FILE_NAME, STORIES_DIR_NAME, STORY_SUFFIXES
from scheduler.content.markets import load_markets
from scheduler.content.stories import StoryLoader
from scheduler.core.diagnostics import Finding, Position, sort_findings
from scheduler.core.model import EMPTY, Content, Story

#: Told (files read, files in all) after each story file: a long load can show its progress.
Progress = Callable[[int, int], None]


def load_content(
    content_dir: Path, *, networks: Collection[str], progress: Progress | None = None
) -> Content:
    """Load ``markets.yaml`` and ``stories/*.yaml``; never raises for bad content.

    ``networks`` are the networks the brand has editorial lines for: a story or account naming
    another one is an error. A market or story with an error is left out of the result (and
    its findings say why), so everything downstream sees only valid content; the rest still
    loads, so one broken file never hides the others' problems.
    """
    findings: list[Finding] = []
    known = tuple(networks)
    if not content_dir.is_dir():
        findings.append(
            Finding.error(
                Position(str(content_dir), 0, 0),
                "missing-folder",
                f"content folder {content_dir} not found (set --content or STORYLINE_CONTENT_DIR)",
            )
        )
        return Content(EMPTY, EMPTY, tuple(findings))
    markets, codes = load_markets(content_dir / MARKETS_FILE_NAME, known, findings)
    stories: dict[str, Story] = {}
    broken: dict[str, str] = {}
    first_seen: dict[str, Position] = {}
    stories_dir = content_dir / STORIES_DIR_NAME
    if not stories_dir.is_dir():
        findings.append(
            Finding.warning(
                Position(str(stories_dir), 0, 0),
                "missing-folder",
                "no stories/ folder: there is nothing to publish",
            )
        )
    else:
        paths = sorted(
            p
            for p in stories_dir.iterdir()
            if p.suffix in STORY_SUFFIXES and not p.name.startswith(".") and p.is_file()
        )
        for done, path in enumerate(paths, 1):
            if progress is not None:
                progress(done, len(paths))
            if not path.resolve().is_relative_to(content_dir.resolve()):  # a symlink out
                why = f"{path.name} links to a file outside the content folder; refused"
                findings.append(Finding.error(Position(str(path), 1, 1), "path-escape", why))
                continue
            loader = StoryLoader(path, content_dir, markets, codes, known)
            story = loader.load()
            if story is not None:
                earlier = first_seen.get(story.id)
                if earlier is not None:
                    loader.error(
                        story.pos("id"),
                        "duplicate-story",
                        f"story id {story.id!r} is already used by {earlier.file}",
                    )
                else:
                    first_seen[story.id] = story.pos()
            findings.extend(loader.findings)
            if story is not None and not loader.failed:
                stories[story.id] = story
            elif loader.failed:
                broken[story.id if story is not None else _written_id(path)] = str(path)
    return Content(
        MappingProxyType(markets),
        MappingProxyType(stories),
        tuple(sort_findings(findings)),
        MappingProxyType(broken),
    )


#: A top-level ``id:`` line, read without YAML: the file may not parse.
_ID_LINE = re.compile(r"^id:[ \t]*['\"]?([\w.-]+)['\"]?[ \t]*(?:#.*)?$", re.M)


def _written_id(path: Path) -> str:
    """The id of a story file that did not load: its top-level ``id:`` if one can be read,
    else the file's stem (the id a story has when it names none)."""
    try:
        found = _ID_LINE.search(path.read_text(encoding="utf-8", errors="replace"))
    except OSError:
        found = None
    return found[1] if found else path.stem
