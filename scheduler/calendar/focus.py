"""What ``plan`` and ``sync`` say at 70 markets: one line per story, and only the part asked for.

A sync is always whole (a story left out of it would look removed, and be cancelled); what it
*shows* can be narrowed: :func:`narrow` keeps the changes of the posts a
:class:`~scheduler.core.selectors.Selector` names and counts that part's unchanged posts, and
:func:`by_story` sums a diff per story, for the summary printed before the details.

The unchanged posts are only counted by the diff, never listed: they are the selected planned
posts that no change names. A post of a draft story that never reached the calendar is not
"unchanged" but skipped, as the diff counts it; which ones are in the calendar is read once
(:func:`calendar_ids`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine, select

from scheduler.calendar.diff import Action, Diff
from scheduler.calendar.planned import Planned
from scheduler.calendar.tables import Post
from scheduler.core.model import StoryStatus
from scheduler.core.selectors import Selector

POST = Post.__table__  # type: ignore[attr-defined]


def story_of(post_id: str) -> str:
    """``aurora-launch/reveal/x/fr`` -> ``aurora-launch``."""
    return post_id.split("/", 1)[0]


def calendar_ids(engine: Engine) -> set[str]:
    """The post ids the calendar holds; none for an embedded calendar not created yet (and
    reading does not create it)."""
    if not calendar_ids_possible(engine):
        return set()
    from sqlalchemy import inspect

    with engine.connect() as conn:
        if not inspect(conn).has_table(POST.name):
            return set()
        return {r[0] for r in conn.execute(select(POST.c.post_id))}


@dataclass(frozen=True, slots=True)
class StoryCounts:
    """One story's share of a diff: its changes by action, unchanged and skipped posts."""

    story: str
    counts: Counter[str] = field(default_factory=Counter)
    draft: bool = False

    @property
    def changed(self) -> int:
        return sum(n for a, n in self.counts.items() if a not in ("unchanged", "skipped"))


def _rest(
    planned: Iterable[Planned], changed: set[str], ids: set[str]
) -> Iterable[tuple[Planned, str]]:
    """The planned posts no change names: ``skipped`` (a draft's, never in the calendar) or
    ``unchanged``."""
    for p in planned:
        if p.post_id in changed:
            continue
        skipped = p.story_status == StoryStatus.DRAFT and p.post_id not in ids
        yield p, "skipped" if skipped else "unchanged"


def narrow(d: Diff, planned: Sequence[Planned], selector: Selector, ids: set[str]) -> Diff:
    """The part of ``d`` about the posts ``selector`` names (all of it when it names none)."""
    if selector.empty:
        return d
    changes = tuple(
        c
        for c in d.changes
        if selector.matches(story=story_of(c.post_id), market=c.market, network=c.network)
    )
    wanted = [
        p for p in planned if selector.matches(story=p.story, market=p.market, network=p.network)
    ]
    rest = Counter(kind for _, kind in _rest(wanted, {c.post_id for c in changes}, ids))
    return Diff(
        now=d.now, changes=changes, unchanged=rest["unchanged"], drafts_skipped=rest["skipped"]
    )


def by_story(d: Diff, planned: Sequence[Planned], ids: set[str]) -> list[StoryCounts]:
    """Per story, in name order: what the diff does to its posts."""
    stories: dict[str, StoryCounts] = {}

    def of(story: str, draft: bool = False) -> StoryCounts:
        found = stories.get(story)
        if found is None:
            found = stories[story] = StoryCounts(story, Counter(), draft)
        return found

    for p in planned:
        of(p.story, p.story_status == StoryStatus.DRAFT)
    for c in d.changes:
        of(story_of(c.post_id)).counts[str(c.action)] += 1
    for p, kind in _rest(planned, {c.post_id for c in d.changes}, ids):
        stories[p.story].counts[kind] += 1
    for s in stories.values():
        for action in Action:
            s.counts.setdefault(str(action), 0)
    return [stories[k] for k in sorted(stories)]


def texts(engine: Engine, post_ids: Iterable[str] | None = None) -> dict[str, str]:
    """The text each post has in the calendar (every post's when ``post_ids`` is None): what
    an "update text" is compared with. Read before ``sync`` writes, for its details."""
    wanted = None if post_ids is None else sorted(set(post_ids))
    if wanted == [] or not calendar_ids_possible(engine):
        return {}
    from sqlalchemy import inspect

    with engine.connect() as conn:
        if not inspect(conn).has_table(POST.name):
            return {}
        stmt = select(POST.c.post_id, POST.c.text)
        if wanted is not None:
            stmt = stmt.where(POST.c.post_id.in_(wanted))
        return {r[0]: r[1] or "" for r in conn.execute(stmt)}


def calendar_ids_possible(engine: Engine) -> bool:
    """False for an embedded calendar whose file does not exist yet: nothing to read, and
    connecting would create it."""
    if engine.url.get_backend_name() != "sqlite":
        return True
    name = engine.url.database
    return bool(name) and name != ":memory:" and Path(str(name)).exists()
