"""The post lifecycle as one table: its states, why a post is held, how an attempt ended, and
every move from one state to another with its cause.

A post's state lives in three columns of the calendar: ``status`` (a :class:`PostState`),
``hold_reason`` (a :class:`HoldReason`, set only while the post is held) and ``set_by`` (the
:class:`Actor` that made the last move). ``status_reason`` is text for people; nothing reads it
back. Every state change the code makes is a row of :data:`TRANSITIONS`: the dispatcher's and
the operator's guarded UPDATEs are built from it (``WHERE status IN sources(cause)``) and sync
checks each decision against it (:func:`check`), so a move the table does not allow cannot be
written. docs/operations.md ("How a post goes out") tells what each state means to an operator.

Pure: no database, no clock.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final


class PostState(StrEnum):
    """The fixed state names (docs/operations.md, "What each state means")."""

    PLANNED = "planned"
    QUEUED = "queued"
    PUBLISHING = "publishing"
    PUBLISHED = "published"
    RETRY_WAIT = "retry_wait"
    FAILED = "failed"
    RECONCILING = "reconciling"
    NEEDS_REVIEW = "needs_review"
    CANCELLED = "cancelled"
    HELD = "held"


class HoldReason(StrEnum):
    """Why a ``held`` post is held (``post.hold_reason``); NULL for every other state."""

    #: It reached the calendar, or was moved, after its slot: never sent late silently.
    PAST_DUE = "past_due"
    #: Its account answered 401: the dispatcher holds every unsent post of the account.
    NEEDS_REAUTH = "needs_reauth"
    #: Its story went back to ``status: draft``.
    DRAFT = "draft"
    #: Held by hand (``storyline hold``; an older calendar's unknown holds become this).
    OPERATOR = "operator"
    #: In ``live`` mode its account has no credentials: never parked in the outbox instead.
    NO_CREDENTIALS = "no_credentials"
    #: Its market requires a sign-off it does not have (yet, or since it changed): sync
    #: plans it once ``storyline approve`` recorded one for exactly this post.
    AWAITING_SIGNOFF = "awaiting_signoff"


#: The holds sync makes and re-decides on every run; it keeps the others as they are.
SYNC_HOLDS: Final = frozenset({HoldReason.PAST_DUE, HoldReason.DRAFT, HoldReason.AWAITING_SIGNOFF})


class Actor(StrEnum):
    """Who made a post's last move (``post.set_by``)."""

    SYNC = "sync"
    DISPATCHER = "dispatcher"
    OPERATOR = "operator"


class AttemptOutcome(StrEnum):
    """How one attempt ended (``attempt.outcome``)."""

    SENDING = "sending"  # not ended yet: the worker is calling the network
    PUBLISHED = "published"
    FOUND = "found"  # a lookup found the post on the network: published without sending
    TRANSIENT = "transient"
    #: Sent, no answer, and the network did not show the post right after: the next
    #: attempt looks again before sending.
    UNCONFIRMED = "unconfirmed"
    PERMANENT = "permanent"
    NEEDS_AUTH = "needs_auth"
    TOO_LATE = "too_late"
    CONFIG = "config"
    SUPERSEDED = "superseded"  # the lease was lost before sending: nothing was sent
    PUBLISHED_AFTER_TAKEOVER = "published_after_takeover"
    LOST_RESPONSE = "lost_response"  # sent, no answer, and the network cannot tell
    WORKER_LOST = "worker_lost"  # the worker died during the attempt
    RECONCILING = "reconciling"  # looking for a dead worker's post on the network
    NOT_FOUND = "not_found"
    CANNOT_CHECK = "cannot_check"


