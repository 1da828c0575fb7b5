"""The dispatcher: claims due posts, publishes each once, and recovers from every kind of death.

The database, not the broker, is the record of what is due (DESIGN §6). Every claim writes an
attempt token and a lease into the row; every later step is a conditional update guarded by that
token, so any number of beats, dispatchers and workers may run at once:

* ``tick`` (beat, every ``STORYLINE_TICK_SECONDS``) first hands posts left in ``publishing`` or
  ``reconciling`` past their lease to reconciliation, then re-enqueues ``queued`` posts whose
  message was lost (kombu's SQLAlchemy transport commits a message as taken at fetch), then claims
  due ``planned`` and ``retry_wait`` posts in one atomic statement each;
* ``publish(post_id, token)`` moves ``queued -> publishing`` only with the right token (a duplicate
  delivery finds nothing to move), re-checks token and lease right before the network call (a
  worker paused past its lease sends nothing), and records the outcome and an ``Attempt``.

Nothing here reads the wall clock directly: a ``clock`` is injected, so tests drive time.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import and_, bindparam, case, func, insert, literal, select, true, update
from sqlalchemy.engine import Connection, Engine, RowMapping
from sqlalchemy.sql import Select

from scheduler.app.publishing import registry_for
from scheduler.app.settings import Settings
from scheduler.calendar.database import from_db, utcnow
from scheduler.calendar.tables import Attempt, Post, PostState
from scheduler.core.errors import (
    ConfigError,
    InvalidTransition,
    NeedsAuth,
    NotFound,
    PublishError,
    Transient,
)
from scheduler.core.model import Media
from scheduler.publishers.base import OutgoingPost, Published
from scheduler.publishers.http import DEFAULT_TIMEOUT, HttpClient
from scheduler.publishers.registry import Registry, Route

if TYPE_CHECKING:
    from scheduler.core.post import PlannedPost

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: One claim handed to the workers: the post and the attempt token its publish must present.
Job = tuple[str, str]
#: Sends one broker message carrying one or more claims (see ``Policy.messages``).
Enqueue = Callable[[Sequence[Job]], None]

POST = Post.__table__  # type: ignore[attr-defined]
ATTEMPT = Attempt.__table__  # type: ignore[attr-defined]

S = PostState
IN_FLIGHT = (S.QUEUED, S.PUBLISHING, S.RECONCILING)
REAUTH_REASON = "account needs re-auth"

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
#: A claim this young needs no second check before the network call: ``begin`` just made it.
FRESH_CLAIM = timedelta(milliseconds=500)
#: The outcome of an attempt whose request went out unanswered and whose post the network did
#: not show right after: the next attempt looks for it again before sending.
UNCONFIRMED = "unconfirmed"

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
    def from_settings(cls, settings: Settings) -> Policy:
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


@dataclass(frozen=True)
class TickReport:
    reconciling: int = 0
    requeued: int = 0
    claimed: int = 0
    enqueue_failures: int = 0


@dataclass
class _Claim:
    """What a worker holds between ``queued -> publishing`` and the outcome."""

    row: RowMapping
    token: str
    attempt_id: int
    began: datetime  # the dispatcher clock at the guarded update
    started: float = field(default_factory=time.monotonic)


def http_timeout(policy: Policy) -> httpx.Timeout:
    """Network calls end well inside the lease (a third of it, at most the shared 20 s), so a
    slow network never lets a second worker take over a post while the first still waits."""
    read = min(DEFAULT_TIMEOUT.read or 20.0, policy.lease.total_seconds() / 3)
    return httpx.Timeout(read, connect=min(DEFAULT_TIMEOUT.connect or 5.0, read))


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


def new_token() -> str:
    return uuid.uuid4().hex


def outgoing(row: RowMapping, settings: Settings) -> OutgoingPost:
    """The frozen copy of a row a publisher gets (publishers never see the database)."""
    media = tuple(
        Media(file=str(m.get("file", "")), alt=str(m.get("alt", "")), kind=str(m.get("kind", "")))
        for m in json.loads(row["media_json"] or "[]")
    )
    checkpoint = json.loads(row["checkpoint_json"]) if row["checkpoint_json"] else {}
    due = from_db(row["due_utc"])
    assert due is not None
    return OutgoingPost(
        post_id=row["post_id"],
        story=row["story"],
        beat=row["beat"],
        network=row["network"],
        market=row["market"],
        account=row["account"],
        account_name=row["account_name"],
        due_utc=due,
        text=row["text"],
        title=row["title"],
        link=row["link"],
        media=media,
        first_comment=row["first_comment"],
        campaign=row["campaign"],
        content_dir=settings.content_dir,
        checkpoint=MappingProxyType(checkpoint),
    )


# The publish path's statements, built once with bound parameters: building and hashing a
# statement per post cost more than running it on SQLite.

#: The guarded ``queued -> publishing``: no row comes back unless the token still holds.
CLAIM_FOR_SEND = (
    update(POST)
    .where(
        POST.c.post_id == bindparam("b_post"),
        POST.c.status == S.QUEUED,
        POST.c.attempt_token == bindparam("b_token"),
    )
    .values(
        status=S.PUBLISHING,
        lease_until=bindparam("b_lease", type_=POST.c.lease_until.type),
        attempts=POST.c.attempts + 1,
        updated_at=bindparam("b_now", type_=POST.c.updated_at.type),
    )
    .returning(*POST.c)
)
#: The ``Attempt`` row of that claim.
ATTEMPT_SENDING = (
    insert(ATTEMPT)
    .values(
        post_id=bindparam("b_post"),
        attempt_token=bindparam("b_token"),
        started_at=bindparam("b_started", type_=ATTEMPT.c.started_at.type),
        outcome="sending",
        worker=bindparam("b_worker", type_=ATTEMPT.c.worker.type),
    )
    .returning(ATTEMPT.c.id)
)
#: A claimed post's outcome, guarded by state and token.
MARK_PUBLISHED = (
    update(POST)
    .where(
        POST.c.post_id == bindparam("o_post"),
        POST.c.status == bindparam("o_state"),
        POST.c.attempt_token == bindparam("o_token"),
    )
    .values(
        status=S.PUBLISHED,
        remote_id=bindparam("o_remote", type_=POST.c.remote_id.type),
        url=bindparam("o_url", type_=POST.c.url.type),
        published_at=bindparam("o_now", type_=POST.c.published_at.type),
        updated_at=bindparam("o_now", type_=POST.c.updated_at.type),
        lease_until=None,
        status_reason=bindparam("o_reason", type_=POST.c.status_reason.type),
        last_error=None,
    )
)
#: The result of an ``Attempt``.
FINISH_ATTEMPT = (
    update(ATTEMPT)
    .where(ATTEMPT.c.id == bindparam("o_attempt"))
    .values(
        finished_at=bindparam("o_finished", type_=ATTEMPT.c.finished_at.type),
        outcome=bindparam("o_outcome"),
        error=bindparam("o_error", type_=ATTEMPT.c.error.type),
        latency_ms=bindparam("o_latency", type_=ATTEMPT.c.latency_ms.type),
    )
)


def _begin_in_one_statement() -> Select[Any]:
    """PostgreSQL: the claim and its ``Attempt`` as one statement (data-modifying CTEs), so
    it is its own transaction: one round trip where BEGIN, UPDATE, INSERT, COMMIT took four.
    When the guard fails no row comes back and no Attempt is written (the INSERT selects from
    the UPDATE's RETURNING)."""
    claimed = CLAIM_FOR_SEND.cte("claimed")
    attempt = (
        insert(ATTEMPT)
        .from_select(
            ["post_id", "attempt_token", "started_at", "outcome", "worker"],
            select(
                claimed.c.post_id,
                claimed.c.attempt_token,
                bindparam("b_started", type_=ATTEMPT.c.started_at.type),
                literal("sending"),
                bindparam("b_worker", type_=ATTEMPT.c.worker.type),
            ),
        )
        .returning(ATTEMPT.c.id)
        .cte("attempt")
    )
    return select(claimed, attempt.c.id.label("attempt_id")).select_from(
        claimed.join(attempt, true())
    )


def _published_in_one_statement() -> Select[Any]:
    """PostgreSQL: the guarded ``published`` and its ``Attempt``'s result as one statement (one
    round trip, one commit). ``won`` counts the post rows moved; the Attempt says whether the
    guard held: an outcome landing after a takeover is recorded as such."""
    moved = MARK_PUBLISHED.returning(POST.c.post_id).cte("moved")
    won = select(func.count()).select_from(moved).scalar_subquery()
    finished = (
        update(ATTEMPT)
        .where(ATTEMPT.c.id == bindparam("o_attempt"))
        .values(
            finished_at=bindparam("o_finished", type_=ATTEMPT.c.finished_at.type),
            outcome=case((won > 0, bindparam("o_outcome")), else_=bindparam("o_outcome_lost")),
            error=case(
                (won > 0, None), else_=bindparam("o_error_lost", type_=ATTEMPT.c.error.type)
            ),
            latency_ms=bindparam("o_latency", type_=ATTEMPT.c.latency_ms.type),
        )
        .returning(ATTEMPT.c.id)
        .cte("finished")
    )
    return select(won.label("won"), select(func.count()).select_from(finished).scalar_subquery())


BEGIN_PG = _begin_in_one_statement()
PUBLISHED_PG = _published_in_one_statement()

F = TypeVar("F", bound=Callable[..., Any])


def _one_transaction(method: F) -> F:
    """Run a Dispatcher method's writes in one transaction (see ``Dispatcher._txn``)."""

    @functools.wraps(method)
    def wrapper(self: Dispatcher, *args: Any, **kwargs: Any) -> Any:
        with self._txn():
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class Dispatcher:
    """Claims, publishes, reconciles and applies operator commands for one calendar."""

    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        clock: Clock = utcnow,
        policy: Policy | None = None,
        registry: Registry | None = None,
        rng: random.Random | None = None,
        worker: str | None = None,
    ) -> None:
        self.engine = engine
        #: PostgreSQL runs each publish step as one statement on an autocommit connection.
        self._pg = engine.dialect.name == "postgresql"
        self._auto = engine.execution_options(isolation_level="AUTOCOMMIT")
        self.settings = settings
        self.clock = clock
        self.policy = policy or Policy.from_settings(settings)
        self._registry = registry
        self._routes: dict[tuple[str, str], Route] = {}
        self._local = threading.local()
        self.rng = rng or random.Random()  # jitter, not security
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"

    @property
    def registry(self) -> Registry:
        """Built on first use: operator commands never open an HTTP client or read secrets."""
        if self._registry is None:
            http = HttpClient(timeout=http_timeout(self.policy))
            self._registry = registry_for(self.settings, http=http)
        return self._registry

    def close(self) -> None:
        if self._registry is not None:
            self._registry.close()

    def route(self, network: str, account: str) -> Route:
        """The registry's route, kept per account: the registry reads secrets once, so the
        answer cannot change in this process, and the outbox route is otherwise rebuilt (entry
        point loaded, publisher made) for every post. Refusals are not kept: they raise."""
        key = (network, account)
        found = self._routes.get(key)
        if found is None:
            found = self._routes[key] = self.registry.route(network, account)
        return found

    # --- small helpers ----------------------------------------------------------------------

    def _now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the dispatcher's clock must return aware datetimes")
        return now

    def _read(self, post_id: str) -> RowMapping | None:
        with self.engine.connect() as conn:
            return conn.execute(select(POST).where(POST.c.post_id == post_id)).mappings().first()

    @contextmanager
    def _txn(self) -> Iterator[Connection]:
        """A transaction; nested calls join the outer one, so an outcome and its ``Attempt``
        are written together (one commit per step: the publish path is commit-bound)."""
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is not None:
            yield conn
            return
        with self.engine.begin() as conn:
            self._local.conn = conn
            try:
                yield conn
            finally:
                self._local.conn = None

    @contextmanager
    def _single(self) -> Iterator[Connection]:
        """Where one self-contained statement runs: inside the open transaction if there is
        one, else on an autocommit connection (the statement is its own transaction)."""
        conn: Connection | None = getattr(self._local, "conn", None) or getattr(
            self._local, "auto", None
        )
        if conn is not None:
            yield conn
            return
        with self._auto.connect() as conn:
            yield conn

    @contextmanager
    def _one_connection(self) -> Iterator[None]:
        """PostgreSQL: one autocommit connection for a whole publish, so its start and its
        outcome do not each take one from the pool (a checkout is a pre-ping round trip)."""
        if not self._pg or getattr(self._local, "auto", None) is not None:
            yield
            return
        with self._auto.connect() as conn:
            self._local.auto = conn
            try:
                yield
            finally:
                self._local.auto = None

    def _update(self, where: Iterable[Any], **values: Any) -> int:
        """One guarded update in its own short transaction; the row count says who won."""
        with self._txn() as conn:
            return conn.execute(update(POST).where(*where).values(**values)).rowcount

    def _finish_attempt(
        self,
        attempt_id: int,
        outcome: str,
        *,
        error: str | None = None,
        http_status: int | None = None,
        started: float | None = None,
    ) -> None:
        latency = int((time.monotonic() - started) * 1000) if started is not None else None
        with self._txn() as conn:
            conn.execute(
                update(ATTEMPT)
                .where(ATTEMPT.c.id == attempt_id)
                .values(
                    finished_at=_utc(self._now()),
                    outcome=outcome,
                    error=error,
                    http_status=http_status,
                    latency_ms=latency,
                )
            )

    # --- the tick -----------------------------------------------------------------------------

    def tick(self, enqueue: Enqueue) -> TickReport:
        """One dispatcher pass: reconcile, re-enqueue, claim; then hand the claims to workers."""
        now = self._now()
        lease_until = _utc(now + self.policy.lease)
        db_now = _utc(now)
        jobs: list[Job] = []

        # 1. Reconciliation comes before anything else: a post a dead worker may have sent must
        #    be looked for on the network before it could be claimed again.
        token = new_token()
        with self.engine.begin() as conn:
            rows = conn.execute(
                update(POST)
                .where(
                    POST.c.status.in_([S.PUBLISHING, S.RECONCILING]),
                    POST.c.lease_until < db_now,
                )
                .values(
                    status=S.RECONCILING,
                    attempt_token=token,
                    lease_until=lease_until,
                    updated_at=db_now,
                    status_reason="worker lost during publish: looking for the post",
                )
                .returning(POST.c.post_id)
            ).all()
        reconciling = [(r.post_id, token) for r in rows]
        if reconciling:
            # Close the dead worker's attempts: their outcome is unknown until reconciled.
            with self.engine.begin() as conn:
                conn.execute(
                    update(ATTEMPT)
                    .where(
                        ATTEMPT.c.post_id.in_([p for p, _ in reconciling]),
                        ATTEMPT.c.outcome.in_(["sending", "reconciling"]),
                    )
                    .values(outcome="worker_lost", finished_at=db_now)
                )
        jobs += reconciling

        # 2. Queued posts whose message never turned into a publish: enqueue them again. The
        #    token stays: whichever copy of the message arrives first wins the guarded update.
        with self.engine.begin() as conn:
            rows = conn.execute(
                update(POST)
                .where(POST.c.status == S.QUEUED, POST.c.lease_until < db_now)
                .values(lease_until=lease_until, updated_at=db_now)
                .returning(POST.c.post_id, POST.c.attempt_token)
            ).all()
        requeued = [(r.post_id, r.attempt_token) for r in rows]
        jobs += requeued

        # 3. Claim what is due. Spaced networks (rate-limited accounts) are claimed separately.
        spaced = {
            net
            for net, gap in self.policy.min_spacing.items()
            if gap > 0 and self.registry.uses_network(net)
        }
        claimed = self._claim_due(now, spaced)
        if spaced:
            claimed += self._claim_spaced(now, spaced)
        jobs += claimed

        failures = 0
        for message in self.policy.messages(jobs):
            try:
                enqueue(message)
            except Exception:  # the broker is down: the lease brings the posts back later
                failures += len(message)
                ids = ", ".join(post_id for post_id, _ in message)
                log.exception("could not enqueue %s; the lease will bring it back", ids)
        return TickReport(len(reconciling), len(requeued), len(claimed), failures)

    def _claim_due(self, now: datetime, spaced: set[str]) -> list[Job]:
        db_now = _utc(now)
        out: list[Job] = []
        for state, column in ((S.PLANNED, POST.c.due_utc), (S.RETRY_WAIT, POST.c.next_attempt_at)):
            token = new_token()
            candidates = (
                select(POST.c.post_id)
                .where(POST.c.status == state, column <= db_now)
                .order_by(column)
                .limit(self.policy.claim_batch)
                .with_for_update(skip_locked=True)
            )
            if spaced:
                candidates = candidates.where(POST.c.network.not_in(sorted(spaced)))
            # PostgreSQL: the candidates are locked (``SKIP LOCKED`` re-checks their state
            # once locked) and limited once, in a materialized CTE, then updated through the
            # primary key. Written as ``IN (subquery)`` with a state guard, the planner of a
            # table not yet analyzed ran the locking subquery once per due row (quadratic:
            # 1.1 s for 3,000 due posts, and each run applied its own LIMIT). SQLite has no
            # row locks: the guard does that work, and the whole statement holds the write lock.
            picked = candidates.cte("picked").prefix_with("MATERIALIZED")
            if self._pg:
                guard = [POST.c.post_id == picked.c.post_id]
            else:
                guard = [POST.c.post_id.in_(select(picked.c.post_id)), POST.c.status == state]
            with self.engine.begin() as conn:
                rows = conn.execute(
                    update(POST)
                    .where(*guard)
                    .values(
                        status=S.QUEUED,
                        attempt_token=token,
                        lease_until=_utc(now + self.policy.lease),
                        updated_at=db_now,
                        status_reason=None,
                    )
                    .returning(POST.c.post_id)
                    .execution_options(synchronize_session=False)
                ).all()
            out += [(r.post_id, token) for r in rows]
        return out

    def _claim_spaced(self, now: datetime, spaced: set[str]) -> list[Job]:
        """At most one post per account per spacing window, none while another is in flight."""
        db_now = _utc(now)
        due = (POST.c.status == S.PLANNED) & (POST.c.due_utc <= db_now) | (
            POST.c.status == S.RETRY_WAIT
        ) & (POST.c.next_attempt_at <= db_now)
        with self.engine.connect() as conn:
            candidates = conn.execute(
                select(POST.c.post_id, POST.c.network, POST.c.account, POST.c.status)
                .where(POST.c.network.in_(sorted(spaced)), due)
                .order_by(POST.c.due_utc)
                .limit(self.policy.claim_batch)
            ).all()
            if not candidates:
                return []
            accounts = sorted({(c.network, c.account) for c in candidates})
            oldest_cutoff = _utc(now - timedelta(seconds=max(self.policy.min_spacing.values())))
            busy_rows = conn.execute(
                select(POST.c.network, POST.c.account, func.max(POST.c.published_at).label("last"))
                .where(
                    POST.c.network.in_(sorted(spaced)),
                    POST.c.account.in_(sorted({a for _, a in accounts})),
                    (POST.c.status.in_(IN_FLIGHT)) | (POST.c.published_at > oldest_cutoff),
                )
                .group_by(POST.c.network, POST.c.account)
            ).all()
        busy: set[tuple[str, str]] = set()
        for r in busy_rows:
            gap = timedelta(seconds=self.policy.min_spacing.get(r.network, 0))
            last = from_db(r.last)
            if last is None or last > now - gap:
                busy.add((r.network, r.account))
        out: list[Job] = []
        for c in candidates:
            key = (c.network, c.account)
            if key in busy:
                continue
            busy.add(key)
            token = new_token()
            won = self._update(
                [POST.c.post_id == c.post_id, POST.c.status == c.status],
                status=S.QUEUED,
                attempt_token=token,
                lease_until=_utc(now + self.policy.lease),
                updated_at=db_now,
                status_reason=None,
            )
            if won:
                out.append((c.post_id, token))
        return out

    # --- publishing ----------------------------------------------------------------------------

    def publish(self, post_id: str, token: str | None = None) -> str:
        """Publish one claimed post; returns what happened (for the worker log).

        The common path tries the guarded ``queued -> publishing`` first and reads nothing
        else: a publish costs one transaction to start and one to record the outcome."""
        with self._one_connection():
            return self._publish(post_id, token)

    def publish_many(self, jobs: Sequence[Job]) -> list[str]:
        """The claims of one message (``Policy.messages``), published one after another, each
        exactly as ``publish`` would, on one connection. A post that raises (the database
        went away mid-batch) is logged and left to its lease; the others still go."""
        outcomes = []
        with self._one_connection():
            for post_id, token in jobs:
                try:
                    outcomes.append(self.publish(post_id, token))
                except Exception:
                    log.exception("%s: could not publish; its lease will bring it back", post_id)
                    outcomes.append("error")
        return outcomes

    def _publish(self, post_id: str, token: str | None) -> str:
        if token is None:  # a hand-sent task: whatever claim the row holds now
            row = self._read(post_id)
            token = row["attempt_token"] if row is not None else None
            if token is None:
                return "not claimed"
        claim = self.begin(post_id, token)
        if claim is None:
            row = self._read(post_id)
            if row is None:
                return "missing"
            if row["status"] != S.RECONCILING or row["attempt_token"] != token:
                return "duplicate"
            outcome = self.reconcile(post_id, token)
            if outcome != S.QUEUED:
                return outcome
            claim = self.begin(post_id, token)
            if claim is None:
                return "duplicate"
        return self.send(claim)

    def begin(self, post_id: str, token: str) -> _Claim | None:
        """The guarded ``queued -> publishing``: None means another delivery already has it."""
        now = self._now()
        params = {
            "b_post": post_id,
            "b_token": token,
            "b_lease": _utc(now + self.policy.lease),
            "b_now": _utc(now),
            "b_started": _utc(now),
            "b_worker": self.worker[:200],
        }
        if self._pg:
            with self._single() as conn:
                found = conn.execute(BEGIN_PG, params).mappings().first()
            if found is None:
                return None
            return _Claim(row=found, token=token, attempt_id=found["attempt_id"], began=now)
        with self._txn() as conn:
            row = conn.execute(CLAIM_FOR_SEND, params).mappings().first()
            if row is None:
                return None
            attempt_id = conn.execute(ATTEMPT_SENDING, params).scalar_one()
        return _Claim(row=row, token=token, attempt_id=attempt_id, began=now)

    def _mine(self, post_id: str, token: str, state: str = S.PUBLISHING) -> list[Any]:
        return [
            POST.c.post_id == post_id,
            POST.c.status == state,
            POST.c.attempt_token == token,
        ]

    def send(self, claim: _Claim) -> str:
        """From ``publishing`` to an outcome; the network call happens at most once here."""
        row, token = claim.row, claim.token
        post_id = row["post_id"]
        now = self._now()
        due = from_db(row["due_utc"])
        assert due is not None
        limit = self.policy.lateness_limit(row["network"])
        if now - due > limit:
            late, net = _human(now - due), row["network"]
            reason = f"too late: {late} past due, {net} allows {_human(limit)}"
            return self._fail(claim, reason, outcome="too_late")
        try:
            route = self.route(row["network"], row["account"])
        except NeedsAuth as exc:
            return self._hold_account(claim, str(exc))
        except ConfigError as exc:
            return self._fail(claim, str(exc), outcome="config")
        post = outgoing(row, self.settings)

        # The zombie check. The guarded update of ``begin`` was the conditional update right
        # before the call; if time passed since (a slow route, a paused process), check again:
        # extend the lease only if the token is still ours and the lease has not run out. A
        # worker paused past its lease loses here and sends nothing.
        now = self._now()
        still_mine = now - claim.began < FRESH_CLAIM or self._update(
            [*self._mine(post_id, token), POST.c.lease_until >= _utc(now)],
            lease_until=_utc(now + self.policy.lease),
        )
        if not still_mine:
            self._finish_attempt(
                claim.attempt_id,
                "superseded",
                error="lease lost before sending: another worker owns the post now",
                started=claim.started,
            )
            return "superseded"

        # An earlier attempt sent the request and never heard back, and the network did not
        # have the post *then*. A receiver may commit after the client gave up, so look again
        # now, before any resend (DESIGN §6: reconcile before retry).
        if int(row["attempts"]) > 1 and self._last_outcome(post_id, claim.attempt_id) == (
            UNCONFIRMED
        ):
            try:
                found = route.publisher.find(post, route.credentials)
            except PublishError as check:
                reason = f"an earlier attempt was sent but unconfirmed; cannot tell: {check}"
                with self._txn():
                    self._lost_response_review(
                        claim, post, Transient(reason, sent=True), reason, now
                    )
                return "needs_review"
            if found is not None:
                return self._mark_published(claim, found, via="reconciled")

        def checkpoint(data: Mapping[str, Any]) -> None:
            self._update(self._mine(post_id, token), checkpoint_json=json.dumps(dict(data)))

        try:
            published = route.publisher.publish(post, route.credentials, checkpoint)
        except Transient as exc:
            if exc.sent:
                return self._reconcile_after_lost_response(claim, route, post, exc)
            return self._retry_later(claim, exc)
        except NeedsAuth as exc:
            return self._hold_account(claim, str(exc), http_status=exc.http_status)
        except PublishError as exc:  # Permanent, or a publisher misusing CannotCheck
            return self._fail(claim, str(exc), outcome="permanent", http_status=exc.http_status)
        except Exception as exc:
            # A publisher bug after which the post may or may not be out: never guess.
            log.exception("publisher %s crashed on %s", route.kind, post_id)
            lost = Transient(f"{route.kind} publisher crashed: {exc!r}", sent=True)
            return self._reconcile_after_lost_response(claim, route, post, lost)
        return self._mark_published(claim, published, via=route.kind)

    def _mark_published(
        self, claim: _Claim, published: Published, *, via: str, state: str = S.PUBLISHING
    ) -> str:
        now = self._now()
        params = {
            "o_post": claim.row["post_id"],
            "o_state": state,
            "o_token": claim.token,
            "o_remote": published.remote_id[:400],
            "o_url": published.url,
            "o_now": _utc(now),
            "o_reason": None if via != "reconciled" else "found on the network after a crash",
            "o_attempt": claim.attempt_id,
            "o_finished": _utc(now),
            "o_outcome": "found" if via == "reconciled" else "published",
            "o_error": None,
            "o_outcome_lost": "published_after_takeover",
            "o_error_lost": f"sent as {published.remote_id} after the lease was taken over",
            "o_latency": int((time.monotonic() - claim.started) * 1000),
        }
        if self._pg:
            with self._single() as conn:
                won = conn.execute(PUBLISHED_PG, params).scalar_one()
        else:
            with self._txn() as conn:
                won = conn.execute(MARK_PUBLISHED, params).rowcount
                if not won:
                    params["o_outcome"] = params["o_outcome_lost"]
                    params["o_error"] = params["o_error_lost"]
                conn.execute(FINISH_ATTEMPT, params)
        return "published" if won else "superseded"

    @_one_transaction
    def _fail(
        self, claim: _Claim, reason: str, *, outcome: str, http_status: int | None = None
    ) -> str:
        now = self._now()
        self._update(
            self._mine(claim.row["post_id"], claim.token),
            status=S.FAILED,
            status_reason=reason,
            last_error=reason,
            lease_until=None,
            updated_at=_utc(now),
        )
        self._finish_attempt(
            claim.attempt_id, outcome, error=reason, http_status=http_status, started=claim.started
        )
        return "failed"

    @_one_transaction
    def _last_outcome(self, post_id: str, before_attempt: int) -> str | None:
        """The outcome of the post's attempt before ``before_attempt`` (None if none)."""
        with self.engine.connect() as conn:
            return conn.execute(
                select(ATTEMPT.c.outcome)
                .where(ATTEMPT.c.post_id == post_id, ATTEMPT.c.id < before_attempt)
                .order_by(ATTEMPT.c.id.desc())
                .limit(1)
            ).scalar_one_or_none()

    def _retry_later(self, claim: _Claim, exc: Transient, *, outcome: str = "transient") -> str:
        row = claim.row
        now = self._now()
        attempts = int(row["attempts"])
        if attempts >= self.policy.max_attempts:
            return self._fail(
                claim,
                f"gave up after {attempts} attempts: {exc}",
                outcome="transient",
                http_status=exc.http_status,
            )
        delay = self.policy.backoff(attempts, self.rng, exc.retry_after)
        next_at = now + timedelta(seconds=delay)
        due = from_db(row["due_utc"])
        assert due is not None
        limit = self.policy.lateness_limit(row["network"])
        if next_at - due > limit:
            return self._fail(
                claim,
                f"too late to retry: the next attempt would be {_human(next_at - due)} past due, "
                f"{row['network']} allows {_human(limit)} (last error: {exc})",
                outcome="transient",
                http_status=exc.http_status,
            )
        self._update(
            self._mine(row["post_id"], claim.token),
            status=S.RETRY_WAIT,
            next_attempt_at=_utc(next_at),
            lease_until=None,
            last_error=str(exc),
            status_reason=f"retrying in {delay:.0f}s: {exc}",
            updated_at=_utc(now),
        )
        self._finish_attempt(
            claim.attempt_id,
            outcome,
            error=str(exc),
            http_status=exc.http_status,
            started=claim.started,
        )
        return "retry_wait"

    @_one_transaction
    def _hold_account(self, claim: _Claim, message: str, *, http_status: int | None = None) -> str:
        row = claim.row
        now = self._now()
        reason = f"{REAUTH_REASON}: {message}"
        held = {
            "status": S.HELD,
            "status_reason": reason,
            "lease_until": None,
            "updated_at": _utc(now),
        }
        with self._txn() as conn:
            conn.execute(
                update(POST).where(*self._mine(row["post_id"], claim.token)).values(**held)
            )
            conn.execute(
                update(POST)
                .where(
                    POST.c.network == row["network"],
                    POST.c.account == row["account"],
                    POST.c.status.in_([S.PLANNED, S.RETRY_WAIT, S.QUEUED]),
                )
                .values(**held)
            )
        self._finish_attempt(
            claim.attempt_id,
            "needs_auth",
            error=message,
            http_status=http_status,
            started=claim.started,
        )
        return "held"

    def _reconcile_after_lost_response(
        self, claim: _Claim, route: Route, post: OutgoingPost, exc: Transient
    ) -> str:
        """The request may have reached the network: look before any resend (DESIGN §6).

        ``find`` gets the post as it is *now* in the calendar: the publisher may have
        checkpointed an upload session or a container id during the call that lost its answer.
        """
        row = self._read(post.post_id)
        if row is not None:
            post = outgoing(row, self.settings)
        try:
            found = route.publisher.find(post, route.credentials)
        except PublishError as check:
            reason = f"sent but no answer ({exc}); cannot tell whether it is out: {check}"
            now = self._now()
            with self._txn():
                self._lost_response_review(claim, post, exc, reason, now)
            return "needs_review"
        if found is not None:
            return self._mark_published(claim, found, via=route.kind)
        return self._retry_later(claim, exc, outcome=UNCONFIRMED)

    def _lost_response_review(
        self, claim: _Claim, post: OutgoingPost, exc: Transient, reason: str, now: datetime
    ) -> None:
        self._update(
            self._mine(post.post_id, claim.token),
            status=S.NEEDS_REVIEW,
            status_reason=reason,
            last_error=str(exc),
            lease_until=None,
            updated_at=_utc(now),
        )
        self._finish_attempt(claim.attempt_id, "lost_response", error=reason, started=claim.started)

    # --- reconciliation of posts a dead worker left behind -----------------------------------

    def reconcile(self, post_id: str, token: str) -> str:
        """For a post in ``reconciling`` (claimed by tick with ``token``): found -> published,
        certainly absent -> queued (same token, so this worker goes on to publish it), cannot
        tell -> needs_review."""
        row = self._read(post_id)
        if row is None or row["status"] != S.RECONCILING or row["attempt_token"] != token:
            return "duplicate"
        now = self._now()
        with self.engine.begin() as conn:
            attempt_id = conn.execute(
                insert(ATTEMPT)
                .values(
                    post_id=post_id,
                    attempt_token=token,
                    started_at=_utc(now),
                    outcome="reconciling",
                    worker=self.worker[:200],
                )
                .returning(ATTEMPT.c.id)
            ).scalar_one()
        claim = _Claim(row=row, token=token, attempt_id=attempt_id, began=now)
        post = outgoing(row, self.settings)
        try:
            route = self.route(row["network"], row["account"])
            found = route.publisher.find(post, route.credentials)
        except (PublishError, ConfigError) as exc:
            reason = f"a worker died while publishing and the network cannot tell: {exc}"
            with self._txn():
                self._update(
                    self._mine(post_id, token, S.RECONCILING),
                    status=S.NEEDS_REVIEW,
                    status_reason=reason,
                    lease_until=None,
                    updated_at=_utc(self._now()),
                )
                self._finish_attempt(
                    attempt_id, "cannot_check", error=reason, started=claim.started
                )
            return "needs_review"
        if found is not None:
            self._mark_published(claim, found, via="reconciled", state=S.RECONCILING)
            return "published"
        now = self._now()
        with self._txn():
            won = self._update(
                self._mine(post_id, token, S.RECONCILING),
                status=S.QUEUED,
                lease_until=_utc(now + self.policy.lease),
                status_reason="not found on the network after a crash: publishing again",
                updated_at=_utc(now),
            )
            self._finish_attempt(attempt_id, "not_found", started=claim.started)
        return S.QUEUED if won else "duplicate"

    # --- operator commands (storyline retry / cancel / publish --now / release) -------------

    def _require(self, post_id: str) -> RowMapping:
        row = self._read(post_id)
        if row is None:
            raise NotFound(f"no post {post_id!r} in the calendar (run `storyline sync`?)")
        return row

    def _transition(
        self, post_id: str, allowed: Iterable[str], verb: str, **values: Any
    ) -> RowMapping:
        allowed = list(allowed)
        row = self._require(post_id)
        if row["status"] not in allowed:
            raise InvalidTransition(
                f"cannot {verb} {post_id}: it is {row['status']}"
                + (f" ({row['status_reason']})" if row["status_reason"] else "")
                + f"; {verb} applies to {', '.join(allowed)} posts"
            )
        won = self._update(
            [POST.c.post_id == post_id, POST.c.status == row["status"]],
            updated_at=_utc(self._now()),
            **values,
        )
        if not won:
            raise InvalidTransition(f"cannot {verb} {post_id}: its state changed meanwhile")
        result = self._read(post_id)
        assert result is not None
        return result

    def retry(self, post_id: str) -> RowMapping:
        """failed / needs_review -> planned, due now, with a fresh attempt budget. For
        needs_review, run it only after checking the network: it may publish a second time."""
        now = self._now()
        return self._transition(
            post_id,
            [S.FAILED, S.NEEDS_REVIEW],
            "retry",
            status=S.PLANNED,
            due_utc=_utc(now),
            attempts=0,
            attempt_token=None,
            lease_until=None,
            next_attempt_at=None,
            status_reason="retried by an operator",
        )

    def cancel(self, post_id: str) -> RowMapping:
        row = self._require(post_id)
        if row["status"] == S.PUBLISHED:
            raise InvalidTransition(
                f"cannot cancel {post_id}: it was already published"
                + (f" ({row['url']})" if row["url"] else "")
                + "; delete it on the network if it must go"
            )
        return self._transition(
            post_id,
            [S.PLANNED, S.HELD, S.RETRY_WAIT, S.QUEUED, S.FAILED, S.NEEDS_REVIEW],
            "cancel",
            status=S.CANCELLED,
            attempt_token=None,
            lease_until=None,
            status_reason="cancelled by an operator",
        )

    def publish_now(self, post_id: str) -> RowMapping:
        """planned / held / retry_wait -> planned, due now: the next tick sends it."""
        now = self._now()
        return self._transition(
            post_id,
            [S.PLANNED, S.HELD, S.RETRY_WAIT],
            "publish now",
            status=S.PLANNED,
            due_utc=_utc(now),
            next_attempt_at=None,
            status_reason="published now by an operator",
        )

    def release(self, post_id: str) -> RowMapping:
        """held -> planned; a post whose time has passed is released to go out now."""
        row = self._require(post_id)
        now = self._now()
        due = from_db(row["due_utc"])
        values: dict[str, Any] = {"status": S.PLANNED, "status_reason": "released"}
        if due is not None and due < now:
            values["due_utc"] = _utc(now)
            values["status_reason"] = f"released past due (was due {due:%Y-%m-%d %H:%M}Z)"
        return self._transition(post_id, [S.HELD], "release", **values)

    def release_account(self, network: str, account: str) -> int:
        """Every post held because the account needed re-auth goes back to planned."""
        now = self._now()
        with self.engine.begin() as conn:
            return conn.execute(
                update(POST)
                .where(
                    and_(
                        POST.c.network == network,
                        POST.c.account == account,
                        POST.c.status == S.HELD,
                        POST.c.status_reason.like(f"{REAUTH_REASON}%"),
                    )
                )
                .values(status=S.PLANNED, status_reason="account released", updated_at=_utc(now))
            ).rowcount


