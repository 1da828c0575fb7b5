"""The calendar as a table, JSON, iCalendar or HTML, and one post in full for ``status``.

Rendering only: the rows come from :mod:`scheduler.calendar.queries`; nothing here touches the
database or the clock (``now`` is passed in). Every time shown is the post's market's local time
with its zone — the database speaks UTC, people do not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from scheduler.interfaces.formats.times import SHORT_TEXT, format_local, iso_local, iso_utc, short
from scheduler.interfaces.formats.width import clip, display_width, pad

if TYPE_CHECKING:
    from scheduler.calendar.rows import AttemptRow, CalendarRow

ICS_PRODID = "-//Storyline//publishing calendar//EN"


ICS_EVENT_MINUTES = 15


ICS_REFRESH = timedelta(minutes=15)


def row_json(r: CalendarRow) -> dict[str, Any]:
    return {
        "post_id": r.post_id,
        "story": r.story,
        "beat": r.beat,
        "network": r.network,
        "market": r.market,
        "account": r.account,
        "account_name": r.account_name,
        "campaign": r.campaign,
        "timezone": r.timezone,
        "due_utc": iso_utc(r.due_utc),
        "due_local": iso_local(r.due_utc, r.timezone),
        "status": r.status,
        "destination": r.destination,
        "status_reason": r.status_reason,
        "text": r.text,
        "title": r.title,
        "link": r.link,
        "media": list(r.media),
        "first_comment": r.first_comment,
        "attempts": r.attempts,
        "remote_id": r.remote_id,
        "url": r.url,
        "last_error": r.last_error,
        "updated_at": iso_utc(r.updated_at),
        "published_at": iso_utc(r.published_at),
    }


def calendar_json(rows: Sequence[CalendarRow]) -> list[dict[str, Any]]:
    return [row_json(r) for r in rows]


def _table(header: Sequence[str], body: Sequence[Sequence[str]]) -> str:
    # Display width, not len: a Chinese account name takes two columns per character.
    widths = [
        max([display_width(h)] + [display_width(row[i]) for row in body])
        for i, h in enumerate(header)
    ]
    lines = ["  ".join(pad(cell, w) for cell, w in zip(header, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(pad(cell, w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in body
    ]
    return "\n".join(lines)


def calendar_table(rows: Sequence[CalendarRow]) -> str:
    """One line per post: local time and zone, network, market, account, state, post, short text."""
    if not rows:
        return "no posts in the calendar for these filters"
    header = ("WHEN (LOCAL)", "NETWORK", "MARKET", "ACCOUNT", "STATE", "POST", "TEXT")
    body = [
        (
            format_local(r.due_utc, r.timezone, with_zone_name=False),
            r.network,
            r.market,
            r.account_name or r.account,
            r.shown_status,
            f"{r.story}/{r.beat}",
            clip(r.text, SHORT_TEXT),
        )
        for r in rows
    ]
    return _table(header, body) + f"\n\n{len(rows)} post(s)"


def _headline(text: str) -> str:
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return short(first, 70)


def _ics_status(state: str) -> str:
    if state == "cancelled":
        return "CANCELLED"
    if state in {"held", "needs_review", "failed"}:
        return "TENTATIVE"
    return "CONFIRMED"


def calendar_ics(rows: Sequence[CalendarRow], now: datetime) -> bytes:
    """RFC 5545: one VEVENT per post, ``UID`` ``<post_id>@storyline`` (stable across exports).

    ``SEQUENCE`` counts seconds between creation and last change and ``LAST-MODIFIED`` is the
    last change, so a subscribed calendar updates an event in place when its post changes.
    """
    from icalendar import Calendar, Event

    cal = Calendar()
    cal.add("prodid", ICS_PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "Storyline publishing calendar")
    # How often a subscribed client should fetch it again (RFC 7986; Outlook's own name).
    cal.add("refresh-interval", ICS_REFRESH, parameters={"VALUE": "DURATION"})
    cal.add("x-published-ttl", "PT15M")
    for r in rows:
        event = Event()
        event.add("uid", f"{r.post_id}@storyline")
        event.add("dtstamp", now.astimezone(UTC))
        event.add("dtstart", r.due_utc.astimezone(UTC))
        event.add("duration", timedelta(minutes=ICS_EVENT_MINUTES))
        where = f"outbox: {r.network}" if r.to_outbox else r.network
        event.add("summary", f"[{where}/{r.market}] {r.title or _headline(r.text)}")
        lines = [
            r.text,
            "",
            f"post: {r.post_id}",
            f"account: {r.account_name or r.account} ({r.network}, {r.market})",
            f"local time: {format_local(r.due_utc, r.timezone)}",
            f"state: {r.shown_status}" + (f" ({r.status_reason})" if r.status_reason else ""),
        ]
        if r.to_outbox:
            lines.append(f"written to the outbox ({r.remote_id}), never sent to {r.network}")
        if r.link:
            lines.append(f"link: {r.link}")
        event.add("description", "\n".join(lines))
        event.add("categories", [r.network, r.market, r.story])
        event.add("status", _ics_status(r.status))
        if r.created_at is not None and r.updated_at is not None:  # a row with its history
            event.add("created", r.created_at.astimezone(UTC))
            event.add("last-modified", r.updated_at.astimezone(UTC))
            event.add("sequence", max(0, int((r.updated_at - r.created_at).total_seconds())))
        if r.url:
            event.add("url", r.url)
        cal.add_component(event)
    return bytes(cal.to_ical())


def calendar_html(
    rows: Sequence[CalendarRow], now: datetime, titles: Mapping[str, str] | None = None
) -> str:
    """The month grid page of :mod:`scheduler.interfaces.preview`, fed with the calendar's rows.

    ``titles`` are the stories' titles (story id -> title, from the content): the database does
    not keep them, and a post's own title (a YouTube video's) never stands for its story's. A
    story without one is named by its id.
    """
    from dataclasses import replace

    from scheduler.interfaces.preview import render_calendar_html

    known = titles or {}
    cells = [
        replace(
            r,
            account_name=r.account_name or r.account,
            story_title=known.get(r.story, r.story),
            # A state of its own on the page (colour, mark, filter): never a live publication.
            status=OUTBOX_STATE if r.to_outbox else r.status,
        )
        for r in rows
    ]
    return render_calendar_html(cells, generated_at=now)


#: The HTML calendar's state for a post written to the outbox.
OUTBOX_STATE = "outbox"
#: How ``status`` names the count of posts written to the outbox.
_COUNT_LABELS = {"published_outbox": "published (outbox)"}


def status_text(counts: Mapping[str, int]) -> str:
    """One line per state; posts written to the outbox get their own line when there are any."""
    total = sum(counts.values())
    shown = {
        _COUNT_LABELS.get(state, state): n
        for state, n in counts.items()
        if n or state not in _COUNT_LABELS
    }
    width = max(len(s) for s in shown) if shown else 0
    lines = [f"{state.ljust(width)}  {n}" for state, n in shown.items()]
    return "\n".join([*lines, f"{'total'.ljust(width)}  {total}"])


def post_text(r: CalendarRow, attempts: Sequence[AttemptRow]) -> str:
    fields = [
        ("post", r.post_id),
        ("state", r.shown_status + (f" ({r.status_reason})" if r.status_reason else "")),
        ("sent to", _sent_to(r)),
        ("due", f"{format_local(r.due_utc, r.timezone)} = {iso_utc(r.due_utc)}"),
        ("account", f"{r.account_name or r.account} ({r.network}, {r.market})"),
        ("campaign", r.campaign),
        ("title", r.title or ""),
        ("link", r.link or ""),
        ("media", ", ".join(m.get("file", "") for m in r.media)),
        ("attempts", str(r.attempts)),
        ("remote id", r.remote_id or ""),
        ("url", r.url or ""),
        ("published", iso_utc(r.published_at) or ""),
        ("last error", r.last_error or ""),
        ("updated", iso_utc(r.updated_at) or ""),
    ]
    out = [f"{name + ':':<11}{value}" for name, value in fields if value]
    out += ["", "text:", *(f"  {line}" for line in r.text.splitlines())]
    if parts := thread_of(r):
        out += ["", f"sent as a thread of {len(parts)} posts:"]
        for part in parts:
            out += ["", *(f"  {line}" for line in part.splitlines())]
    if r.first_comment:
        out += ["first comment:", *(f"  {line}" for line in r.first_comment.splitlines())]
    out.append("")
    if not attempts:
        out.append("no attempts yet")
        return "\n".join(out)
    body = [
        (
            iso_utc(a.started_at) or "",
            a.outcome,
            "" if a.http_status is None else str(a.http_status),
            "" if a.latency_ms is None else f"{a.latency_ms} ms",
            a.worker or "",
            short(a.error or "", 50),
        )
        for a in attempts
    ]
    out.append(_table(("STARTED (UTC)", "OUTCOME", "HTTP", "LATENCY", "WORKER", "ERROR"), body))
    return "\n".join(out)


def _sent_to(r: CalendarRow) -> str:
    if r.status != "published" or r.destination is None:
        return ""
    if r.to_outbox:
        return f"the outbox only: never sent to {r.network}"
    if r.destination in (r.network, "network"):
        return r.network
    return f"{r.network}, relayed through {r.destination}"


def thread_of(r: CalendarRow) -> tuple[str, ...]:
    """The numbered posts an X post goes out as, when it is too long for one (the X publisher
    splits it the same way, :mod:`scheduler.text.thread`); empty for a single post."""
    if r.network != "x":
        return ()
    from scheduler.text.thread import split

    parts = split(r.text, link=r.link).parts
    return parts if len(parts) > 1 else ()


def post_json(r: CalendarRow, attempts: Sequence[AttemptRow]) -> dict[str, Any]:
    d = row_json(r)
    d["thread"] = list(thread_of(r))
    d["attempt_log"] = [
        {
            "started_at": iso_utc(a.started_at),
            "finished_at": iso_utc(a.finished_at),
            "outcome": a.outcome,
            "error": a.error,
            "http_status": a.http_status,
            "latency_ms": a.latency_ms,
            "worker": a.worker,
        }
        for a in attempts
    ]
    return d
