"""What each published post earned, for ``storyline report``: one SQL read, rolled up three ways.

The read (SQLAlchemy Core) returns one row per published post matching the filters, with

* its **latest snapshot** (``metric_snapshot``, latest ``taken_at``, then latest id): found per
  post by an ``ORDER BY taken_at DESC, id DESC LIMIT 1`` on ``ix_metric_snapshot_latest``
  (migration ``0005_report_indexes``), correlated on SQLite, ``LEFT JOIN LATERAL`` on
  PostgreSQL (:func:`statement`), so its cost follows the posts reported, not the snapshots
  kept;
* its **web outcomes** (``web_outcome`` rows whose ``utm_content`` is the post id), summed by
  the database.

Figures are defined once, here:

* reach: the network's ``reach``; where it gives only ``impressions`` (Facebook, X), those;
* engagement: likes + comments + shares + saves; its rate is engagement / reach, over the
  posts whose reach and engagement are both known;
* a figure no snapshot gave stays ``None`` (missing, not zero) through every sum: a sum of
  nothing but missing values is missing.

The roll-ups (the total, network x market, the story's arc beat by beat in the order the beats
went out) add the per-post rows up in Python: exact integers, and no second scan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple

from sqlalchemy import String, and_, case, func, null, select, true, type_coerce
from sqlalchemy.engine import Engine

from scheduler.calendar.database import from_db
from scheduler.calendar.tables import MetricSnapshot, Post, WebOutcome
from scheduler.core.errors import NotFound
from scheduler.core.lifecycle import PostState
from scheduler.core.suggest import unknown

POST = Post.__table__  # type: ignore[attr-defined]
SNAPSHOT = MetricSnapshot.__table__  # type: ignore[attr-defined]
OUTCOME = WebOutcome.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class Filters:
    stories: tuple[str, ...] = ()
    campaigns: tuple[str, ...] = ()
    markets: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()
    #: Publication days, UTC, both included.
    from_day: date | None = None
    to_day: date | None = None


def _add(a: int | float | None, b: int | float | None) -> Any:
    if a is None:
        return b
    return a if b is None else a + b


@dataclass(slots=True)
class Figures:
    """What one post, or a group of posts, earned. ``None``: no snapshot or export said."""

    posts: int = 0
    reach: int | None = None
    engagement: int | None = None
    clicks: int | None = None
    sessions: int = 0
    conversions: int = 0
    revenue: float | None = None
    #: Engagement and reach of the posts that have both: the rate of a group leaves out a post
    #: whose reach is missing, rather than counting its engagement against others' reach.
    rated_engagement: int = 0
    rated_reach: int = 0

    @property
    def engagement_rate(self) -> float | None:
        if not self.rated_reach:
            return None
        return self.rated_engagement / self.rated_reach

    def add(self, other: Figures) -> None:
        self.posts += other.posts
        self.reach = _add(self.reach, other.reach)
        self.engagement = _add(self.engagement, other.engagement)
        self.clicks = _add(self.clicks, other.clicks)
        self.sessions += other.sessions
        self.conversions += other.conversions
        self.revenue = _add(self.revenue, other.revenue)
        self.rated_engagement += other.rated_engagement
        self.rated_reach += other.rated_reach


class PostFigures(NamedTuple):
    """One published post and what it earned: a tuple, made straight from the SQL row (a
    report may hold 100,000 of them); :attr:`figures` builds the :class:`Figures` on demand."""

    post_id: str
    story: str
    beat: str
    network: str
    market: str
    campaign: str
    #: As the driver returns them (a datetime, or SQLite's text, which sorts the same within
    #: one database): :attr:`published_utc` for aware UTC. Parsing 100,000 of each up front
    #: was a fifth of a whole-calendar report on SQLite.
    due_utc: datetime | str
    published_at: datetime | str | None
    reach: int | None
    engagement: int | None
    clicks: int | None
    sessions: int
    conversions: int
    revenue: float | None

    @property
    def published_utc(self) -> datetime | None:
        value = self.published_at
        return from_db(datetime.fromisoformat(value) if isinstance(value, str) else value)

    @property
    def figures(self) -> Figures:
        return post_figures(
            reach=self.reach,
            engagement=self.engagement,
            clicks=self.clicks,
            sessions=self.sessions,
            conversions=self.conversions,
            revenue=None if self.revenue is None else float(self.revenue),
        )


@dataclass(frozen=True, slots=True)
class ArcBeat:
    story: str
    beat: str
    figures: Figures


@dataclass(frozen=True, slots=True)
class Report:
    filters: Filters
    posts: tuple[PostFigures, ...]
    total: Figures
    #: The campaign of the cross-channel table: the one campaign of the posts, or None if several.
    campaign: str | None
    #: network -> market -> figures, sorted by name.
    cross: dict[str, dict[str, Figures]] = field(default_factory=dict)
    #: Per story, its beats in the order they went out (first due time).
    arc: tuple[ArcBeat, ...] = ()


def check_filters(engine: Engine, filters: Filters) -> None:
    """:class:`NotFound` with a "did you mean" for a story, campaign, market or network that
    no post of the calendar has."""
    wanted = (
        ("story", POST.c.story, filters.stories),
        ("campaign", POST.c.campaign, filters.campaigns),
        ("market", POST.c.market, filters.markets),
        ("network", POST.c.network, filters.networks),
    )
    with engine.connect() as conn:
        for kind, column, values in wanted:
            if not values:
                continue
            known = sorted(v for v in conn.scalars(select(column).distinct()) if v)
            for value in values:
                if value not in known:
                    raise NotFound(unknown(kind, value, known))


def latest_snapshot_id() -> Any:
    """The id of a post's latest snapshot, correlated to the ``post`` row of the outer query."""
    return (
        select(SNAPSHOT.c.id)
        .where(SNAPSHOT.c.post_id == POST.c.post_id)
        .order_by(SNAPSHOT.c.taken_at.desc(), SNAPSHOT.c.id.desc())
        .limit(1)
        .correlate(POST)
        .scalar_subquery()
    )


