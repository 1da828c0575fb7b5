"""Times as people read them: the market's wall time with its zone, or ISO 8601.

The database speaks UTC; every time a person sees is the post's market's local time.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    pass


SHORT_TEXT = 60


def local(dt_utc: datetime, zone: str) -> datetime:
    return dt_utc.astimezone(ZoneInfo(zone))


def format_local(dt_utc: datetime, zone: str, *, with_zone_name: bool = True) -> str:
    """``2026-12-01 09:00 CET (Europe/Paris)``: the wall time the market will see."""
    when = local(dt_utc, zone)
    shown = f"{when:%Y-%m-%d %H:%M} {when.tzname()}"
    return f"{shown} ({zone})" if with_zone_name else shown


def iso_utc(dt: datetime | None) -> str | None:
    if dt is None:
        return None
    return dt.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def iso_local(dt_utc: datetime | None, zone: str) -> str | None:
    if dt_utc is None:
        return None
    return local(dt_utc, zone).isoformat(timespec="seconds")


def short(text: str, width: int = SHORT_TEXT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"
