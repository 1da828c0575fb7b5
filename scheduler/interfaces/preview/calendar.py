"""The calendar page: each market's posts on a month grid in the market's local time.

A post is a chip coloured by network, outlined by its state, banded with its story's colour;
above each market's grid, a timeline draws every story's arc (teaser → reveal → follow-up) as
dots joined by a line. Filters by network, market and state run in the page itself.
"""

from __future__ import annotations

import calendar as stdcalendar
import hashlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from scheduler.calendar.rows import CalendarRow
from scheduler.interfaces.preview.feeds import FEEDS, STATE_COLORS, feed_style
from scheduler.interfaces.preview.render import OFFLINE_CSP, render

_EXCERPT = 140


@dataclass(frozen=True, slots=True)
class Entry:
    row: CalendarRow
    local: datetime
    color: str  # the network's
    state_color: str
    story_color: str
    step: int  # position of the beat in its story's arc, 1-based
    steps: int
    label: str  # network display name
    excerpt: str
    story_title: str  # one title per story, whatever each row carried


@dataclass(frozen=True, slots=True)
class Day:
    day: date
    in_month: bool
    entries: tuple[Entry, ...]


@dataclass(frozen=True, slots=True)
class Month:
    year: int
    month: int
    name: str
    weeks: tuple[tuple[Day, ...], ...]


@dataclass(frozen=True, slots=True)
class ArcPoint:
    beat: str
    local: datetime
    left: float  # percent of the timeline width


@dataclass(frozen=True, slots=True)
class Arc:
    story: str
    title: str
    color: str
    points: tuple[ArcPoint, ...]

    @property
    def left(self) -> float:
        return self.points[0].left

    @property
    def width(self) -> float:
        return self.points[-1].left - self.points[0].left


@dataclass(frozen=True, slots=True)
class MarketCalendar:
    market: str
    name: str
    timezone: str
    months: tuple[Month, ...]
    arcs: tuple[Arc, ...]
    start: date
    end: date
    count: int


def story_color(story: str) -> str:
    """A stable, distinct-enough hue per story, so its posts read as one band across days."""
    hue = int(hashlib.sha256(story.encode()).hexdigest()[:6], 16) % 360
    return f"hsl({hue} 70% 45%)"


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _local(row: CalendarRow) -> datetime:
    due = row.due_utc if row.due_utc.tzinfo else row.due_utc.replace(tzinfo=UTC)
    zone = _zone(row.timezone)
    return due.astimezone(zone) if zone else due.astimezone(UTC)


def _excerpt(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= _EXCERPT else flat[: _EXCERPT - 1] + "…"


def story_titles(rows: Sequence[CalendarRow]) -> dict[str, str]:
    """One title per story: the one most of its rows carry, else the story id.

    Rows may disagree (a store may fill ``story_title`` from a post's own title, such as a
    YouTube video's); the story still needs one name in the legend and on its arc.
    """
    counts: dict[str, Counter[str]] = {}
    for r in rows:
        counts.setdefault(r.story, Counter())
        if r.story_title:
            counts[r.story][r.story_title] += 1
    return {
        story: (titles.most_common(1)[0][0] if titles else story)
        for story, titles in counts.items()
    }


def _beat_steps(rows: Sequence[CalendarRow]) -> dict[tuple[str, str], tuple[int, int]]:
    """Each (story, beat) → its place in the story's arc, ordered by the beat's first post."""
    first: dict[tuple[str, str], datetime] = {}
    for r in rows:
        key = (r.story, r.beat)
        if key not in first or r.due_utc < first[key]:
            first[key] = r.due_utc
    by_story: dict[str, list[tuple[datetime, str]]] = {}
    for (story, beat), due in first.items():
        by_story.setdefault(story, []).append((due, beat))
    steps: dict[tuple[str, str], tuple[int, int]] = {}
    for story, beats in by_story.items():
        ordered = sorted(beats)
        for i, (_, beat) in enumerate(ordered, start=1):
            steps[(story, beat)] = (i, len(ordered))
    return steps


def _months(first: date, last: date, entries: Sequence[Entry]) -> tuple[Month, ...]:
    by_day: dict[date, list[Entry]] = {}
    for e in entries:
        by_day.setdefault(e.local.date(), []).append(e)
    weeks_of = stdcalendar.Calendar(firstweekday=0)
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        weeks = tuple(
            tuple(
                Day(d, d.month == month, tuple(sorted(by_day.get(d, []), key=lambda e: e.local)))
                for d in week
            )
            for week in weeks_of.monthdatescalendar(year, month)
        )
        months.append(Month(year, month, f"{stdcalendar.month_name[month]} {year}", weeks))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)


