"""An X thread through the dispatcher, against a local X: exactly once per part.

The real dispatcher (SQLite calendar, leases, retries, reconciliation) and the real X
publisher talk to a fake X that keeps the account's timeline. A thread interrupted after its
second part — X failing the third once, or the worker dying — resumes at the third part and
never sends the first two again: each part's id is in ``Post.checkpoint_json``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from social_fakenet import FakeNetwork, Recorded, Reply, settings_for
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from scheduler.calendar import migrate
from scheduler.calendar.database import make_engine
from scheduler.calendar.tables import Attempt, Post
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.publishers.base import Checkpoint, Credentials, OutgoingPost, Published
from scheduler.publishers.http import HttpClient
from scheduler.publishers.registry import Route
from scheduler.publishers.x import XPublisher
from scheduler.text.thread import split

POST = Post.__table__  # type: ignore[attr-defined]
ATTEMPT = Attempt.__table__  # type: ignore[attr-defined]
NOW = datetime(2026, 12, 15, 9, 0, 1, tzinfo=UTC)
POST_ID = "long-read/reveal/x/gb"
LINK = "https://holdout.example/aurora?utm_source=x&utm_medium=social&utm_campaign=long-read"
TEXT = (
    "Aurora is the SUV we built around the people inside it. Its seats were shaped with "
    "physiotherapists who sat in them for weeks. Its cabin is as quiet as a library, at 32 dB "
    "at 100 km/h. Its suspension reads the road ahead and smooths it before you feel it. "
    f"Seven seats in three rows, and every one of them is a good one.\n{LINK}\n"
    "It drives 600 km on one charge, and charges back to 80% in 20 minutes. The boot takes "
    "a week of luggage for seven, or a bicycle with the last row folded. Its lights see a "
    "cyclist in the rain before you do. Questions? Reply here, a real person answers."
)
PARTS = split(TEXT, link=LINK).parts


class FakeX:
    """POST /2/tweets with ids from 1000, the account's timeline, and scripted failures."""

    def __init__(self, fake: FakeNetwork) -> None:
        self.fake = fake
        self.timeline: list[dict[str, str]] = []  # newest first, as X lists them
        self.fail_part: int | None = None  # the 1-based part answered 503, once
        fake.route("POST", "/2/tweets", self._create)
        fake.route(
            "GET", "/2/users/me", Reply(json={"data": {"id": "42", "username": "HoldoutUK"}})
        )
        fake.route("GET", "/2/users/42/tweets", self._tweets)

    def _create(self, request: Recorded) -> Reply:
        body = request.json()
        part = PARTS.index(body["text"]) + 1
        if part == self.fail_part:
            self.fail_part = None
            return Reply(503, json={"title": "Service Unavailable", "detail": "over capacity"})
        tweet = {"id": str(1000 + len(self.timeline)), "text": body["text"]}
        self.timeline.insert(0, tweet)
        return Reply(201, json={"data": tweet})

    def _tweets(self, request: Recorded) -> Reply:
        return Reply(json={"data": list(self.timeline), "meta": {"result_count": 3}})

    def sent(self) -> list[tuple[int, str | None]]:
        """Each create request as (part number, the post it replies to)."""
        return [
            (
                PARTS.index(c.json()["text"]) + 1,
                (c.json().get("reply") or {}).get("in_reply_to_tweet_id"),
            )
            for c in self.fake.calls("POST", "/2/tweets")
        ]


class DiesAfterPart:
    """The X publisher in a worker that is killed right after part ``n`` is recorded."""

    network = "x"
    requires = ("access_token",)

    def __init__(self, real: XPublisher, n: int) -> None:
        self.real, self.n = real, n

    def publish(
        self, post: OutgoingPost, credentials: Credentials, checkpoint: Checkpoint
    ) -> Published:
        def then_die(data: Mapping[str, Any]) -> None:
            checkpoint(data)
            if len(data.get("thread", [])) == self.n:
                raise SystemExit("killed")  # not an Exception: nothing in the worker catches it

        return self.real.publish(post, credentials, then_die)

    def find(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        return self.real.find(post, credentials)


class OneRoute:
    live = False  # no credential check at claim: the one route always has them

    def __init__(self, publisher: Any) -> None:
        self.publisher = publisher

    def route(self, network: str, account: str) -> Route:
        credentials = Credentials("x", account, {"access_token": "x-token"})
        return Route(self.publisher, credentials, "x")

    def uses_network(self, network: str) -> bool:
        return True

    def close(self) -> None:
        return None


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'calendar.db'}")
    migrate.upgrade(eng)
    with eng.begin() as conn:
        conn.execute(
            insert(POST),
            [
                {
                    "post_id": POST_ID,
                    "story": "long-read",
                    "beat": "reveal",
                    "network": "x",
                    "market": "gb",
                    "account": "@HoldoutUK",
                    "account_name": "Holdout UK",
                    "campaign": "long-read",
                    "text": TEXT,
                    "link": LINK,
                    "media_json": "[]",
                    "content_hash": "0" * 64,
                    "due_utc": NOW - timedelta(seconds=1),
                    "timezone": "Europe/London",
                    "status": "planned",
                    "attempts": 0,
                    "created_at": NOW - timedelta(days=1),
                    "updated_at": NOW - timedelta(days=1),
                }
            ],
        )
    yield eng
    eng.dispose()


@pytest.fixture
def x(fake: FakeNetwork) -> FakeX:
    return FakeX(fake)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


def dispatcher(engine: Engine, publisher: Any, tmp_path: Path, clock: Clock) -> Dispatcher:
    return Dispatcher(
        engine,
        settings_for("x", "http://unused", tmp_path),
        clock=clock,
        registry=OneRoute(publisher),  # type: ignore[arg-type]
    )


