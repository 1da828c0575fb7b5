"""The calendar in the database: its schema, how the content becomes rows, and the CLI's queries.

``plan`` and ``sync`` share one function, :func:`diff`, so what ``plan`` prints is exactly what
``sync`` applies. :func:`sync` computes the diff *inside* its write transaction, after taking the
calendar lock, so two syncs at once serialise and the second sees the first's rows (nothing is
ever inserted twice). Every update is guarded by the status the diff saw, so a post claimed by a
dispatcher in the meantime is left alone rather than rewritten.

Outcomes of a sync, per post (see ``docs/calendar.md`` for the why of each):

``add``        new post, due in the future: inserted as ``planned``
``update``     text, title, link, media, account... changed: rewritten in place
``reschedule`` due instant changed (may carry new text too)
``cancel``     planned or held, but no longer in the content: ``cancelled``
``hold``       its story went back to draft: ``held`` ("story is draft")
``resume``     held because its story was a draft, now approved: ``planned`` again
``past_due``   new (or resumed, or moved) post whose slot has already passed: ``held``
               ("past due"); ``storyline release`` sends it — never sent late silently
``locked``     published or in flight, yet the content changed: reported, never rewritten
``unchanged``  nothing to do
"""

from __future__ import annotations

import gc
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from json.encoder import encode_basestring
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import bindparam, func, insert, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session

from scheduler.calendar.database import SQLITE_BUSY_TIMEOUT_MS, check_reachable
from scheduler.calendar.rows import AttemptRow, CalendarRow
from scheduler.calendar.tables import Attempt, Post, PostState
from scheduler.core.errors import DatabaseBusy, DatabaseError, NotFound, SchemaBehind
from scheduler.core.suggest import closest
from scheduler.planning.plan import PlannedPost

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

#: ``pg_advisory_xact_lock`` keys (ASCII "SYNCCAL" / "SYNCMIG"): one for syncs, one for
#: migrations. Constants, so every Storyline process on the database agrees on them.
SYNC_LOCK_KEY = 0x5359_4E43_4341_4C01
MIGRATE_LOCK_KEY = 0x5359_4E43_4D49_4701
#: How long a second sync waits for the first before giving up with DatabaseBusy.
DEFAULT_LOCK_TIMEOUT_S = 30.0

#: Held reasons that sync owns and re-evaluates on every run; other holds (an account that
#: needs re-authorising, an operator's hold) are kept as they are.
REASON_DRAFT = "story is draft"
REASON_PAST_DUE = "past due"
#: Prefix of the reason of a post sync cancelled; such a post comes back if its content does.
REASON_REMOVED = "removed from the content"

#: The only states sync rewrites. ``retry_wait`` is deliberately not here: an attempt has
#: already been made, so the post is in flight (its text may already be half-sent).
SYNC_MUTABLE = frozenset({PostState.PLANNED, PostState.HELD})
IN_FLIGHT = frozenset(
    {PostState.QUEUED, PostState.PUBLISHING, PostState.RETRY_WAIT, PostState.RECONCILING}
)

post_table = Post.__table__  # type: ignore[attr-defined]
attempt_table = Attempt.__table__  # type: ignore[attr-defined]

WRITE_CHUNK = 2_000


# --- schema ------------------------------------------------------------------------------------


def alembic_config() -> Any:
    """The Alembic configuration, built in code so migrations run from an installed wheel."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    # "v0002_what_changed.py": a module name mypy accepts (no leading digit).
    cfg.set_main_option("file_template", "v%%(rev)s_%%(slug)s")
    return cfg


def head_revision() -> str:
    """The revision this code needs."""
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _revision_of(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def current_revision(engine: Engine) -> str | None:
    """The database's revision; None for a database the migrations never touched."""
    check_reachable(engine)
    with engine.connect() as conn:
        return _revision_of(conn)


