"""What ``plan`` and ``sync`` say: the changes to the calendar, as text or JSON."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from scheduler.interfaces.formats.times import format_local, iso_local, iso_utc

if TYPE_CHECKING:
    from scheduler.calendar.diff import Change, Diff
    from scheduler.calendar.focus import StoryCounts

#: ``scheduler.calendar.diff.REASON_DRAFT``, spelled out: importing the CLI must not import
#: SQLAlchemy (tests/signoff/test_signoff_sync.py keeps the two equal).
REASON_DRAFT = "story is draft"


#: Plan wording (future) and sync wording (done), per action, in display order.
_PLAN_WORDS = {
    "add": "to add",
    "update": "to update",
    "reschedule": "to reschedule",
    "cancel": "to cancel",
    "hold": "to hold (draft or sign-off)",
    "resume": "to resume",
    "past_due": "past due (to hold)",
    "locked": "locked",
    "unchanged": "unchanged",
}


_SYNC_WORDS = {
    "add": "added",
    "update": "updated",
    "reschedule": "rescheduled",
    "cancel": "cancelled",
    "hold": "held (draft or sign-off)",
    "resume": "resumed",
    "past_due": "past due (held)",
    "locked": "locked",
    "unchanged": "unchanged",
}


_HEADINGS = {
    "add": "add",
    "update": "update text",
    "reschedule": "reschedule",
    "cancel": "cancel",
    "hold": "hold: story back to draft, or awaiting its market's sign-off",
    "resume": "resume: story approved again, or signed off",
    "past_due": "past due: held, `storyline release POST_ID` sends it now",
    "locked": "locked (warning): the content changed but these posts will not",
}


def summary(d: Diff, *, done: bool = False) -> str:
    """``3 to add, 1 to reschedule, 120 unchanged`` — or ``no change`` when nothing is written."""
    words = _SYNC_WORDS if done else _PLAN_WORDS
    counts = {str(action): n for action, n in d.counts.items()}
    parts = [f"{n} {words[a]}" for a, n in counts.items() if n and a != "unchanged"]
    parts.append(f"{counts['unchanged']} unchanged")
    if not d.has_changes:
        return "no change (" + ", ".join(p for p in parts) + ")"
    return ", ".join(parts)


def _change_line(c: Change, width: int = 0, texts: Mapping[str, str] | None = None) -> str:
    what: str
    if c.action == "reschedule" or (c.action == "past_due" and c.due_before and c.exists):
        before = format_local(c.due_before, c.timezone) if c.due_before else "?"
        after = format_local(c.due_after, c.timezone) if c.due_after else "?"
        what = f"{before} → {after}" if before != after else after
    elif c.due_after is not None:
        what = format_local(c.due_after, c.timezone)
    elif c.due_before is not None:
        what = format_local(c.due_before, c.timezone)
    else:
        what = ""
    # The heading already says why a post is held; other reasons are worth a note.
    reason = "" if c.action == "past_due" or c.reason == REASON_DRAFT else c.reason
    new_text = "new text" if c.text_changed and c.action != "update" else ""
    notes = [n for n in (reason, new_text) if n]
    tail = f"  [{'; '.join(notes)}]" if notes else ""
    line = f"  {c.post_id.ljust(width)}  {what}{tail}"
    diff = signoff_diff(c)
    if diff:  # what changed since the sign-off, for the reviewer who signs again
        line += "\n" + "\n".join(f"      {row}" for row in diff.splitlines())
    elif c.action == "update" and texts is not None and c.post_id in texts:
        line += "\n" + "\n".join(f"      {row}" for row in text_diff(texts[c.post_id], c))
    return line


def text_diff(old: str, c: Change) -> list[str]:
    """An "update text" as the lines it removes (-) and adds (+), the calendar's text first."""
    new = c.planned.text if c.planned is not None else ""
    rows = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=0)
    return [r for r in rows if not r.startswith(("---", "+++", "@@"))] or ["(same text)"]


def signoff_diff(c: Change) -> str:
    """What changed since the post was signed off, as a text diff ("" when not relevant)."""
    if c.action not in ("hold", "update", "reschedule") or c.status_after != "held":
        return ""
    signoff = getattr(c.planned, "signoff", None)
    return str(getattr(signoff, "diff", "") or "")


