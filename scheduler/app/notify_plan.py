"""Which notifications are due: pure decisions over typed rows of the calendar.

Why a scan rather than a hook in the publish path: publishing must never wait for (or fail
because of) a notification, so nothing here runs in it. A beat task reads the calendar,
hands the rows to :func:`plan_events`, and records what it answers (:mod:`notify_store`).

Every notification is about a *subject* (a post, an account's authorisation, an account's
token expiry, a market's day) that is in a *condition* (held for a reason, failed, needs
re-auth, expires on a date...). An event is recorded each time a subject's condition changes
to one worth telling; a subject that is fine again gets a silent ``cleared`` event, so that
the next problem is told again. The event key is ``<subject>#<n>``: two beats that scan at
once propose the same key, and the database's unique key lets exactly one of them record it.

No database, no clock, no environment: ``now`` and every row come in as arguments.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from scheduler.core.lifecycle import HoldReason, PostState

#: Event kinds, as stored in ``notification_event.kind``.
HELD, FAILED, NEEDS_REVIEW = "held", "failed", "needs_review"
REAUTH, EXPIRING, DIGEST, CLEARED = "reauth", "expiring", "digest", "cleared"
#: An account whose network refuses its insights (the metrics pull's ``no_permission``).
INSIGHTS = "insights"
POST_KINDS = {PostState.HELD: HELD, PostState.FAILED: FAILED, PostState.NEEDS_REVIEW: NEEDS_REVIEW}
#: Kinds that are told (``cleared`` only closes a subject).
TOLD = (HELD, FAILED, NEEDS_REVIEW, REAUTH, EXPIRING, INSIGHTS, DIGEST)
#: States a digest counts as "going out in the next 24 h".
UPCOMING = (PostState.PLANNED, PostState.QUEUED, PostState.RETRY_WAIT)
#: A digest lists this many posts of each section; the rest is a count.
DIGEST_LISTED = 50
#: Token statuses (``account_token.status``) that need a person.
REFUSED_TOKEN = frozenset({"refused"})


@dataclass(frozen=True, slots=True)
class PostFact:
    """One post as the scan reads it."""

    post_id: str
    network: str
    market: str
    account: str
    status: str
    due_utc: datetime
    timezone: str
    hold_reason: str | None = None
    reason: str | None = None
    account_name: str = ""


@dataclass(frozen=True, slots=True)
class TokenFact:
    """One ``account_token`` row; ``renewable``: the beat renews it without a person (its
    access token's expiry tells nothing then, only its refresh token's)."""

    network: str
    account: str
    status: str = "ok"
    expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    renewable: bool = False
    last_error: str | None = None

    def horizon(self) -> datetime | None:
        """When this account stops publishing unless a person acts."""
        return self.refresh_expires_at if self.renewable else self.expires_at


@dataclass(frozen=True, slots=True)
class InsightsFact:
    """An account the metrics pull found without the insights permission (``metric_state``):
    its posts go out, but what they earn cannot be read until someone grants it."""

    network: str
    account: str
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Latest:
    """The newest event recorded for one subject."""

    subject: str
    seq: int
    kind: str
    condition: str


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to record, with the channels that must hear it (none for ``cleared``)."""

    key: str
    kind: str
    detail: Mapping[str, Any]
    channels: tuple[str, ...] = ()
    market: str | None = None
    network: str | None = None
    account: str | None = None
    post_id: str | None = None


@dataclass(frozen=True, slots=True)
class Routes:
    """Channel ids that hear everything, and those that hear one market only."""

    everywhere: tuple[str, ...] = ()
    by_market: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def channels_for(self, markets: Iterable[str]) -> tuple[str, ...]:
        out = list(self.everywhere)
        for market in markets:
            out += self.by_market.get(market_key(market), ())
        return tuple(dict.fromkeys(out))

    @property
    def any(self) -> bool:
        return bool(self.everywhere) or any(self.by_market.values())


def market_key(market: str) -> str:
    """``STORYLINE_NOTIFY_<MARKET>`` spells a market upper-case with ``_`` for ``-``."""
    return market.lower().replace("-", "_")


def post_subject(post_id: str) -> str:
    return f"post:{post_id}"


def reauth_subject(network: str, account: str) -> str:
    return f"reauth:{network}:{account}"


