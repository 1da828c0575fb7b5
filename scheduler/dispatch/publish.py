"""``publish(post_id, token)``: one claimed post to the network, at most one send per token.

1. **Take**: the guarded ``queued -> publishing`` (``WHERE status = 'queued' AND attempt_token =
   :token``) with its ``Attempt`` row; a duplicate delivery finds nothing to move.
2. **Zombie check**: right before the network call, the lease is extended only if the token is
   still ours and the lease has not run out: a worker paused past its lease sends nothing.
3. **One network call**, then the outcome (:mod:`scheduler.dispatch.outcomes`). A lost answer
   is looked up before anything else (:mod:`scheduler.dispatch.reconcile`).

In a message of several claims (``publish_many``), a post's ``published`` and the next claim's
take are written together (:func:`published_then_begin`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, func, insert, literal, select, true, update
from sqlalchemy.sql.expression import CTE

from scheduler.calendar.database import from_db
from scheduler.calendar.moves import move
from scheduler.core.errors import (
    ConfigError,
    NeedsAuth,
    NoCredentials,
    PublishError,
    Transient,
)
from scheduler.core.lifecycle import AttemptOutcome, Cause, PostState
from scheduler.dispatch import observe, reconcile
from scheduler.dispatch.context import ATTEMPT, POST, Context, utc
from scheduler.dispatch.observe import AttemptEnded
from scheduler.dispatch.outcomes import (
    Claim,
    fail,
    finish_attempt,
    hold_account,
    hold_no_credentials,
    mark_published,
    mine,
    published_ctes,
    published_outcome,
    published_params,
    retry_later,
)
from scheduler.dispatch.policy import Job, human
from scheduler.publishers.base import OutgoingPost, Published
from scheduler.publishers.registry import Route

log = logging.getLogger(__name__)

#: A claim this young needs no second check before the network call: ``begin`` just made it.
FRESH_CLAIM = timedelta(milliseconds=500)

# The publish path's statements, built once with bound parameters: building and hashing a
# statement per post cost more than running it on SQLite.

#: The guarded ``queued -> publishing``: no row comes back unless the token still holds.
CLAIM_FOR_SEND = (
    move(
        Cause.TAKEN,
        POST.c.post_id == bindparam("b_post"),
        POST.c.attempt_token == bindparam("b_token"),
    )
    .values(
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
        outcome=AttemptOutcome.SENDING,
        worker=bindparam("b_worker", type_=ATTEMPT.c.worker.type),
    )
    .returning(ATTEMPT.c.id)
)


def _claim_ctes() -> tuple[CTE, CTE]:
    """The guarded ``queued -> publishing`` and its ``Attempt`` as data-modifying CTEs. When the
    guard fails no row comes back and no Attempt is written (the INSERT selects from the
    UPDATE's RETURNING)."""
    claimed = CLAIM_FOR_SEND.cte("claimed")
    attempt = (
        insert(ATTEMPT)
        .from_select(
            ["post_id", "attempt_token", "started_at", "outcome", "worker"],
            select(
                claimed.c.post_id,
                claimed.c.attempt_token,
                bindparam("b_started", type_=ATTEMPT.c.started_at.type),
                literal(str(AttemptOutcome.SENDING)),
                bindparam("b_worker", type_=ATTEMPT.c.worker.type),
            ),
        )
        .returning(ATTEMPT.c.id)
        .cte("attempt")
    )
    return claimed, attempt


def _claimed_row(claimed: CTE, attempt: CTE) -> Select[Any]:
    return select(claimed, attempt.c.id.label("attempt_id")).select_from(
        claimed.join(attempt, true())
    )


#: The claim and its ``Attempt`` as one statement, so it is its own transaction: one round
#: trip where BEGIN, UPDATE, INSERT, COMMIT took four.
BEGIN_IN_ONE_STATEMENT = _claimed_row(*_claim_ctes())


def _published_then_begun_in_one_statement() -> Select[Any]:
    """One claim's ``published`` and the next claim's ``queued -> publishing`` as one
    statement: always one row, the post rows the first moved (``o_won``) and, if the second's
    guard held, its row and ``attempt_id`` (NULL otherwise)."""
    won, finished = published_ctes()
    taken = _claimed_row(*_claim_ctes()).subquery("taken")
    one = select(literal(1).label("one")).subquery("one")
    return select(
        won.label("o_won"),
        # Selected so that SQLAlchemy writes the CTE (it leaves out the ones not referenced).
        select(func.count()).select_from(finished).scalar_subquery().label("o_finished"),
        taken,
    ).select_from(one.outerjoin(taken, true()))


PUBLISHED_THEN_BEGUN_IN_ONE_STATEMENT = _published_then_begun_in_one_statement()


@dataclass(frozen=True)
class Sent:
    """A post the network (or the outbox) took, whose ``published`` is not written yet."""

    claim: Claim
    published: Published
    via: str


def publish(ctx: Context, post_id: str, token: str | None = None) -> str:
    """Publish one claimed post; returns what happened (for the worker log).

    The common path tries the guarded ``queued -> publishing`` first and reads nothing
    else: a publish costs one transaction to start and one to record the outcome."""
    with ctx.uow.holding():
        if token is None:  # a hand-sent task: whatever claim the row holds now
            row = ctx.read(post_id)
            token = row["attempt_token"] if row is not None else None
            if token is None:
                return "not claimed"
        return _recorded(ctx, _publish(ctx, post_id, token, begin(ctx, post_id, token)))


def publish_many(ctx: Context, jobs: Sequence[Job]) -> list[str]:
    """The claims of one message (``Policy.messages``), each published as ``publish`` would,
    on one connection.

    Between two claims, the first one's ``published`` and the next one's ``queued ->
    publishing`` are written as one step (:func:`published_then_begin`): the same two moves in
    the same order, with nothing sent between them, one round trip and one commit fewer per
    post. A post that raises (the database went away mid-batch) is logged and left to its
    lease, which sends a post already out to reconciliation; the others still go."""
    outcomes: list[str] = []
    sent: Sent | None = None  # out on the network, its ``published`` not written yet
    with ctx.uow.holding():
        for post_id, token in jobs:
            try:
                if sent is None:
                    claim = begin(ctx, post_id, token)
                else:
                    done, sent = sent, None
                    outcomes.append("error")  # until its ``published`` is written
                    outcomes[-1], claim = published_then_begin(ctx, done, post_id, token)
                result = _publish(ctx, post_id, token, claim)
            except Exception:
                log.exception("%s: could not publish; its lease will bring it back", post_id)
                outcomes.append("error")
                continue
            if isinstance(result, Sent):
                sent = result
            else:
                outcomes.append(result)
        if sent is not None:
            try:
                outcomes.append(_recorded(ctx, sent))
            except Exception:
                log.exception(
                    "%s: sent, not recorded; its lease will bring it back", sent.claim.post_id
                )
                outcomes.append("error")
    return outcomes


def _publish(ctx: Context, post_id: str, token: str, claim: Claim | None) -> str | Sent:
    """From the first guarded ``queued -> publishing`` (``claim``; None when it moved
    nothing) to an outcome, or to a post sent whose ``published`` is still to write."""
    if claim is None:
        row = ctx.read(post_id)
        if row is None:
            return "missing"
        if row["status"] != PostState.RECONCILING or row["attempt_token"] != token:
            return "duplicate"
        outcome = reconcile.reconcile(ctx, post_id, token)
        if outcome != PostState.QUEUED:
            if outcome != "duplicate":  # a dead worker's post, found out there (or not known)
                seen = "found" if outcome == PostState.PUBLISHED else outcome
                observe.attempt_ended(AttemptEnded(row["network"], row["account"], seen))
            return outcome
        claim = begin(ctx, post_id, token)
        if claim is None:
            return "duplicate"
    result = _send(ctx, claim)
    return result if isinstance(result, Sent) else _told(ctx, claim, result)


def _claim_params(ctx: Context, post_id: str, token: str) -> tuple[dict[str, Any], datetime]:
    """The bound values of the guarded ``queued -> publishing``, and the instant it uses."""
    now = ctx.now()
    params = {
        "b_post": post_id,
        "b_token": token,
        "b_lease": utc(now + ctx.policy.lease),
        "b_now": utc(now),
        "b_started": utc(now),
        "b_worker": ctx.worker[:200],
    }
    return params, now


def begin(ctx: Context, post_id: str, token: str) -> Claim | None:
    """The guarded ``queued -> publishing``: None means another delivery already has it."""
    params, now = _claim_params(ctx, post_id, token)
    if ctx.uow.dialect.single_statement_steps:
        with ctx.uow.statement() as conn:
            found = conn.execute(BEGIN_IN_ONE_STATEMENT, params).mappings().first()
        if found is None:
            return None
        return Claim(row=found, token=token, attempt_id=found["attempt_id"], began=now)
    with ctx.uow.transaction() as conn:
        row = conn.execute(CLAIM_FOR_SEND, params).mappings().first()
        if row is None:
            return None
        attempt_id = conn.execute(ATTEMPT_SENDING, params).scalar_one()
    return Claim(row=row, token=token, attempt_id=attempt_id, began=now)


def published_then_begin(
    ctx: Context, sent: Sent, post_id: str, token: str
) -> tuple[str, Claim | None]:
    """``sent``'s outcome, then the guarded ``queued -> publishing`` of the next claim.

    Where each step is one statement (PostgreSQL), both are one statement: the batch's
    commit-bound path pays one commit per post instead of two. Equal to
    :func:`published_then_begin_plain`, which tests/publishing/test_fast_publish.py holds it
    to; a message naming one post twice takes the plain way (one statement would update that
    row twice)."""
    if not ctx.uow.dialect.single_statement_steps or sent.claim.post_id == post_id:
        return published_then_begin_plain(ctx, sent, post_id, token)
    params, now = _claim_params(ctx, post_id, token)
    params.update(published_params(ctx, sent.claim, sent.published, via=sent.via))
    with ctx.uow.statement() as conn:
        found = conn.execute(PUBLISHED_THEN_BEGUN_IN_ONE_STATEMENT, params).mappings().one()
    outcome = _told(ctx, sent.claim, published_outcome(found["o_won"]))
    if found["post_id"] is None:
        return outcome, None
    return outcome, Claim(row=found, token=token, attempt_id=found["attempt_id"], began=now)


def published_then_begin_plain(
    ctx: Context, sent: Sent, post_id: str, token: str
) -> tuple[str, Claim | None]:
    """The plain version of :func:`published_then_begin`: two steps, two commits."""
    return _recorded(ctx, sent), begin(ctx, post_id, token)


def _extend_lease(ctx: Context, claim: Claim) -> bool:
    """The zombie check: extend the lease only if the token is still ours and the lease has
    not run out. ``begin``'s guarded update was that check if it is fresh."""
    now = ctx.now()
    if now - claim.began < FRESH_CLAIM:
        return True
    with ctx.uow.transaction() as conn:
        return bool(
            conn.execute(
                update(POST)
                .where(*mine(claim.post_id, claim.token), POST.c.lease_until >= utc(now))
                .values(lease_until=utc(now + ctx.policy.lease))
            ).rowcount
        )


def send(ctx: Context, claim: Claim) -> str:
    """From ``publishing`` to an outcome, written and told to the observers (the metrics)."""
    result = _send(ctx, claim)
    return _recorded(ctx, result) if isinstance(result, Sent) else _told(ctx, claim, result)


def _recorded(ctx: Context, result: str | Sent) -> str:
    """``result``, with the ``published`` of a post sent written and told."""
    if isinstance(result, str):
        return result
    claim = result.claim
    return _told(ctx, claim, mark_published(ctx, claim, result.published, via=result.via))


def _told(ctx: Context, claim: Claim, outcome: str) -> str:
    """``outcome`` told to the observers (the metrics), with the lateness of a publish."""
    row = claim.row
    lateness = None
    if outcome == PostState.PUBLISHED:
        due = from_db(row["due_utc"])
        assert due is not None
        lateness = (ctx.now() - due).total_seconds()
    observe.attempt_ended(AttemptEnded(row["network"], row["account"], outcome, lateness))
    return outcome


def _send(ctx: Context, claim: Claim) -> str | Sent:
    """From ``publishing`` to an outcome, or to the post sent (its ``published`` is written by
    the caller); the network call happens at most once here."""
    row, token = claim.row, claim.token
    post_id = claim.post_id
    now = ctx.now()
    due = from_db(row["due_utc"])
    assert due is not None
    limit = ctx.policy.lateness_limit(row["network"])
    if now - due > limit:
        late, net = human(now - due), row["network"]
        reason = f"too late: {late} past due, {net} allows {human(limit)}"
        return fail(ctx, claim, reason, outcome=AttemptOutcome.TOO_LATE)
    try:
        route = ctx.route(row["network"], row["account"])
    except NeedsAuth as exc:
        return hold_account(ctx, claim, str(exc))
    except NoCredentials as exc:  # removed from the secrets since the claim: never the outbox
        return hold_no_credentials(ctx, claim, str(exc))
    except ConfigError as exc:
        return fail(ctx, claim, str(exc), outcome=AttemptOutcome.CONFIG)
    post = ctx.outgoing(row)

    # A slow route or a paused process since ``begin``: a worker paused past its lease loses
    # here and sends nothing.
    if not _extend_lease(ctx, claim):
        finish_attempt(
            ctx,
            claim.attempt_id,
            AttemptOutcome.SUPERSEDED,
            error="lease lost before sending: another worker owns the post now",
            started=claim.started,
        )
        return "superseded"

    # An earlier attempt sent the request and never heard back, and the network did not
    # have the post *then*: look again before any resend.
    if int(row["attempts"]) > 1:
        looked = reconcile.look_again_if_unconfirmed(ctx, claim, route, post)
        if looked is not None:
            return looked

    def checkpoint(data: Mapping[str, Any]) -> None:
        with ctx.uow.transaction() as conn:
            conn.execute(
                update(POST)
                .where(*mine(post_id, token))
                .values(checkpoint_json=json.dumps(dict(data)))
            )

    renewed = False
    while True:
        try:
            published = route.publisher.publish(post, route.credentials, checkpoint)
            break
        except NeedsAuth as exc:
            # A 401: renew the account's token once (under its lock, across every worker)
            # and send once more; held for re-auth only if that cannot help.
            again = None if renewed else _renewed(ctx, claim, route)
            if isinstance(again, str):
                return again
            if again is None:
                return hold_account(ctx, claim, str(exc), http_status=exc.http_status)
            route, renewed = again, True
        except Exception as exc:
            return _ended(ctx, claim, route, post, exc)
    return Sent(claim, published, route.kind)


def _renewed(ctx: Context, claim: Claim, route: Route) -> Route | str | None:
    """The route with renewed credentials, None (hold the account), or the outcome already
    recorded (the renewal itself was refused, or the token endpoint did not answer)."""
    renew = getattr(ctx.registry, "renew", None)  # a registry without a token store: None
    if renew is None:
        return None
    try:
        again: Route | None = renew(route, claim.row["network"], claim.row["account"])
    except NeedsAuth as exc:
        return hold_account(ctx, claim, str(exc), http_status=exc.http_status)
    except ConfigError as exc:  # e.g. no STORYLINE_SECRET_KEY to store the renewal
        return hold_account(ctx, claim, str(exc))
    except Transient as exc:
        return retry_later(ctx, claim, exc)
    if again is not None and not _extend_lease(ctx, claim):
        finish_attempt(
            ctx,
            claim.attempt_id,
            AttemptOutcome.SUPERSEDED,
            error="lease lost while renewing the token: another worker owns the post now",
            started=claim.started,
        )
        return "superseded"
    return again


def _ended(ctx: Context, claim: Claim, route: Route, post: OutgoingPost, exc: Exception) -> str:
    """How a send that raised ends (every error but a 401)."""
    post_id = claim.post_id
    if isinstance(exc, Transient):
        if exc.sent:
            return reconcile.after_lost_response(ctx, claim, route, post, exc)
        return retry_later(ctx, claim, exc)
    if isinstance(exc, PublishError):  # Permanent, or a publisher misusing CannotCheck
        return fail(
            ctx, claim, str(exc), outcome=AttemptOutcome.PERMANENT, http_status=exc.http_status
        )
    # A publisher bug after which the post may or may not be out: never guess.
    log.error("publisher %s crashed on %s", route.kind, post_id, exc_info=exc)
    lost = Transient(f"{route.kind} publisher crashed: {exc!r}", sent=True)
    return reconcile.after_lost_response(ctx, claim, route, post, lost)
