"""No post ever makes a move the lifecycle table does not list, and none is sent twice.

Hypothesis drives the real dispatcher (tick, publish with publishers that answer, fail, lose
the answer or crash, workers that die or sleep past their lease, reconciliation), the
operator's commands and sync against a real SQLite calendar, with the clock in the test's
hands. SQLite triggers record every change of a post's state columns as it happens (several
moves inside one step are each recorded), and after each step every recorded move must be a
row of ``scheduler.core.lifecycle.TRANSITIONS`` made by that row's actor, with its hold reason.

The network is modelled: a publish that goes out puts the post on it (a lost answer may or may
not have been recorded), and ``find`` tells the truth unless the step says the network cannot
be asked. So the test also checks the core guarantee: no post reaches the network twice, except
one an operator retried from ``needs_review`` (documented: a human decides).
"""

from __future__ import annotations

import atexit
import random
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import text

from scheduler.app.settings import Settings
from scheduler.calendar import apply
from scheduler.calendar.database import make_engine
from scheduler.calendar.migrate import upgrade
from scheduler.core import lifecycle
from scheduler.core.errors import (
    CannotCheck,
    InvalidTransition,
    NeedsAuth,
    Permanent,
    Transient,
)
from scheduler.core.model import StoryStatus
from scheduler.core.post import PlannedPost, post_id
from scheduler.dispatch.dispatcher import Claim, Dispatcher, Policy
from scheduler.publishers.base import Credentials, OutgoingPost, Published
from scheduler.publishers.registry import Route

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)

#: Every move the table allows, as the calendar records it.
ALLOWED = {
    (t.source, t.target, lifecycle.actor(t.cause), lifecycle.hold_reason(t.cause))
    for t in lifecycle.TRANSITIONS
}

TRIGGERS = """
CREATE TABLE moves (
    id INTEGER PRIMARY KEY, post_id TEXT, source TEXT, target TEXT, set_by TEXT, hold_reason TEXT
);
CREATE TRIGGER record_insert AFTER INSERT ON post BEGIN
    INSERT INTO moves (post_id, source, target, set_by, hold_reason)
    VALUES (NEW.post_id, NULL, NEW.status, NEW.set_by, NEW.hold_reason);
END;
CREATE TRIGGER record_update AFTER UPDATE ON post
WHEN OLD.status IS NOT NEW.status OR OLD.hold_reason IS NOT NEW.hold_reason
     OR OLD.set_by IS NOT NEW.set_by
BEGIN
    INSERT INTO moves (post_id, source, target, set_by, hold_reason)
    VALUES (NEW.post_id, OLD.status, NEW.status, NEW.set_by, NEW.hold_reason);
END;
"""