def _is_empty(conn: Connection) -> bool:
    names = set(inspect(conn).get_table_names())
    return not names & {"post", "attempt", "alembic_version"}


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Apply every missing migration; returns (revision before, revision after).

    Concurrent upgrades (several ``storyline run`` starting at once) take turns: an advisory
    lock on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite.
    """
    from alembic import command

    check_reachable(engine)
    cfg = alembic_config()
    with _translate_busy(engine, SQLITE_BUSY_TIMEOUT_MS / 1000), engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATE_LOCK_KEY})
        elif conn.dialect.name == "sqlite":
            # SQLite's DDL is transactional: take the write lock first, so a second upgrade
            # (two first syncs of a fresh file) waits, then finds the schema at head.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        before = _revision_of(conn)
        if before is None and not _is_empty(conn):
            raise SchemaBehind(NO_HISTORY)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        after = _revision_of(conn)
    assert after is not None
    return before, after


NO_HISTORY = (
    "the calendar database has tables but no migration history: it was not made by "
    "`storyline db upgrade`; point STORYLINE_DATABASE_URL at a new database"
)


def ensure_schema(engine: Engine) -> None:
    """Raise a readable error unless the database is reachable and at the code's revision."""
    check_reachable(engine)
    with engine.connect() as conn:
        current = _revision_of(conn)
        empty = current is None and _is_empty(conn)
    head = head_revision()
    if current == head:
        return
    if empty:
        raise SchemaBehind("no calendar yet: run `storyline db upgrade`")
    if current is None:
        raise SchemaBehind(NO_HISTORY)
    if current not in known_revisions():
        raise DatabaseError(
            f"the calendar database schema is at {current}, newer than this code ({head}): "
            "upgrade storyline"
        )
    raise SchemaBehind(
        f"the calendar database schema is at {current}, the code needs {head}: "
        "run `storyline db upgrade`"
    )


def is_new_sqlite(engine: Engine) -> bool:
    """True for a SQLite database with nothing in it yet (the embedded default on first use)."""
    if engine.dialect.name != "sqlite":
        return False
    check_reachable(engine)
    with engine.connect() as conn:
        return _is_empty(conn)


# --- the diff ----------------------------------------------------------------------------------


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
    planned: PlannedPost | None = field(default=None, compare=False, repr=False)
    content_hash: str = field(default="", compare=False, repr=False)  # computed once, reused
    stored_reason: str | None = field(default=None, compare=False, repr=False)  # what apply writes

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


@dataclass(frozen=True, slots=True)
class SyncResult:
    diff: Diff
    #: Posts whose state changed between the diff and the write (a dispatcher claimed them):
    #: left alone (SQLite and PostgreSQL report them; other databases may not).
    skipped: int = 0
    created_schema: bool = False


def load_existing(session: Session) -> dict[str, Existing]:
    """Every row's diff columns in one driver-level query (no per-row type processing)."""
    raw: Any = session.connection().connection.dbapi_connection
    cursor = raw.cursor()
    try:
        cursor.execute(f"SELECT {', '.join(Existing._fields)} FROM post")  # noqa: S608
        fetched = cursor.fetchall()
    finally:
        cursor.close()
    due = Existing._fields.index("due_utc")
    out: dict[str, Existing] = {}
    for r in fetched:
        values = list(r)
        when = values[due]
        if isinstance(when, str):  # SQLite keeps datetimes as text, in UTC
            when = datetime.fromisoformat(when)
        values[due] = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        out[values[0]] = Existing(*values)
    return out


