"""Sync's decisions: what the content asks of each post, against what the calendar holds.

``storyline plan`` (:func:`compare`) and ``storyline sync`` (:mod:`scheduler.calendar.apply`)
share :func:`diff`, so what ``plan`` prints is exactly what ``sync`` applies. Outcomes, per
post (docs/calendar.md gives the why of each):

``add``        new post, due in the future: inserted as ``planned``
``update``     text, title, link, media, account... changed: rewritten in place
``reschedule`` due instant changed (may carry new text too)
``cancel``     planned or held, but no longer in the content: ``cancelled``
``hold``       its story went back to draft: ``held`` (hold reason ``draft``); or its
               market's sign-off is missing or void (hold reason ``awaiting_signoff``)
``resume``     held because its story was a draft, now approved, or signed off since:
               ``planned`` again
``past_due``   new (or resumed, or moved) post whose slot has already passed: ``held``
               (hold reason ``past_due``); ``storyline release`` sends it — never sent late
``locked``     published or in flight, yet the content changed: reported, never rewritten
``unchanged``  nothing to do

Each decision that moves a post names its :class:`~scheduler.core.lifecycle.Cause` and is
checked against the lifecycle table; the sub-states sync reads (why a post is held, who put a
post in its state) are columns, never parsed from ``status_reason``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NamedTuple

from sqlalchemy.engine import Connection, Engine

from scheduler.calendar.dialect import aware, dialect_for
from scheduler.calendar.fast import content_hash
from scheduler.calendar.migrate import ensure_schema, is_new_embedded
from scheduler.calendar.planned import Planned
from scheduler.core import lifecycle
from scheduler.core.errors import DatabaseError
from scheduler.core.lifecycle import Actor, Cause, HoldReason, PostState
from scheduler.core.memory import paused_gc
from scheduler.core.model import StoryStatus

#: What sync writes in ``status_reason``, for people (never read back).
REASON_DRAFT = "story is draft"
REASON_PAST_DUE = "past due"
REASON_REMOVED = "removed from the content"
REASON_SIGNED_OFF = "signed off"

#: The only states sync rewrites. ``retry_wait`` is deliberately not here: an attempt has
#: already been made, so the post is in flight (its text may already be half-sent).
SYNC_MUTABLE = frozenset({PostState.PLANNED, PostState.HELD})
IN_FLIGHT = frozenset(
    {PostState.QUEUED, PostState.PUBLISHING, PostState.RETRY_WAIT, PostState.RECONCILING}
)


class Action(StrEnum):
    ADD = "add"
    UPDATE = "update"
    RESCHEDULE = "reschedule"
    CANCEL = "cancel"
    HOLD = "hold"
    RESUME = "resume"
    PAST_DUE = "past_due"
    LOCKED = "locked"
    UNCHANGED = "unchanged"


#: ``leave(story, market, network)``: rows sync must not touch (see :func:`diff`).
Leave = Callable[[str, str, str], bool]

#: Actions that write something.
WRITING_ACTIONS = frozenset(Action) - {Action.LOCKED, Action.UNCHANGED}


class Existing(NamedTuple):
    """The columns of a calendar row the diff needs (one query, no ORM objects)."""

    post_id: str
    story: str
    beat: str
    network: str
    market: str
    account: str
    account_name: str
    campaign: str
    timezone: str
    content_hash: str
    due_utc: datetime
    status: str
    status_reason: str | None
    hold_reason: str | None
    set_by: str | None


@dataclass(frozen=True, slots=True)
class Change:
    """What sync does to one post, and why."""

    action: Action
    post_id: str
    network: str
    market: str
    account: str
    timezone: str
    status_before: str | None  # None: not in the calendar yet
    status_after: str | None
    due_before: datetime | None  # aware UTC
    due_after: datetime | None
    reason: str = ""
    text_changed: bool = False
    planned: Planned | None = field(default=None, compare=False, repr=False)
    content_hash: str = field(default="", compare=False, repr=False)  # computed once, reused
    # What apply writes besides the content: the reason for people, and the state columns.
    stored_reason: str | None = field(default=None, compare=False, repr=False)
    hold_after: str | None = field(default=None, compare=False, repr=False)
    set_by_after: str | None = field(default=None, compare=False, repr=False)
    #: The lifecycle move this change makes; None when the post keeps its state.
    cause: Cause | None = field(default=None, compare=False, repr=False)

    @property
    def exists(self) -> bool:
        return self.status_before is not None


@dataclass(frozen=True, slots=True)
class Diff:
    """Everything one sync would do, in a stable order (by action, then due time, then id).

    Unchanged posts are only counted (``unchanged``): a calendar of 50k posts with three
    edits should cost three objects, not 50k.
    """

    now: datetime
    changes: tuple[Change, ...]
    unchanged: int = 0
    drafts_skipped: int = 0  # posts of draft stories that never reached the calendar
    #: Rows of stories sync was told to leave alone (a story with errors): not even looked at.
    left: int = 0

    @property
    def counts(self) -> dict[Action, int]:
        counted = Counter(c.action for c in self.changes)
        counted[Action.UNCHANGED] += self.unchanged
        return {action: counted.get(action, 0) for action in Action}

    def of(self, action: Action) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is action)

    @property
    def writes(self) -> int:
        return sum(1 for c in self.changes if c.action in WRITING_ACTIONS)

    @property
    def has_changes(self) -> bool:
        return self.writes > 0


def read_existing(conn: Connection) -> dict[str, Existing]:
    """Every row's diff columns, in one query."""
    return {r[0]: Existing(*r) for r in dialect_for(conn).read_rows(conn, Existing._fields)}