def insights_subject(network: str, account: str) -> str:
    return f"insights:{network}:{account}"


def expiry_subject(network: str, account: str) -> str:
    return f"expiry:{network}:{account}"


def digest_key(market: str, day: date) -> str:
    return f"digest:{market}:{day.isoformat()}"


def key_of(subject: str, latest: Latest | None) -> str:
    return f"{subject}#{(latest.seq if latest else 0) + 1}"


def subject_of(key: str) -> tuple[str, int]:
    """``post:a/b/x/fr#3`` -> (``post:a/b/x/fr``, 3); a key without ``#n`` is its own subject."""
    subject, sep, n = key.rpartition("#")
    return (subject, int(n)) if sep and n.isdigit() else (key, 0)


def _iso(dt: datetime) -> str:
    return dt.isoformat()


def _post_condition(p: PostFact) -> str | None:
    kind = POST_KINDS.get(PostState(p.status)) if p.status in set(PostState) else None
    if kind is None:
        return None
    return f"{kind}:{p.hold_reason}" if kind == HELD and p.hold_reason else kind


def _changed(latest: Latest | None, condition: str | None) -> bool:
    """A subject is told when its condition differs from the last one recorded for it."""
    if condition is None:
        return latest is not None and latest.kind != CLEARED
    return latest is None or latest.kind == CLEARED or latest.condition != condition


def _cleared(subject: str, latest: Latest, **where: str | None) -> NewEvent:
    return NewEvent(
        key=key_of(subject, latest),
        kind=CLEARED,
        detail={"condition": "", "was": latest.condition},
        **where,  # type: ignore[arg-type]
    )


def post_events(
    posts: Iterable[PostFact], latest: Mapping[str, Latest], routes: Routes
) -> list[NewEvent]:
    """Posts that went held, failed or needs_review since last told; posts told about that are
    fine again (``latest`` holds every open post subject) get their silent ``cleared``."""
    out: list[NewEvent] = []
    seen: set[str] = set()
    for p in posts:
        subject = post_subject(p.post_id)
        seen.add(subject)
        condition = _post_condition(p)
        before = latest.get(subject)
        if not _changed(before, condition):
            continue
        if condition is None:
            assert before is not None
            out.append(_cleared(subject, before, post_id=p.post_id))
            continue
        out.append(
            NewEvent(
                key=key_of(subject, before),
                kind=condition.split(":", 1)[0],
                detail={
                    "condition": condition,
                    "status": p.status,
                    "hold_reason": p.hold_reason,
                    "reason": p.reason,
                    "due_utc": _iso(p.due_utc),
                    "timezone": p.timezone,
                    "account_name": p.account_name,
                },
                channels=routes.channels_for([p.market]),
                market=p.market,
                network=p.network,
                account=p.account,
                post_id=p.post_id,
            )
        )
    for subject, before in latest.items():
        if subject.startswith("post:") and subject not in seen and before.kind != CLEARED:
            out.append(_cleared(subject, before, post_id=subject.removeprefix("post:")))
    return out


