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

import re
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


#: Zones of big cities, most used first: where a suggestion for an abbreviation (``EST``) or a
#: fixed offset (``UTC-5``) comes from — the market's clock is a city's, never an offset's.
MAJOR_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Toronto",
    "America/Mexico_City",
    "America/Bogota",
    "America/Lima",
    "America/Halifax",
    "America/St_Johns",
    "America/Sao_Paulo",
    "America/Argentina/Buenos_Aires",
    "America/Santiago",
    "Europe/London",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Budapest",
    "Europe/Warsaw",
    "Europe/Athens",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Europe/Moscow",
    "Africa/Lagos",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Africa/Nairobi",
    "Asia/Dubai",
    "Asia/Karachi",
    "Asia/Kolkata",
    "Asia/Dhaka",
    "Asia/Bangkok",
    "Asia/Jakarta",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Manila",
    "Asia/Tokyo",
    "Asia/Seoul",
    "Australia/Perth",
    "Australia/Adelaide",
    "Australia/Sydney",
    "Pacific/Auckland",
)
#: Abbreviations the zone database does not print itself (it says ``-03`` for São Paulo).
_MORE_ABBREVIATIONS = {
    "ET": "America/New_York",
    "CT": "America/Chicago",
    "MT": "America/Denver",
    "PT": "America/Los_Angeles",
    "BRT": "America/Sao_Paulo",
    "BRST": "America/Sao_Paulo",
    "ART": "America/Argentina/Buenos_Aires",
    "GST": "Asia/Dubai",
    "ICT": "Asia/Bangkok",
    "SGT": "Asia/Singapore",
    "CEST": "Europe/Paris",
    "BST": "Europe/London",
    "MSK": "Europe/Moscow",
    "AWST": "Australia/Perth",
}
#: ``UTC-5``, ``GMT+1``, ``+01:00``, ``-0500``: an offset from UTC, written as a zone.
_OFFSET = re.compile(r"(?:UTC|GMT|Z)?\s*([+-])(\d{1,2})(?::?(\d{2}))?", re.IGNORECASE)
#: ``Etc/GMT+5`` is UTC-5 (POSIX signs are inverted).
_ETC_OFFSET = re.compile(r"Etc/GMT([+-])(\d{1,2})")
#: A market may run on plain UTC on purpose; every other zone should be a place.
_PLAIN_UTC = frozenset({"UTC", "Etc/UTC"})
#: Dates whose readings give a zone's winter and summer abbreviations and offsets.
_SEASONS = (datetime(2026, 1, 15, 12), datetime(2026, 7, 15, 12))


@lru_cache(maxsize=1)
def _season_table() -> tuple[tuple[str, frozenset[str], timedelta], ...]:
    """Each major zone, the abbreviations it prints and its standard (winter) offset."""
    out = []
    for name in MAJOR_ZONES:
        tz = _zone(name)
        readings = [tz.localize(d) for d in _SEASONS]
        names = frozenset(str(r.tzname()) for r in readings)
        standard = min(
            (r.utcoffset() or timedelta(0)) - (r.dst() or timedelta(0)) for r in readings
        )
        out.append((name, names, standard))
    return tuple(out)


def _quoted(names: list[str]) -> str:
    quoted = [repr(n) for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _offset_of(name: str) -> timedelta | None:
    """The offset a fixed-offset zone name stands for, or None when it is not one."""
    etc = _ETC_OFFSET.fullmatch(name)
    if etc:
        hours = int(etc[2])
        return timedelta(hours=hours if etc[1] == "-" else -hours)
    m = _OFFSET.fullmatch(name.strip())
    if m is None:
        return None
    delta = timedelta(hours=int(m[2]), minutes=int(m[3] or 0))
    return delta if m[1] == "+" else -delta


def _is_abbreviation(name: str) -> bool:
    """``EST``, ``CET``, ``GMT``, ``EST5EDT``: letters (and digits) without a place."""
    if name in _PLAIN_UTC or "/" in name:
        return False
    return name.isupper() or any(c.isdigit() for c in name) or name.upper() in _MORE_ABBREVIATIONS


def _never_summer(name: str) -> bool:
    """Whether the zone database's ``name`` keeps one offset all year (``EST``, ``MST``)."""
    if not zone_exists(name):
        return False
    tz = _zone(name)
    return len({tz.localize(d).utcoffset() for d in _SEASONS}) == 1


def _by_place(name: str) -> str | None:
    """``New York`` -> ``America/New_York``: the zone whose city (or whole name) is written
    with spaces, another case or hyphens."""
    key = re.sub(r"[\s-]+", "_", name.strip()).lower()
    for zone in pytz.common_timezones:
        if zone.lower() == key or zone.rsplit("/", 1)[-1].lower() == key:
            return zone
    return None


def _places_for(name: str) -> tuple[str, list[str]] | None:
    """(what ``name`` is, the cities' zones to write instead) for an abbreviation or an
    offset; None for anything else."""
    offset = _offset_of(name)
    if offset is not None:
        places = [z for z, _, standard in _season_table() if standard == offset]
        return "a fixed offset: it never follows summer time", places
    if not _is_abbreviation(name):
        return None
    letters = re.match(r"[A-Z]*", name.upper())
    upper = letters[0] if letters else ""
    places = [z for z, names, _ in _season_table() if upper in names]
    extra = _MORE_ABBREVIATIONS.get(upper)
    if extra and extra not in places:
        places.insert(0, extra)
    what = "an abbreviation, not a place"
    if _never_summer(name):
        what += f": {name} never observes summer time"
    return what, places


def _rewritten(written: str, name: str, place: str) -> str:
    """``written`` with its zone ``name`` replaced by ``place``, one space before it
    (``2027-03-16T11:00-05:00`` -> ``2027-03-16T11:00 America/New_York``)."""
    at = written.rfind(name)
    return f"{written[:at].rstrip()} {place}{written[at + len(name) :]}"


def zone_error(name: str, written: str | None = None) -> str | None:
    """Why ``name`` cannot be a market's clock, with the IANA name to write instead; None
    when it can. ``written`` is the whole value the zone was part of (a launch, ``2027-03-16
    11:00 EST``): the suggestion is then that value with the zone replaced.

    Abbreviations and fixed offsets are refused even where the zone database knows them:
    ``EST`` never moves to summer time, so a post for New York written at 09:00 would go out
    at 10:00 from March to November, and a 3-letter zone is almost always that mistake."""

    def hint(places: list[str]) -> str:
        if not places:
            return ""
        shown = [_rewritten(written, name, p) if written else p for p in places[:3]]
        return f" (did you mean {_quoted(shown)}?)"

    found = _places_for(name)
    if found is not None:
        what, places = found
        whose = "a city" if written else "the market's city"
        return f"{name!r} is {what}; use the IANA name of {whose}{hint(places)}"
    if zone_exists(name):
        return None
    close = _by_place(name) or suggest_zone(name)
    return (
        f"unknown time zone {name!r}{hint([close] if close else [])}; "
        "use an IANA name like Europe/Paris"
    )


def suggest_zone(name: str) -> str | None:
    """The closest IANA name (a place, never an abbreviation) to a misspelt one."""
    places = [z for z in pytz.all_timezones if "/" in z and not z.startswith("Etc/")]
    close = closest(name, places, cutoff=0.75)
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
