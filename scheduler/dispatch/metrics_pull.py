"""Pull what each published post earned from its network, and keep it as snapshots.

Which posts are due is :mod:`scheduler.core.pulls`' rule; this module reads the calendar,
asks each account's publisher (``metrics()``, batched to its ``metrics_batch``), and writes
append-only ``metric_snapshot`` rows. What it promises (docs/operations.md, "Metrics"):

* a re-pull is idempotent: one snapshot per post and window, a second insert is a no-op;
* 5xx and 429 leave the snapshot missing, never 0: the post stays due and the next pull (the
  beat's next run) asks again. The account's remaining pulls wait for the network's own
  ``Retry-After`` or ``x-rate-limit-reset``, and a window the last answer said is spent
  (``x-rate-limit-remaining: 0``) is not even tried;
* a missing insights permission is recorded once per account (``metric_state`` with an empty
  post id, ``no_permission``) and is not an error of each post; it clears itself when a pull
  of that account works again;
* a post the network says is gone is marked ``deleted`` and never pulled again.

Publishing never waits on any of this: the worker runs pulls on a queue of their own.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import and_, case, delete, exists, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from scheduler.calendar.database import from_db
from scheduler.calendar.tables import MetricSnapshot, MetricState, Post
from scheduler.core.errors import NeedsAuth, PublishError, StorylineError, Transient
from scheduler.core.lifecycle import PostState
from scheduler.core.pulls import Window, forced_window
from scheduler.publishers.metrics import (
    FIELDS,
    MetricsAnswer,
    MetricsSource,
    NoPermission,
    rate_key,
)
from scheduler.publishers.registry import Registry

log = logging.getLogger(__name__)

POST = Post.__table__  # type: ignore[attr-defined]
SNAPSHOT = MetricSnapshot.__table__  # type: ignore[attr-defined]
STATE = MetricState.__table__  # type: ignore[attr-defined]

DELETED = "deleted"
NO_PERMISSION = "no_permission"


@dataclass(frozen=True, slots=True)
class Due:
    """One post to pull, and the window its snapshot will answer."""

    post_id: str
    network: str
    account: str
    remote_id: str
    window: str


@dataclass
class PullReport:
    """What one pull did, for the CLI (``--format json``) and the worker's log."""

    due: int = 0
    written: int = 0
    unchanged: int = 0
    missing: int = 0
    deleted: int = 0
    requests: int = 0
    #: ``network:account`` newly found without the insights permission (told once).
    no_permission: list[str] = field(default_factory=list)
    #: ``network:account`` whose pulls wait for the network's budget, with why.
    deferred: dict[str, str] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    requests_by_network: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "due": self.due,
            "written": self.written,
            "unchanged": self.unchanged,
            "missing": self.missing,
            "deleted": self.deleted,
            "requests": self.requests,
            "requests_by_network": dict(sorted(self.requests_by_network.items())),
            "no_permission": sorted(self.no_permission),
            "deferred": dict(sorted(self.deferred.items())),
            "errors": list(self.errors),
        }


def due_posts(
    conn: Connection, now: datetime, windows: Sequence[Window], *, everything: bool = False
) -> list[Due]:
    """The published posts due a pull now (``everything``: every published post not deleted),
    oldest publication first."""
    gone = exists().where(and_(STATE.c.post_id == POST.c.post_id, STATE.c.state == DELETED))
    query = select(
        POST.c.post_id, POST.c.network, POST.c.account, POST.c.remote_id, POST.c.published_at
    ).where(
        POST.c.status == PostState.PUBLISHED.value,
        POST.c.remote_id.is_not(None),
        POST.c.published_at.is_not(None),
        or_(POST.c.destination.is_(None), POST.c.destination != "outbox"),
        ~gone,
    )
    order = (POST.c.published_at, POST.c.post_id)
    if not everything:
        if not windows:
            return []
        # core.pulls.due_window, in SQL: the latest window reached, unless already answered
        # (the unique (post, window) index answers), so a beat's pull reads only what is due.
        latest = case(*[(POST.c.published_at <= now - w.after, w.name) for w in windows[::-1]])
        answered = exists().where(
            and_(SNAPSHOT.c.post_id == POST.c.post_id, SNAPSHOT.c.window == latest)
        )
        query = query.where(POST.c.published_at <= now - windows[0].after, ~answered)
        return [
            Due(post_id, network, account, remote_id, window)
            for post_id, network, account, remote_id, _, window in conn.execute(
                query.add_columns(latest).order_by(*order)
            )
        ]
    rows = conn.execute(query.order_by(*order)).all()
    taken: dict[str, set[str]] = {}
    for post_id, window in conn.execute(select(SNAPSHOT.c.post_id, SNAPSHOT.c.window)):
        taken.setdefault(post_id, set()).add(window)
    found = []
    for post_id, network, account, remote_id, published_at in rows:
        published = from_db(published_at)
        assert published is not None
        window = forced_window(published, now, windows, taken.get(post_id, set()))
        found.append(Due(post_id, network, account, remote_id, window))
    return found


def _insert(conn: Connection, table: Any) -> Any:
    make = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    return make(table)


def _chunks(items: Sequence[Due], size: int) -> Iterator[Sequence[Due]]:
    for i in range(0, len(items), max(1, size)):
        yield items[i : i + max(1, size)]


