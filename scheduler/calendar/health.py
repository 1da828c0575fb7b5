"""What the calendar says about the service itself: the beat's heartbeat, the accounts that
need a person, and the counts the metrics show.

The beat's tick writes its heartbeat here, so ``storyline health`` (another process, maybe
another container) can tell whether anything is claiming posts; the metrics endpoint reads
posts by state and token expiries from here at scrape time, so every worker process serves
the same numbers whatever pool it runs (docs/decisions.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from scheduler.calendar.database import from_db
from scheduler.calendar.tables import AccountToken, Heartbeat, Post
from scheduler.core.lifecycle import HoldReason, PostState

POST = Post.__table__  # type: ignore[attr-defined]
HEARTBEAT = Heartbeat.__table__  # type: ignore[attr-defined]
TOKEN = AccountToken.__table__  # type: ignore[attr-defined]

#: The heartbeat a tick writes.
BEAT = "beat"

#: Hold reasons that only a person can clear for the whole account.
ACCOUNT_HOLDS = (HoldReason.NEEDS_REAUTH, HoldReason.NO_CREDENTIALS)


def record_heartbeat(engine: Engine, name: str, at: datetime, detail: str | None = None) -> None:
    """Upsert ``name``'s heartbeat: an update, else an insert (a racing insert lost to
    another process's is as good as ours)."""
    values = {"at": at, "detail": detail}
    with engine.begin() as conn:
        if conn.execute(update(HEARTBEAT).where(HEARTBEAT.c.name == name).values(values)).rowcount:
            return
    try:
        with engine.begin() as conn:
            conn.execute(insert(HEARTBEAT).values(name=name, **values))
    except IntegrityError:
        pass


def last_heartbeat(engine: Engine, name: str = BEAT) -> datetime | None:
    with engine.connect() as conn:
        at = conn.execute(select(HEARTBEAT.c.at).where(HEARTBEAT.c.name == name)).scalar()
    return from_db(at)


@dataclass(frozen=True)
class Attention:
    """An account a person must act on, and why."""

    network: str
    account: str
    reason: str
    held_posts: int = 0

    def as_json(self) -> dict[str, object]:
        return {
            "network": self.network,
            "account": self.account,
            "reason": self.reason,
            "held_posts": self.held_posts,
        }


def needing_attention(engine: Engine) -> list[Attention]:
    """Accounts whose posts are held for re-auth or missing credentials, and accounts whose
    stored token the network refused (``account_token.status`` other than ``ok``)."""
    found: dict[tuple[str, str], Attention] = {}
    with engine.connect() as conn:
        held = conn.execute(
            select(POST.c.network, POST.c.account, POST.c.hold_reason, func.count())
            .where(POST.c.status == PostState.HELD, POST.c.hold_reason.in_(ACCOUNT_HOLDS))
            .group_by(POST.c.network, POST.c.account, POST.c.hold_reason)
        ).all()
        tokens = conn.execute(
            select(TOKEN.c.network, TOKEN.c.account, TOKEN.c.status, TOKEN.c.last_error).where(
                TOKEN.c.status != "ok"
            )
        ).all()
    for network, account, reason, count in held:
        key = (network, account)
        before = found.get(key)
        total = count + (before.held_posts if before else 0)
        found[key] = Attention(network, account, str(reason), total)
    for network, account, status, error in tokens:
        key = (network, account)
        posts = found[key].held_posts if key in found else 0
        why = f"token {status}" + (f": {error}" if error else "")
        found[key] = Attention(network, account, why, posts)
    return [found[k] for k in sorted(found)]


def posts_by_state(engine: Engine) -> dict[str, int]:
    """Every lifecycle state with its count (0 for a state no post is in)."""
    counts = dict.fromkeys((str(s) for s in PostState), 0)
    with engine.connect() as conn:
        for status, count in conn.execute(
            select(POST.c.status, func.count()).group_by(POST.c.status)
        ):
            counts[str(status)] = int(count)
    return counts


def token_expiries(engine: Engine) -> list[tuple[str, str, datetime]]:
    """(network, account, expires_at) of every stored token that expires."""
    with engine.connect() as conn:
        rows = conn.execute(
            select(TOKEN.c.network, TOKEN.c.account, TOKEN.c.expires_at).where(
                TOKEN.c.expires_at.is_not(None)
            )
        ).all()
    out = []
    for network, account, expires in rows:
        at = from_db(expires)
        assert at is not None
        out.append((str(network), str(account), at))
    return out