class Cause(StrEnum):
    """Why a post moves: each cause has one target state, one actor, and the states it may
    start from (:data:`TRANSITIONS`)."""

    # sync (docs/calendar.md, "What sync does to each post")
    ADDED = "added"
    PAST_DUE = "past_due"
    DRAFT = "draft"
    RESUMED = "resumed"
    RESCHEDULED = "rescheduled"
    REMOVED = "removed"
    AWAITING_SIGNOFF = "awaiting_signoff"  # its market's sign-off is missing or void
    # the dispatcher
    CLAIMED = "claimed"
    TAKEN = "taken"
    PUBLISHED = "published"
    FOUND = "found"
    RETRY_LATER = "retry_later"
    FAILED = "failed"
    NEEDS_AUTH = "needs_auth"
    UNSURE = "unsure"
    WORKER_LOST = "worker_lost"
    NOT_FOUND = "not_found"
    CANNOT_CHECK = "cannot_check"
    # operators (storyline retry / cancel / publish --now / release)
    RETRIED = "retried"
    CANCELLED = "cancelled"
    PUBLISH_NOW = "publish_now"
    RELEASED = "released"
    ACCOUNT_RELEASED = "account_released"
    HELD = "held"  # storyline hold
    RESOLVED_PUBLISHED = "resolved_published"  # storyline resolve --published URL
    RESOLVED_NOT_PUBLISHED = "resolved_not_published"  # storyline resolve --not-published
    RESTORED = "restored"  # storyline restore: a cancel undone
    # the dispatcher, in live mode
    NO_CREDENTIALS = "no_credentials"


@dataclass(frozen=True, slots=True)
class Transition:
    """One allowed move. ``source`` None is a post that is not in the calendar yet."""

    source: PostState | None
    target: PostState
    cause: Cause


P = PostState
_T = Transition

#: Every move a post may make. Nothing else changes ``post.status``.
TRANSITIONS: Final[tuple[Transition, ...]] = (
    # sync: the content decides
    _T(None, P.PLANNED, Cause.ADDED),
    _T(P.CANCELLED, P.PLANNED, Cause.ADDED),  # removed by sync, back in the content
    _T(None, P.HELD, Cause.PAST_DUE),
    _T(P.CANCELLED, P.HELD, Cause.PAST_DUE),
    _T(P.PLANNED, P.HELD, Cause.PAST_DUE),  # moved into the past
    _T(P.HELD, P.HELD, Cause.PAST_DUE),  # a draft approved after its slot
    _T(P.PLANNED, P.HELD, Cause.DRAFT),
    _T(P.HELD, P.HELD, Cause.DRAFT),  # a past-due post whose story went back to draft
    _T(None, P.HELD, Cause.AWAITING_SIGNOFF),
    _T(P.CANCELLED, P.HELD, Cause.AWAITING_SIGNOFF),
    _T(P.PLANNED, P.HELD, Cause.AWAITING_SIGNOFF),  # changed since it was signed off
    _T(P.HELD, P.HELD, Cause.AWAITING_SIGNOFF),  # another hold of sync's, or a new reason
    _T(P.HELD, P.PLANNED, Cause.RESUMED),  # its story approved again, or signed off
    _T(P.HELD, P.PLANNED, Cause.RESCHEDULED),  # a past-due post moved into the future
    _T(P.PLANNED, P.CANCELLED, Cause.REMOVED),
    _T(P.HELD, P.CANCELLED, Cause.REMOVED),
    # the dispatcher: claim, publish, reconcile
    _T(P.PLANNED, P.QUEUED, Cause.CLAIMED),
    _T(P.RETRY_WAIT, P.QUEUED, Cause.CLAIMED),
    _T(P.QUEUED, P.PUBLISHING, Cause.TAKEN),
    _T(P.PUBLISHING, P.PUBLISHED, Cause.PUBLISHED),
    _T(P.PUBLISHING, P.PUBLISHED, Cause.FOUND),  # the answer was lost; a lookup found it
    _T(P.RECONCILING, P.PUBLISHED, Cause.FOUND),
    _T(P.PUBLISHING, P.RETRY_WAIT, Cause.RETRY_LATER),
    _T(P.PUBLISHING, P.FAILED, Cause.FAILED),  # refused, too late, out of attempts, config
    _T(P.PUBLISHING, P.HELD, Cause.NEEDS_AUTH),
    _T(P.PLANNED, P.HELD, Cause.NEEDS_AUTH),  # ...with every unsent post of the account
    _T(P.RETRY_WAIT, P.HELD, Cause.NEEDS_AUTH),
    _T(P.QUEUED, P.HELD, Cause.NEEDS_AUTH),
    _T(P.PUBLISHING, P.NEEDS_REVIEW, Cause.UNSURE),  # sent, no answer, cannot look it up
    _T(P.PUBLISHING, P.RECONCILING, Cause.WORKER_LOST),
    _T(P.RECONCILING, P.RECONCILING, Cause.WORKER_LOST),  # the reconciling worker died too
    _T(P.RECONCILING, P.QUEUED, Cause.NOT_FOUND),
    _T(P.RECONCILING, P.NEEDS_REVIEW, Cause.CANNOT_CHECK),
    # operators
    _T(P.FAILED, P.PLANNED, Cause.RETRIED),
    _T(P.NEEDS_REVIEW, P.PLANNED, Cause.RETRIED),
    _T(P.PLANNED, P.CANCELLED, Cause.CANCELLED),
    _T(P.HELD, P.CANCELLED, Cause.CANCELLED),
    _T(P.RETRY_WAIT, P.CANCELLED, Cause.CANCELLED),
    _T(P.QUEUED, P.CANCELLED, Cause.CANCELLED),
    _T(P.FAILED, P.CANCELLED, Cause.CANCELLED),
    _T(P.NEEDS_REVIEW, P.CANCELLED, Cause.CANCELLED),
    _T(P.PLANNED, P.PLANNED, Cause.PUBLISH_NOW),
    _T(P.HELD, P.PLANNED, Cause.PUBLISH_NOW),
    _T(P.RETRY_WAIT, P.PLANNED, Cause.PUBLISH_NOW),
    _T(P.HELD, P.PLANNED, Cause.RELEASED),
    _T(P.HELD, P.PLANNED, Cause.ACCOUNT_RELEASED),  # only posts held for re-auth
    _T(P.PLANNED, P.HELD, Cause.HELD),
    _T(P.RETRY_WAIT, P.HELD, Cause.HELD),
    _T(P.QUEUED, P.HELD, Cause.HELD),  # its message finds it held and does nothing
    _T(P.NEEDS_REVIEW, P.PUBLISHED, Cause.RESOLVED_PUBLISHED),  # an operator saw it online
    _T(P.NEEDS_REVIEW, P.PLANNED, Cause.RESOLVED_NOT_PUBLISHED),  # ...or saw it was not
    _T(P.CANCELLED, P.PLANNED, Cause.RESTORED),
    # the dispatcher, in live mode: an account without credentials is held at claim time
    _T(P.PLANNED, P.HELD, Cause.NO_CREDENTIALS),
    _T(P.RETRY_WAIT, P.HELD, Cause.NO_CREDENTIALS),
)