def _json_string(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def fast_content_hash(p: PlannedPost) -> str:
    """``PlannedPost.content_hash``, without building a dict and running ``json.dumps``.

    The same bytes as ``json.dumps(payload, sort_keys=True, ensure_ascii=False)``: keys in
    sorted order, the default separators, strings through the json module's own C escaper.
    Hashing is most of an unchanged re-sync's cost; :func:`_hasher` checks this against the
    property on the plan's own posts and falls back to the property if they ever disagree.
    """
    media = ", ".join(
        f"[{_json_string(m.file)}, {_json_string(m.alt)}, {_json_string(m.kind)}]" for m in p.media
    )
    raw = (
        f'{{"account": {_json_string(p.account)}, '
        f'"first_comment": {_json_string(p.first_comment)}, '
        f'"link": {_json_string(p.link)}, "media": [{media}], '
        f'"text": {_json_string(p.text)}, "title": {_json_string(p.title)}}}'
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:32]


def _slow_content_hash(p: PlannedPost) -> str:
    return p.content_hash


def _hasher(planned: Sequence[PlannedPost]) -> Callable[[PlannedPost], str]:
    """The fast hash if it agrees with ``content_hash`` on a sample of this plan's posts."""
    sample = [
        *planned[:3],
        *[p for p in planned if p.media][:2],
        *[p for p in planned if p.first_comment is not None or p.title is not None][:2],
    ]
    if all(fast_content_hash(p) == p.content_hash for p in sample):
        return fast_content_hash
    return _slow_content_hash


def _aware(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


class _Shape:
    """Which stories, beats, networks and markets the plan has: why a row left the content."""

    def __init__(self, planned: Sequence[PlannedPost]) -> None:
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


def _meta_changed(row: Existing, p: PlannedPost, content_hash: str) -> bool:
    return (
        row.content_hash != content_hash
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


def _decide(row: Existing | None, p: PlannedPost, h: str, now: datetime) -> Change | Action | None:
    """The change for one planned post against its row.

    ``Action.UNCHANGED`` stands for an unchanged post (counted, not listed); None for a post
    of a draft story that never reached the calendar.
    """
    draft = p.story_status == "draft"
    due = _aware(p.due_utc)
    operator_slot = False

    def change(
        action: Action, after: str | None, reason: str = "", text_changed: bool = False
    ) -> Change:
        return Change(
            action=action,
            post_id=p.post_id,
            network=p.network,
            market=p.market,
            account=p.account,
            timezone=p.timezone,
            status_before=row.status if row else None,
            status_after=after,
            due_before=_aware(row.due_utc) if row else None,
            due_after=due,
            reason=reason,
            text_changed=text_changed,
            planned=p,
            content_hash=h,
            # Only a held post keeps sync's reason; an operator's planned post keeps theirs.
            stored_reason=reason
            if after == PostState.HELD
            else (row.status_reason if row and operator_slot else None),
        )

    revived = (
        row is not None
        and row.status == PostState.CANCELLED
        and ((row.status_reason or "").startswith(REASON_REMOVED))
    )
    if row is None or revived:
        if draft:
            return None if row is None else Action.UNCHANGED
        if due < now:
            return change(Action.PAST_DUE, PostState.HELD, REASON_PAST_DUE)
        return change(Action.ADD, PostState.PLANNED, "back in the content" if revived else "")

    content_changed = _meta_changed(row, p, h)
    status = row.status
    # Operators move the slot on purpose: `release`, `publish --now` and `retry` set the row's
    # due time to "now" and leave a reason on a planned post (sync's own planned posts carry
    # none). Until that post goes out, its due time is the operator's, not the content's.
    operator_slot = status == PostState.PLANNED and row.status_reason is not None
    if operator_slot:
        due = _aware(row.due_utc)
    due_changed = _aware(row.due_utc) != due

    if status not in SYNC_MUTABLE:
        # A published or in-flight post's slot is history (an operator may have moved it):
        # only a change of what it says is worth a warning.
        if content_changed or (draft and status in IN_FLIGHT):
            return change(Action.LOCKED, status, _locked_reason(status, draft=draft))
        return Action.UNCHANGED

    reason = row.status_reason or ""
    own_hold = status == PostState.HELD and reason in {REASON_DRAFT, REASON_PAST_DUE}
    if status == PostState.HELD and not own_hold:
        # Someone else's hold (an account to re-authorise, an operator): keep it, refresh content.
        if due_changed:
            return change(Action.RESCHEDULE, status, reason, content_changed)
        if content_changed:
            return change(Action.UPDATE, status, reason, True)
        return Action.UNCHANGED

    if draft:
        if status == PostState.HELD and reason == REASON_DRAFT:
            if due_changed:
                return change(Action.RESCHEDULE, status, reason, content_changed)
            if content_changed:
                return change(Action.UPDATE, status, reason, True)
            return Action.UNCHANGED
        return change(Action.HOLD, PostState.HELD, REASON_DRAFT, content_changed)

    if status == PostState.HELD and reason == REASON_DRAFT:
        if due < now:
            return change(Action.PAST_DUE, PostState.HELD, REASON_PAST_DUE, content_changed)
        return change(Action.RESUME, PostState.PLANNED, "story approved", content_changed)

    if due_changed:
        if due < now:
            return change(Action.PAST_DUE, PostState.HELD, REASON_PAST_DUE, content_changed)
        return change(Action.RESCHEDULE, PostState.PLANNED, "", content_changed)
    if content_changed:
        return change(Action.UPDATE, status, reason if status == PostState.HELD else "", True)
    return Action.UNCHANGED


_ORDER = {action: i for i, action in enumerate(Action)}


def _sort_key(c: Change) -> tuple[int, datetime, str]:
    when = c.due_after or c.due_before or datetime.min.replace(tzinfo=UTC)
    return (_ORDER[c.action], when, c.post_id)


def diff(
    session: Session,
    planned: Sequence[PlannedPost],
    now: datetime,
    *,
    existing: dict[str, Existing] | None = None,
) -> Diff:
    """Compare the content (``planned``) with the calendar: one :class:`Change` per post."""
    rows = load_existing(session) if existing is None else existing
    now = _aware(now)
    changes: list[Change] = []
    seen: set[str] = set()
    drafts = unchanged = 0
    hasher = _hasher(planned)
    for p in planned:
        if p.post_id in seen:
            raise DatabaseError(f"the plan lists post {p.post_id!r} twice")
        seen.add(p.post_id)
        decided = _decide(rows.get(p.post_id), p, hasher(p), now)
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
        status = row.status
        common: dict[str, Any] = {
            "post_id": post_id,
            "network": row.network,
            "market": row.market,
            "account": row.account,
            "timezone": row.timezone,
            "status_before": status,
            "due_before": _aware(row.due_utc),
            "due_after": None,
        }
        if status in SYNC_MUTABLE:
            reason = shape.removal_reason(row)
            changes.append(
                Change(Action.CANCEL, status_after=PostState.CANCELLED, reason=reason, **common)
            )
        elif status in IN_FLIGHT:
            reason = (
                f"in flight ({status}): removed from the content; "
                f"`storyline cancel {post_id}` may still stop it"
            )
            changes.append(Change(Action.LOCKED, status_after=status, reason=reason, **common))
        # Finished posts (published, failed, cancelled...) of removed content are history.
    changes.sort(key=_sort_key)
    return Diff(now=now, changes=tuple(changes), unchanged=unchanged, drafts_skipped=drafts)


# --- applying it -------------------------------------------------------------------------------

_CONTENT_COLUMNS = (
    "story",
    "beat",
    "network",
    "market",
    "account",
    "account_name",
    "campaign",
    "text",
    "title",
    "link",
    "media_json",
    "first_comment",
    "content_hash",
    "due_utc",
    "timezone",
)


def _content_values(p: PlannedPost, content_hash: str) -> dict[str, Any]:
    media = [{"file": m.file, "alt": m.alt, "kind": m.kind} for m in p.media]
    return {
        "story": p.story,
        "beat": p.beat,
        "network": p.network,
        "market": p.market,
        "account": p.account,
        "account_name": p.account_name,
        "campaign": p.campaign,
        "text": p.text,
        "title": p.title,
        "link": p.link,
        "media_json": json.dumps(media, ensure_ascii=False) if media else "[]",
        "first_comment": p.first_comment,
        "content_hash": content_hash or p.content_hash,
        "due_utc": _aware(p.due_utc),
        "timezone": p.timezone,
    }


_INSERT_COLUMNS = (
    "post_id",
    *_CONTENT_COLUMNS,
    "status",
    "status_reason",
    "attempts",
    "created_at",
    "updated_at",
)
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"  # SQLAlchemy's storage format for SQLite DATETIME


_insert_tuple = itemgetter(*_INSERT_COLUMNS)


def _sqlite_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime(_SQLITE_DATETIME)


def _bulk_insert(
    session: Session, rows: list[dict[str, Any]], progress: Callable[[int], None] | None
) -> None:
    """Insert new posts the fastest way each database offers, in the session's transaction.

    PostgreSQL: ``COPY ... FROM STDIN``. SQLite: the driver's own ``executemany`` with values
    already in SQLAlchemy's storage format. Going around SQLAlchemy's per-row parameter
    processing is what keeps a 50k-post first sync within seconds.
    """
    conn = session.connection()
    columns = ", ".join(_INSERT_COLUMNS)
    if conn.dialect.name == "postgresql":
        raw: Any = conn.connection.driver_connection
        with raw.cursor() as cursor, cursor.copy(f"COPY post ({columns}) FROM STDIN") as copy:
            for i, row in enumerate(rows, 1):
                copy.write_row(_insert_tuple(row))
                if progress and i % WRITE_CHUNK == 0:
                    progress(WRITE_CHUNK)
        if progress and len(rows) % WRITE_CHUNK:
            progress(len(rows) % WRITE_CHUNK)
        return
    if conn.dialect.name == "sqlite":
        marks = ", ".join("?" for _ in _INSERT_COLUMNS)
        sql = f"INSERT INTO post ({columns}) VALUES ({marks})"  # noqa: S608 (constant names)
        stamps: dict[datetime, str] = {}  # created_at/updated_at: the same "now" for every row
        for chunk in _chunks(rows):
            for r in chunk:
                r["due_utc"] = _sqlite_datetime(r["due_utc"])
                for name in ("created_at", "updated_at"):
                    when = r[name]
                    r[name] = stamps.get(when) or stamps.setdefault(when, _sqlite_datetime(when))
            conn.exec_driver_sql(sql, [_insert_tuple(r) for r in chunk])
            if progress:
                progress(len(chunk))
        return
    for chunk in _chunks(rows):
        session.execute(insert(post_table), chunk)
        if progress:
            progress(len(chunk))


def _chunks(rows: list[dict[str, Any]], size: int = WRITE_CHUNK) -> Iterator[list[dict[str, Any]]]:
    for i in range(0, len(rows), size):
        yield rows[i : i + size]


def apply(
    session: Session,
    d: Diff,
    now: datetime,
    *,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write exactly ``d`` in the session's transaction; returns how many rows were skipped.

    Every update is guarded by the status the diff saw (``WHERE status = :seen``): a post a
    dispatcher claimed since is skipped, never rewritten. Inserts, content updates and state
    changes go out as executemany batches, so 50k posts cost a few statements' round trips.
    """
    now = _aware(now)
    inserts: list[dict[str, Any]] = []
    content_updates: list[dict[str, Any]] = []
    state_updates: list[dict[str, Any]] = []
    for c in d.changes:
        if c.action not in WRITING_ACTIONS:
            continue
        if c.action is Action.CANCEL:
            state_updates.append(
                {
                    "b_post_id": c.post_id,
                    "b_seen": str(c.status_before),
                    "status": str(c.status_after),
                    "status_reason": c.reason,
                    "updated_at": now,
                }
            )
            continue
        assert c.planned is not None
        values = _content_values(c.planned, c.content_hash)
        values.update(
            due_utc=c.due_after,  # the content's slot, or the operator's (see _decide)
            status=str(c.status_after),
            status_reason=c.stored_reason,
            updated_at=now,
        )
        if not c.exists:
            values.update(post_id=c.post_id, created_at=now, attempts=0)
            inserts.append(values)
        else:
            values.update(b_post_id=c.post_id, b_seen=str(c.status_before))
            content_updates.append(values)

    _bulk_insert(session, inserts, progress)
    content_columns = (*_CONTENT_COLUMNS, "status", "status_reason", "updated_at")
    state_columns = ("status", "status_reason", "updated_at")
    skipped = _bulk_update(session, content_updates, content_columns, progress)
    skipped += _bulk_update(session, state_updates, state_columns, progress)
    return skipped


def _bulk_update(
    session: Session,
    rows: list[dict[str, Any]],
    columns: tuple[str, ...],
    progress: Callable[[int], None] | None,
) -> int:
    """Guarded updates (``WHERE post_id = :b_post_id AND status = :b_seen``), in bulk.

    PostgreSQL: the rows are copied into a temporary table and applied by one
    ``UPDATE ... FROM``; SQLite: the driver's ``executemany``. Returns how many rows the guard
    skipped (their state changed since the diff).
    """
    if not rows:
        return 0
    conn = session.connection()
    assignments = ", ".join(f"{c} = u.{c}" for c in columns)
    if conn.dialect.name == "postgresql":
        names = ("b_post_id", "b_seen", *columns)
        raw: Any = conn.connection.driver_connection
        getter = itemgetter(*names)
        with raw.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE sync_update ON COMMIT DROP AS "  # noqa: S608 (constant names)
                f"SELECT post_id AS b_post_id, status AS b_seen, {', '.join(columns)} "
                "FROM post WITH NO DATA"
            )
            with cursor.copy(f"COPY sync_update ({', '.join(names)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(getter(row))
            cursor.execute(
                f"UPDATE post SET {assignments} FROM sync_update u "  # noqa: S608 (constant names)
                "WHERE post.post_id = u.b_post_id AND post.status = u.b_seen"
            )
            changed = int(cursor.rowcount)
            cursor.execute("DROP TABLE sync_update")
        if progress:
            progress(len(rows))
        return len(rows) - changed
    if conn.dialect.name == "sqlite":
        sets = ", ".join(f"{c} = ?" for c in columns)
        sql = f"UPDATE post SET {sets} WHERE post_id = ? AND status = ?"  # noqa: S608
        getter = itemgetter(*columns, "b_post_id", "b_seen")
        skipped = 0
        for chunk in _chunks(rows):
            for r in chunk:
                for name in ("due_utc", "updated_at"):
                    if name in r:
                        r[name] = _sqlite_datetime(r[name])
            result = conn.exec_driver_sql(sql, [getter(r) for r in chunk])
            skipped += len(chunk) - result.rowcount
            if progress:
                progress(len(chunk))
        return skipped
    guarded = (post_table.c.post_id == bindparam("b_post_id")) & (
        post_table.c.status == bindparam("b_seen")
    )
    stmt = update(post_table).where(guarded).values({c: bindparam(c) for c in columns})
    sane = conn.dialect.supports_sane_multi_rowcount
    skipped = 0
    for chunk in _chunks(rows):
        result = conn.execute(stmt, chunk)
        if sane and result.rowcount >= 0:
            skipped += len(chunk) - result.rowcount
        if progress:
            progress(len(chunk))
    return skipped


# --- the calendar lock -------------------------------------------------------------------------


@contextmanager
def _translate_busy(engine: Engine, timeout_s: float) -> Iterator[None]:
    try:
        yield
    except OperationalError as exc:
        message = str(exc.orig or exc).lower()
        if "locked" in message or "lock timeout" in message or "lock_timeout" in message:
            where = engine.url.render_as_string(hide_password=True)
            raise DatabaseBusy(
                f"the calendar is locked by another process ({where}); "
                f"waited {timeout_s:g} s: try again when the other sync or migration has finished"
            ) from None
        raise


def lock_calendar(session: Session, timeout_s: float = DEFAULT_LOCK_TIMEOUT_S) -> None:
    """Take the write lock of the calendar for the session's transaction.

    PostgreSQL: a transaction-scoped advisory lock (released at commit or rollback), waited for
    at most ``timeout_s``. SQLite: ``BEGIN IMMEDIATE`` — the database's own write lock, taken
    up front so the rows read for the diff cannot change before the write.
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SET LOCAL lock_timeout = '{int(timeout_s * 1000)}ms'"))
        conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SYNC_LOCK_KEY})
        conn.execute(text("SET LOCAL lock_timeout = 0"))
    elif conn.dialect.name == "sqlite":
        # The busy timeout only matters while waiting for the write lock: set it for this
        # BEGIN, then give the pooled connection its usual one back.
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {int(timeout_s * 1000)}")
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        finally:
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a diff allocates its ~100k small objects.

    None of them form cycles, yet each allocation burst triggers collections that rescan the
    whole plan; pausing them is a measurable share of an unchanged 50k-post re-sync.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def plan(engine: Engine, planned: Sequence[PlannedPost], now: datetime) -> Diff:
    """What sync would do; reads only. A brand-new SQLite calendar is compared as empty."""
    if is_new_sqlite(engine):
        with Session(engine) as session, _gc_paused():
            return diff(session, planned, now, existing={})
    ensure_schema(engine)
    with Session(engine) as session, _gc_paused():
        return diff(session, planned, now)


def sync(
    engine: Engine,
    planned: Sequence[PlannedPost],
    now: datetime,
    *,
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    on_diff: Callable[[Diff], Callable[[int], None] | None] | None = None,
) -> SyncResult:
    """Make the calendar match ``planned`` in one transaction, under the calendar lock.

    A brand-new SQLite file (the embedded default) gets its schema first, so a fresh clone
    needs no extra command; every other database must be upgraded explicitly. ``on_diff`` is
    called with the diff before writing and may return a progress callback (rows written).
    """
    created = False
    if is_new_sqlite(engine):
        upgrade(engine)
        created = True
    ensure_schema(engine)
    with _translate_busy(engine, lock_timeout_s), Session(engine) as session, _gc_paused():
        try:
            lock_calendar(session, lock_timeout_s)
            d = diff(session, planned, now)
            progress = on_diff(d) if on_diff else None
            skipped = apply(session, d, now, progress=progress)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return SyncResult(diff=d, skipped=skipped, created_schema=created)


# --- what the calendar, status and dispatcher read ---------------------------------------------


def _opt(dt: datetime | None) -> datetime | None:
    return None if dt is None else _aware(dt)


def _row_of(post: Any) -> CalendarRow:
    """A CalendarRow from a ``post`` row (Core result row or ORM object: same attributes)."""
    return CalendarRow(
        post_id=post.post_id,
        story=post.story,
        beat=post.beat,
        network=post.network,
        market=post.market,
        account=post.account,
        account_name=post.account_name,
        campaign=post.campaign,
        timezone=post.timezone,
        due_utc=_aware(post.due_utc),
        status=post.status,
        status_reason=post.status_reason,
        text=post.text,
        title=post.title,
        link=post.link,
        media=tuple(json.loads(post.media_json or "[]")),
        first_comment=post.first_comment,
        attempts=post.attempts,
        remote_id=post.remote_id,
        url=post.url,
        last_error=post.last_error,
        created_at=_aware(post.created_at),
        updated_at=_aware(post.updated_at),
        published_at=_opt(post.published_at),
    )


def calendar_rows(
    session: Session,
    *,
    from_date: date | None = None,
    to_date: date | None = None,
    networks: Iterable[str] = (),
    markets: Iterable[str] = (),
    statuses: Iterable[str] = (),
) -> list[CalendarRow]:
    """Posts in due order; ``from_date``/``to_date`` are inclusive dates in each post's own zone.

    The database narrows by a UTC window one day wider on each side (zones run from UTC-12 to
    UTC+14); the exact local-date test is done here, per post, in its market's zone.
    """
    # Core rows, not ORM objects: no identity map to fill for a 50k-post export.
    stmt = select(post_table).order_by(post_table.c.due_utc, post_table.c.post_id)
    if from_date is not None:
        start = datetime.combine(from_date - timedelta(days=1), datetime.min.time(), UTC)
        stmt = stmt.where(post_table.c.due_utc >= start)
    if to_date is not None:
        end = datetime.combine(to_date + timedelta(days=2), datetime.min.time(), UTC)
        stmt = stmt.where(post_table.c.due_utc < end)
    if nets := list(networks):
        stmt = stmt.where(post_table.c.network.in_(nets))
    if mkts := list(markets):
        stmt = stmt.where(post_table.c.market.in_(mkts))
    if sts := list(statuses):
        stmt = stmt.where(post_table.c.status.in_(sts))
    rows = [_row_of(p) for p in session.execute(stmt)]
    if from_date is None and to_date is None:
        return rows
    lo, hi = from_date or date.min, to_date or date.max
    return [r for r in rows if lo <= r.due_local.date() <= hi]


def state_counts(session: Session) -> dict[str, int]:
    """How many posts are in each state, every state of DESIGN §6 listed (zeros included)."""
    found = dict(
        session.execute(
            select(post_table.c.status, func.count()).group_by(post_table.c.status)
        ).all()
    )
    counts = {str(s): int(found.pop(str(s), 0)) for s in PostState}
    counts.update({str(k): int(v) for k, v in found.items()})
    return counts


def post_detail(session: Session, post_id: str) -> tuple[CalendarRow, list[AttemptRow]]:
    """One post with its attempts, oldest first; NotFound names close matches."""
    post = session.get(Post, post_id)
    if post is None:
        story = post_id.split("/", 1)[0]
        ids = session.execute(
            select(post_table.c.post_id).where(post_table.c.story == story)
        ).scalars()
        close = closest(post_id, ids, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise NotFound(f"no post {post_id!r} in the calendar{hint}")
    attempts = session.execute(
        select(attempt_table)
        .where(attempt_table.c.post_id == post_id)
        .order_by(attempt_table.c.started_at, attempt_table.c.id)
    ).all()
    return _row_of(post), [
        AttemptRow(
            started_at=_aware(a.started_at),
            finished_at=_opt(a.finished_at),
            outcome=a.outcome,
            error=a.error,
            http_status=a.http_status,
            latency_ms=a.latency_ms,
            worker=a.worker,
        )
        for a in attempts
    ]


def due_query(now: datetime, limit: int = 100) -> Any:
    """ "What is due now": the statement the dispatcher's tick runs (and the benchmark measures).

    ``status = 'planned' AND due_utc <= now ORDER BY due_utc LIMIT n`` is a range scan of
    ``ix_post_status_due``: its cost follows the number of due posts, not the history's size.
    """
    return (
        select(post_table.c.post_id, post_table.c.due_utc)
        .where(post_table.c.status == PostState.PLANNED, post_table.c.due_utc <= _aware(now))
        .order_by(post_table.c.due_utc)
        .limit(limit)
    )