def x_publisher(fake: FakeNetwork, http: HttpClient, tmp_path: Path) -> XPublisher:
    return XPublisher(settings_for("x", fake.url, tmp_path), http, sleep=lambda _: None)


def row(engine: Engine) -> Mapping[str, Any]:
    with engine.connect() as conn:
        return conn.execute(select(POST).where(POST.c.post_id == POST_ID)).mappings().one()


def claim_and_publish(d: Dispatcher) -> str:
    claimed: list[tuple[str, str]] = []
    d.tick(claimed.extend)
    assert [c[0] for c in claimed] == [POST_ID]
    return d.publish(*claimed[0])


def test_the_sample_thread_has_three_parts_with_the_link_in_the_first() -> None:
    assert len(PARTS) == 3
    assert PARTS[0].endswith(f"{LINK} 1/3")
    assert all(LINK not in p for p in PARTS[1:])


def test_a_thread_goes_out_as_a_numbered_chain_of_replies(
    engine: Engine, fake: FakeNetwork, x: FakeX, http: HttpClient, tmp_path: Path
) -> None:
    d = dispatcher(engine, x_publisher(fake, http, tmp_path), tmp_path, Clock())
    assert claim_and_publish(d) == "published"
    assert x.sent() == [(1, None), (2, "1000"), (3, "1001")]
    bodies = [c.json() for c in fake.calls("POST", "/2/tweets")]
    assert bodies[0] == {"text": PARTS[0]}
    assert bodies[2] == {"text": PARTS[2], "reply": {"in_reply_to_tweet_id": "1001"}}
    published = row(engine)
    assert (published["status"], published["remote_id"]) == ("published", "1000")
    assert json.loads(published["checkpoint_json"])["thread"] == ["1000", "1001", "1002"]


def test_x_failing_the_third_part_resumes_at_the_third_part(
    engine: Engine, fake: FakeNetwork, x: FakeX, http: HttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    d = dispatcher(engine, x_publisher(fake, http, tmp_path), tmp_path, clock)
    x.fail_part = 3

    assert claim_and_publish(d) == "retry_wait"
    waiting = row(engine)
    assert json.loads(waiting["checkpoint_json"])["thread"] == ["1000", "1001"]

    clock.now = waiting["next_attempt_at"].replace(tzinfo=UTC) + timedelta(seconds=1)
    assert claim_and_publish(d) == "published"

    # Parts 1 and 2 went out once each; part 3 was tried, refused, then sent as a reply to 2.
    assert x.sent() == [(1, None), (2, "1000"), (3, "1001"), (3, "1001")]
    assert [t["text"] for t in reversed(x.timeline)] == list(PARTS)
    assert row(engine)["remote_id"] == "1000"


def test_a_worker_killed_after_the_second_part_resumes_at_the_third(
    engine: Engine, fake: FakeNetwork, x: FakeX, http: HttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    real = x_publisher(fake, http, tmp_path)
    with pytest.raises(SystemExit):
        claim_and_publish(dispatcher(engine, DiesAfterPart(real, 2), tmp_path, clock))
    dead = row(engine)
    assert dead["status"] == "publishing"
    assert json.loads(dead["checkpoint_json"])["thread"] == ["1000", "1001"]

    # Another worker, once the dead one's lease ran out: it looks first, then resumes.
    clock.now = dead["lease_until"].replace(tzinfo=UTC) + timedelta(seconds=1)
    d = dispatcher(engine, real, tmp_path, clock)
    for _ in range(3):  # reconcile the expired lease, then claim and publish
        claimed: list[tuple[str, str]] = []
        d.tick(claimed.extend)
        for job in claimed:
            d.publish(*job)
        if row(engine)["status"] == "published":
            break

    assert fake.calls("GET", "/2/users/42/tweets"), "the account was read before resuming"
    assert x.sent() == [(1, None), (2, "1000"), (3, "1001")]
    assert [t["text"] for t in reversed(x.timeline)] == list(PARTS)
    done = row(engine)
    assert (done["status"], done["remote_id"]) == ("published", "1000")
    assert json.loads(done["checkpoint_json"])["thread"] == ["1000", "1001", "1002"]


def test_a_worker_killed_after_the_last_part_went_out_is_found_not_resent(
    engine: Engine, fake: FakeNetwork, x: FakeX, http: HttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    real = x_publisher(fake, http, tmp_path)
    with pytest.raises(SystemExit):
        claim_and_publish(dispatcher(engine, DiesAfterPart(real, 3), tmp_path, clock))
    clock.now = row(engine)["lease_until"].replace(tzinfo=UTC) + timedelta(seconds=1)
    d = dispatcher(engine, real, tmp_path, clock)
    for _ in range(3):
        claimed: list[tuple[str, str]] = []
        d.tick(claimed.extend)
        for job in claimed:
            d.publish(*job)
        if row(engine)["status"] == "published":
            break
    assert x.sent() == [(1, None), (2, "1000"), (3, "1001")]
    assert row(engine)["status"] == "published"


def test_attempts_are_recorded_for_each_try(
    engine: Engine, fake: FakeNetwork, x: FakeX, http: HttpClient, tmp_path: Path
) -> None:
    clock = Clock()
    d = dispatcher(engine, x_publisher(fake, http, tmp_path), tmp_path, clock)
    x.fail_part = 3
    claim_and_publish(d)
    clock.now = row(engine)["next_attempt_at"].replace(tzinfo=UTC) + timedelta(seconds=1)
    claim_and_publish(d)
    with engine.connect() as conn:
        outcomes = list(conn.execute(select(ATTEMPT.c.outcome).order_by(ATTEMPT.c.id)).scalars())
    assert outcomes == ["transient", "published"]