_BY_SYNC = frozenset(
    {
        Cause.ADDED,
        Cause.PAST_DUE,
        Cause.DRAFT,
        Cause.RESUMED,
        Cause.RESCHEDULED,
        Cause.REMOVED,
        Cause.AWAITING_SIGNOFF,
    }
)
_BY_OPERATOR = frozenset(
    {
        Cause.RETRIED,
        Cause.CANCELLED,
        Cause.PUBLISH_NOW,
        Cause.RELEASED,
        Cause.ACCOUNT_RELEASED,
        Cause.HELD,
        Cause.RESOLVED_PUBLISHED,
        Cause.RESOLVED_NOT_PUBLISHED,
        Cause.RESTORED,
    }
)
#: Who makes each move.
ACTORS: Final[Mapping[Cause, Actor]] = MappingProxyType(
    {
        cause: (
            Actor.SYNC
            if cause in _BY_SYNC
            else Actor.OPERATOR
            if cause in _BY_OPERATOR
            else Actor.DISPATCHER
        )
        for cause in Cause
    }
)
#: The hold reason a move into ``held`` records.
HOLDS: Final[Mapping[Cause, HoldReason]] = MappingProxyType(
    {
        Cause.PAST_DUE: HoldReason.PAST_DUE,
        Cause.DRAFT: HoldReason.DRAFT,
        Cause.AWAITING_SIGNOFF: HoldReason.AWAITING_SIGNOFF,
        Cause.NEEDS_AUTH: HoldReason.NEEDS_REAUTH,
        Cause.HELD: HoldReason.OPERATOR,
        Cause.NO_CREDENTIALS: HoldReason.NO_CREDENTIALS,
    }
)

