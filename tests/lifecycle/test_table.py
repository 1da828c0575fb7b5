"""The lifecycle table itself (scheduler/core/lifecycle.py), walked as a graph."""

from __future__ import annotations

from collections import defaultdict

import pytest

from scheduler.core import lifecycle
from scheduler.core.lifecycle import (
    TERMINAL_STATES,
    TRANSITIONS,
    Actor,
    Cause,
    HoldReason,
    IllegalMove,
    PostState,
)

P = PostState


def successors() -> dict[PostState | None, set[PostState]]:
    out: dict[PostState | None, set[PostState]] = defaultdict(set)
    for t in TRANSITIONS:
        out[t.source].add(t.target)
    return out


def reachable_from(start: PostState | None) -> set[PostState]:
    graph, seen, todo = successors(), set(), [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def test_the_state_names_are_fixed() -> None:
    assert [str(s) for s in PostState] == [
        "planned",
        "queued",
        "publishing",
        "published",
        "retry_wait",
        "failed",
        "reconciling",
        "needs_review",
        "cancelled",
        "held",
    ]


def test_the_table_lists_no_move_twice() -> None:
    assert len(set(TRANSITIONS)) == len(TRANSITIONS)


def test_every_cause_has_one_target_one_actor_and_a_source() -> None:
    for cause in Cause:
        rows = [t for t in TRANSITIONS if t.cause is cause]
        assert rows, cause
        assert len({t.target for t in rows}) == 1, cause
        assert lifecycle.target(cause) == rows[0].target
        assert lifecycle.actor(cause) in Actor
        assert [t.source for t in rows if t.source is not None] == list(lifecycle.sources(cause))


def test_every_state_is_reachable_from_a_new_post() -> None:
    assert reachable_from(None) == set(PostState)


def test_every_state_is_reachable_from_planned() -> None:
    assert reachable_from(P.PLANNED) == set(PostState)


def test_every_post_can_end_in_a_terminal_state() -> None:
    for state in PostState:
        assert reachable_from(state) & TERMINAL_STATES or state in TERMINAL_STATES, state


def test_published_is_final() -> None:
    assert successors()[P.PUBLISHED] == set()


def test_terminal_states_have_only_the_documented_ways_out() -> None:
    """A terminal post never moves on its own: an operator retries, cancels, resolves or
    restores it, or sync brings back a post it cancelled when its content returns
    (docs/operations.md)."""
    ways_out = {
        (t.source, t.target, t.cause)
        for t in TRANSITIONS
        if t.source in TERMINAL_STATES and t.source != t.target
    }
    assert ways_out == {
        (P.FAILED, P.PLANNED, Cause.RETRIED),
        (P.NEEDS_REVIEW, P.PLANNED, Cause.RETRIED),
        (P.FAILED, P.CANCELLED, Cause.CANCELLED),
        (P.NEEDS_REVIEW, P.CANCELLED, Cause.CANCELLED),
        (P.CANCELLED, P.PLANNED, Cause.ADDED),
        (P.CANCELLED, P.HELD, Cause.PAST_DUE),
        (P.CANCELLED, P.HELD, Cause.AWAITING_SIGNOFF),  # back in the content, not signed off
        (P.NEEDS_REVIEW, P.PUBLISHED, Cause.RESOLVED_PUBLISHED),
        (P.NEEDS_REVIEW, P.PLANNED, Cause.RESOLVED_NOT_PUBLISHED),
        (P.CANCELLED, P.PLANNED, Cause.RESTORED),
    }


def test_the_dispatcher_never_moves_a_post_out_of_a_terminal_state() -> None:
    assert not [
        t
        for t in TRANSITIONS
        if t.source in TERMINAL_STATES and lifecycle.actor(t.cause) is Actor.DISPATCHER
    ]


def test_only_a_claim_or_an_operator_leaves_the_waiting_states() -> None:
    """planned and retry_wait posts go to the network only through a claim (a token)."""
    into_flight = {
        t.cause
        for t in TRANSITIONS
        if t.source in {P.PLANNED, P.RETRY_WAIT}
        and t.target in {P.QUEUED, P.PUBLISHING, P.PUBLISHED}
    }
    assert into_flight == {Cause.CLAIMED}


def test_a_post_is_sent_only_after_its_claim_is_taken() -> None:
    into_publishing = {(t.source, t.cause) for t in TRANSITIONS if t.target is P.PUBLISHING}
    assert into_publishing == {(P.QUEUED, Cause.TAKEN)}


def test_a_dead_workers_post_is_looked_up_before_it_is_queued_again() -> None:
    """Reconcile before any resend: publishing never goes back to queued directly."""
    assert not [t for t in TRANSITIONS if t.source is P.PUBLISHING and t.target is P.QUEUED]
    assert {t.cause for t in TRANSITIONS if t.source is P.RECONCILING} == {
        Cause.FOUND,
        Cause.NOT_FOUND,
        Cause.CANNOT_CHECK,
        Cause.WORKER_LOST,
    }


def test_every_move_into_held_says_why_and_every_move_out_clears_it() -> None:
    for t in TRANSITIONS:
        hold = lifecycle.columns(t.cause)["hold_reason"]
        if t.target is P.HELD:
            assert hold in set(HoldReason), t
        else:
            assert hold is None, t


def test_every_hold_reason_has_a_move() -> None:
    made = {lifecycle.hold_reason(c) for c in Cause} - {None}
    assert made == set(HoldReason)


def test_sync_owns_only_its_own_holds() -> None:
    assert {
        lifecycle.hold_reason(t.cause)
        for t in TRANSITIONS
        if t.target is P.HELD and lifecycle.actor(t.cause) is Actor.SYNC
    } == lifecycle.SYNC_HOLDS


def test_a_move_outside_the_table_is_refused() -> None:
    lifecycle.check(P.QUEUED, P.PUBLISHING, Cause.TAKEN)
    with pytest.raises(IllegalMove, match="published -> planned by retried"):
        lifecycle.check(P.PUBLISHED, P.PLANNED, Cause.RETRIED)
    with pytest.raises(IllegalMove):
        lifecycle.check(None, P.QUEUED, Cause.CLAIMED)


def test_the_operator_commands_list_their_states_as_before() -> None:
    """A refused command lists the states it applies to, in this order."""
    assert [str(s) for s in lifecycle.sources(Cause.CANCELLED)] == [
        "planned",
        "held",
        "retry_wait",
        "queued",
        "failed",
        "needs_review",
    ]
    assert [str(s) for s in lifecycle.sources(Cause.PUBLISH_NOW)] == [
        "planned",
        "held",
        "retry_wait",
    ]
    assert [str(s) for s in lifecycle.sources(Cause.RETRIED)] == ["failed", "needs_review"]
