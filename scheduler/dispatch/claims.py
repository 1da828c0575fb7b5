"""The tick: reconcile first, re-enqueue lost messages, claim what is due, hand the claims out.

Any number of beats may tick at once: every claim is one atomic statement that writes a fresh
attempt token and a lease into the row, and every later step is guarded by that token. The
database, not the broker, is the record of what is due (docs/operations.md, "How a post goes
out").
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select, update

from scheduler.calendar import operating
from scheduler.calendar.database import from_db
from scheduler.calendar.moves import move, state_is
from scheduler.calendar.queries import due_query
from scheduler.core import lifecycle
from scheduler.core.lifecycle import AttemptOutcome, Cause, PostState
from scheduler.dispatch.context import ATTEMPT, POST, Context, new_token, utc
from scheduler.dispatch.policy import Job

log = logging.getLogger(__name__)

#: Sends one broker message carrying one or more claims (see ``Policy.messages``).
Enqueue = Callable[[Sequence[Job]], None]
#: A worker holds these, or is about to: an account with one is not claimed again (spacing).
SENDING = (PostState.QUEUED, PostState.PUBLISHING, PostState.RECONCILING)


@dataclass(frozen=True)
class TickReport:
    reconciling: int = 0
    requeued: int = 0
    claimed: int = 0
    enqueue_failures: int = 0


def tick(ctx: Context, enqueue: Enqueue) -> TickReport:
    """One dispatcher pass: reconcile, re-enqueue, claim; then hand the claims to workers."""
    now = ctx.now()
    jobs: list[Job] = []

    # 1. Reconciliation comes before anything else: a post a dead worker may have sent must be
    #    looked for on the network before it could be claimed again.
    reconciling = _reconcile_first(ctx, now)
    jobs += reconciling

    # 2. Queued posts whose message never turned into a publish: enqueue them again. The token
    #    stays: whichever copy of the message arrives first wins the guarded update.
    with ctx.uow.transaction() as conn:
        rows = conn.execute(
            update(POST)
            .where(POST.c.status == PostState.QUEUED, POST.c.lease_until < utc(now))
            .values(lease_until=utc(now + ctx.policy.lease), updated_at=utc(now))
            .returning(POST.c.post_id, POST.c.attempt_token)
        ).all()
    requeued = [(r.post_id, r.attempt_token) for r in rows]
    jobs += requeued

    # 3. Claim what is due. Spaced networks (rate-limited accounts) are claimed separately.
    spaced = {
        net
        for net, gap in ctx.policy.min_spacing.items()
        if gap > 0 and ctx.registry.uses_network(net)
    }
    claimed = _claim_due(ctx, now, spaced)
    if spaced:
        claimed += _claim_spaced(ctx, now, spaced)
    jobs += claimed

    failures = 0
    for message in ctx.policy.messages(jobs):
        try:
            enqueue(message)
        except Exception:  # the broker is down: the lease brings the posts back later
            failures += len(message)
            ids = ", ".join(post_id for post_id, _ in message)
            log.exception("could not enqueue %s; the lease will bring it back", ids)
    return TickReport(len(reconciling), len(requeued), len(claimed), failures)


def _reconcile_first(ctx: Context, now: datetime) -> list[Job]:
    """Posts left in ``publishing`` or ``reconciling`` past their lease belong to a worker that
    died: they move to ``reconciling`` under a new token."""
    token = new_token()
    with ctx.uow.transaction() as conn:
        rows = conn.execute(
            move(Cause.WORKER_LOST, POST.c.lease_until < utc(now), guard="select")
            .values(
                attempt_token=token,
                lease_until=utc(now + ctx.policy.lease),
                updated_at=utc(now),
                status_reason="worker lost during publish: looking for the post",
            )
            .returning(POST.c.post_id)
        ).all()
    reconciling = [(r.post_id, token) for r in rows]
    if reconciling:
        # Close the dead worker's attempts: their outcome is unknown until reconciled.
        with ctx.uow.transaction() as conn:
            conn.execute(
                update(ATTEMPT)
                .where(
                    ATTEMPT.c.post_id.in_([p for p, _ in reconciling]),
                    ATTEMPT.c.outcome.in_([AttemptOutcome.SENDING, AttemptOutcome.RECONCILING]),
                )
                .values(outcome=AttemptOutcome.WORKER_LOST, finished_at=utc(now))
            )
    return reconciling


def _claim_values(ctx: Context, now: datetime, token: str) -> dict[str, object]:
    return {
        "attempt_token": token,
        "lease_until": utc(now + ctx.policy.lease),
        "updated_at": utc(now),
        "status_reason": None,
    }


def _unpaused(ctx: Context) -> list[ColumnElement[bool]]:
    """The claim's condition while pauses are in force (``storyline pause``), read at every
    claim so that a pause stops new claims at the next tick; posts in flight finish."""
    with ctx.uow.reading() as conn:
        condition = operating.claim_filter(conn)
    return [] if condition is None else [condition]


def _claim_due(ctx: Context, now: datetime, spaced: set[str]) -> list[Job]:
    """``planned`` posts due and ``retry_wait`` posts whose next attempt is due -> ``queued``,
    in one statement per state. The candidates are selected in their state and locked (or, where
    the database has no row locks, guarded by it: ``Dialect.claim_where``)."""
    out: list[Job] = []
    unpaused = _unpaused(ctx)
    for state in lifecycle.sources(Cause.CLAIMED):  # planned, retry_wait
        token = new_token()
        candidates = due_query(now, ctx.policy.claim_batch, state).where(*unpaused)
        if spaced:
            candidates = candidates.where(POST.c.network.not_in(sorted(spaced)))
        picked = candidates.cte("picked").prefix_with("MATERIALIZED")
        with ctx.uow.transaction() as conn:
            rows = conn.execute(
                move(Cause.CLAIMED, *ctx.uow.dialect.claim_where(picked, state), guard="locked")
                .values(_claim_values(ctx, now, token))
                .returning(POST.c.post_id)
                .execution_options(synchronize_session=False)
            ).all()
        out += [(r.post_id, token) for r in rows]
    return out


def _claim_spaced(ctx: Context, now: datetime, spaced: set[str]) -> list[Job]:
    """At most one post per account per spacing window, none while another is in flight."""
    db_now = utc(now)
    policy = ctx.policy
    due = (POST.c.status == PostState.PLANNED) & (POST.c.due_utc <= db_now) | (
        POST.c.status == PostState.RETRY_WAIT
    ) & (POST.c.next_attempt_at <= db_now)
    with ctx.uow.reading() as conn:
        candidates = conn.execute(
            select(POST.c.post_id, POST.c.network, POST.c.account, POST.c.status)
            .where(POST.c.network.in_(sorted(spaced)), due, *_unpaused(ctx))
            .order_by(POST.c.due_utc)
            .limit(policy.claim_batch)
        ).all()
        if not candidates:
            return []
        accounts = sorted({(c.network, c.account) for c in candidates})
        oldest_cutoff = utc(now - timedelta(seconds=max(policy.min_spacing.values())))
        busy_rows = conn.execute(
            select(POST.c.network, POST.c.account, func.max(POST.c.published_at).label("last"))
            .where(
                POST.c.network.in_(sorted(spaced)),
                POST.c.account.in_(sorted({a for _, a in accounts})),
                (POST.c.status.in_(SENDING)) | (POST.c.published_at > oldest_cutoff),
            )
            .group_by(POST.c.network, POST.c.account)
        ).all()
    busy: set[tuple[str, str]] = set()
    for r in busy_rows:
        gap = timedelta(seconds=policy.min_spacing.get(r.network, 0))
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
        with ctx.uow.transaction() as conn:
            won = conn.execute(
                move(Cause.CLAIMED, POST.c.post_id == c.post_id, state_is(c.status)).values(
                    _claim_values(ctx, now, token)
                )
            ).rowcount
        if won:
            out.append((c.post_id, token))
    return out