#: States a post never leaves on its own: only an operator (retry, cancel) or sync (a removed
#: post back in the content) moves it on.
TERMINAL_STATES: Final = frozenset({P.PUBLISHED, P.FAILED, P.CANCELLED, P.NEEDS_REVIEW})

_ALLOWED: Final = frozenset((t.source, t.target, t.cause) for t in TRANSITIONS)
_TARGET: Final[Mapping[Cause, PostState]] = MappingProxyType(
    {t.cause: t.target for t in TRANSITIONS}
)
_SOURCES: Final[Mapping[Cause, tuple[PostState, ...]]] = MappingProxyType(
    {
        cause: tuple(t.source for t in TRANSITIONS if t.cause is cause and t.source is not None)
        for cause in Cause
    }
)


class IllegalMove(ValueError):
    """A move :data:`TRANSITIONS` does not list: a bug in the code that asked for it."""


def target(cause: Cause) -> PostState:
    """The state ``cause`` moves a post to."""
    return _TARGET[cause]


def sources(cause: Cause) -> tuple[PostState, ...]:
    """The states ``cause`` may move a post from, in the table's order (a guarded UPDATE's
    ``status IN (...)``; a refused operator command lists them)."""
    return _SOURCES[cause]


def actor(cause: Cause) -> Actor:
    return ACTORS[cause]


def hold_reason(cause: Cause) -> HoldReason | None:
    """What ``post.hold_reason`` becomes after ``cause``: None unless it holds the post."""
    return HOLDS.get(cause)


def allowed(source: PostState | str | None, to: PostState | str, cause: Cause) -> bool:
    return (None if source is None else PostState(source), PostState(to), cause) in _ALLOWED


def check(source: PostState | str | None, to: PostState | str, cause: Cause) -> None:
    """Raise :class:`IllegalMove` unless ``source -> to`` by ``cause`` is in the table."""
    if not allowed(source, to, cause):
        raise IllegalMove(f"{source or 'new'} -> {to} by {cause} is not in the lifecycle table")


def columns(cause: Cause) -> dict[str, str | None]:
    """The state columns a move writes: ``status``, ``hold_reason``, ``set_by``."""
    hold = hold_reason(cause)
    return {
        "status": str(target(cause)),
        "hold_reason": None if hold is None else str(hold),
        "set_by": str(actor(cause)),
    }


# --- the table as documentation (docs/architecture.md, "The post lifecycle") -----------------

#: How the diagram and the table name a post that is not in the calendar yet.
_NEW_IN_DIAGRAM: Final = "[*]"
_NEW_IN_TABLE: Final = "(new)"


def mermaid() -> str:
    """:data:`TRANSITIONS` as a Mermaid ``stateDiagram-v2``, for docs/architecture.md.

    One arrow per pair of states, labelled with every cause that makes that move, in the
    table's order; ``[*]`` is a post not yet in the calendar. A note on ``held`` lists the
    hold reasons. ``tests/lifecycle/test_docs.py`` keeps the page's copy equal to this.
    """
    causes: dict[tuple[str, str], list[str]] = {}
    for t in TRANSITIONS:
        source = _NEW_IN_DIAGRAM if t.source is None else str(t.source)
        causes.setdefault((source, str(t.target)), []).append(str(t.cause))
    lines = ["stateDiagram-v2"]
    lines += [f"    {a} --> {b}: {', '.join(named)}" for (a, b), named in causes.items()]
    lines += [
        f"    note right of {PostState.HELD}",
        f"        hold_reason: {', '.join(str(r) for r in HoldReason)}",
        "    end note",
    ]
    return "\n".join(lines)


def markdown_table() -> str:
    """:data:`TRANSITIONS` as a Markdown table, one row per move: from, to, cause, who makes
    it (:data:`ACTORS`) and the hold reason it records (:data:`HOLDS`)."""
    rows = ["| from | to | cause | who | hold reason |", "|---|---|---|---|---|"]
    for t in TRANSITIONS:
        source = _NEW_IN_TABLE if t.source is None else f"`{t.source}`"
        hold = hold_reason(t.cause)
        held = "" if hold is None else f" `{hold}`"
        rows.append(f"| {source} | `{t.target}` | `{t.cause}` | {actor(t.cause)} |{held} |")
    return "\n".join(rows)
