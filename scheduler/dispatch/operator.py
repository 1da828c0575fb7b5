"""The operator's commands on one post: ``storyline retry / cancel / publish --now / release /
hold / resolve / restore`` (the bulk ones, by selector, are in :mod:`scheduler.dispatch.bulk`).

Each is one guarded move of the lifecycle table, from the state the command read: if the post
changed state meanwhile (a worker just took it), the command says so and changes nothing. The
running dispatcher picks the change up on its next tick.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import RowMapping

from scheduler.calendar.database import from_db
from scheduler.calendar.moves import move, state_is
from scheduler.core import lifecycle
from scheduler.core.errors import InvalidTransition, NotFound
from scheduler.core.lifecycle import Cause, HoldReason, PostState
from scheduler.core.suggest import closest
from scheduler.dispatch.context import POST, Context, utc


def _require(ctx: Context, post_id: str) -> RowMapping:
    row = ctx.read(post_id)
    if row is None:
        story = post_id.split("/", 1)[0]
        with ctx.uow.reading() as conn:
            ids = conn.execute(select(POST.c.post_id).where(POST.c.story == story)).scalars()
            close = closest(post_id, list(ids), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else " (run `storyline sync`?)"
        raise NotFound(f"no post {post_id!r} in the calendar{hint}")
    return row


def _transition(ctx: Context, post_id: str, cause: Cause, verb: str, **values: Any) -> RowMapping:
    allowed = lifecycle.sources(cause)
    row = _require(ctx, post_id)
    if row["status"] not in allowed:
        raise InvalidTransition(
            f"cannot {verb} {post_id}: it is {row['status']}"
            + (f" ({row['status_reason']})" if row["status_reason"] else "")
            + f"; {verb} applies to {', '.join(allowed)} posts"
        )
    with ctx.uow.transaction() as conn:
        won = conn.execute(
            move(cause, POST.c.post_id == post_id, state_is(row["status"])).values(
                updated_at=utc(ctx.now()), **values
            )
        ).rowcount
    if not won:
        raise InvalidTransition(f"cannot {verb} {post_id}: its state changed meanwhile")
    result = ctx.read(post_id)
    assert result is not None
    return result


def retry(ctx: Context, post_id: str) -> RowMapping:
    """failed / needs_review -> planned, due now, with a fresh attempt budget. For
    needs_review, run it only after checking the network: it may publish a second time."""
    return _transition(
        ctx,
        post_id,
        Cause.RETRIED,
        "retry",
        due_utc=utc(ctx.now()),
        attempts=0,
        attempt_token=None,
        lease_until=None,
        next_attempt_at=None,
        status_reason="retried by an operator",
    )


def cancel(ctx: Context, post_id: str) -> RowMapping:
    row = _require(ctx, post_id)
    if row["status"] == PostState.PUBLISHED:
        raise InvalidTransition(
            f"cannot cancel {post_id}: it was already published"
            + (f" ({row['url']})" if row["url"] else "")
            + "; delete it on the network if it must go"
        )
    return _transition(
        ctx,
        post_id,
        Cause.CANCELLED,
        "cancel",
        attempt_token=None,
        lease_until=None,
        status_reason="cancelled by an operator",
    )


def publish_now(ctx: Context, post_id: str) -> RowMapping:
    """planned / held / retry_wait -> planned, due now: the next tick sends it."""
    return _transition(
        ctx,
        post_id,
        Cause.PUBLISH_NOW,
        "publish now",
        due_utc=utc(ctx.now()),
        next_attempt_at=None,
        status_reason="published now by an operator",
    )


def release(ctx: Context, post_id: str) -> RowMapping:
    """held -> planned; a post whose time has passed is released to go out now."""
    row = _require(ctx, post_id)
    now = ctx.now()
    due = from_db(row["due_utc"])
    values: dict[str, Any] = {"status_reason": "released"}
    if due is not None and due < now:
        values["due_utc"] = utc(now)
        values["status_reason"] = f"released past due (was due {due:%Y-%m-%d %H:%M}Z)"
    return _transition(ctx, post_id, Cause.RELEASED, "release", **values)


def release_account(ctx: Context, network: str, account: str) -> int:
    """Every post held because the account needed re-auth goes back to planned."""
    with ctx.uow.transaction() as conn:
        return int(
            conn.execute(
                move(
                    Cause.ACCOUNT_RELEASED,
                    POST.c.network == network,
                    POST.c.account == account,
                    POST.c.hold_reason == HoldReason.NEEDS_REAUTH,
                ).values(status_reason="account released", updated_at=utc(ctx.now()))
            ).rowcount
        )


def hold(ctx: Context, post_id: str, reason: str | None = None) -> RowMapping:
    """planned / retry_wait / queued -> held (``operator``): nothing sends it until released.
    A queued post's message finds it held and does nothing."""
    return _transition(
        ctx,
        post_id,
        Cause.HELD,
        "hold",
        attempt_token=None,
        lease_until=None,
        status_reason=f"held by an operator: {reason}" if reason else "held by an operator",
    )


def resolve(ctx: Context, post_id: str, url: str | None) -> RowMapping:
    """needs_review -> published (an operator saw it online at ``url``) or, with None, ->
    planned, due now (an operator saw that it did not go out)."""
    now = ctx.now()
    if url is not None:
        return _transition(
            ctx,
            post_id,
            Cause.RESOLVED_PUBLISHED,
            "resolve",
            url=url,
            published_at=utc(now),
            destination="network",
            attempt_token=None,
            lease_until=None,
            status_reason="resolved by an operator: seen published",
        )
    return _transition(
        ctx,
        post_id,
        Cause.RESOLVED_NOT_PUBLISHED,
        "resolve",
        due_utc=utc(now),
        attempts=0,
        attempt_token=None,
        lease_until=None,
        next_attempt_at=None,
        status_reason="resolved by an operator: not published, sent again",
    )


def restore(ctx: Context, post_id: str) -> RowMapping:
    """cancelled -> planned, at its own time: a cancel undone. Refused once the post's time has
    passed: a restored post must never go out late without anyone deciding it."""
    row = _require(ctx, post_id)
    due = from_db(row["due_utc"])
    now = ctx.now()
    if row["status"] == PostState.CANCELLED and due is not None and due <= now:
        raise InvalidTransition(
            f"cannot restore {post_id}: it was due {due:%Y-%m-%d %H:%M}Z, before now "
            f"({now.astimezone(due.tzinfo):%Y-%m-%d %H:%M}Z); restore undoes a cancel only "
            "before the post's time. To send it anyway, give it a new time in its story and "
            "run `storyline sync`"
        )
    return _transition(
        ctx,
        post_id,
        Cause.RESTORED,
        "restore",
        attempt_token=None,
        lease_until=None,
        status_reason="restored by an operator",
    )