class MetricsPuller:
    """Pulls for one process; remembers each account's "not before" between pulls (the
    worker keeps one), so a 429's ``Retry-After`` holds across beat runs."""

    def __init__(
        self,
        engine: Engine,
        registry: Registry,
        *,
        windows: Sequence[Window],
        clock: Callable[[], datetime],
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.windows = tuple(windows)
        self.clock = clock
        self.wall = wall
        self.not_before: dict[str, float] = {}

    def pull(self, *, everything: bool = False) -> PullReport:
        now = self.clock()
        with self.engine.connect() as conn:
            due = due_posts(conn, now, self.windows, everything=everything)
        report = PullReport(due=len(due))
        groups: dict[tuple[str, str], list[Due]] = {}
        for d in due:
            groups.setdefault((d.network, d.account), []).append(d)
        for (network, account), posts in groups.items():
            self._pull_account(network, account, posts, now, report)
        return report

    def _spent(self, network: str, account: str) -> str | None:
        """Why this account must not be asked now, if it must not."""
        key = f"{network}:{account}"
        wait = self.not_before.get(key, 0.0) - self.wall()
        if wait > 0:
            return f"waiting {wait:.0f} s more, as the network asked"
        for name in (rate_key(network, account), key):
            limit = self.registry.http.last_rate_limit.get(name)
            if limit is None or limit.remaining is None or limit.remaining > 0:
                continue
            if limit.reset_at is not None and limit.reset_at > self.wall():
                return f"rate limit spent until {limit.reset_at - self.wall():.0f} s from now"
        return None

    def _pull_account(
        self, network: str, account: str, posts: list[Due], now: datetime, report: PullReport
    ) -> None:
        key = f"{network}:{account}"
        try:
            route = self.registry.route(network, account)
        except StorylineError as exc:
            report.errors.append(f"{key}: {exc}")
            report.missing += len(posts)
            return
        publisher = route.publisher
        if route.kind == "outbox" or not isinstance(publisher, MetricsSource):
            report.errors.append(f"{key}: no credentials to read metrics with")
            report.missing += len(posts)
            return
        pulled = False
        for index, chunk in enumerate(_chunks(posts, publisher.metrics_batch)):
            why = self._spent(network, account)
            if why is not None:
                report.deferred[key] = why
                report.missing += len(posts) - index * publisher.metrics_batch
                return
            report.requests += 1
            report.requests_by_network[network] = report.requests_by_network.get(network, 0) + 1
            try:
                answer = publisher.metrics([d.remote_id for d in chunk], route.credentials)
            except NoPermission as exc:
                self._no_permission(network, account, str(exc), now, report)
                report.missing += len(posts) - index * publisher.metrics_batch
                return
            except Transient as exc:
                wait = exc.retry_after if exc.retry_after is not None else 60.0
                self.not_before[key] = self.wall() + wait
                report.deferred[key] = f"{exc} (again in {wait:.0f} s)"
                report.missing += len(posts) - index * publisher.metrics_batch
                return
            except NeedsAuth as exc:
                report.errors.append(f"{key}: {exc}")
                report.missing += len(posts) - index * publisher.metrics_batch
                return
            except PublishError as exc:
                report.errors.append(f"{key}: {exc}")
                report.missing += len(chunk)
                continue
            pulled = True
            self._store(network, account, chunk, answer, now, report)
        if pulled:
            self._permission_back(network, account)

    def _store(
        self,
        network: str,
        account: str,
        chunk: Sequence[Due],
        answer: MetricsAnswer,
        now: datetime,
        report: PullReport,
    ) -> None:
        rows = []
        gone = []
        for d in chunk:
            counts = answer.counts.get(d.remote_id)
            if counts is not None:
                raw = json.dumps(dict(counts.raw), sort_keys=True, default=str)
                rows.append(
                    {"post_id": d.post_id, "window": d.window, "taken_at": now, "raw": raw}
                    | counts.as_dict()
                )
            elif d.remote_id in answer.deleted:
                gone.append(d)
            else:
                report.missing += 1
        with self.engine.begin() as conn:
            kept = {
                (post_id, window)
                for post_id, window in conn.execute(
                    select(SNAPSHOT.c.post_id, SNAPSHOT.c.window).where(
                        SNAPSHOT.c.post_id.in_([r["post_id"] for r in rows])
                    )
                )
            }
            new = [r for r in rows if (r["post_id"], r["window"]) not in kept]
            report.unchanged += len(rows) - len(new)
            if new:  # another pull may write the same window meanwhile: the index says no
                stmt = _insert(conn, SNAPSHOT).on_conflict_do_nothing(
                    index_elements=["post_id", "window"]
                )
                conn.execute(stmt, new)
                report.written += len(new)
            for d in gone:
                stmt = _insert(conn, STATE).values(
                    network=network,
                    account=account,
                    post_id=d.post_id,
                    state=DELETED,
                    detail=f"{network} no longer has {d.remote_id}",
                    since=now,
                )
                conn.execute(stmt.on_conflict_do_nothing())
                report.deleted += 1

    def _no_permission(
        self, network: str, account: str, detail: str, now: datetime, report: PullReport
    ) -> None:
        """Record the account's missing permission once; say it once."""
        with self.engine.begin() as conn:
            stmt = _insert(conn, STATE).values(
                network=network,
                account=account,
                post_id="",
                state=NO_PERMISSION,
                detail=detail,
                since=now,
            )
            # RETURNING, not rowcount: PostgreSQL's driver answers -1 for ON CONFLICT inserts.
            done = conn.execute(stmt.on_conflict_do_nothing().returning(STATE.c.state)).first()
        if done is not None:
            key = f"{network}:{account}"
            report.no_permission.append(key)
            log.warning("%s: no permission to read insights: %s", key, detail)

    def _permission_back(self, network: str, account: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                delete(STATE).where(
                    STATE.c.network == network,
                    STATE.c.account == account,
                    STATE.c.post_id == "",
                    STATE.c.state == NO_PERMISSION,
                )
            )


__all__ = ["FIELDS", "Due", "MetricsPuller", "PullReport", "due_posts"]
