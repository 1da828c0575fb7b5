"""Sync 50k posts into an empty calendar, then re-sync with no change (SQLite and PostgreSQL).

Targets (docs/benchmarks.md): first sync < 10 s, re-sync with no change < 3 s, on each database. The
posts are built in code (250 stories x 2 beats x 10 networks x 10 markets) so the figure is the
calendar's cost alone, not rendering's. Each PostgreSQL run makes and drops its own database.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from scheduler.calendar import apply, migrate, queries
from scheduler.calendar.database import make_engine
from scheduler.core.post import PlannedPost, post_id

PG_ADMIN_URL = os.environ.get(
    "STORYLINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
NETWORKS = ("facebook", "instagram", "x", "linkedin", "youtube", "weibo", "mastodon", "bluesky")
NETWORKS += ("threads", "webhook")
MARKETS = {
    "fr": "Europe/Paris",
    "de": "Europe/Berlin",
    "gb": "Europe/London",
    "it": "Europe/Rome",
    "hu": "Europe/Budapest",
    "br": "America/Sao_Paulo",
    "cn": "Asia/Shanghai",
    "us": "America/New_York",
    "jp": "Asia/Tokyo",
    "au": "Australia/Sydney",
}
FIRST_TARGET_S, RESYNC_TARGET_S = 10.0, 3.0


def posts(n_stories: int) -> list[PlannedPost]:
    """``n_stories`` x 2 beats x 10 networks x 10 markets posts, spread over a year."""
    out: list[PlannedPost] = []
    for s in range(n_stories):
        story = f"story-{s:04d}"
        launch = NOW + timedelta(days=1 + s % 365, hours=s % 7)
        for beat, offset in (("teaser", timedelta(days=-1)), ("reveal", timedelta(0))):
            for network in NETWORKS:
                for market, zone in MARKETS.items():
                    due = launch + offset
                    out.append(
                        PlannedPost(
                            post_id=post_id(story, beat, network, market),
                            story=story,
                            beat=beat,
                            network=network,
                            market=market,
                            account=f"brand_{market}",
                            account_name=f"Brand {market.upper()}",
                            timezone=zone,
                            due_utc=due,
                            due_local=due.astimezone(ZoneInfo(zone)),
                            text=f"{story} {beat}: the comfort SUV arrives in {market}. "
                            "Test drives from Monday. https://brand.example/suv #ComfortSUV",
                            link="https://brand.example/suv",
                            campaign="bench",
                        )
                    )
    return out


@contextmanager
def pg_database(prefix: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one measurement, dropped afterwards."""
    from sqlalchemy import create_engine, text

    name = f"sl_bench_{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="storyline-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'calendar.db'}"


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def measure(url: str, planned: list[PlannedPost]) -> tuple[float, float, float, int]:
    """(first sync s, re-sync s, every-post-edited sync s, rows in the calendar)."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        first = timed(lambda: apply.sync(engine, planned, NOW))
        result: list[apply.SyncResult] = []
        again = timed(lambda: result.append(apply.sync(engine, planned, NOW)))
        assert not result[0].diff.has_changes, "the re-sync found changes"
        edited = [replace(p, text=p.text + " #edited") for p in planned]
        every = timed(lambda: apply.sync(engine, edited, NOW))
        from sqlalchemy import func, select

        with engine.connect() as conn:
            count = conn.execute(select(func.count()).select_from(queries.POST)).scalar_one()
        return first, again, every, int(count)
    finally:
        engine.dispose()


def run(quick: bool = False) -> str:
    n_stories = 25 if quick else 250
    planned = posts(n_stories)
    results: list[tuple[str, float, float, float, int]] = []
    with sqlite_database() as url:
        results.append(("SQLite (WAL)", *measure(url, planned)))
    with pg_database("sync") as url:
        results.append(("PostgreSQL", *measure(url, planned)))
    lines = [
        "## Calendar sync (`bench/sync.py`)",
        "",
        f"`python -m bench sync{' --quick' if quick else ''}`: {len(planned):,} posts built in "
        f"code ({n_stories} stories x 2 beats x {len(NETWORKS)} networks x {len(MARKETS)} "
        "markets) synced into an empty, migrated calendar in one transaction (PostgreSQL `COPY`, "
        "SQLite driver-level `executemany`), "
        "then synced again unchanged (one query of the needed columns, hashes compared in "
        "Python, nothing written). For information: a sync after an edit that changes every "
        "post (an editorial line's template), applied as guarded bulk updates.",
        "",
        "| database | posts | first sync | target | re-sync, no change | target | every post "
        "edited | result |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, first, again, every, count in results:
        ok = first < FIRST_TARGET_S and again < RESYNC_TARGET_S and count == len(planned)
        lines.append(
            f"| {name} | {count:,} | {first:.2f} s | < {FIRST_TARGET_S:g} s | {again:.2f} s | "
            f"< {RESYNC_TARGET_S:g} s | {every:.2f} s | {'pass' if ok else 'FAIL'} |"
        )
    if quick:
        lines += ["", "(quick run: a tenth of the posts; the targets are for 50,000)"]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
