"""When a published post is due a metrics pull: pure rules, no clock, no database.

A post is pulled at fixed ages after its publication (``STORYLINE_METRICS_PULL_AFTER``, by
default ``1h,24h,7d,28d``). Each age is a *window*; a snapshot records which window it
answered. The post is due when its latest reached window has no snapshot yet: a pull missed
(a worker down, a network answering 5xx) is made up by the next one, never by a burst of
stale ones, and a window already answered is never pulled again (a re-pull writes nothing).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from scheduler.core.errors import ConfigError

DEFAULT_PULL_AFTER = "1h,24h,7d,28d"
#: The window of a pull asked for by hand (``storyline analytics pull --all``) when no
#: scheduled window is due.
MANUAL = "manual"

_UNITS = {"m": timedelta(minutes=1), "h": timedelta(hours=1), "d": timedelta(days=1)}
_AGE = re.compile(r"^(\d+)([mhd])$")


@dataclass(frozen=True, slots=True)
class Window:
    name: str  # as written: "1h", "24h", "7d"
    after: timedelta


def parse_windows(
    raw: str, *, variable: str = "STORYLINE_METRICS_PULL_AFTER"
) -> tuple[Window, ...]:
    """``"1h,24h,7d,28d"`` -> the windows, shortest first; a clear error for anything else."""
    windows: dict[timedelta, Window] = {}
    for part in (p.strip().lower() for p in raw.split(",")):
        match = _AGE.match(part)
        if not match or int(match.group(1)) == 0:
            raise ConfigError(
                f"{variable} must list ages after publication such as 1h,24h,7d,28d "
                f"(minutes m, hours h, days d), not {part!r}"
            )
        after = int(match.group(1)) * _UNITS[match.group(2)]
        windows.setdefault(after, Window(part, after))
    return tuple(windows[k] for k in sorted(windows))


def due_window(
    published_at: datetime,
    now: datetime,
    windows: Sequence[Window],
    taken: Collection[str],
) -> str | None:
    """The window a pull now would answer, or None when the post is not due."""
    reached = [w for w in windows if published_at + w.after <= now]
    if not reached or reached[-1].name in taken:
        return None
    return reached[-1].name


def forced_window(
    published_at: datetime, now: datetime, windows: Sequence[Window], taken: Collection[str]
) -> str:
    """The window of a pull asked for by hand: the due one, else :data:`MANUAL`."""
    return due_window(published_at, now, windows, taken) or MANUAL
