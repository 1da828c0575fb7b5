"""The operator's commands on many posts at once, by selector: ``storyline pause / resume`` and
bulk ``hold / cancel / release`` (``--all``, ``--story``, ``--market``, ``--network``,
``--account``).

Each is one guarded move of the lifecycle table over every post the selector names, in the
states the move starts from: a post a worker holds meanwhile is left alone, never raced. A
selector that names nothing the calendar knows is refused with a "did you mean", never
answered with "0 posts": a typo in a crisis must not look like success.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, select

from scheduler.calendar import operating
from scheduler.calendar.moves import move
from scheduler.calendar.operating import PauseRow
from scheduler.core.lifecycle import Cause, HoldReason, PostState
from scheduler.core.selectors import BadSelector, Selector, scope_label
from scheduler.core.suggest import closest, unknown
from scheduler.dispatch.context import POST, Context, utc
from scheduler.text.networks import NETWORKS

#: The holds a bulk ``release`` lifts. A past-due post is released one at a time (it goes out
#: late: someone must decide it), and a draft's hold is the content's, lifted by approving it.
RELEASABLE = (HoldReason.OPERATOR, HoldReason.NEEDS_REAUTH, HoldReason.NO_CREDENTIALS)
#: Names people still type for a network, and the name Storyline knows it by.
FORMER_NAMES = {"twitter": "x", "fb": "facebook", "ig": "instagram", "yt": "youtube"}
#: The states a pause keeps from being claimed (and whose posts ``pause`` counts).
WAITING = (PostState.PLANNED, PostState.RETRY_WAIT)


@dataclass(frozen=True)
class Changed:
    """What a bulk command did: the posts it moved, and what it left and why."""

    post_ids: list[str]
    left: dict[str, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.post_ids)


def check(ctx: Context, selector: Selector) -> None:
    """Refuses a selector that names nothing in the calendar, with the closest names."""
    if selector.empty:
        raise BadSelector(
            "say which posts: --all, --story STORY, --market MARKET, --network NETWORK "
            "or --account NETWORK:ACCOUNT"
        )
    with ctx.uow.reading() as conn:
        known = operating.known_values(conn)
    # A network with no post yet may still be paused ahead: any network Storyline knows.
    networks = sorted({*known["network"], *NETWORKS, "webhook"})
    wanted = (
        ("story", selector.stories, known["story"]),
        ("market", selector.markets, known["market"]),
        ("network", selector.networks, networks),
        ("account", tuple(f"{n}:{a}" for n, a in selector.accounts), known["account"]),
    )
    for kind, values, choices in wanted:
        for value in values:
            if value not in choices:
                former = closest(value, FORMER_NAMES) if kind == "network" else []
                if former and not closest(value, choices):
                    named = FORMER_NAMES[former[0]]
                    raise BadSelector(f"no network {value!r}; did you mean: {named}?")
                raise BadSelector(unknown(kind, value, choices) + " (in the calendar)")


def _moved(ctx: Context, statement: Any) -> list[str]:
    with ctx.uow.transaction() as conn:
        return sorted(r.post_id for r in conn.execute(statement.returning(POST.c.post_id)))


def hold_many(ctx: Context, selector: Selector, reason: str | None = None) -> Changed:
    """Every planned, retry_wait or queued post the selector names -> held (``operator``)."""
    check(ctx, selector)
    text = f"held by an operator: {reason}" if reason else "held by an operator"
    return Changed(
        _moved(
            ctx,
            move(Cause.HELD, operating.matching(selector), guard="select").values(
                attempt_token=None,
                lease_until=None,
                status_reason=text,
                updated_at=utc(ctx.now()),
            ),
        )
    )


def cancel_many(ctx: Context, selector: Selector) -> Changed:
    """Every post the selector names that is not sent or being sent -> cancelled."""
    check(ctx, selector)
    return Changed(
        _moved(
            ctx,
            move(Cause.CANCELLED, operating.matching(selector), guard="select").values(
                attempt_token=None,
                lease_until=None,
                status_reason="cancelled by an operator",
                updated_at=utc(ctx.now()),
            ),
        )
    )


def release_many(ctx: Context, selector: Selector) -> Changed:
    """Every post the selector names held by an operator or for its credentials -> planned;
    one whose time has passed goes out now, as ``release POST_ID`` does."""
    check(ctx, selector)
    now = ctx.now()
    names = operating.matching(selector)
    releasable = POST.c.hold_reason.in_([str(r) for r in RELEASABLE])
    with ctx.uow.transaction() as conn:
        late = _moved(
            ctx,
            move(
                Cause.RELEASED, names, releasable, POST.c.due_utc < utc(now), guard="select"
            ).values(
                due_utc=utc(now),
                status_reason="released past due by an operator",
                updated_at=utc(now),
            ),
        )
        on_time = _moved(
            ctx,
            move(Cause.RELEASED, names, releasable, guard="select").values(
                status_reason="released by an operator", updated_at=utc(now)
            ),
        )
        left = conn.execute(
            select(POST.c.hold_reason, func.count())
            .where(names, POST.c.status == PostState.HELD)
            .group_by(POST.c.hold_reason)
        ).all()
    return Changed(sorted(late + on_time), {str(reason): int(n) for reason, n in left})


@dataclass(frozen=True)
class Paused:
    """What ``pause`` or ``resume`` did, and the pauses in force after it."""

    changed: list[tuple[str, str]]
    unchanged: list[tuple[str, str]]
    in_force: list[PauseRow]
    waiting: int  # posts due or to come that the pauses in force keep from being claimed

    def labels(self, which: list[tuple[str, str]]) -> list[str]:
        return [scope_label(scope, value) for scope, value in which]


def _waiting(ctx: Context) -> int:
    with ctx.uow.reading() as conn:
        condition = operating.claim_filter(conn)
        if condition is None:
            return 0
        return int(
            conn.execute(
                select(func.count()).where(and_(POST.c.status.in_(WAITING), ~condition))
            ).scalar_one()
        )


def pause(ctx: Context, selector: Selector, *, reason: str | None, by: str) -> Paused:
    """Stops new claims of what the selector names from the next tick on; posts in flight
    finish. Pausing what is already paused keeps its start (and takes a new reason)."""
    check(ctx, selector)
    with ctx.uow.transaction() as conn:
        added = operating.add_pauses(conn, selector, reason=reason, by=by, now=utc(ctx.now()))
    with ctx.uow.reading() as conn:
        in_force = operating.pauses(conn)
    unchanged = [s for s in selector.scopes() if s not in added]
    return Paused(added, unchanged, in_force, _waiting(ctx))


def resume(ctx: Context, selector: Selector) -> Paused:
    """Lifts the pauses the selector names; the next tick claims what became due meanwhile
    (a post past its network's lateness limit fails as too late, as after any outage)."""
    with ctx.uow.reading() as conn:
        before = {(p.scope, p.value) for p in operating.pauses(conn)}
    missing = [s for s in selector.scopes() if s not in before]
    if selector.empty or missing:
        check(ctx, Selector.from_scopes(missing))  # a typo gets a "did you mean"
    with ctx.uow.transaction() as conn:
        removed = operating.remove_pauses(conn, selector)
    with ctx.uow.reading() as conn:
        in_force = operating.pauses(conn)
    return Paused(removed, missing, in_force, _waiting(ctx))