class _Shape:
    """Which stories, beats, networks and markets the plan has: why a row left the content."""

    def __init__(self, planned: Sequence[Planned]) -> None:
        self.parts: dict[str, tuple[set[str], set[str], set[str]]] = {}
        for p in planned:
            beats, networks, markets = self.parts.setdefault(p.story, (set(), set(), set()))
            beats.add(p.beat)
            networks.add(p.network)
            markets.add(p.market)

    def removal_reason(self, row: Existing) -> str:
        """Name what disappeared, most general first: story, beat, network, market."""
        parts = self.parts.get(row.story)
        if parts is None:
            return f"{REASON_REMOVED}: story removed"
        beats, networks, markets = parts
        if row.beat not in beats:
            return f"{REASON_REMOVED}: beat {row.beat!r} removed"
        if row.network not in networks:
            return f"{REASON_REMOVED}: network {row.network!r} removed from the story"
        if row.market not in markets:
            return f"{REASON_REMOVED}: market {row.market!r} removed from the story"
        return f"{REASON_REMOVED}: no longer planned for this beat"


def _meta_changed(row: Existing, p: Planned, h: str) -> bool:
    return (
        row.content_hash != h
        or row.account_name != p.account_name
        or row.campaign != p.campaign
        or row.timezone != p.timezone
    )


def _locked_reason(status: str, *, draft: bool) -> str:
    if status == PostState.PUBLISHED:
        what = "the story is back to draft" if draft else "the content changed"
        return f"published: {what} but the post will not"
    if status in IN_FLIGHT:
        what = "the story is back to draft" if draft else "the content changed"
        return f"in flight ({status}): {what} but this post is already on its way"
    if status == PostState.CANCELLED:
        return "cancelled by an operator: the content changed but the post stays cancelled"
    return f"{status}: the content changed but the post will not"