def _template() -> Path:
    """A migrated calendar with the recording triggers, made once and copied per example."""
    global _TEMPLATE
    if _TEMPLATE is None:
        folder = Path(tempfile.mkdtemp(prefix="storyline-lifecycle-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        upgrade(engine)
        raw = engine.raw_connection()
        try:
            raw.driver_connection.executescript(TRIGGERS)  # type: ignore[union-attr]
        finally:
            raw.close()
        engine.dispose()
        _TEMPLATE = path
    return _TEMPLATE


_TEMPLATE: Path | None = None


# --- the network, as the publishers see it ------------------------------------------------------

#: The states an operator's command applies to.
OPERATED = ["planned", "held", "queued", "retry_wait", "failed", "needs_review"]
PUBLISH_OUTCOMES = ["ok", "transient", "lost_recorded", "lost_not_recorded", "permanent", "401"]
PUBLISH_OUTCOMES += ["crash_after_sending"]
FIND_ANSWERS = ["truth", "cannot"]


@dataclass
class Network:
    """Posts that reached the network, and how the next calls answer."""

    received: dict[str, int] = field(default_factory=dict)
    next_publish: str = "ok"
    next_find: str = "truth"

    def publish(self, post: OutgoingPost, credentials: Credentials, checkpoint: Any) -> Published:
        outcome = self.next_publish
        if outcome in {"ok", "lost_recorded", "crash_after_sending"}:
            self.received[post.post_id] = self.received.get(post.post_id, 0) + 1
        if outcome == "transient":
            raise Transient("HTTP 503", http_status=503)
        if outcome in {"lost_recorded", "lost_not_recorded"}:
            raise Transient("read timeout", sent=True)
        if outcome == "permanent":
            raise Permanent("HTTP 400: refused")
        if outcome == "401":
            raise NeedsAuth("token expired", http_status=401)
        if outcome == "crash_after_sending":
            raise RuntimeError("publisher bug")
        return Published(remote_id=f"r-{post.post_id}", url=f"https://net/{post.post_id}")

    def find(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        if self.next_find == "cannot":
            raise CannotCheck("no lookup")
        if post.post_id in self.received:
            return Published(remote_id=f"r-{post.post_id}", url=f"https://net/{post.post_id}")
        return None


class Registry:
    """Every account goes to the modelled network; X accounts are rate-limited (spaced)."""

    def __init__(self, network: Network) -> None:
        self.network = network

    def route(self, network: str, account: str) -> Route:
        return Route(self.network, Credentials(network, account, {}), network)  # type: ignore[arg-type]

    #: Not live: every account can send (the claim never holds for missing credentials).
    live = False

    def uses_network(self, network: str) -> bool:
        return network == "x"

    def close(self) -> None:
        pass


# --- the content -----------------------------------------------------------------------------

STORIES = ("suv", "van", "extra")
BEATS = (("teaser", timedelta(minutes=-10)), ("reveal", timedelta(minutes=20)))
NETWORKS = ("facebook", "x")
MARKETS = ("fr", "de")
#: What the content may do to a story between two syncs ("extra" starts out absent).
CHANGES = ["base", "edited", "draft", "removed", "later", "past"]


def _planned(story: str, beat: str, network: str, market: str, due: datetime) -> PlannedPost:
    zone = "Europe/Paris" if market == "fr" else "Europe/Berlin"
    return PlannedPost(
        post_id=post_id(story, beat, network, market),
        story=story,
        beat=beat,
        network=network,
        market=market,
        account=f"{network}-{market}",
        account_name=f"Brand {market}",
        timezone=zone,
        due_utc=due,
        due_local=due.astimezone(ZoneInfo(zone)),
        text=f"{story} {beat} on {network} in {market}",
        campaign="launch",
    )


def plan(changes: dict[str, str], now: datetime) -> list[PlannedPost]:
    """The content: each story as ``changes`` says (missing: ``base``; ``extra``: removed)."""
    out = []
    for story in STORIES:
        change = changes.get(story, "removed" if story == "extra" else "base")
        if change == "removed":
            continue
        for beat, offset in BEATS:
            due = T0 + offset
            if change == "later":
                due = now + timedelta(days=1) + offset
            elif change == "past":
                due = now - timedelta(hours=1) + offset
            for network in NETWORKS:
                for market in MARKETS:
                    p = _planned(story, beat, network, market, due)
                    if change == "edited":
                        p = replace(p, text=p.text + " (edited)")
                    elif change == "draft":
                        p = replace(p, story_status=StoryStatus.DRAFT)
                    out.append(p)
    return out


POST_IDS = sorted(p.post_id for p in plan({"extra": "base"}, T0))


#: The clock starts before the first due time, so the first sync plans every post.
START = T0 - timedelta(minutes=30)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


class Lifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="storyline-lifecycle-"))
        path = self.folder / "calendar.db"
        shutil.copyfile(_template(), path)
        self.engine = make_engine(f"sqlite:///{path}")
        self.clock = Clock()
        self.network = Network()
        self.dispatcher = Dispatcher(
            self.engine,
            Settings(data_dir=self.folder / "data", database_url_override=f"sqlite:///{path}"),
            clock=self.clock,
            policy=Policy(
                lease=timedelta(seconds=60),
                max_attempts=3,
                backoff_base=10.0,
                min_spacing={"x": 5.0},
            ),
            registry=Registry(self.network),  # type: ignore[arg-type]
            rng=random.Random(7),
            worker="machine",
        )
        self.messages: list[tuple[str, str]] = []  # enqueued, not yet delivered
        self.delivered: list[tuple[str, str]] = []  # for duplicate deliveries
        self.sleeping: list[Claim] = []  # workers paused between take and send
        self.reviewed_then_retried: set[str] = set()
        self.moves_seen = 0
        self.syncs_left = 4  # sync moves a dozen posts at once: a few per run leave room
        apply.sync(self.engine, plan({}, START), START)

    def teardown(self) -> None:
        self.engine.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    # --- the dispatcher ---------------------------------------------------------------------

    @rule()
    def tick(self) -> None:
        self.dispatcher.tick(self.messages.extend)

    @precondition(lambda self: self.messages)
    @rule(
        pick=st.integers(0, 50),
        outcome=st.sampled_from(PUBLISH_OUTCOMES),
        find=st.sampled_from(FIND_ANSWERS),
    )
    def deliver(self, pick: int, outcome: str, find: str) -> None:
        job = self.messages.pop(pick % len(self.messages))
        self.delivered.append(job)
        self.network.next_publish, self.network.next_find = outcome, find
        self.dispatcher.publish(*job)

    @rule(outcome=st.sampled_from(PUBLISH_OUTCOMES), find=st.sampled_from(FIND_ANSWERS))
    def tick_and_deliver_everything(self, outcome: str, find: str) -> None:
        """A quiet worker: every message of the tick published at once, alike."""
        self.tick()
        while self.messages:
            self.deliver(0, outcome, find)

    @precondition(lambda self: len(self.messages) >= 2)
    @rule(
        count=st.integers(2, 8),
        outcome=st.sampled_from(PUBLISH_OUTCOMES),
        find=st.sampled_from(FIND_ANSWERS),
    )
    def deliver_a_batch(self, count: int, outcome: str, find: str) -> None:
        """A message of several claims (``Policy.messages``), published one after another,
        each outcome written with the next claim."""
        jobs = [self.messages.pop(0) for _ in range(min(count, len(self.messages)))]
        self.delivered.extend(jobs)
        self.network.next_publish, self.network.next_find = outcome, find
        self.dispatcher.publish_many(jobs)

    @precondition(lambda self: self.delivered)
    @rule(pick=st.integers(0, 50))
    def deliver_again(self, pick: int) -> None:
        """The broker hands out a copy of a message that was already delivered."""
        self.network.next_publish, self.network.next_find = "ok", "truth"
        self.dispatcher.publish(*self.delivered[pick % len(self.delivered)])

    @precondition(lambda self: self.messages)
    @rule(pick=st.integers(0, 50), sent=st.booleans())
    def worker_dies(self, pick: int, sent: bool) -> None:
        """A worker takes the post, maybe sends it, and dies before recording anything."""
        post, token = self.messages.pop(pick % len(self.messages))
        claim = self.dispatcher.begin(post, token)
        if claim is not None and sent:
            self.network.received[post] = self.network.received.get(post, 0) + 1

    @precondition(lambda self: self.messages)
    @rule(pick=st.integers(0, 50), sent=st.booleans(), find=st.sampled_from(FIND_ANSWERS))
    def a_dead_workers_post_is_reconciled(self, pick: int, sent: bool, find: str) -> None:
        """A worker dies mid-publish; its lease runs out; the next tick reconciles the post."""
        self.worker_dies(pick, sent)
        self.clock.now += self.dispatcher.policy.lease + timedelta(seconds=1)
        self.tick_and_deliver_everything("ok", find)

    @precondition(lambda self: self.messages)
    @rule(pick=st.integers(0, 50))
    def worker_sleeps(self, pick: int) -> None:
        """A worker takes the post, then its process is paused before the network call."""
        claim = self.dispatcher.begin(*self.messages.pop(pick % len(self.messages)))
        if claim is not None:
            self.sleeping.append(claim)

    @precondition(lambda self: self.sleeping)
    @rule()
    def worker_wakes(self) -> None:
        self.network.next_publish, self.network.next_find = "ok", "truth"
        self.dispatcher.send(self.sleeping.pop(0))

    @rule(seconds=st.sampled_from([1, 6, 30, 61, 61, 600, 1800, 7200]))
    def time_passes(self, seconds: int) -> None:
        self.clock.now += timedelta(seconds=seconds)

    # --- operators and sync -----------------------------------------------------------------

    @rule(
        command=st.sampled_from(["retry", "cancel", "publish_now", "release"]),
        state=st.sampled_from(OPERATED),
        pick=st.integers(0, 50),
    )
    def operator(self, command: str, state: str, pick: int) -> None:
        """An operator's command on a post, preferably one in ``state``."""
        with self.engine.connect() as conn:
            rows = conn.execute(text("SELECT post_id, status FROM post ORDER BY post_id")).all()
        chosen = [r for r in rows if r.status == state] or list(rows)
        target, before = chosen[pick % len(chosen)]
        try:
            getattr(self.dispatcher, command)(target)
        except InvalidTransition:
            return
        if command == "retry" and before == "needs_review":
            self.reviewed_then_retried.add(target)

    @rule(account=st.sampled_from([f"{n}-{m}" for n in NETWORKS for m in MARKETS]))
    def release_account(self, account: str) -> None:
        self.dispatcher.release_account(account.split("-")[0], account)

    @precondition(lambda self: self.syncs_left > 0)
    @rule(
        suv=st.sampled_from(CHANGES),
        van=st.sampled_from(CHANGES),
        extra=st.sampled_from(["removed", "base", "past"]),
    )
    def resync(self, suv: str, van: str, extra: str) -> None:
        self.syncs_left -= 1
        changes = {"suv": suv, "van": van, "extra": extra}
        apply.sync(self.engine, plan(changes, self.clock.now), self.clock.now)

    # --- what must hold after every step ------------------------------------------------------

    @invariant()
    def every_move_is_in_the_table(self) -> None:
        with self.engine.connect() as conn:
            moves = conn.execute(
                text(
                    "SELECT post_id, source, target, set_by, hold_reason FROM moves "
                    "WHERE id > :seen ORDER BY id"
                ),
                {"seen": self.moves_seen},
            ).all()
            self.moves_seen += len(moves)
        for post, source, target, set_by, hold in moves:
            assert (source, target, set_by, hold) in ALLOWED, (post, source, target, set_by, hold)

    @invariant()
    def the_state_columns_agree(self) -> None:
        with self.engine.connect() as conn:
            rows = conn.execute(
                text("SELECT post_id, status, hold_reason, set_by, attempt_token FROM post")
            ).all()
        for post, status, hold, set_by, token in rows:
            assert (status == "held") == (hold is not None), (post, status, hold)
            assert set_by is not None, post
            if status in {"queued", "publishing", "reconciling"}:
                assert token is not None, post

    @invariant()
    def no_post_reaches_the_network_twice(self) -> None:
        twice = {p for p, n in self.network.received.items() if n > 1} - self.reviewed_then_retried
        assert not twice, twice


TestLifecycle = Lifecycle.TestCase
TestLifecycle.settings = settings(
    max_examples=100,
    stateful_step_count=50,
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