def _utc(dt: datetime) -> datetime:
    """Bind form of an instant: aware UTC (the columns are ``DateTime(timezone=True)``)."""
    return dt.astimezone(UTC)


def _human(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    if seconds >= 3600:
        return f"{seconds / 3600:.1f} h"
    if seconds >= 60:
        return f"{seconds // 60} min"
    return f"{seconds} s"


# --- `storyline run`: the demo calendar and the live feed ----------------------------------------

#: The first demo posts fall due this long after `storyline run --demo` starts...
DEMO_LEAD = timedelta(seconds=10)
#: ...and each later instant of the calendar follows the previous one by this much.
DEMO_STEP = timedelta(seconds=3)


def demo_shift(planned: Sequence[PlannedPost], now: datetime) -> list[PlannedPost]:
    """The sample calendar re-timed to start now, for `storyline run --demo`.

    The calendar's distinct due instants, in order, become ``now + DEMO_LEAD``, then one every
    ``DEMO_STEP``: what went out together still goes out together (a launch at 09:00 in every
    market), and teasers still come before reveals. Nothing on disk changes.
    """
    instants = sorted({p.due_utc for p in planned})
    slot = {at: now + DEMO_LEAD + i * DEMO_STEP for i, at in enumerate(instants)}
    out = []
    for p in planned:
        due = slot[p.due_utc].astimezone(UTC)
        out.append(replace(p, due_utc=due, due_local=due.astimezone(ZoneInfo(p.timezone))))
    return out


@dataclass(frozen=True)
class Event:
    """A post that reached a state worth telling the operator about."""

    post_id: str
    status: str
    network: str
    market: str
    due_utc: datetime
    timezone: str
    remote_id: str | None
    url: str | None
    reason: str | None
    at: datetime


WATCHED = (S.PUBLISHED, S.FAILED, S.NEEDS_REVIEW, S.HELD, S.RETRY_WAIT)


def events_since(engine: Engine, since: datetime) -> list[Event]:
    """Posts that changed to a watched state after ``since``, oldest change first."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(POST)
            .where(POST.c.status.in_(WATCHED), POST.c.updated_at > _utc(since))
            .order_by(POST.c.updated_at, POST.c.post_id)
        ).mappings()
        out = []
        for r in rows:
            due, at = from_db(r["due_utc"]), from_db(r["updated_at"])
            assert due is not None and at is not None
            out.append(
                Event(
                    post_id=r["post_id"],
                    status=r["status"],
                    network=r["network"],
                    market=r["market"],
                    due_utc=due,
                    timezone=r["timezone"],
                    remote_id=r["remote_id"],
                    url=r["url"],
                    reason=r["status_reason"],
                    at=at,
                )
            )
        return out
