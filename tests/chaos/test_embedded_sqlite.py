"""Chaos on the embedded default — a SQLite calendar and kombu's SQLite broker in the data dir,
which commits a message as taken when it is fetched — with workers SIGKILLed every few seconds
and receivers failing, stalling and dropping answers. Same promise: exactly once, or terminal
with its reason."""

from __future__ import annotations

import pytest

from bench.chaoslib import SETTLED, ChaosResult

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


def test_no_post_is_received_twice(sqlite_chaos: ChaosResult) -> None:
    assert sqlite_chaos.duplicates == [], sqlite_chaos.explain()


def test_no_post_is_lost(sqlite_chaos: ChaosResult) -> None:
    assert sqlite_chaos.lost == [], sqlite_chaos.explain()


def test_a_received_post_is_recorded_as_published_or_under_review(
    sqlite_chaos: ChaosResult,
) -> None:
    assert sqlite_chaos.mismatched == [], sqlite_chaos.explain()


def test_every_post_settles_before_the_deadline(sqlite_chaos: ChaosResult) -> None:
    unsettled = [v.post_id for v in sqlite_chaos.verdicts if v.status not in SETTLED]
    assert unsettled == [] and sqlite_chaos.settled_in is not None, sqlite_chaos.explain()


def test_workers_were_killed_while_posts_were_due(sqlite_chaos: ChaosResult) -> None:
    s = sqlite_chaos.scenario
    kills = [i.t for i in sqlite_chaos.injected if i.what.startswith("SIGKILL worker")]
    inside = [t for t in kills if s.lead <= t <= s.lead + s.spread]
    assert len(inside) >= 3, kills


def test_a_post_stuck_by_a_dead_worker_is_recovered_within_60_s(sqlite_chaos: ChaosResult) -> None:
    assert sqlite_chaos.recoveries, "no worker died mid-publish: the run proved nothing here"
    assert sqlite_chaos.recoveries[-1].seconds <= 60, sqlite_chaos.explain()