def decide(row: Existing | None, p: Planned, h: str, now: datetime) -> Change | Action | None:
    """The change for one planned post against its row (``h``: the post's content hash).

    ``Action.UNCHANGED`` stands for an unchanged post (counted, not listed); None for a post
    of a draft story that never reached the calendar.
    """
    draft = p.story_status == StoryStatus.DRAFT
    awaiting = p.awaiting_signoff  # its market's sign-off is missing or void: why, for people
    due = aware(p.due_utc)
    operator_slot = False

    def change(
        action: Action,
        after: str,
        reason: str = "",
        text_changed: bool = False,
        cause: Cause | None = None,
    ) -> Change:
        if cause is None:  # the post keeps its state, and why
            hold, by = (row.hold_reason, row.set_by) if row else (None, None)
        else:
            lifecycle.check(row.status if row else None, after, cause)
            move = lifecycle.columns(cause)
            hold, by = move["hold_reason"], move["set_by"]
        return Change(
            action=action,
            post_id=p.post_id,
            network=p.network,
            market=p.market,
            account=p.account,
            timezone=p.timezone,
            status_before=row.status if row else None,
            status_after=after,
            due_before=aware(row.due_utc) if row else None,
            due_after=due,
            reason=reason,
            text_changed=text_changed,
            planned=p,
            content_hash=h,
            # Only a held post keeps sync's reason; an operator's planned post keeps theirs.
            stored_reason=reason
            if after == PostState.HELD
            else (row.status_reason if row and operator_slot else None),
            hold_after=hold,
            set_by_after=by,
            cause=cause,
        )

    # A post sync cancelled (its content was removed) comes back with its content; one an
    # operator cancelled stays cancelled.
    revived = row is not None and row.status == PostState.CANCELLED and row.set_by == Actor.SYNC
    if row is None or revived:
        if draft:
            return None if row is None else Action.UNCHANGED
        if awaiting:
            return change(Action.HOLD, PostState.HELD, awaiting, cause=Cause.AWAITING_SIGNOFF)
        if due < now:
            return change(Action.PAST_DUE, PostState.HELD, REASON_PAST_DUE, cause=Cause.PAST_DUE)
        reason = "back in the content" if revived else ""
        return change(Action.ADD, PostState.PLANNED, reason, cause=Cause.ADDED)

    content_changed = _meta_changed(row, p, h)
    status = row.status
    # Operators move the slot on purpose: `release`, `publish --now` and `retry` set the row's
    # due time to "now". Until that post goes out, its due time is the operator's, not the
    # content's.
    operator_slot = status == PostState.PLANNED and row.set_by == Actor.OPERATOR
    if operator_slot:
        due = aware(row.due_utc)
    due_changed = aware(row.due_utc) != due

    if status not in SYNC_MUTABLE:
        # A published or in-flight post's slot is history (an operator may have moved it):
        # only a change of what it says is worth a warning.
        if content_changed or (draft and status in IN_FLIGHT):
            return change(Action.LOCKED, status, _locked_reason(status, draft=draft))
        return Action.UNCHANGED

    reason = row.status_reason or ""
    held = status == PostState.HELD
    if held and row.hold_reason not in lifecycle.SYNC_HOLDS:
        # Someone else's hold (an account to re-authorise, an operator): keep it, refresh content.
        if due_changed:
            return change(Action.RESCHEDULE, status, reason, content_changed)
        if content_changed:
            return change(Action.UPDATE, status, reason, True)
        return Action.UNCHANGED

    held_as_draft = held and row.hold_reason == HoldReason.DRAFT
    if draft:
        if held_as_draft:
            if due_changed:
                return change(Action.RESCHEDULE, status, reason, content_changed)
            if content_changed:
                return change(Action.UPDATE, status, reason, True)
            return Action.UNCHANGED
        return change(Action.HOLD, PostState.HELD, REASON_DRAFT, content_changed, Cause.DRAFT)

    held_for_signoff = held and row.hold_reason == HoldReason.AWAITING_SIGNOFF
    if awaiting:
        if held_for_signoff and reason == awaiting:
            if due_changed:
                return change(Action.RESCHEDULE, status, reason, content_changed)
            if content_changed:
                return change(Action.UPDATE, status, reason, True)
            return Action.UNCHANGED
        return change(
            Action.HOLD, PostState.HELD, awaiting, content_changed, Cause.AWAITING_SIGNOFF
        )

    if held_as_draft or held_for_signoff:
        if due < now:
            return change(
                Action.PAST_DUE, PostState.HELD, REASON_PAST_DUE, content_changed, Cause.PAST_DUE
            )
        why = "story approved" if held_as_draft else REASON_SIGNED_OFF
        return change(Action.RESUME, PostState.PLANNED, why, content_changed, Cause.RESUMED)

    if due_changed:
        if due < now:
            return change(
                Action.PAST_DUE, PostState.HELD, REASON_PAST_DUE, content_changed, Cause.PAST_DUE
            )
        moved = Cause.RESCHEDULED if held else None  # a past-due post moved into the future
        return change(Action.RESCHEDULE, PostState.PLANNED, "", content_changed, moved)
    if content_changed:
        return change(Action.UPDATE, status, reason if held else "", True)
    return Action.UNCHANGED


