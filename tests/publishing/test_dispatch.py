"""The dispatcher's state machine (docs/architecture.md, "The post lifecycle"), one transition
per test, on SQLite and PostgreSQL, with the clock in the test's hands."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine

from scheduler.app.settings import Settings
from scheduler.calendar.database import from_db
from scheduler.calendar.tables import Attempt, Post
from scheduler.core.errors import (
    CannotCheck,
    InvalidTransition,
    NeedsAuth,
    NotFound,
    Permanent,
    Transient,
)
from scheduler.dispatch.dispatcher import Dispatcher, Policy
from scheduler.publishers.base import Published

from .conftest import POLICY, T0, Clock, FakeRegistry, ScriptedPublisher, add_posts

POST = Post.__table__  # type: ignore[attr-defined]
ATTEMPT = Attempt.__table__  # type: ignore[attr-defined]


def row(engine: Engine, post_id: str) -> dict:
    with engine.connect() as conn:
        return dict(conn.execute(select(POST).where(POST.c.post_id == post_id)).mappings().one())


def attempts(engine: Engine, post_id: str) -> list[dict]:
    with engine.connect() as conn:
        q = select(ATTEMPT).where(ATTEMPT.c.post_id == post_id).order_by(ATTEMPT.c.id)
        return [dict(r) for r in conn.execute(q).mappings()]


class Collect:
    def __init__(self) -> None:
        self.jobs: list[tuple[str, str]] = []

    def __call__(self, jobs: Sequence[tuple[str, str]]) -> None:
        self.jobs.extend(jobs)


def claim_one(dispatcher: Dispatcher) -> tuple[str, str]:
    jobs = Collect()
    dispatcher.tick(jobs)
    assert len(jobs.jobs) == 1
    return jobs.jobs[0]


# --- claiming --------------------------------------------------------------------------------


def test_tick_claims_due_posts_and_enqueues_each_with_its_token(engine, dispatcher):
    due = add_posts(engine, 3, due=T0 - timedelta(seconds=1))
    add_posts(engine, 2, due=T0 + timedelta(minutes=5), story="later")
    jobs = Collect()
    report = dispatcher.tick(jobs)
    assert report.claimed == 3
    assert sorted(p for p, _ in jobs.jobs) == sorted(due)
    for post_id, token in jobs.jobs:
        r = row(engine, post_id)
        assert (r["status"], r["attempt_token"]) == ("queued", token)
        assert from_db(r["lease_until"]) == T0 + POLICY.lease


def test_posts_not_yet_due_stay_planned(engine, dispatcher):
    [post_id] = add_posts(engine, due=T0 + timedelta(seconds=1))
    jobs = Collect()
    dispatcher.tick(jobs)
    assert jobs.jobs == []
    assert row(engine, post_id)["status"] == "planned"


def test_a_second_tick_claims_nothing_already_claimed(engine, dispatcher):
    add_posts(engine, 5)
    first, second = Collect(), Collect()
    dispatcher.tick(first)
    dispatcher.tick(second)
    assert len(first.jobs) == 5
    assert second.jobs == []


def test_concurrent_dispatchers_never_claim_a_post_twice(engine, make_dispatcher):
    ids = add_posts(engine, 300)
    jobs = Collect()
    lock = threading.Lock()

    def collect(claims: Sequence[tuple[str, str]]) -> None:
        with lock:
            jobs(claims)

    small_batches = Policy(claim_batch=40)
    dispatchers = [make_dispatcher(policy=small_batches) for _ in range(4)]
    barrier = threading.Barrier(len(dispatchers))

    def run(d: Dispatcher) -> None:
        barrier.wait()
        for _ in range(5):
            d.tick(collect)

    threads = [threading.Thread(target=run, args=(d,)) for d in dispatchers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [p for p, _ in jobs.jobs]
    assert len(claimed) == len(set(claimed))
    assert sorted(claimed) == sorted(ids)


def test_retry_wait_posts_are_claimed_when_their_next_attempt_is_due(engine, dispatcher, clock):
    [post_id] = add_posts(engine, status="retry_wait", next_attempt_at=(T0 + timedelta(seconds=30)))
    jobs = Collect()
    dispatcher.tick(jobs)
    assert jobs.jobs == []
    clock.advance(seconds=30)
    dispatcher.tick(jobs)
    assert [p for p, _ in jobs.jobs] == [post_id]


def test_one_claim_takes_no_more_than_the_claim_batch(engine, make_dispatcher):
    add_posts(engine, 30)
    jobs = Collect()
    report = make_dispatcher(policy=Policy(claim_batch=10)).tick(jobs)
    assert report.claimed == 10
    assert len(jobs.jobs) == 10


# --- claims on their way to the workers --------------------------------------------------------


def jobs_of(n: int) -> list[tuple[str, str]]:
    return [(f"s/b/facebook/m{i:04d}", "token") for i in range(n)]


def test_a_few_claims_travel_one_per_message():
    messages = Policy(batch=8, spread=64).messages(jobs_of(64))
    assert [len(m) for m in messages] == [1] * 64


def test_a_burst_travels_several_claims_per_message_over_enough_messages():
    jobs = jobs_of(1000)
    messages = Policy(batch=8, spread=64).messages(jobs)
    assert max(len(m) for m in messages) == 8
    assert len(messages) >= 64
    assert [job for m in messages for job in m] == jobs


def test_a_burst_just_above_the_spread_still_fills_every_message_thinly():
    messages = Policy(batch=8, spread=64).messages(jobs_of(130))
    assert {len(m) for m in messages} <= {3, 1}
    assert len(messages) == 44


def test_storyline_publish_batch_1_sends_every_claim_alone(tmp_path):
    settings = Settings.from_env(
        {"STORYLINE_DATA_DIR": str(tmp_path), "STORYLINE_PUBLISH_BATCH": "1"}
    )
    messages = Policy.from_settings(settings).messages(jobs_of(1000))
    assert len(messages) == 1000


def test_the_tick_hands_its_claims_to_the_broker_in_messages(engine, make_dispatcher):
    ids = add_posts(engine, 200)
    messages: list[list[tuple[str, str]]] = []
    report = make_dispatcher(policy=replace(POLICY, batch=4, spread=10)).tick(
        lambda m: messages.append(list(m))
    )
    assert report.claimed == 200
    assert len(messages) == 50
    assert sorted(p for m in messages for p, _ in m) == sorted(ids)


def test_a_message_the_broker_refused_counts_each_of_its_claims(engine, make_dispatcher):
    ids = add_posts(engine, 200)

    def broker_down(_: Sequence[tuple[str, str]]) -> None:
        raise ConnectionError("broker down")

    report = make_dispatcher(policy=replace(POLICY, batch=4, spread=10)).tick(broker_down)
    assert report.enqueue_failures == 200
    assert {row(engine, p)["status"] for p in ids} == {"queued"}  # the lease brings them back


# --- publishing --------------------------------------------------------------------------------


def test_publish_records_remote_id_url_and_time(engine, dispatcher, publisher, clock):
    [post_id] = add_posts(engine)
    _, token = claim_one(dispatcher)
    clock.advance(seconds=2)
    assert dispatcher.publish(post_id, token) == "published"
    r = row(engine, post_id)
    assert r["status"] == "published"
    assert r["remote_id"] == f"r-{post_id}"
    assert r["url"] == f"https://net/{post_id}"
    assert from_db(r["published_at"]) == T0 + timedelta(seconds=2)
    assert r["attempts"] == 1
    [attempt] = attempts(engine, post_id)
    assert attempt["outcome"] == "published"
    assert attempt["attempt_token"] == token


def test_a_message_of_several_claims_publishes_each_with_its_own_token(
    engine, dispatcher, publisher
):
    ids = add_posts(engine, 3)
    jobs = Collect()
    dispatcher.tick(jobs)
    assert dispatcher.publish_many(jobs.jobs) == ["published"] * 3
    assert sorted(publisher.sent) == sorted(ids)
    assert {row(engine, p)["status"] for p in ids} == {"published"}


def test_a_claim_whose_publish_raises_does_not_hold_back_the_rest_of_its_message(
    engine, make_dispatcher, publisher
):
    class BrokenForOneAccount(FakeRegistry):
        def route(self, network: str, account: str):  # type: ignore[no-untyped-def]
            if account == "broken":
                raise RuntimeError("secrets store unreachable")
            return super().route(network, account)

    [first] = add_posts(engine, story="a")
    [stuck] = add_posts(engine, story="b", account="broken")
    [last] = add_posts(engine, story="c")
    d = make_dispatcher(registry=BrokenForOneAccount(publisher))
    jobs = Collect()
    d.tick(jobs)
    order = {p: i for i, p in enumerate([first, stuck, last])}
    message = sorted(jobs.jobs, key=lambda job: order[job[0]])
    assert d.publish_many(message) == ["published", "error", "published"]
    assert publisher.sent == [first, last]
    assert row(engine, stuck)["status"] == "publishing"  # its lease sends it to reconciliation


def test_a_duplicate_delivery_does_nothing(engine, dispatcher, publisher):
    [post_id] = add_posts(engine)
    _, token = claim_one(dispatcher)
    assert dispatcher.publish(post_id, token) == "published"
    assert dispatcher.publish(post_id, token) == "duplicate"
    assert publisher.sent == [post_id]
    assert len(attempts(engine, post_id)) == 1


def test_a_message_with_a_stale_token_does_nothing(engine, dispatcher, publisher):
    [post_id] = add_posts(engine)
    claim_one(dispatcher)
    assert dispatcher.publish(post_id, "not-the-token") == "duplicate"
    assert publisher.sent == []
    assert row(engine, post_id)["status"] == "queued"


def test_a_worker_paused_past_its_lease_sends_nothing(engine, make_dispatcher, publisher, clock):
    [post_id] = add_posts(engine)
    zombie, other = make_dispatcher(), make_dispatcher()
    _, token = claim_one(zombie)
    claim = zombie.begin(post_id, token)
    assert claim is not None
    clock.advance(seconds=61)  # the zombie sleeps past its lease...
    publisher.find_script = [None]  # ...the network never saw it...
    _, new_token = claim_one(other)  # ...and the tick hands it to reconciliation
    assert other.publish(post_id, new_token) == "published"
    assert zombie.send(claim) == "superseded"
    assert publisher.sent == [post_id]
    assert row(engine, post_id)["status"] == "published"


def test_the_checkpoint_callback_persists_progress(engine, dispatcher, publisher):
    [post_id] = add_posts(engine)
    _, token = claim_one(dispatcher)
    dispatcher.publish(post_id, token)
    assert '"container"' in row(engine, post_id)["checkpoint_json"]


# --- errors -------------------------------------------------------------------------------


def test_a_transient_error_waits_with_jittered_backoff(engine, dispatcher, publisher):
    [post_id] = add_posts(engine)
    publisher.publish_script = [Transient("HTTP 503", http_status=503)]
    _, token = claim_one(dispatcher)
    assert dispatcher.publish(post_id, token) == "retry_wait"
    r = row(engine, post_id)
    wait = (from_db(r["next_attempt_at"]) - T0).total_seconds()
    assert r["status"] == "retry_wait"
    assert 5 <= wait <= 10  # first retry: between half and all of backoff_base
    assert "HTTP 503" in r["last_error"]
    assert attempts(engine, post_id)[0]["http_status"] == 503


def test_retry_after_from_the_network_is_honoured(engine, dispatcher, publisher):
    [post_id] = add_posts(engine)
    publisher.publish_script = [Transient("HTTP 429", retry_after=120, http_status=429)]
    _, token = claim_one(dispatcher)
    dispatcher.publish(post_id, token)
    assert from_db(row(engine, post_id)["next_attempt_at"]) == T0 + timedelta(seconds=120)


def test_backoff_doubles_and_stays_under_the_cap():
    import random

    policy = Policy(backoff_base=10, backoff_cap=60)
    rng = random.Random(1)
    ceilings = [10, 20, 40, 60, 60]
    for attempt, ceiling in enumerate(ceilings, start=1):
        delay = policy.backoff(attempt, rng, None)
        assert ceiling / 2 <= delay <= ceiling


def test_the_post_fails_after_the_last_attempt(engine, dispatcher, publisher, clock):
    [post_id] = add_posts(engine)
    publisher.publish_script = [Transient("HTTP 502")] * 3
    outcomes = []
    for _ in range(3):
        jobs = Collect()
        dispatcher.tick(jobs)
        outcomes.append(dispatcher.publish(*jobs.jobs[0]))
        clock.advance(minutes=1)
    assert outcomes == ["retry_wait", "retry_wait", "failed"]
    r = row(engine, post_id)
    assert r["status"] == "failed"
    assert r["status_reason"].startswith("gave up after 3 attempts")


def test_a_retry_that_would_be_too_late_fails_with_that_reason(engine, make_dispatcher, publisher):
    policy = Policy(max_lateness={"x": timedelta(seconds=30)}, backoff_base=120)
    d = make_dispatcher(policy=policy)
    [post_id] = add_posts(engine, network="x", account="BrandFR")
    publisher.publish_script = [Transient("HTTP 503")]
    d.publish(*claim_one(d))
    r = row(engine, post_id)
    assert r["status"] == "failed"
    assert "too late to retry" in r["status_reason"]


def test_a_post_already_too_late_is_not_sent(engine, make_dispatcher, publisher):
    policy = Policy(max_lateness={"x": timedelta(hours=1)})
    d = make_dispatcher(policy=policy)
    [post_id] = add_posts(engine, network="x", due=T0 - timedelta(hours=2))
    d.publish(*claim_one(d))
    r = row(engine, post_id)
    assert publisher.sent == []
    assert r["status"] == "failed"
    assert r["status_reason"].startswith("too late: 2.0 h past due")


def test_a_permanent_error_fails_with_the_networks_message(engine, dispatcher, publisher):
    [post_id] = add_posts(engine)
    publisher.publish_script = [Permanent("facebook answered HTTP 400: (#100) Invalid link")]
    dispatcher.publish(*claim_one(dispatcher))
    r = row(engine, post_id)
    assert r["status"] == "failed"
    assert "(#100) Invalid link" in r["status_reason"]


def test_needs_auth_holds_every_unsent_post_of_the_account(engine, dispatcher, publisher):
    [post_id] = add_posts(engine)
    later = add_posts(engine, 2, story="later", due=T0 + timedelta(days=1))
    other = add_posts(engine, 1, story="other", account="200", due=T0 + timedelta(days=1))
    publisher.publish_script = [NeedsAuth("token expired", http_status=401)]
    assert dispatcher.publish(*claim_one(dispatcher)) == "held"
    for pid in [post_id, *later]:
        r = row(engine, pid)
        assert r["status"] == "held"
        assert r["status_reason"].startswith("account needs re-auth")
    assert row(engine, other[0])["status"] == "planned"


def test_release_account_puts_the_held_posts_back(engine, dispatcher, publisher):
    add_posts(engine)
    later = add_posts(engine, 2, story="later", due=T0 + timedelta(days=1))
    publisher.publish_script = [NeedsAuth("token expired")]
    dispatcher.publish(*claim_one(dispatcher))
    assert dispatcher.release_account("facebook", "100") == 3
    assert all(row(engine, p)["status"] == "planned" for p in later)


# --- lost responses and dead workers: reconcile before any resend ---------------------------


@pytest.mark.parametrize(
    ("found", "status"),
    [
        (Published("r-1", "https://net/1"), "published"),
        (None, "retry_wait"),
        (CannotCheck("no search API"), "needs_review"),
    ],
)
def test_a_lost_response_is_reconciled_never_blindly_resent(
    engine, dispatcher, publisher, found, status
):
    [post_id] = add_posts(engine)
    publisher.publish_script = [Transient("read timeout", sent=True)]
    publisher.find_script = [found]
    dispatcher.publish(*claim_one(dispatcher))
    assert row(engine, post_id)["status"] == status
    assert publisher.sent == [post_id]
    assert publisher.looked == [post_id]


@pytest.mark.parametrize(
    ("second_look", "status", "sends"),
    [
        (Published("r-1", "https://net/1"), "published", 1),
        (None, "published", 2),
        (CannotCheck("no search API"), "needs_review", 1),
    ],
)
def test_after_an_unconfirmed_send_the_next_attempt_looks_again_before_sending(
    engine, dispatcher, publisher, clock, second_look, status, sends
):
    """A receiver may commit after the client gave up: absent right after is not absent."""
    [post_id] = add_posts(engine)
    publisher.publish_script = [Transient("read timeout", sent=True)]
    publisher.find_script = [None, second_look]
    dispatcher.publish(*claim_one(dispatcher))
    assert row(engine, post_id)["status"] == "retry_wait"
    clock.advance(seconds=3600)
    dispatcher.publish(*claim_one(dispatcher))
    assert row(engine, post_id)["status"] == status
    assert publisher.looked == [post_id, post_id]
    assert publisher.sent == [post_id] * sends


def test_a_post_left_publishing_goes_to_reconciliation_before_anything_else(
    engine, dispatcher, clock
):
    [post_id] = add_posts(engine)
    _, token = claim_one(dispatcher)
    assert dispatcher.begin(post_id, token) is not None  # the worker then dies
    clock.advance(seconds=61)
    jobs = Collect()
    report = dispatcher.tick(jobs)
    assert report.reconciling == 1
    r = row(engine, post_id)
    assert r["status"] == "reconciling"
    assert jobs.jobs == [(post_id, r["attempt_token"])]
    assert r["attempt_token"] != token


def test_reconciliation_finding_the_post_marks_it_published_without_sending(
    engine, dispatcher, publisher, clock
):
    [post_id] = add_posts(engine)
    _, token = claim_one(dispatcher)
    dispatcher.begin(post_id, token)
    clock.advance(seconds=61)
    publisher.find_script = [Published("r-9", "https://net/9")]
    assert dispatcher.publish(*claim_one(dispatcher)) == "published"
    assert publisher.sent == []
    assert row(engine, post_id)["remote_id"] == "r-9"
    assert [a["outcome"] for a in attempts(engine, post_id)] == ["worker_lost", "found"]


def test_reconciliation_certain_of_absence_publishes_once(engine, dispatcher, publisher, clock):
    [post_id] = add_posts(engine)
    _, token = claim_one(dispatcher)
    dispatcher.begin(post_id, token)
    clock.advance(seconds=61)
    publisher.find_script = [None]
    assert dispatcher.publish(*claim_one(dispatcher)) == "published"
    assert publisher.sent == [post_id]


def test_reconciliation_that_cannot_tell_asks_for_review(engine, dispatcher, publisher, clock):
    [post_id] = add_posts(engine)
    _, token = claim_one(dispatcher)
    dispatcher.begin(post_id, token)
    clock.advance(seconds=61)
    publisher.find_script = [CannotCheck("the network has no search")]
    assert dispatcher.publish(*claim_one(dispatcher)) == "needs_review"
    r = row(engine, post_id)
    assert r["status"] == "needs_review"
    assert "cannot tell" in r["status_reason"]
    assert publisher.sent == []


def test_a_queued_post_whose_message_was_lost_is_enqueued_again(engine, dispatcher, clock):
    [post_id] = add_posts(engine)
    _, token = claim_one(dispatcher)
    clock.advance(seconds=61)
    jobs = Collect()
    report = dispatcher.tick(jobs)
    assert report.requeued == 1
    assert jobs.jobs == [(post_id, token)]
    assert from_db(row(engine, post_id)["lease_until"]) == clock.now + POLICY.lease


# --- per-account rate limit --------------------------------------------------------------------


def test_a_spaced_account_gets_one_post_per_tick_and_none_while_one_is_in_flight(
    engine, make_dispatcher, publisher, clock
):
    policy = Policy(min_spacing={"x": 5.0})
    d = make_dispatcher(policy=policy, registry=FakeRegistry(publisher, networks={"x"}))
    add_posts(engine, 3, network="x", account="BrandFR")
    add_posts(engine, 1, network="x", account="BrandDE", market="de")
    first = Collect()
    d.tick(first)
    assert len(first.jobs) == 2  # one per account
    blocked = Collect()
    d.tick(blocked)
    assert blocked.jobs == []  # BrandFR has a post in flight
    for job in first.jobs:
        d.publish(*job)
    clock.advance(seconds=2)
    d.tick(blocked)
    assert blocked.jobs == []  # published 2 s ago, spacing is 5 s
    clock.advance(seconds=4)
    after = Collect()
    d.tick(after)
    assert len(after.jobs) == 1


# --- operator commands -----------------------------------------------------------------------


def test_retry_puts_a_failed_post_back_due_now(engine, dispatcher, clock):
    [post_id] = add_posts(engine, status="failed", attempts=8)
    clock.advance(hours=3)
    dispatcher.retry(post_id)
    r = row(engine, post_id)
    assert (r["status"], r["attempts"]) == ("planned", 0)
    assert from_db(r["due_utc"]) == clock.now


def test_retry_refuses_a_planned_post(engine, dispatcher):
    [post_id] = add_posts(engine)
    with pytest.raises(InvalidTransition, match="it is planned"):
        dispatcher.retry(post_id)


def test_cancel_a_planned_post(engine, dispatcher):
    [post_id] = add_posts(engine)
    dispatcher.cancel(post_id)
    assert row(engine, post_id)["status"] == "cancelled"


def test_cancel_refuses_a_published_post_clearly(engine, dispatcher):
    [post_id] = add_posts(engine, status="published", url="https://net/1")
    with pytest.raises(InvalidTransition, match="already published"):
        dispatcher.cancel(post_id)


def test_a_cancelled_post_is_never_claimed(engine, dispatcher):
    [post_id] = add_posts(engine)
    dispatcher.cancel(post_id)
    jobs = Collect()
    dispatcher.tick(jobs)
    assert jobs.jobs == []


def test_publish_now_makes_a_future_post_due_now(engine, dispatcher):
    [post_id] = add_posts(engine, due=T0 + timedelta(days=3))
    dispatcher.publish_now(post_id)
    assert [p for p, _ in Collect_tick(dispatcher)] == [post_id]


def test_release_sends_a_past_due_held_post_now(engine, dispatcher, clock):
    [post_id] = add_posts(
        engine, status="held", status_reason="past due", due=T0 - timedelta(days=1)
    )
    dispatcher.release(post_id)
    r = row(engine, post_id)
    assert r["status"] == "planned"
    assert from_db(r["due_utc"]) == clock.now


def test_release_keeps_a_future_due_time(engine, dispatcher):
    [post_id] = add_posts(engine, status="held", due=T0 + timedelta(days=1))
    dispatcher.release(post_id)
    assert from_db(row(engine, post_id)["due_utc"]) == T0 + timedelta(days=1)


def test_an_unknown_post_id_is_reported(engine, dispatcher):
    with pytest.raises(NotFound, match="no post 'nope/x/y/z'"):
        dispatcher.cancel("nope/x/y/z")


def Collect_tick(dispatcher: Dispatcher) -> list[tuple[str, str]]:
    jobs = Collect()
    dispatcher.tick(jobs)
    return jobs.jobs


def test_the_clock_must_be_aware(engine, settings, publisher):
    from datetime import datetime

    d = Dispatcher(
        engine, settings, clock=lambda: datetime(2026, 1, 1), registry=FakeRegistry(publisher)
    )
    with pytest.raises(ValueError, match="aware"):
        d.tick(Collect())


_ = (Callable, Clock, ScriptedPublisher)