def account_events(
    now: datetime,
    posts: Iterable[PostFact],
    tokens: Iterable[TokenFact],
    latest: Mapping[str, Latest],
    routes: Routes,
    markets_of: Mapping[tuple[str, str], Sequence[str]],
    expiry_days: int,
    no_insights: Iterable[InsightsFact] = (),
) -> list[NewEvent]:
    """Accounts that need re-auth (posts held ``needs_reauth``, or a refused token), tokens
    that stop working within ``expiry_days`` without a person, and accounts whose insights
    the network refuses."""
    reauth: dict[tuple[str, str], dict[str, Any]] = {}
    seen_in: dict[tuple[str, str], set[str]] = {}
    for p in posts:
        if p.status == PostState.HELD and p.hold_reason == HoldReason.NEEDS_REAUTH:
            entry = reauth.setdefault((p.network, p.account), {"held": 0, "reason": p.reason})
            entry["held"] += 1
            seen_in.setdefault((p.network, p.account), set()).add(p.market)
    expiring: dict[tuple[str, str], datetime] = {}
    for t in tokens:
        if t.status in REFUSED_TOKEN:
            entry = reauth.setdefault((t.network, t.account), {"held": 0, "reason": None})
            entry["reason"] = entry["reason"] or t.last_error or "the network refused the token"
        elif (end := t.horizon()) is not None and end - now <= timedelta(days=expiry_days):
            expiring[(t.network, t.account)] = end
    out: list[NewEvent] = []

    def told(
        subject: str, kind: str, condition: str | None, where: tuple[str, str], **d: Any
    ) -> None:
        before = latest.get(subject)
        if not _changed(before, condition):
            return
        network, account = where
        if condition is None:
            assert before is not None
            out.append(_cleared(subject, before, network=network, account=account))
            return
        markets = tuple(sorted({*markets_of.get(where, ()), *seen_in.get(where, ())}))
        out.append(
            NewEvent(
                key=key_of(subject, before),
                kind=kind,
                detail={"condition": condition, **d},
                channels=routes.channels_for(markets),
                market=markets[0] if len(markets) == 1 else None,
                network=network,
                account=account,
            )
        )

    blind = {(f.network, f.account): f.detail for f in no_insights}
    for where, entry in reauth.items():
        told(reauth_subject(*where), REAUTH, REAUTH, where, **entry)
    for where, why in blind.items():
        told(insights_subject(*where), INSIGHTS, INSIGHTS, where, reason=why)
    for where, end in expiring.items():
        told(
            expiry_subject(*where), EXPIRING, f"{EXPIRING}:{_iso(end)}", where, expires_at=_iso(end)
        )
    for subject in list(latest):
        kind, _, rest = subject.partition(":")
        network, _, account = rest.partition(":")
        where = (network, account)
        if kind == "reauth" and where not in reauth:
            told(subject, REAUTH, None, where)
        elif kind == "expiry" and where not in expiring:
            told(subject, EXPIRING, None, where)
        elif kind == INSIGHTS and where not in blind:
            told(subject, INSIGHTS, None, where)
    return out


def digest_due(now: datetime, zones: Mapping[str, str], hour: int | None) -> dict[str, date]:
    """Markets whose local clock is in the digest hour now, with their local date (the digest
    key: one per market and local day, whatever the number of scans in that hour)."""
    if hour is None:
        return {}
    due = {}
    for market, zone in zones.items():
        local = now.astimezone(ZoneInfo(zone))
        if local.hour == hour:
            due[market] = local.date()
    return due


def digest_event(
    now: datetime,
    market: str,
    day: date,
    zone: str,
    posts: Iterable[PostFact],
    routes: Routes,
) -> NewEvent:
    """A market's daily digest: what goes out in the next 24 h, and what is held."""
    tz = ZoneInfo(zone)
    until = now + timedelta(hours=24)
    upcoming = sorted(
        (p for p in posts if p.status in UPCOMING and now <= p.due_utc < until),
        key=lambda p: (p.due_utc, p.post_id),
    )
    held = sorted((p for p in posts if p.status == PostState.HELD), key=lambda p: p.post_id)

    def listed(ps: list[PostFact]) -> list[dict[str, str | None]]:
        return [
            {
                "post_id": p.post_id,
                "due_local": p.due_utc.astimezone(tz).strftime("%Y-%m-%d %H:%M %Z"),
                "reason": p.reason,
            }
            for p in ps[:DIGEST_LISTED]
        ]

    return NewEvent(
        key=digest_key(market, day),
        kind=DIGEST,
        detail={
            "date": day.isoformat(),
            "zone": zone,
            "upcoming_count": len(upcoming),
            "upcoming": listed(upcoming),
            "held_count": len(held),
            "held": listed(held),
        },
        channels=routes.channels_for([market]),
        market=market,
    )


def plan_events(
    now: datetime,
    *,
    posts: Sequence[PostFact],
    tokens: Sequence[TokenFact] = (),
    latest: Mapping[str, Latest],
    routes: Routes,
    markets_of: Mapping[tuple[str, str], Sequence[str]] | None = None,
    expiry_days: int = 7,
    no_insights: Sequence[InsightsFact] = (),
) -> list[NewEvent]:
    """Every post and account event due now (digests: :func:`digest_due`, :func:`digest_event`)."""
    return post_events(posts, latest, routes) + account_events(
        now, posts, tokens, latest, routes, markets_of or {}, expiry_days, no_insights
    )
