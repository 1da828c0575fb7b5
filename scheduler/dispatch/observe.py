"""Observers of the dispatcher: how the metrics (or anything else) hear what happened
without the dispatcher knowing about them.

The dispatcher reports each attempt's outcome and each tick's duration here; the worker
subscribes the Prometheus instruments (:mod:`scheduler.interfaces.metrics`) when metrics are
on. Nothing subscribed costs a list lookup; an observer that raises is logged and ignored:
watching never changes what is published.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AttemptEnded:
    """One post's attempt, as the worker that made it saw it end."""

    network: str
    account: str
    #: What ``send`` returned: published, failed, retry_wait, held, needs_review, superseded...
    outcome: str
    #: Seconds from the post's due time to its publication (only for ``published``).
    lateness_seconds: float | None = None


class Observer(Protocol):
    def attempt_ended(self, event: AttemptEnded) -> None: ...

    def tick_ended(self, seconds: float) -> None: ...


_observers: list[Observer] = []


def subscribe(observer: Observer) -> None:
    if observer not in _observers:
        _observers.append(observer)


def unsubscribe(observer: Observer) -> None:
    if observer in _observers:
        _observers.remove(observer)


def attempt_ended(event: AttemptEnded) -> None:
    for observer in list(_observers):
        try:
            observer.attempt_ended(event)
        except Exception:
            log.exception("observer %r failed on %s", observer, event)


def tick_ended(seconds: float) -> None:
    for observer in list(_observers):
        try:
            observer.tick_ended(seconds)
        except Exception:
            log.exception("observer %r failed on a tick", observer)
