"""A progress bar for long content loads: on stderr, on a terminal, and only after a second.

A small brand's content loads in a fraction of a second, and a bar that flashes for it is
noise; a year of stories over 70 markets takes several seconds, and a silent terminal then
looks hung. So the bar appears once the work has taken :data:`DELAY_S`, only when stderr is a
terminal (never in CI logs, pipes or ``--format json`` consumers), and says which phase it is in.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import Any, TextIO

import click

#: Work shorter than this shows no bar.
DELAY_S = 1.0

PHASES = {"loading": "loading stories", "checking": "checking stories"}


class DelayedProgress:
    """A ``pipeline.load_plan`` progress callback that draws a click progress bar late."""

    def __init__(
        self,
        stream: TextIO | None = None,
        *,
        delay_s: float = DELAY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.delay_s = delay_s
        self.clock = clock
        self.started = clock()
        self.enabled = _is_terminal(self.stream)
        self.phase: str | None = None
        self.bar: Any = None
        self.shown = 0

    def __call__(self, phase: str, done: int, total: int) -> None:
        if not self.enabled or self.clock() - self.started < self.delay_s:
            return
        if phase != self.phase:
            self.close()
            self.phase, self.shown = phase, 0
            self.bar = click.progressbar(
                length=total, label=PHASES.get(phase, phase), file=self.stream
            )
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None

    def __enter__(self) -> DelayedProgress:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False
