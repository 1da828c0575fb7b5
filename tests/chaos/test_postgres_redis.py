"""Chaos on PostgreSQL + Redis: workers SIGKILLed every few seconds and one SIGSTOPped past its
lease, the broker restarted, every database connection cut, the database unreachable for 12 s,
a beat restarted, and receivers answering 5xx, 429, nothing (timeouts) or nothing *after*
recording the post. Every post must reach its receiver exactly once, or end terminal with its
reason (docs/architecture.md, "The post lifecycle"; docs/reliability.md, "How the verdict is
computed")."""

from __future__ import annotations

import pytest

from bench.chaoslib import SETTLED, TERMINAL_WITH_REASON, ChaosResult

pytestmark = [pytest.mark.slow, pytest.mark.e2e, pytest.mark.postgres]


def test_no_post_is_received_twice(postgres_chaos: ChaosResult) -> None:
    assert postgres_chaos.duplicates == [], postgres_chaos.explain()


def test_no_post_is_lost(postgres_chaos: ChaosResult) -> None:
    assert postgres_chaos.lost == [], postgres_chaos.explain()


def test_a_received_post_is_recorded_as_published_or_under_review(
    postgres_chaos: ChaosResult,
) -> None:
    assert postgres_chaos.mismatched == [], postgres_chaos.explain()


def test_every_post_settles_before_the_deadline(postgres_chaos: ChaosResult) -> None:
    unsettled = [v.post_id for v in postgres_chaos.verdicts if v.status not in SETTLED]
    assert unsettled == [] and postgres_chaos.settled_in is not None, postgres_chaos.explain()


def test_every_terminal_failure_carries_its_reason(postgres_chaos: ChaosResult) -> None:
    silent = [
        v.post_id
        for v in postgres_chaos.verdicts
        if v.status in TERMINAL_WITH_REASON and not (v.reason or "").strip()
    ]
    assert silent == [], postgres_chaos.explain()


def test_no_post_is_received_before_it_is_due(postgres_chaos: ChaosResult) -> None:
    early = [
        v.post_id
        for v in postgres_chaos.verdicts
        if v.first_received is not None and v.first_received < v.due - 0.5
    ]
    assert early == [], postgres_chaos.explain()


def test_most_posts_are_published(postgres_chaos: ChaosResult) -> None:
    """Terminal-with-reason is allowed, not a way to pass by giving up on everything."""
    published = postgres_chaos.states["published"]
    assert published >= 0.9 * postgres_chaos.scenario.posts, postgres_chaos.explain()


def test_every_process_and_database_fault_was_injected(postgres_chaos: ChaosResult) -> None:
    done = " | ".join(i.what for i in postgres_chaos.injected)
    for what in (
        "SIGKILL worker",
        "SIGSTOP",
        "SIGCONT",
        "Redis restarted",
        "pg_terminate_backend",
        "PostgreSQL unreachable",
        "PostgreSQL reachable again",
        "SIGKILL beat",
    ):
        assert what in done, f"{what!r} never happened: {done}"
    kills = sum(1 for i in postgres_chaos.injected if i.what.startswith("SIGKILL worker"))
    assert kills >= 5


def test_the_workers_reached_the_database_only_through_the_proxy_that_failed(
    postgres_chaos: ChaosResult,
) -> None:
    """The outage is real only if the workers tried, and were refused, while it lasted."""
    assert postgres_chaos.proxy_refused > 0


def test_the_receivers_misbehaved_in_every_way(postgres_chaos: ChaosResult) -> None:
    seen = postgres_chaos.receiver_outcomes
    for what in ("5xx", "429", "timeout", "dropped_response", "lookup_found", "lookup_absent"):
        assert seen[what] > 0, f"no {what}: {dict(seen)}"
    assert seen["bad_signature"] == 0 and seen["lookup_bad_signature"] == 0


def test_a_post_stuck_by_a_dead_worker_is_recovered_within_60_s(
    postgres_chaos: ChaosResult,
) -> None:
    """Published, queued again or needs_review within 60 s of the lost attempt (the target of
    docs/reliability.md, "How the verdict is computed")."""
    assert postgres_chaos.recoveries, "no worker died mid-publish: the run proved nothing here"
    assert postgres_chaos.recoveries[-1].seconds <= 60, postgres_chaos.explain()
