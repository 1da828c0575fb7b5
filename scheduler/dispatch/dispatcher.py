"""The dispatcher: claims due posts, publishes each once, and recovers from every kind of death.

A thin facade over the modules that do the work, for the Celery tasks, the CLI and the tests:

* :mod:`~scheduler.dispatch.claims`: ``tick`` (reconcile first, re-enqueue, claim);
* :mod:`~scheduler.dispatch.publish`: ``publish(post_id, token)`` (take, zombie check, send);
* :mod:`~scheduler.dispatch.outcomes`: how an attempt ends;
* :mod:`~scheduler.dispatch.reconcile`: look before any resend;
* :mod:`~scheduler.dispatch.operator`: retry, cancel, publish now, release;
* :mod:`~scheduler.dispatch.policy`: lease, backoff, lateness, spacing, batching.

The database, not the broker, is the record of what is due; every state change is a move of
the lifecycle table (:mod:`scheduler.core.lifecycle`), guarded by the attempt token the claim
wrote, so any number of beats, dispatchers and workers may run at once (docs/operations.md).
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy.engine import RowMapping

from scheduler.dispatch import claims, observe, operator, publish, reconcile
from scheduler.dispatch.claims import Enqueue, TickReport
from scheduler.dispatch.context import Clock, Context
from scheduler.dispatch.outcomes import Claim
from scheduler.dispatch.policy import Job, Policy

__all__ = ["Claim", "Clock", "Dispatcher", "Enqueue", "Job", "Policy", "TickReport", "warm_up"]


class Dispatcher(Context):
    """Claims, publishes, reconciles and applies operator commands for one calendar."""

    def tick(self, enqueue: Enqueue) -> TickReport:
        started = time.monotonic()
        report = claims.tick(self, enqueue)
        observe.tick_ended(time.monotonic() - started)
        return report

    def publish(self, post_id: str, token: str | None = None) -> str:
        return publish.publish(self, post_id, token)

    def publish_many(self, jobs: Sequence[Job]) -> list[str]:
        return publish.publish_many(self, jobs)

    def begin(self, post_id: str, token: str) -> Claim | None:
        return publish.begin(self, post_id, token)

    def send(self, claim: Claim) -> str:
        return publish.send(self, claim)

    def reconcile(self, post_id: str, token: str) -> str:
        return reconcile.reconcile(self, post_id, token)

    def retry(self, post_id: str) -> RowMapping:
        return operator.retry(self, post_id)

    def cancel(self, post_id: str) -> RowMapping:
        return operator.cancel(self, post_id)

    def publish_now(self, post_id: str) -> RowMapping:
        return operator.publish_now(self, post_id)

    def release(self, post_id: str) -> RowMapping:
        return operator.release(self, post_id)

    def release_account(self, network: str, account: str) -> int:
        return operator.release_account(self, network, account)


def warm_up() -> None:
    """Pay a worker's one-time imports before the first post instead of during it: every
    publisher class, twitter-text's URL extractor and its emoji table (an X post's length;
    a tenth of a second on a quiet machine, several times that on a busy one) — otherwise the
    first posts of a burst wait behind them. Called in the worker's main process, so prefork
    children inherit the modules."""
    from scheduler.publishers.registry import load_class, publisher_classes
    from scheduler.text.xlength import warm_up as warm_up_x_counting

    for network in publisher_classes():
        load_class(network)
    warm_up_x_counting()