def statement(filters: Filters, *, lateral: bool = False) -> Any:
    """One row per published post of ``filters``: the post, its latest snapshot, its outcomes.

    ``lateral`` (PostgreSQL) reads the latest snapshot in a ``LEFT JOIN LATERAL``: joined by
    id instead, PostgreSQL's planner hashes the whole snapshot table, a cost that follows the
    snapshots kept. SQLite has no LATERAL and needs none: it looks each id up by primary key.
    """
    where = [POST.c.status == PostState.PUBLISHED.value]
    for column, values in (
        (POST.c.story, filters.stories),
        (POST.c.campaign, filters.campaigns),
        (POST.c.market, filters.markets),
        (POST.c.network, filters.networks),
    ):
        if values:
            where.append(column.in_(values))
    if filters.from_day is not None:
        where.append(POST.c.published_at >= datetime.combine(filters.from_day, time(), UTC))
    if filters.to_day is not None:
        end = datetime.combine(filters.to_day + timedelta(days=1), time(), UTC)
        where.append(POST.c.published_at < end)
    outcomes = (
        select(
            OUTCOME.c.utm_content,
            func.sum(OUTCOME.c.sessions).label("sessions"),
            func.sum(OUTCOME.c.conversions).label("conversions"),
            func.sum(OUTCOME.c.revenue).label("revenue"),
        )
        .group_by(OUTCOME.c.utm_content)
        .subquery("outcomes")
    )
    if lateral:
        posts: Any = POST
        snap: Any = (
            select(*(SNAPSHOT.c[name] for name in _SNAPSHOT_COLUMNS))
            .where(SNAPSHOT.c.post_id == POST.c.post_id)
            .order_by(SNAPSHOT.c.taken_at.desc(), SNAPSHOT.c.id.desc())
            .limit(1)
            .lateral("latest")
        )
        joined = POST.outerjoin(snap, true())
    else:
        posts = (
            select(*(POST.c[name] for name in _POST_COLUMNS), latest_snapshot_id().label("snap"))
            .where(and_(*where))
            .subquery("base")
        )
        snap = SNAPSHOT
        joined = posts.outerjoin(SNAPSHOT, SNAPSHOT.c.id == posts.c.snap)
        where = []
    counts = (snap.c.likes, snap.c.comments, snap.c.shares, snap.c.saves)
    engagement = case(
        (and_(*(c.is_(None) for c in counts)), null()),
        else_=sum_of(func.coalesce(c, 0) for c in counts),
    )
    return (
        select(
            *(posts.c[name] for name in _POST_COLUMNS[:6]),
            # Read as the driver gives them: SQLite's text is parsed only for the posts shown.
            type_coerce(posts.c.due_utc, String).label("due_utc"),
            type_coerce(posts.c.published_at, String).label("published_at"),
            func.coalesce(snap.c.reach, snap.c.impressions).label("reach"),
            engagement.label("engagement"),
            snap.c.clicks,
            func.coalesce(outcomes.c.sessions, 0).label("sessions"),
            func.coalesce(outcomes.c.conversions, 0).label("conversions"),
            outcomes.c.revenue,
        )
        .select_from(joined.outerjoin(outcomes, outcomes.c.utm_content == posts.c.post_id))
        .where(*where)
        .order_by(posts.c.published_at, posts.c.post_id)
    )


