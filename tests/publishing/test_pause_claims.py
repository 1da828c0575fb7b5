"""Pauses at the claim: a paused post is never claimed, one in flight finishes, and `resume`
lets the next tick send it. On SQLite and on PostgreSQL (the ``database_url`` fixture)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy import select

from scheduler.core.selectors import BadSelector, Selector
from scheduler.dispatch import bulk
from scheduler.dispatch.dispatcher import Dispatcher, Policy

from .conftest import T0, FakeRegistry, add_posts


class Collect:
    def __init__(self) -> None:
        self.jobs: list[tuple[str, str]] = []

    def __call__(self, jobs: Sequence[tuple[str, str]]) -> None:
        self.jobs.extend(jobs)


def claimed(d: Dispatcher) -> list[str]:
    jobs = Collect()
    d.tick(jobs)
    return sorted(post_id for post_id, _ in jobs.jobs)


def pause(d: Dispatcher, **kwargs: object) -> bulk.Paused:
    return bulk.pause(d, Selector.parse(**kwargs), reason="crisis", by="ana")  # type: ignore[arg-type]


def resume(d: Dispatcher, **kwargs: object) -> bulk.Paused:
    return bulk.resume(d, Selector.parse(**kwargs))  # type: ignore[arg-type]


def test_pause_all_stops_every_claim_and_resume_sends_them(engine, dispatcher):
    ids = add_posts(engine, 3)
    pause(dispatcher, everything=True)
    assert claimed(dispatcher) == []
    resume(dispatcher, everything=True)
    assert claimed(dispatcher) == ids


def test_a_paused_market_waits_and_the_others_go_out(engine, dispatcher):
    fr = add_posts(engine, 2, market="fr")
    de = add_posts(engine, 2, market="de")
    pause(dispatcher, markets=("fr",))
    assert claimed(dispatcher) == de
    resume(dispatcher, markets=("fr",))
    assert claimed(dispatcher) == fr


def test_a_paused_story_network_or_account_waits(engine, dispatcher):
    story = add_posts(engine, 1, story="recall")
    network = add_posts(engine, 1, story="a", network="linkedin", account="9")
    account = add_posts(engine, 1, story="b", network="mastodon", account="BrandFR")
    other = add_posts(engine, 1, story="b", network="mastodon", account="BrandDE", market="de")
    pause(dispatcher, stories=("recall",))
    pause(dispatcher, networks=("linkedin",))
    pause(dispatcher, accounts=("mastodon:BrandFR",))
    assert claimed(dispatcher) == other
    resume(dispatcher, stories=("recall",), networks=("linkedin",))
    assert claimed(dispatcher) == sorted(story + network)
    resume(dispatcher, accounts=("mastodon:BrandFR",))
    assert claimed(dispatcher) == account


def test_a_retry_wait_post_is_paused_too(engine, dispatcher):
    [post_id] = add_posts(engine, status="retry_wait", next_attempt_at=T0)
    pause(dispatcher, everything=True)
    assert claimed(dispatcher) == []
    resume(dispatcher, everything=True)
    assert claimed(dispatcher) == [post_id]


def test_a_spaced_network_is_paused_too(engine, make_dispatcher, publisher):
    d = make_dispatcher(
        policy=Policy(min_spacing={"x": 5.0}), registry=FakeRegistry(publisher, networks={"x"})
    )
    [post_id] = add_posts(engine, network="x", account="BrandFR")
    pause(d, accounts=("x:BrandFR",))
    assert claimed(d) == []
    resume(d, accounts=("x:BrandFR",))
    assert claimed(d) == [post_id]


def test_a_post_in_flight_when_the_pause_starts_finishes(engine, dispatcher, publisher):
    [post_id] = add_posts(engine)
    jobs = Collect()
    dispatcher.tick(jobs)
    pause(dispatcher, everything=True)
    assert dispatcher.publish(*jobs.jobs[0]) == "published"
    assert publisher.sent == [post_id]


def test_pausing_twice_keeps_one_pause_and_its_start(engine, dispatcher, clock):
    add_posts(engine)
    first = pause(dispatcher, markets=("fr",))
    clock.advance(minutes=5)
    again = pause(dispatcher, markets=("fr",))
    assert first.changed == [("market", "fr")]
    assert again.changed == [] and again.unchanged == [("market", "fr")]
    [only] = again.in_force
    assert only.since == T0


def test_pause_counts_the_posts_it_keeps_waiting(engine, dispatcher):
    add_posts(engine, 3, market="fr")
    add_posts(engine, 2, market="de", due=T0 + timedelta(days=1))
    assert pause(dispatcher, markets=("fr",)).waiting == 3
    assert pause(dispatcher, everything=True).waiting == 5


def test_a_misspelled_market_is_refused_with_a_suggestion(engine, dispatcher):
    add_posts(engine, market="fr")
    with pytest.raises(BadSelector, match=r"no market 'frr'; did you mean: fr\?"):
        pause(dispatcher, markets=("frr",))
    with dispatcher.uow.reading() as conn:
        from scheduler.calendar.operating import PAUSE

        assert conn.execute(select(PAUSE)).all() == []


def test_a_network_with_no_post_yet_may_be_paused_ahead(engine, dispatcher):
    add_posts(engine, network="facebook")
    assert pause(dispatcher, networks=("weibo",)).changed == [("network", "weibo")]
    with pytest.raises(BadSelector, match="did you mean: x"):
        pause(dispatcher, networks=("xx",))


def test_resume_of_a_typo_gets_a_suggestion_not_a_silent_nothing(engine, dispatcher):
    add_posts(engine, market="fr")
    pause(dispatcher, markets=("fr",))
    with pytest.raises(BadSelector, match="did you mean: fr"):
        resume(dispatcher, markets=("fR",))


def test_two_operators_pausing_the_same_thing_at_once_make_one_pause(engine, dispatcher):
    from scheduler.calendar import operating

    add_posts(engine)
    selector = Selector(markets=("fr",))
    # Both read "not paused yet" before either wrote: the second insert meets the first row.
    with engine.begin() as conn:
        assert operating.add_pauses(conn, selector, reason=None, by="ana", now=T0) == [
            ("market", "fr")
        ]
    with engine.begin() as conn:
        won = conn.execute(
            operating._insert_new(conn)
            .values(scope="market", value="fr", reason=None, by="bo", created_at=T0)
            .on_conflict_do_nothing()
            .returning(operating.PAUSE.c.scope)
        ).first()
    assert won is None
    with engine.connect() as conn:
        assert [(p.scope, p.value, p.by) for p in operating.pauses(conn)] == [
            ("market", "fr", "ana")
        ]
