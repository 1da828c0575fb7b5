"""What a publisher answers when asked for its posts' counts (docs/publishers.md, "Metrics").

Each publisher's ``metrics(remote_ids, credentials)`` asks its network's documented endpoint
for up to ``metrics_batch`` posts at once and answers a :class:`MetricsAnswer`: counts for the
posts the network spoke of, the posts it says are gone. A post in neither is *missing*: the
network said nothing of it this time, which is not a post nobody saw (never turned into 0).

Failures keep the meaning the HTTP layer gives them (``Transient`` for 5xx and 429, with the
network's wait), plus :class:`NoPermission`: the token lacks the insights scope, which is a
fact about the account, not an error of each post.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, runtime_checkable

from scheduler.core.errors import PublishError
from scheduler.publishers.base import Credentials

#: The counts a snapshot holds (the ``metric_snapshot`` columns).
FIELDS = ("impressions", "reach", "views", "likes", "comments", "shares", "saves", "clicks")


class NoPermission(PublishError):
    """The account's token may publish but not read insights (a scope is missing)."""


@dataclass(frozen=True, slots=True)
class Counts:
    """One post's counts as its network gave them; None where it gave none."""

    impressions: int | None = None
    reach: int | None = None
    views: int | None = None
    likes: int | None = None
    comments: int | None = None
    shares: int | None = None
    saves: int | None = None
    clicks: int | None = None
    #: The network's own words for this post (kept as the snapshot's ``raw`` JSON).
    raw: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, int | None]:
        return {name: getattr(self, name) for name in FIELDS}


@dataclass(slots=True)
class MetricsAnswer:
    """What one request (or one batch) told: counts by remote id, and the ids gone."""

    counts: dict[str, Counts] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)

    def merge(self, other: MetricsAnswer) -> MetricsAnswer:
        self.counts.update(other.counts)
        self.deleted |= other.deleted
        return self


@runtime_checkable
class MetricsSource(Protocol):
    """A publisher that can read its posts' counts."""

    network: ClassVar[str]
    #: Most posts one request may name (1 where the API reads one post per request).
    metrics_batch: ClassVar[int]

    def metrics(self, remote_ids: Sequence[str], credentials: Credentials) -> MetricsAnswer: ...


def number(value: Any) -> int | None:
    """A count as an int: networks send numbers, numeric strings (YouTube) or nothing."""
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        try:
            return int(float(value))
        except (TypeError, ValueError):
            return None


def total(*values: Any) -> int | None:
    """The sum of the counts given, None when none was given."""
    found = [n for n in (number(v) for v in values) if n is not None]
    return sum(found) if found else None


def one_by_one(
    remote_ids: Iterable[str],
    read: Callable[[str], Counts | None],
    *,
    gone: Callable[[PublishError], bool],
) -> MetricsAnswer:
    """For APIs that read one post per request: ``read`` each id; an error ``gone`` says
    means the post was deleted; ``read`` answering None leaves the post missing."""
    answer = MetricsAnswer()
    for remote_id in remote_ids:
        try:
            counts = read(remote_id)
        except PublishError as exc:
            if isinstance(exc, NoPermission) or not gone(exc):
                raise
            answer.deleted.add(remote_id)
            continue
        if counts is not None:
            answer.counts[remote_id] = counts
    return answer


def not_found(exc: PublishError) -> bool:
    """HTTP 404: the usual way an API says the post is no longer there."""
    return exc.http_status == 404


def rate_key(network: str, account: str) -> str:
    """Where the HTTP layer keeps the budget of a metrics endpoint with its own rate limit
    (X's post lookup); other networks share one budget per account (``network:account``)."""
    return f"{network}:{account}:metrics"
