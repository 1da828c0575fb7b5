"""The dispatcher's knobs: lease, attempts, backoff, lateness and spacing per network, and how a
tick's claims travel to the workers. Plain values: no database, no clock.

The defaults are the production choices explained in docs/operations.md.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType
from typing import Protocol

import httpx

from scheduler.publishers.http import DEFAULT_TIMEOUT

#: One claim handed to the workers: the post and the attempt token its publish must present.
Job = tuple[str, str]

#: How late a post may still go out, per network: a launch post hours late is worse than none.
DEFAULT_MAX_LATENESS: Mapping[str, timedelta] = MappingProxyType(
    {
        "x": timedelta(hours=1),
        "threads": timedelta(hours=1),
        "mastodon": timedelta(hours=1),
        "bluesky": timedelta(hours=1),
        "weibo": timedelta(hours=2),
        "facebook": timedelta(hours=6),
        "instagram": timedelta(hours=6),
        "linkedin": timedelta(hours=6),
        "youtube": timedelta(hours=12),
    }
)
FALLBACK_MAX_LATENESS = timedelta(hours=6)

#: Minimum seconds between two posts of one account, per network, so a burst (a launch at 09:00
#: in every market) stays inside the network's posting limits. Only networks actually reached
#: (credentials present) are spaced: the outbox has no limit to respect.
DEFAULT_MIN_SPACING: Mapping[str, float] = MappingProxyType(
    {
        "x": 5.0,
        "threads": 5.0,
        "instagram": 10.0,
        "facebook": 2.0,
        "linkedin": 2.0,
        "youtube": 10.0,
        "weibo": 5.0,
        "mastodon": 1.0,
        "bluesky": 1.0,
    }
)


class PolicySettings(Protocol):
    """The settings a :class:`Policy` is made from (the application's ``Settings`` has them)."""

    @property
    def lease_seconds(self) -> float: ...
    @property
    def max_attempts(self) -> int: ...
    @property
    def backoff_seconds(self) -> float: ...
    @property
    def publish_batch(self) -> int: ...
    @property
    def max_lateness(self) -> Mapping[str, float]: ...
    @property
    def min_spacing(self) -> Mapping[str, float]: ...


@dataclass(frozen=True)
class Policy:
    """The dispatcher's knobs. Defaults are the production choices explained in
    docs/operations.md; ``STORYLINE_LEASE_SECONDS`` and friends override them."""

    lease: timedelta = timedelta(seconds=60)
    max_attempts: int = 8
    backoff_base: float = 30.0  # seconds before the 2nd attempt; doubles each time
    backoff_cap: float = 1800.0
    claim_batch: int = 2000
    #: At most this many claims share one broker message (``STORYLINE_PUBLISH_BATCH``).
    batch: int = 8
    #: A tick's claims go out as at least this many messages before any carries two.
    spread: int = 64
    max_lateness: Mapping[str, timedelta] = field(default_factory=lambda: DEFAULT_MAX_LATENESS)
    min_spacing: Mapping[str, float] = field(default_factory=lambda: DEFAULT_MIN_SPACING)

    def lateness_limit(self, network: str) -> timedelta:
        return self.max_lateness.get(network, FALLBACK_MAX_LATENESS)

    def messages(self, jobs: Sequence[Job]) -> list[Sequence[Job]]:
        """How one tick's claims travel to the workers.

        One claim per message while a tick has few (each message can reach its own worker
        thread at once); in a burst, up to ``batch`` claims per message, and still at least
        ``spread`` messages to share among the threads. A broker message costs about what a
        whole publish to the outbox costs, and a tick sends its messages one by one: a burst of
        1,000 posts due at 09:00 waited on those sends (docs/operations.md, "Bursts"). Each
        claim in a message is still published on its own, guarded by its own token.
        """
        size = max(1, min(self.batch, math.ceil(len(jobs) / max(1, self.spread))))
        return [jobs[i : i + size] for i in range(0, len(jobs), size)]

    def backoff(self, attempts: int, rng: random.Random, retry_after: float | None) -> float:
        """Exponential backoff with "equal jitter" (half fixed, half random), never below the
        network's own Retry-After: jitter spreads a burst of failures so they do not return as
        one burst."""
        ceiling = min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempts - 1))
        delay = ceiling / 2 + rng.uniform(0, ceiling / 2)
        return float(max(delay, retry_after or 0.0))

    @classmethod
    def from_settings(cls, settings: PolicySettings) -> Policy:
        """The policy the settings give (``STORYLINE_LEASE_SECONDS`` and friends)."""
        lateness = dict(DEFAULT_MAX_LATENESS)
        lateness.update({n: timedelta(seconds=v) for n, v in settings.max_lateness.items()})
        return cls(
            lease=timedelta(seconds=settings.lease_seconds),
            max_attempts=settings.max_attempts,
            batch=settings.publish_batch,
            backoff_base=settings.backoff_seconds,
            max_lateness=MappingProxyType(lateness),
            min_spacing=MappingProxyType({**DEFAULT_MIN_SPACING, **settings.min_spacing}),
        )


def http_timeout(policy: Policy) -> httpx.Timeout:
    """Network calls end well inside the lease (a third of it, at most the shared 20 s), so a
    slow network never lets a second worker take over a post while the first still waits."""
    read = min(DEFAULT_TIMEOUT.read or 20.0, policy.lease.total_seconds() / 3)
    return httpx.Timeout(read, connect=min(DEFAULT_TIMEOUT.connect or 5.0, read))


def human(delta: timedelta) -> str:
    """A lateness for people: ``1.2 h``, ``5 min``, ``30 s``."""
    seconds = int(delta.total_seconds())
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"