def _arcs(entries: Sequence[Entry], start: date, end: date) -> tuple[Arc, ...]:
    span = max((end - start).days + 1, 1)
    firsts: dict[str, dict[str, Entry]] = {}
    for e in entries:
        beats = firsts.setdefault(e.row.story, {})
        if e.row.beat not in beats or e.local < beats[e.row.beat].local:
            beats[e.row.beat] = e
    arcs = []
    for story, beats in firsts.items():
        points = tuple(
            ArcPoint(
                beat=e.row.beat,
                local=e.local,
                left=round(
                    100
                    * ((e.local.date() - start).days + (e.local.hour * 60 + e.local.minute) / 1440)
                    / span,
                    2,
                ),
            )
            for e in sorted(beats.values(), key=lambda e: e.local)
        )
        sample = next(iter(beats.values()))
        arcs.append(
            Arc(story, sample.story_title, sample.story_color, points),
        )
    return tuple(sorted(arcs, key=lambda a: a.points[0].local))


def market_calendars(
    rows: Sequence[CalendarRow], market_names: Mapping[str, str] | None = None
) -> tuple[MarketCalendar, ...]:
    names = market_names or {}
    steps = _beat_steps(rows)
    titles = story_titles(rows)
    by_market: dict[str, list[Entry]] = {}
    for r in rows:
        style = feed_style(r.network)
        step, total = steps[(r.story, r.beat)]
        by_market.setdefault(r.market, []).append(
            Entry(
                row=r,
                local=_local(r),
                color=style.color,
                state_color=STATE_COLORS.get(r.status, "#5b6573"),
                story_color=story_color(r.story),
                step=step,
                steps=total,
                label=style.label,
                excerpt=_excerpt(r.text),
                story_title=titles[r.story],
            )
        )
    result = []
    for market, entries in sorted(by_market.items()):
        days = [e.local.date() for e in entries]
        first, last = min(days), max(days)
        start = first - timedelta(days=first.weekday())
        end = last + timedelta(days=6 - last.weekday())
        result.append(
            MarketCalendar(
                market=market,
                name=names.get(market, market.upper()),
                timezone=entries[0].row.timezone,
                months=_months(first, last, entries),
                arcs=_arcs(entries, start, end),
                start=start,
                end=end,
                count=len(entries),
            )
        )
    return tuple(result)


def _network_order(network: str) -> tuple[int, str]:
    order = list(FEEDS)
    return (order.index(network) if network in order else len(order), network)


def render_calendar_html(
    rows: Sequence[CalendarRow],
    *,
    title: str = "Storyline calendar",
    generated_at: datetime,
    market_names: Mapping[str, str] | None = None,
    csp: str = OFFLINE_CSP,
    reload_version: str | None = None,
) -> str:
    """One self-contained HTML page: a month grid per market, filters, a legend, story arcs."""
    calendars = market_calendars(rows, market_names)
    networks = sorted({r.network for r in rows}, key=_network_order)
    states = [s for s in STATE_COLORS if any(r.status == s for r in rows)]
    states += sorted({r.status for r in rows} - set(states))
    return render(
        "calendar.html.j2",
        title=title,
        generated=generated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        calendars=calendars,
        count=len(rows),
        networks=[feed_style(n) for n in networks],
        states=[(s, STATE_COLORS.get(s, "#5b6573")) for s in states],
        stories=sorted(story_titles(rows).items()),
        story_color=story_color,
        weekdays=["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"],
        csp=csp,
        reload_version=reload_version,
    )