def diff_text(d: Diff, *, done: bool = False, before: Mapping[str, str] | None = None) -> str:
    """Per-post lines grouped by action, then the summary (unchanged posts are only counted).

    ``before`` holds the calendar's texts: an "update text" then shows what it changes."""
    out: list[str] = []
    for action, heading in _HEADINGS.items():
        changes = [c for c in d.changes if c.action == action]
        if not changes:
            continue
        out.append(f"{heading} ({len(changes)}):")
        width = min(max(len(c.post_id) for c in changes), 60)
        out.extend(_change_line(c, width, before) for c in changes)
        out.append("")
    if d.drafts_skipped:
        out.append(f"{d.drafts_skipped} post(s) of draft stories are not planned")
    out.append(summary(d, done=done))
    return "\n".join(out)


def change_json(c: Change) -> dict[str, Any]:
    out = {
        "action": str(c.action),
        "post_id": c.post_id,
        "network": c.network,
        "market": c.market,
        "account": c.account,
        "timezone": c.timezone,
        "status_before": c.status_before,
        "status_after": c.status_after,
        "due_before_utc": iso_utc(c.due_before),
        "due_after_utc": iso_utc(c.due_after),
        "due_before_local": iso_local(c.due_before, c.timezone),
        "due_after_local": iso_local(c.due_after, c.timezone),
        "reason": c.reason,
        "text_changed": c.text_changed,
    }
    diff = signoff_diff(c)
    if diff:  # beyond the contract, only when a signed-off post changed
        out["signoff_diff"] = diff
    return out


def diff_json(d: Diff, *, done: bool = False) -> dict[str, Any]:
    """``{"now", "applied", "changed", "summary", "counts", "drafts_skipped", "changes"}``.

    ``changes`` lists every post that is not ``unchanged`` (those are only counted).
    """
    return {
        "now": iso_utc(d.now),
        "applied": done,
        "changed": d.has_changes,
        "summary": summary(d, done=done),
        "counts": {str(a): n for a, n in d.counts.items()},
        "drafts_skipped": d.drafts_skipped,
        "changes": [change_json(c) for c in d.changes if c.action != "unchanged"],
    }


def _story_words(s: StoryCounts, done: bool) -> str:
    words = _SYNC_WORDS if done else _PLAN_WORDS
    parts = [
        f"{n} {words[a]}" for a, n in s.counts.items() if n and a in words and a != "unchanged"
    ]
    if s.counts.get("unchanged"):
        parts.append(f"{s.counts['unchanged']} unchanged")
    if s.counts.get("skipped"):
        parts.append(f"{s.counts['skipped']} not planned (draft)")
    return ", ".join(parts) or "no post"


def stories_text(
    stories: Sequence[StoryCounts], *, done: bool = False, details: bool = False
) -> str:
    """One line per story that changes, then how many do not: what a sync of 70 markets does,
    readable at a glance (``--details`` lists the posts)."""
    changing = [s for s in stories if s.changed]
    quiet = len(stories) - len(changing)
    out = []
    if changing:
        width = min(max(len(s.story) for s in changing), 40)
        out.append(
            f"{len(changing)} story(ies) change{'' if details else ' (--details lists each post)'}:"
        )
        out.extend(f"  {s.story.ljust(width)}  {_story_words(s, done)}" for s in changing)
    if quiet:
        out.append(f"{quiet} story(ies) without change")
    return "\n".join(out)


def report_text(
    d: Diff,
    stories: Sequence[StoryCounts],
    *,
    done: bool = False,
    details: bool = False,
    before: Mapping[str, str] | None = None,
    scope: str = "",
) -> str:
    """``plan`` and ``sync``: the per-story summary, then (``details``) each post, then the
    totals. ``scope`` names the filters when only part of the sync is shown."""
    out = [stories_text(stories, done=done, details=details)] if d.has_changes else []
    if details:
        out.append(diff_text(d, done=done, before=before))
    else:
        if d.drafts_skipped:
            out.append(f"{d.drafts_skipped} post(s) of draft stories are not planned")
        out.append(summary(d, done=done))
    if scope:
        out[-1] += f"\nshown: {scope} only; a sync is always whole"
    return "\n".join(o for o in out if o)


def stories_json(stories: Sequence[StoryCounts]) -> list[dict[str, Any]]:
    """The per-story summary in ``--format json`` (``stories``, beyond the fixed keys)."""
    return [
        {"story": s.story, "draft": s.draft, "counts": {a: n for a, n in s.counts.items() if n}}
        for s in stories
    ]