_POST_COLUMNS = (
    "post_id",
    "story",
    "beat",
    "network",
    "market",
    "campaign",
    "due_utc",
    "published_at",
)
_SNAPSHOT_COLUMNS = ("reach", "impressions", "likes", "comments", "shares", "saves", "clicks")


def sum_of(terms: Iterable[Any]) -> Any:
    items = list(terms)
    total = items[0]
    for term in items[1:]:
        total = total + term
    return total


def post_figures(
    *,
    reach: int | None,
    engagement: int | None,
    clicks: int | None,
    sessions: int,
    conversions: int,
    revenue: float | None,
) -> Figures:
    """One post's figures (its rate counts only if both reach and engagement are known)."""
    rated = reach is not None and engagement is not None
    return Figures(
        posts=1,
        reach=reach,
        engagement=engagement,
        clicks=clicks,
        sessions=sessions,
        conversions=conversions,
        revenue=revenue,
        rated_engagement=(engagement or 0) if rated else 0,
        rated_reach=(reach or 0) if rated else 0,
    )


def build(engine: Engine, filters: Filters) -> Report:
    """The report of ``filters``; unknown names are refused first (:func:`check_filters`)."""
    check_filters(engine, filters)
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            # Compiling the plan (JIT) costs more than the report itself: its cost estimate
            # crosses jit_above_cost long before the query takes a second.
            conn.exec_driver_sql("SET LOCAL jit = off")
        result = conn.execute(statement(filters, lateral=conn.dialect.name == "postgresql"))
        posts = [PostFigures._make(row) for row in result]
    return roll_up(filters, posts)


#: Where each sum sits in a roll-up's accumulator list.
_POSTS, _REACH, _ENG, _CLICKS, _SESSIONS, _CONV, _REVENUE, _RATED_ENG, _RATED_REACH, _FIRST = range(
    10
)


def roll_up(filters: Filters, posts: Sequence[PostFigures]) -> Report:
    """Total, network x market and the arc, in one pass with plain list arithmetic: each post
    is added to its network x market cell and to its story's beat (a few thousand groups for
    100,000 posts); the total is the sum of the cells."""
    cells: dict[tuple[str, str], list[Any]] = {}
    beats: dict[tuple[str, str], list[Any]] = {}
    campaigns: set[str] = set()
    for p in posts:
        cell = cells.get((p.network, p.market))
        if cell is None:
            cell = cells[(p.network, p.market)] = [0, None, None, None, 0, 0, None, 0, 0, None]
        beat = beats.get((p.story, p.beat))
        if beat is None:
            beat = beats[(p.story, p.beat)] = [0, None, None, None, 0, 0, None, 0, 0, p.due_utc]
        elif p.due_utc < beat[_FIRST]:
            beat[_FIRST] = p.due_utc
        reach, engagement, clicks, revenue = p.reach, p.engagement, p.clicks, p.revenue
        for acc in (cell, beat):
            acc[_POSTS] += 1
            if reach is not None:
                acc[_REACH] = reach if acc[_REACH] is None else acc[_REACH] + reach
                if engagement is not None:
                    acc[_RATED_ENG] += engagement
                    acc[_RATED_REACH] += reach
            if engagement is not None:
                acc[_ENG] = engagement if acc[_ENG] is None else acc[_ENG] + engagement
            if clicks is not None:
                acc[_CLICKS] = clicks if acc[_CLICKS] is None else acc[_CLICKS] + clicks
            acc[_SESSIONS] += p.sessions
            acc[_CONV] += p.conversions
            if revenue is not None:
                acc[_REVENUE] = revenue if acc[_REVENUE] is None else acc[_REVENUE] + revenue
        campaigns.add(p.campaign)
    total = Figures()
    cross: dict[str, dict[str, Figures]] = {}
    for (network, market), acc in sorted(cells.items()):
        figures = _figures_of(acc)
        total.add(figures)
        cross.setdefault(network, {})[market] = figures
    arc = sorted(beats.items(), key=lambda item: (item[0][0], item[1][_FIRST], item[0][1]))
    return Report(
        filters=filters,
        posts=tuple(posts),
        total=total,
        campaign=next(iter(campaigns)) if len(campaigns) == 1 else None,
        cross=cross,
        arc=tuple(ArcBeat(story=s, beat=b, figures=_figures_of(acc)) for (s, b), acc in arc),
    )


def _figures_of(acc: list[Any]) -> Figures:
    figures = Figures(*acc[:_FIRST])
    if figures.revenue is not None:
        figures.revenue = float(figures.revenue)
    return figures


def markets_of(report: Report) -> list[str]:
    """Every market of the cross-channel table, for its columns."""
    names: Iterable[str] = (m for row in report.cross.values() for m in row)
    return sorted(set(names))
