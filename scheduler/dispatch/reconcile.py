"""Reconcile before any resend: ask the network whether a post is out before sending it again.

Three cases (docs/reliability.md, "What is guaranteed"):

* a worker died mid-publish: the tick moved its post to ``reconciling`` with a new token and
  :func:`reconcile` looks it up — found -> ``published``; certainly absent -> ``queued`` (same
  token, so this worker goes on to publish it); cannot tell -> ``needs_review``;
* the request went out and the answer was lost (:func:`after_lost_response`): found ->
  ``published``; absent -> ``retry_wait`` with the outcome ``unconfirmed``; cannot tell ->
  ``needs_review``;
* the attempt before this one was ``unconfirmed`` (:func:`look_again_if_unconfirmed`): a
  receiver may commit after the client gave up, so the next attempt looks again before sending.
"""

from __future__ import annotations

from sqlalchemy import insert, select

from scheduler.calendar.moves import move
from scheduler.core.errors import ConfigError, PublishError, Transient
from scheduler.core.lifecycle import AttemptOutcome, Cause, PostState
from scheduler.dispatch.context import ATTEMPT, Context, utc
from scheduler.dispatch.outcomes import (
    Claim,
    finish_attempt,
    mark_published,
    mine,
    needs_review,
    retry_later,
)
from scheduler.publishers.base import OutgoingPost
from scheduler.publishers.registry import Route


def reconcile(ctx: Context, post_id: str, token: str) -> str:
    """For a post in ``reconciling`` (claimed by the tick with ``token``)."""
    row = ctx.read(post_id)
    if row is None or row["status"] != PostState.RECONCILING or row["attempt_token"] != token:
        return "duplicate"
    now = ctx.now()
    with ctx.uow.transaction() as conn:
        attempt_id = conn.execute(
            insert(ATTEMPT)
            .values(
                post_id=post_id,
                attempt_token=token,
                started_at=utc(now),
                outcome=AttemptOutcome.RECONCILING,
                worker=ctx.worker[:200],
            )
            .returning(ATTEMPT.c.id)
        ).scalar_one()
    claim = Claim(row=row, token=token, attempt_id=attempt_id, began=now)
    post = ctx.outgoing(row)
    try:
        route = ctx.route(row["network"], row["account"])
        found = route.publisher.find(post, route.credentials)
    except (PublishError, ConfigError) as exc:
        reason = f"a worker died while publishing and the network cannot tell: {exc}"
        with ctx.uow.transaction() as conn:
            conn.execute(
                move(Cause.CANNOT_CHECK, *mine(post_id, token, PostState.RECONCILING)).values(
                    status_reason=reason, lease_until=None, updated_at=utc(ctx.now())
                )
            )
            finish_attempt(
                ctx, attempt_id, AttemptOutcome.CANNOT_CHECK, error=reason, started=claim.started
            )
        return "needs_review"
    if found is not None:
        mark_published(
            ctx,
            claim,
            found,
            via="reconciled",
            state=PostState.RECONCILING,
            destination=route.kind,
        )
        return "published"
    now = ctx.now()
    with ctx.uow.transaction() as conn:
        won = conn.execute(
            move(Cause.NOT_FOUND, *mine(post_id, token, PostState.RECONCILING)).values(
                lease_until=utc(now + ctx.policy.lease),
                status_reason="not found on the network after a crash: publishing again",
                updated_at=utc(now),
            )
        ).rowcount
        finish_attempt(ctx, attempt_id, AttemptOutcome.NOT_FOUND, started=claim.started)
    return PostState.QUEUED if won else "duplicate"


def after_lost_response(
    ctx: Context, claim: Claim, route: Route, post: OutgoingPost, exc: Transient
) -> str:
    """The request may have reached the network: look before any resend.

    ``find`` gets the post as it is *now* in the calendar: the publisher may have
    checkpointed an upload session or a container id during the call that lost its answer.
    """
    row = ctx.read(post.post_id)
    if row is not None:
        post = ctx.outgoing(row)
    try:
        found = route.publisher.find(post, route.credentials)
    except PublishError as check:
        reason = f"sent but no answer ({exc}); cannot tell whether it is out: {check}"
        return needs_review(ctx, claim, exc, reason)
    if found is not None:
        return mark_published(ctx, claim, found, via=route.kind)
    return retry_later(ctx, claim, exc, outcome=AttemptOutcome.UNCONFIRMED)


def _last_outcome(ctx: Context, post_id: str, before_attempt: int) -> str | None:
    """The outcome of the post's attempt before ``before_attempt`` (None if none)."""
    with ctx.uow.reading() as conn:
        return conn.execute(
            select(ATTEMPT.c.outcome)
            .where(ATTEMPT.c.post_id == post_id, ATTEMPT.c.id < before_attempt)
            .order_by(ATTEMPT.c.id.desc())
            .limit(1)
        ).scalar_one_or_none()


def look_again_if_unconfirmed(
    ctx: Context, claim: Claim, route: Route, post: OutgoingPost
) -> str | None:
    """After an ``unconfirmed`` attempt: found -> ``published``, cannot tell ->
    ``needs_review``; None (send) if the post is certainly absent or the last attempt was not
    unconfirmed."""
    if _last_outcome(ctx, claim.post_id, claim.attempt_id) != AttemptOutcome.UNCONFIRMED:
        return None
    try:
        found = route.publisher.find(post, route.credentials)
    except PublishError as check:
        reason = f"an earlier attempt was sent but unconfirmed; cannot tell: {check}"
        return needs_review(ctx, claim, Transient(reason, sent=True), reason)
    if found is not None:
        return mark_published(ctx, claim, found, via="reconciled", destination=route.kind)
    return None
