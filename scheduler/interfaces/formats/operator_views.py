"""What the operator commands print: the posts they changed, pauses, a post's marker, the audit
trail; as text for people and as JSON (``--format json``) for scripts.

One JSON shape for every operator command::

    {"command": "hold", "by": "ana@brand.example", "at": "...Z", "selector": {...},
     "changed": 2, "posts": [{"post_id", "status", "hold_reason", "set_by", "due_utc",
     "status_reason", "url"}], ...}

``pause`` and ``resume`` add ``paused`` (the pauses in force after the command) and ``waiting``.
Rendering only: nothing here touches the database or the clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from scheduler.interfaces.formats.times import iso_utc, short


def post_summary(row: Mapping[str, Any]) -> dict[str, Any]:
    """A post an operator command changed, as JSON."""
    return {
        "post_id": row["post_id"],
        "status": row["status"],
        "hold_reason": row.get("hold_reason"),
        "set_by": row.get("set_by"),
        "due_utc": iso_utc(row["due_utc"]),
        "status_reason": row.get("status_reason"),
        "url": row.get("url"),
    }


def result_json(
    *,
    command: str,
    by: str,
    at: datetime,
    selector: Mapping[str, Any],
    posts: Sequence[Mapping[str, Any]] | Sequence[str],
    **extra: Any,
) -> dict[str, Any]:
    listed = [p if isinstance(p, str) else post_summary(p) for p in posts]
    return {
        "command": command,
        "by": by,
        "at": iso_utc(at),
        "selector": dict(selector),
        "changed": len(listed),
        "posts": [{"post_id": p} if isinstance(p, str) else p for p in listed],
        **extra,
    }


def changed_text(verb: str, selector: str, post_ids: Sequence[str]) -> str:
    """``held 2 post(s) (--market fr):`` and one id a line."""
    head = f"{verb} {len(post_ids)} post(s) ({selector})"
    if not post_ids:
        return head
    return "\n".join([head + ":", *(f"  {p}" for p in post_ids)])


def pause_line(p: Any) -> str:
    """``paused: market fr since 2026-12-01T08:00:00Z by ana (recall)``."""
    label = p.scope if p.scope == "all" else f"{p.scope} {p.value}"
    why = f" ({p.reason})" if p.reason else ""
    return f"paused: {label} since {iso_utc(p.since)} by {p.by}{why}"


def pauses_text(in_force: Sequence[Any], waiting: int | None = None) -> str:
    if not in_force:
        return "no pause in force: due posts are claimed"
    lines = [pause_line(p) for p in in_force]
    if waiting is not None:
        lines.append(f"{waiting} planned or retry_wait post(s) wait for a resume")
    return "\n".join(lines)


def marker_text(marker: Mapping[str, Any]) -> list[str]:
    """``status POST_ID``'s marker: the ``sl-…`` tag to search the network for, and the state
    columns the post's ``state`` line does not show, one ``name: value`` line each."""
    fields = [
        ("marker", f"{marker['id']} (search the network for it)"),
        ("hold", marker["hold_reason"] or ""),
        ("set by", marker["set_by"] or ""),
        ("destination", marker["destination"] or ""),
        ("next try", iso_utc(marker["next_try"]) or ""),
    ]
    lines = [f"{name + ':':<13}{value}" for name, value in fields if value]
    for p in marker["paused_by"]:
        lines.append(f"{'paused:':<13}{pause_line(p).removeprefix('paused: ')}")
    return lines


def marker_json(marker: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": marker["id"],
        "state": marker["state"],
        "hold_reason": marker["hold_reason"],
        "set_by": marker["set_by"],
        "destination": marker["destination"],
        "next_try": iso_utc(marker["next_try"]),
        "attempts": marker["attempts"],
        "paused_by": [p.as_dict() for p in marker["paused_by"]],
    }


def selector_text(selector: Mapping[str, Any]) -> str:
    """``--market fr --network x`` (a post id alone for a one-post command)."""
    parts = []
    for key, value in selector.items():
        if key == "post":
            parts.append(str(value))
        elif value is True:
            parts.append(f"--{key}")
        elif isinstance(value, list):
            parts += [f"--{key} {v}" for v in value]
        else:
            parts.append(f"--{key} {value}")
    return " ".join(parts)


def audit_text(entries: Sequence[Any]) -> str:
    if not entries:
        return "no operator command recorded"
    return "\n".join(
        f"{iso_utc(e.at)}  {e.by:<24} {e.command:<8} {short(selector_text(e.selector), 50):<50}"
        f" {e.changed} changed"
        for e in entries
    )