_ORDER = {action: i for i, action in enumerate(Action)}


def _sort_key(c: Change) -> tuple[int, datetime, str]:
    when = c.due_after or c.due_before or datetime.min.replace(tzinfo=UTC)
    return (_ORDER[c.action], when, c.post_id)


def _removed(row: Existing, shape: _Shape) -> Change | None:
    """A row the content no longer plans: cancelled if sync may still stop it."""
    status = row.status
    common: dict[str, Any] = {
        "post_id": row.post_id,
        "network": row.network,
        "market": row.market,
        "account": row.account,
        "timezone": row.timezone,
        "status_before": status,
        "due_before": aware(row.due_utc),
        "due_after": None,
    }
    if status in SYNC_MUTABLE:
        lifecycle.check(status, PostState.CANCELLED, Cause.REMOVED)
        move = lifecycle.columns(Cause.REMOVED)
        return Change(
            Action.CANCEL,
            status_after=PostState.CANCELLED,
            reason=shape.removal_reason(row),
            hold_after=move["hold_reason"],
            set_by_after=move["set_by"],
            cause=Cause.REMOVED,
            **common,
        )
    if status in IN_FLIGHT:
        reason = (
            f"in flight ({status}): removed from the content; "
            f"`storyline cancel {row.post_id}` may still stop it"
        )
        return Change(Action.LOCKED, status_after=status, reason=reason, **common)
    return None  # finished posts (published, failed, cancelled...) of removed content: history


def diff(
    conn: Connection | None,
    planned: Sequence[Planned],
    now: datetime,
    *,
    existing: dict[str, Existing] | None = None,
    leave: Leave | None = None,
) -> Diff:
    """Compare the content (``planned``) with the calendar: one :class:`Change` per post.

    ``leave(story, market, network)`` names the rows that stay exactly as they are — a story
    whose file has errors is not "removed from the content", so its posts must not be
    cancelled (nor a market's whose entry in markets.yaml has an error).
    """
    if existing is None:
        assert conn is not None, "diff reads the rows from a connection or is given them"
        rows = read_existing(conn)
    else:
        rows = existing
    now = aware(now)
    changes: list[Change] = []
    seen: set[str] = set()
    drafts = unchanged = left = 0
    left_ids: set[str] = set()
    if leave is not None:
        kept = {k: r for k, r in rows.items() if not leave(r.story, r.market, r.network)}
        left_ids = set(rows) - set(kept)
        left, rows = len(left_ids), kept
    for p in planned:
        if p.post_id in left_ids:  # its row is left as it is: not rewritten, not re-added
            continue
        if p.post_id in seen:
            raise DatabaseError(f"the plan lists post {p.post_id!r} twice")
        seen.add(p.post_id)
        decided = decide(rows.get(p.post_id), p, content_hash(p), now)
        if decided is None:
            drafts += 1
        elif decided is Action.UNCHANGED:
            unchanged += 1
        else:
            assert isinstance(decided, Change)
            changes.append(decided)
    shape: _Shape | None = None
    for post_id, row in rows.items():
        if post_id in seen:
            continue
        shape = shape or _Shape(planned)
        removed = _removed(row, shape)
        if removed is not None:
            changes.append(removed)
    changes.sort(key=_sort_key)
    return Diff(
        now=now, changes=tuple(changes), unchanged=unchanged, drafts_skipped=drafts, left=left
    )


def compare(
    engine: Engine,
    planned: Sequence[Planned],
    now: datetime,
    *,
    leave: Leave | None = None,
) -> Diff:
    """What sync would do (``storyline plan``); reads only. A brand-new embedded calendar is
    compared as empty, without creating its schema."""
    if dialect_for(engine).file_missing(engine):  # nothing to read, and nothing to create
        with paused_gc():
            return diff(None, planned, now, existing={}, leave=leave)
    new = is_new_embedded(engine)
    if not new:
        ensure_schema(engine)
    with engine.connect() as conn, paused_gc():
        return diff(conn, planned, now, existing={} if new else None, leave=leave)
