"""How an attempt ends: the post's new state and its ``Attempt`` row, written together.

Every outcome is a move of the lifecycle table (:func:`scheduler.calendar.moves.move`), guarded
by the claim's state and attempt token: an outcome that lands after another worker took the
post over changes nothing (the row count says so) and is recorded as such.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, case, func, select, update
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.expression import CTE, ScalarSelect

from scheduler.calendar.database import from_db
from scheduler.calendar.moves import move, state_is
from scheduler.core import lifecycle
from scheduler.core.errors import Transient
from scheduler.core.lifecycle import AttemptOutcome, Cause, PostState
from scheduler.dispatch.context import ATTEMPT, POST, Context, utc
from scheduler.dispatch.policy import human
from scheduler.publishers.base import Published


@dataclass
class Claim:
    """What a worker holds between ``queued -> publishing`` and the outcome."""

    row: RowMapping
    token: str
    attempt_id: int
    began: datetime  # the dispatcher clock at the guarded update
    started: float = field(default_factory=time.monotonic)

    @property
    def post_id(self) -> str:
        return str(self.row["post_id"])


def mine(post_id: str, token: str, state: str = PostState.PUBLISHING) -> list[ColumnElement[bool]]:
    """The guard of every step of a claim: this post, in this state, with this token."""
    return [POST.c.post_id == post_id, state_is(state), POST.c.attempt_token == token]


def finish_attempt(
    ctx: Context,
    attempt_id: int,
    outcome: AttemptOutcome,
    *,
    error: str | None = None,
    http_status: int | None = None,
    started: float | None = None,
) -> None:
    latency = int((time.monotonic() - started) * 1000) if started is not None else None
    with ctx.uow.transaction() as conn:
        conn.execute(
            update(ATTEMPT)
            .where(ATTEMPT.c.id == attempt_id)
            .values(
                finished_at=utc(ctx.now()),
                outcome=outcome,
                error=error,
                http_status=http_status,
                latency_ms=latency,
            )
        )


# The publish path's statements, built once with bound parameters: building and hashing a
# statement per post cost more than running it on SQLite.

#: A claimed post's ``published``, guarded by state and token.
MARK_PUBLISHED = move(
    (Cause.PUBLISHED, Cause.FOUND),
    POST.c.post_id == bindparam("o_post"),
    state_is(bindparam("o_state")),
    POST.c.attempt_token == bindparam("o_token"),
).values(
    remote_id=bindparam("o_remote", type_=POST.c.remote_id.type),
    url=bindparam("o_url", type_=POST.c.url.type),
    published_at=bindparam("o_now", type_=POST.c.published_at.type),
    destination=bindparam("o_destination", type_=POST.c.destination.type),
    updated_at=bindparam("o_now", type_=POST.c.updated_at.type),
    lease_until=None,
    status_reason=bindparam("o_reason", type_=POST.c.status_reason.type),
    last_error=None,
)
#: The result of an ``Attempt``.
FINISH_ATTEMPT = (
    update(ATTEMPT)
    .where(ATTEMPT.c.id == bindparam("o_attempt"))
    .values(
        finished_at=bindparam("o_finished", type_=ATTEMPT.c.finished_at.type),
        outcome=bindparam("o_outcome"),
        error=bindparam("o_error", type_=ATTEMPT.c.error.type),
        latency_ms=bindparam("o_latency", type_=ATTEMPT.c.latency_ms.type),
    )
)


def published_ctes() -> tuple[ScalarSelect[int], CTE]:
    """The guarded ``published`` and its ``Attempt``'s result as data-modifying CTEs: how many
    post rows moved (``won``), and the finished ``Attempt``. The Attempt says whether the guard
    held: an outcome landing after a takeover is recorded as such."""
    moved = MARK_PUBLISHED.returning(POST.c.post_id).cte("moved")
    won = select(func.count()).select_from(moved).scalar_subquery()
    finished = (
        update(ATTEMPT)
        .where(ATTEMPT.c.id == bindparam("o_attempt"))
        .values(
            finished_at=bindparam("o_finished", type_=ATTEMPT.c.finished_at.type),
            outcome=case((won > 0, bindparam("o_outcome")), else_=bindparam("o_outcome_lost")),
            error=case(
                (won > 0, None), else_=bindparam("o_error_lost", type_=ATTEMPT.c.error.type)
            ),
            latency_ms=bindparam("o_latency", type_=ATTEMPT.c.latency_ms.type),
        )
        .returning(ATTEMPT.c.id)
        .cte("finished")
    )
    return won, finished


def _published_in_one_statement() -> Select[Any]:
    """``published`` as one statement, where the database writes in CTEs: one round trip, one
    commit."""
    won, finished = published_ctes()
    return select(won.label("won"), select(func.count()).select_from(finished).scalar_subquery())


PUBLISHED_IN_ONE_STATEMENT = _published_in_one_statement()


def mark_published(
    ctx: Context,
    claim: Claim,
    published: Published,
    *,
    via: str,
    state: PostState = PostState.PUBLISHING,
    destination: str | None = None,
) -> str:
    """``published`` with the network's id; ``via`` is the publisher's kind, or "reconciled"
    when a lookup found the post. ``destination`` (default: ``via``) is where it went: the
    route's kind, ``outbox`` or the network whose publisher sent it, shown wherever the post
    is."""
    params = published_params(ctx, claim, published, via=via, state=state, destination=destination)
    if ctx.uow.dialect.single_statement_steps:
        with ctx.uow.statement() as conn:
            won = conn.execute(PUBLISHED_IN_ONE_STATEMENT, params).scalar_one()
    else:
        with ctx.uow.transaction() as conn:
            won = conn.execute(MARK_PUBLISHED, params).rowcount
            if not won:
                params["o_outcome"] = params["o_outcome_lost"]
                params["o_error"] = params["o_error_lost"]
            conn.execute(FINISH_ATTEMPT, params)
    return published_outcome(won)


def published_outcome(won: int) -> str:
    """What a ``published`` step returns: the post rows it moved say whether the claim held."""
    return "published" if won else "superseded"


def published_params(
    ctx: Context,
    claim: Claim,
    published: Published,
    *,
    via: str,
    state: PostState = PostState.PUBLISHING,
    destination: str | None = None,
) -> dict[str, Any]:
    """The bound values of the ``published`` statements (see :func:`mark_published`)."""
    found = via == "reconciled"
    cause = Cause.FOUND if found or state != PostState.PUBLISHING else Cause.PUBLISHED
    lifecycle.check(state, PostState.PUBLISHED, cause)
    now = ctx.now()
    return {
        "o_post": claim.post_id,
        "o_state": state,
        "o_token": claim.token,
        "o_remote": published.remote_id[:400],
        "o_url": published.url,
        "o_destination": (destination or via)[:20],
        "o_now": utc(now),
        "o_reason": "found on the network after a crash" if found else None,
        "o_attempt": claim.attempt_id,
        "o_finished": utc(now),
        "o_outcome": AttemptOutcome.FOUND if found else AttemptOutcome.PUBLISHED,
        "o_error": None,
        "o_outcome_lost": AttemptOutcome.PUBLISHED_AFTER_TAKEOVER,
        "o_error_lost": f"sent as {published.remote_id} after the lease was taken over",
        "o_latency": int((time.monotonic() - claim.started) * 1000),
    }


def fail(
    ctx: Context,
    claim: Claim,
    reason: str,
    *,
    outcome: AttemptOutcome,
    http_status: int | None = None,
) -> str:
    """``failed``: refused by the network, too late, out of attempts, or misconfigured."""
    with ctx.uow.transaction() as conn:
        conn.execute(
            move(Cause.FAILED, *mine(claim.post_id, claim.token)).values(
                status_reason=reason, last_error=reason, lease_until=None, updated_at=utc(ctx.now())
            )
        )
        finish_attempt(
            ctx,
            claim.attempt_id,
            outcome,
            error=reason,
            http_status=http_status,
            started=claim.started,
        )
    return "failed"


def retry_later(
    ctx: Context,
    claim: Claim,
    exc: Transient,
    *,
    outcome: AttemptOutcome = AttemptOutcome.TRANSIENT,
) -> str:
    """``retry_wait`` after a backoff, unless the attempts or the lateness are used up."""
    row = claim.row
    now = ctx.now()
    attempts = int(row["attempts"])
    policy = ctx.policy
    if attempts >= policy.max_attempts:
        return fail(
            ctx,
            claim,
            f"gave up after {attempts} attempts: {exc}",
            outcome=AttemptOutcome.TRANSIENT,
            http_status=exc.http_status,
        )
    delay = policy.backoff(attempts, ctx.rng, exc.retry_after)
    next_at = now + timedelta(seconds=delay)
    due = from_db(row["due_utc"])
    assert due is not None
    limit = policy.lateness_limit(row["network"])
    if next_at - due > limit:
        return fail(
            ctx,
            claim,
            f"too late to retry: the next attempt would be {human(next_at - due)} past due, "
            f"{row['network']} allows {human(limit)} (last error: {exc})",
            outcome=AttemptOutcome.TRANSIENT,
            http_status=exc.http_status,
        )
    with ctx.uow.transaction() as conn:
        conn.execute(
            move(Cause.RETRY_LATER, *mine(claim.post_id, claim.token)).values(
                next_attempt_at=utc(next_at),
                lease_until=None,
                last_error=str(exc),
                # The instant, not "in 31s": status is read long after it was written.
                status_reason=f"retrying at {utc(next_at):%Y-%m-%d %H:%M:%S}Z: {exc}",
                updated_at=utc(now),
            )
        )
        finish_attempt(
            ctx,
            claim.attempt_id,
            outcome,
            error=str(exc),
            http_status=exc.http_status,
            started=claim.started,
        )
    return "retry_wait"


#: What ``held`` for re-auth writes (besides the state columns of the move).
REAUTH_REASON = "account needs re-auth"


def hold_account(
    ctx: Context, claim: Claim, message: str, *, http_status: int | None = None
) -> str:
    """``held`` for re-auth, with every unsent post of the account: the next ones would get
    the same 401."""
    row = claim.row
    held = {
        "status_reason": f"{REAUTH_REASON}: {message}",
        "lease_until": None,
        "updated_at": utc(ctx.now()),
    }
    unsent = [PostState.PLANNED, PostState.RETRY_WAIT, PostState.QUEUED]
    with ctx.uow.transaction() as conn:
        conn.execute(move(Cause.NEEDS_AUTH, *mine(claim.post_id, claim.token)).values(held))
        conn.execute(
            move(
                Cause.NEEDS_AUTH,
                POST.c.network == row["network"],
                POST.c.account == row["account"],
                POST.c.status.in_(unsent),
            ).values(held)
        )
        finish_attempt(
            ctx,
            claim.attempt_id,
            AttemptOutcome.NEEDS_AUTH,
            error=message,
            http_status=http_status,
            started=claim.started,
        )
    return "held"


def hold_no_credentials(ctx: Context, claim: Claim, message: str) -> str:
    """``held``: the account's credentials vanished between the claim and the send (live mode);
    nothing was sent, and the outbox is never the fallback."""
    with ctx.uow.transaction() as conn:
        conn.execute(
            move(Cause.NO_CREDENTIALS, *mine(claim.post_id, claim.token)).values(
                status_reason=message, lease_until=None, updated_at=utc(ctx.now())
            )
        )
    finish_attempt(
        ctx, claim.attempt_id, AttemptOutcome.CONFIG, error=message, started=claim.started
    )
    return "held"


def needs_review(ctx: Context, claim: Claim, exc: Transient, reason: str) -> str:
    """``needs_review``: the request may have reached the network and it cannot tell."""
    with ctx.uow.transaction() as conn:
        conn.execute(
            move(Cause.UNSURE, *mine(claim.post_id, claim.token)).values(
                status_reason=reason,
                last_error=str(exc),
                lease_until=None,
                updated_at=utc(ctx.now()),
            )
        )
        finish_attempt(
            ctx, claim.attempt_id, AttemptOutcome.LOST_RESPONSE, error=reason, started=claim.started
        )
    return "needs_review"
