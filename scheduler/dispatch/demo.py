"""``storyline run --demo``: the sample calendar re-timed to start now.

The calendar's distinct due instants, in order, become ``now + DEMO_LEAD``, then one every
``DEMO_STEP``: what went out together still goes out together (a launch at 09:00 in every
market), and teasers still come before reveals. Nothing on disk changes. It works on any
planned post (a dataclass with ``due_utc``, ``due_local`` and ``timezone``), so the dispatcher
needs nothing of the planning layer.

Sign-off (docs/signoff.md) is decided by planning, before re-timing, against the content's own
due instants: the sample's committed approvals count in the demo, and moving a post to its demo
slot does not void them (only the demo's calendar sees the new time).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Protocol, TypeVar
from zoneinfo import ZoneInfo

#: The first demo posts fall due this long after `storyline run --demo` starts...
DEMO_LEAD = timedelta(seconds=10)
#: ...and each later instant of the calendar follows the previous one by this much.
DEMO_STEP = timedelta(seconds=3)


class Timed(Protocol):
    """A planned post, as far as re-timing goes (``PlannedPost`` is one)."""

    __dataclass_fields__: ClassVar[dict[str, Any]]

    @property
    def due_utc(self) -> datetime: ...
    @property
    def due_local(self) -> datetime: ...
    @property
    def timezone(self) -> str: ...


T = TypeVar("T", bound=Timed)


def demo_slots(instants: Sequence[datetime], now: datetime) -> dict[datetime, datetime]:
    """Each distinct instant -> its demo instant, in order, ``DEMO_STEP`` apart."""
    ordered = sorted(set(instants))
    return {at: now + DEMO_LEAD + i * DEMO_STEP for i, at in enumerate(ordered)}


def demo_shift(planned: Sequence[T], now: datetime) -> list[T]:
    """``planned`` with each due time moved to its demo slot (local time to match)."""
    slot = demo_slots([p.due_utc for p in planned], now)
    out = []
    for p in planned:
        due = slot[p.due_utc].astimezone(UTC)
        out.append(replace(p, due_utc=due, due_local=due.astimezone(ZoneInfo(p.timezone))))
    return out
