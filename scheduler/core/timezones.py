"""Local wall times to instants, the one way docs/content.md ("Time") allows; pytz lives here.

* A wall time becomes an instant with ``tz.localize(naive, is_dst=None)``, never
  ``replace(tzinfo=...)`` (which silently picks the zone's first historical offset, LMT).
* A wall time that does not exist (spring forward) moves forward by the gap: 02:30 on the day
  Paris jumps from 02:00 to 03:00 becomes 03:30 CEST.
* An ambiguous wall time (fall back) takes its first occurrence.
* Both cases return a ``note`` so the caller can warn: nobody should be surprised by a post
  going out at 03:30 instead of 02:30.
* Day offsets are calendar days in wall time (a teaser 7 days before a 09:00 reveal is at 09:00
  local even across a DST change); hour and minute offsets are absolute durations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Literal

import pytz

from scheduler.core.suggest import closest

if TYPE_CHECKING:
    from scheduler.core.model import Launch, Offset

Note = Literal["nonexistent", "ambiguous"]


@dataclass(frozen=True, slots=True)
class Localized:
    """One instant, in UTC and in the market's zone, and whether the wall time was adjusted."""

    utc: datetime  # aware, UTC
    local: datetime  # aware, in the zone
    note: Note | None = None
    message: str | None = None  # human explanation when ``note`` is set


def zone_exists(name: str) -> bool:
    """Whether ``name`` is an IANA zone pytz knows (case-sensitive, as pytz is)."""
    return name in pytz.all_timezones_set


def suggest_zone(name: str) -> str | None:
    """The closest IANA name to a misspelt one, for a "did you mean"."""
    close = closest(name, pytz.all_timezones, cutoff=0.75)
    return close[0] if close else None


@lru_cache(maxsize=512)
def _zone(name: str) -> pytz.BaseTzInfo:
    return pytz.timezone(name)


def add_calendar_days(naive: datetime, days: int) -> datetime:
    """Move a *wall time* by calendar days: the clock reading stays, whatever DST does."""
    if naive.tzinfo is not None:
        raise ValueError("add_calendar_days takes a naive wall time")
    return naive + timedelta(days=days)


def _fmt(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M %Z")


def localize(naive: datetime, zone: str) -> Localized:
    """The instant a wall time in ``zone`` names, following the time policy exactly."""
    if naive.tzinfo is not None:
        raise ValueError("localize takes a naive wall time")
    return _localize(naive, zone)


@lru_cache(maxsize=8192)
def _localize(naive: datetime, zone: str) -> Localized:
    """:func:`localize`, remembered: a year of stories falls on a few hundred days, each
    planned for every market (a teaser seven days before one reveal lands on another's)."""
    tz = _zone(zone)
    try:
        local = tz.localize(naive, is_dst=None)
    except pytz.NonExistentTimeError:
        # Both readings of the missing time, normalised: the one that lands after the
        # written wall time is "wall time + gap" (interpreted with the offset before the jump).
        candidates = [tz.normalize(tz.localize(naive, is_dst=flag)) for flag in (False, True)]
        later = [c for c in candidates if c.replace(tzinfo=None) > naive]
        local = min(later or candidates, key=lambda c: c.astimezone(UTC))
        wall = naive.strftime("%Y-%m-%d %H:%M")
        msg = (
            f"{wall} does not exist in {zone} (clocks spring forward); "
            f"moved forward by the gap to {_fmt(local)}"
        )
        return Localized(local.astimezone(UTC), local, "nonexistent", msg)
    except pytz.AmbiguousTimeError:
        candidates = [tz.localize(naive, is_dst=flag) for flag in (True, False)]
        local = min(candidates, key=lambda c: c.astimezone(UTC))
        wall = naive.strftime("%Y-%m-%d %H:%M")
        msg = (
            f"{wall} happens twice in {zone} (clocks fall back); "
            f"using the first occurrence, {_fmt(local)}"
        )
        return Localized(local.astimezone(UTC), local, "ambiguous", msg)
    return Localized(local.astimezone(UTC), local)


def in_zone(instant: datetime, zone: str) -> Localized:
    """An aware instant seen from ``zone`` (no adjustment is ever needed)."""
    if instant.tzinfo is None:
        raise ValueError("in_zone takes an aware instant")
    utc = instant.astimezone(UTC)
    return Localized(utc, utc.astimezone(_zone(zone)))


def apply_offset(launch: datetime | Launch, offset: Offset, zone: str) -> Localized:
    """When a beat at ``offset`` from ``launch`` falls in the market whose zone is ``zone``.

    ``launch`` is a naive local wall time (the same clock reading in every market), an aware
    instant (a world premiere), or a :class:`~scheduler.core.model.Launch` holding either.
    Calendar days move the wall time in ``zone``; hours and minutes are then added as an
    absolute duration, so ``-2h`` is always two real hours before.
    """
    return _apply_offset(_launch_moment(launch), offset.days, offset.hours, offset.minutes, zone)


@lru_cache(maxsize=8192)
def _apply_offset(start: datetime, days: int, hours: int, minutes: int, zone: str) -> Localized:
    """:func:`apply_offset`, remembered: stories launched the same day share their beats'
    instants in each market. (Equal aware datetimes are one instant, seen the same from
    any zone; equal naive ones are one wall time.)"""
    if start.tzinfo is None:
        base = localize(add_calendar_days(start, days), zone)
    elif days:
        wall = start.astimezone(_zone(zone)).replace(tzinfo=None)
        base = localize(add_calendar_days(wall, days), zone)
    else:
        base = in_zone(start, zone)
    clock = timedelta(hours=hours, minutes=minutes)
    if not clock:
        return base
    utc = base.utc + clock
    return Localized(utc, utc.astimezone(_zone(zone)), base.note, base.message)


def _launch_moment(launch: datetime | Launch) -> datetime:
    if isinstance(launch, datetime):
        return launch
    if launch.instant is not None:
        return launch.instant
    if launch.local is not None:
        return launch.local
    raise ValueError("a launch needs a local wall time or an instant")
