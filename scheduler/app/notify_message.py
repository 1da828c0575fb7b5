"""What people read: pending deliveries batched into messages, one per account and channel.

Why batch here, at delivery time, rather than when the events are recorded: 70 posts of one
account held in one tick are 70 events (each told once, each with its own delivery row), but
one message. Grouping is by channel and account (a digest: by channel and market), so a burst
of any size costs at most one message per account and channel per run.

Pure: the rows in, the messages out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.app.notify_plan import (
    DIGEST,
    EXPIRING,
    FAILED,
    HELD,
    INSIGHTS,
    NEEDS_REVIEW,
    REAUTH,
)

#: A message lists this many posts of each kind; the rest is a count.
LISTED = 20
#: Section order and headings.
SECTIONS = (
    (REAUTH, "Needs re-auth"),
    (EXPIRING, "Token expiring"),
    (INSIGHTS, "No insights permission"),
    (HELD, "Held"),
    (FAILED, "Failed"),
    (NEEDS_REVIEW, "Needs review"),
)


@dataclass(frozen=True, slots=True)
class Pending:
    """One delivery waiting to be sent, with its event."""

    event_id: int
    channel: str
    kind: str
    detail: Mapping[str, Any]
    market: str | None = None
    network: str | None = None
    account: str | None = None
    post_id: str | None = None
    #: Attempts so far, this one included.
    attempts: int = 1


@dataclass(frozen=True, slots=True)
class Message:
    channel: str
    title: str
    body: str
    event_ids: tuple[int, ...]


def _due(detail: Mapping[str, Any]) -> str:
    due, zone = detail.get("due_utc"), detail.get("timezone")
    if not due or not zone:
        return ""
    local = datetime.fromisoformat(due).astimezone(ZoneInfo(zone))
    return f"due {local:%Y-%m-%d %H:%M %Z}"


def _post_line(p: Pending) -> str:
    parts = [p.post_id or "?", _due(p.detail)]
    reason = p.detail.get("reason")
    if reason:
        parts.append(f"— {reason}")
    return "  - " + " ".join(x for x in parts if x)


def _hint(kind: str, network: str, account: str) -> str | None:
    return {
        HELD: f"Release with `storyline release --account {network}:{account}` once fixed.",
        FAILED: "Retry one with `storyline retry POST_ID`.",
        NEEDS_REVIEW: (
            "Check the network, then `storyline resolve POST_ID --published URL` "
            "or `--not-published`."
        ),
        REAUTH: f"Re-connect with `storyline accounts connect {network} {account}`.",
        EXPIRING: f"Renew it with `storyline accounts connect {network} {account}`.",
        INSIGHTS: (
            f"Its posts still go out. Re-connect with `storyline accounts connect {network} "
            f"{account}`, granting the insights permission, so `storyline report` counts them."
        ),
    }.get(kind)


def account_message(channel: str, network: str, account: str, group: list[Pending]) -> Message:
    """Every event of one account for one channel: one section per kind."""
    by_kind: dict[str, list[Pending]] = {}
    for p in group:
        by_kind.setdefault(p.kind, []).append(p)
    summary, lines = [], []
    markets = sorted({p.market for p in group if p.market})
    for kind, heading in SECTIONS:
        items = sorted(
            by_kind.get(kind, []), key=lambda p: (str(p.detail.get("due_utc", "")), p.post_id or "")
        )
        if not items:
            continue
        if kind in (REAUTH, EXPIRING, INSIGHTS):
            summary.append(heading.lower())
            for p in items:
                if kind == REAUTH:
                    held = p.detail.get("held") or 0
                    what = p.detail.get("reason") or "the network refused the token"
                    lines.append(f"{heading}: {what}" + (f" ({held} posts held)" if held else ""))
                elif kind == INSIGHTS:
                    why = p.detail.get("reason") or "the network refuses its metrics"
                    lines.append(f"{heading}: {why}")
                else:
                    lines.append(f"{heading}: it stops working on {p.detail.get('expires_at')}")
        else:
            summary.append(f"{len(items)} {heading.lower()}")
            lines.append(f"{heading} ({len(items)}):")
            lines += [_post_line(p) for p in items[:LISTED]]
            if len(items) > LISTED:
                lines.append(f"  … and {len(items) - LISTED} more")
        if hint := _hint(kind, network, account):
            lines.append(hint)
        lines.append("")
    where = f" [{', '.join(markets)}]" if markets else ""
    title = f"Storyline · {network}:{account}{where}: {', '.join(summary)}"
    return Message(channel, title, "\n".join(lines).strip(), tuple(p.event_id for p in group))


def digest_message(channel: str, p: Pending) -> Message:
    d = p.detail
    lines = [f"Going out in the next 24 h ({d.get('upcoming_count', 0)}):"]
    lines += [f"  - {x['due_local']} {x['post_id']}" for x in d.get("upcoming", [])]
    if d.get("upcoming_count", 0) > len(d.get("upcoming", [])):
        lines.append(f"  … and {d['upcoming_count'] - len(d['upcoming'])} more")
    lines.append("")
    lines.append(f"Held ({d.get('held_count', 0)}):")
    lines += [
        f"  - {x['post_id']}" + (f" — {x['reason']}" if x.get("reason") else "")
        for x in d.get("held", [])
    ]
    if d.get("held_count", 0) > len(d.get("held", [])):
        lines.append(f"  … and {d['held_count'] - len(d['held'])} more")
    title = f"Storyline · daily digest {p.market} ({d.get('date')})"
    return Message(channel, title, "\n".join(lines), (p.event_id,))


def batch(pending: Iterable[Pending]) -> list[Message]:
    """One message per channel and account (and one per digest), in a stable order."""
    accounts: dict[tuple[str, str, str], list[Pending]] = {}
    out: list[Message] = []
    for p in sorted(pending, key=lambda p: (p.channel, p.event_id)):
        if p.kind == DIGEST:
            out.append(digest_message(p.channel, p))
        else:
            accounts.setdefault((p.channel, p.network or "", p.account or ""), []).append(p)
    out += [account_message(c, n, a, group) for (c, n, a), group in sorted(accounts.items())]
    return out
