"""``storyline report`` over 100,000 published posts and 1,000,000 metric snapshots.

The calendar holds 100,000 published posts (about 925 stories of 108 posts: 3 beats x 9
networks x 4 markets; a campaign per 10 stories), 10 snapshots per post (windows ``w0``..``w9``,
an hour apart) and one web-outcome row per post. The rows are made by the database itself (a
recursive CTE on SQLite, ``generate_series`` on PostgreSQL, then ``INSERT ... SELECT`` for the
snapshots), so populating a million takes seconds.

Measured: :func:`scheduler.calendar.report.build` (the filters checked, the one SQL read with
each post's latest snapshot and summed outcomes, the roll-ups) for the whole calendar and for
one campaign, median of a few runs; and, for information, rendering the whole report as JSON.
Target (docs/benchmarks.md): the whole-calendar report < 2 s on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bench.sync import pg_database, sqlite_database
from scheduler.calendar import migrate, report
from scheduler.calendar.database import make_engine
from scheduler.interfaces.formats.report_views import report_json_text

BASE = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
TARGET_S = 2.0
FULL_POSTS = 100_000
RUNS = 3
SNAPSHOTS_PER_POST = 10

_COLUMNS = (
    "post_id, story, beat, network, market, account, account_name, campaign, text, media_json, "
    "content_hash, due_utc, timezone, status, attempts, created_at, updated_at, published_at"
)
_PARTS = """
       'story-' || (i / 108) || '/' ||
         CASE i % 3 WHEN 0 THEN 'teaser' WHEN 1 THEN 'reveal' ELSE 'follow-up' END || '/n' ||
         ((i / 3) % 9) || '/m' || ((i / 27) % 4),
       'story-' || (i / 108),
       CASE i % 3 WHEN 0 THEN 'teaser' WHEN 1 THEN 'reveal' ELSE 'follow-up' END,
       'n' || ((i / 3) % 9), 'm' || ((i / 27) % 4), 'acct', 'Account', 'camp-' || (i / 1080),
       'A post', '[]', 'hash',
"""
_SQLITE_POSTS = f"""
INSERT INTO post ({_COLUMNS})
WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < :n - 1)
SELECT {_PARTS}
       strftime('%Y-%m-%d %H:%M:%S', :base, '+' || i || ' minutes') || '.000000',
       'Europe/Paris', 'published', 1, :base_s, :base_s,
       strftime('%Y-%m-%d %H:%M:%S', :base, '+' || i || ' minutes') || '.000000'
FROM seq
"""
_PG_POSTS = f"""
INSERT INTO post ({_COLUMNS})
SELECT {_PARTS}
       CAST(:base AS timestamptz) + i * interval '1 minute',
       'Europe/Paris', 'published', 1, CAST(:base AS timestamptz), CAST(:base AS timestamptz),
       CAST(:base AS timestamptz) + i * interval '1 minute'
FROM generate_series(0, :n - 1) AS i
"""
_SNAP_COLUMNS = (
    "post_id, window, taken_at, impressions, reach, likes, comments, shares, saves, clicks"
)
_COUNTS = "100 * (k + 1), 80 * (k + 1), 5 * (k + 1), k, 2 * k, k, 3 * k"
_SQLITE_SNAPSHOTS = f"""
INSERT INTO metric_snapshot ({_SNAP_COLUMNS})
WITH RECURSIVE w(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM w WHERE k < :per - 1)
SELECT p.post_id, 'w' || k,
       strftime('%Y-%m-%d %H:%M:%S', p.published_at, '+' || (k + 1) || ' hours') || '.000000',
       {_COUNTS}
FROM post AS p CROSS JOIN w
"""
_PG_SNAPSHOTS = f"""
INSERT INTO metric_snapshot ({_SNAP_COLUMNS.replace("window", '"window"')})
SELECT p.post_id, 'w' || k, p.published_at + (k + 1) * interval '1 hour', {_COUNTS}
FROM post AS p CROSS JOIN generate_series(0, :per - 1) AS k
"""
_OUTCOMES = """
INSERT INTO web_outcome (day, utm_source, utm_medium, utm_campaign, utm_content, sessions,
                         conversions, revenue, import_id)
SELECT :day, network, 'social', campaign, post_id, 10, 1, 25.5, :import_id FROM post
"""


def populate(engine: Engine, posts: int) -> None:
    migrate.upgrade(engine)
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as conn:
        if sqlite:
            stamp = BASE.strftime("%Y-%m-%d %H:%M:%S")
            conn.execute(text(_SQLITE_POSTS), {"n": posts, "base": stamp, "base_s": stamp})
            conn.execute(text(_SQLITE_SNAPSHOTS), {"per": SNAPSHOTS_PER_POST})
        else:
            conn.execute(text(_PG_POSTS), {"n": posts, "base": BASE})
            conn.execute(text(_PG_SNAPSHOTS), {"per": SNAPSHOTS_PER_POST})
        conn.execute(
            text(
                "INSERT INTO analytics_import (id, sha256, name, rows, unmatched, imported_at) "
                "VALUES (1, 'bench', 'bench.csv', :n, 0, :at)"
            ),
            {"n": posts, "at": BASE},
        )
        conn.execute(text(_OUTCOMES), {"day": BASE.date(), "import_id": 1})
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def median_s(fn: object, runs: int = RUNS) -> float:
    assert callable(fn)
    fn()  # warm caches and the pool
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@contextmanager
def database(kind: str) -> Iterator[Engine]:
    url_cm = sqlite_database() if kind == "sqlite" else pg_database("report")
    with url_cm as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


def measure(kind: str, posts: int) -> tuple[float, float, float, float, int]:
    """(populate s, whole report s, one campaign s, JSON rendering s, posts reported)."""
    with database(kind) as engine:
        start = time.perf_counter()
        populate(engine, posts)
        fill_s = time.perf_counter() - start
        whole = report.build(engine, report.Filters())
        assert len(whole.posts) == posts, len(whole.posts)
        assert whole.total.reach == posts * 80 * SNAPSHOTS_PER_POST  # the latest snapshot, w9
        assert whole.total.sessions == posts * 10
        all_s = median_s(lambda: report.build(engine, report.Filters()))
        campaign = report.Filters(campaigns=("camp-1",))
        one_s = median_s(lambda: report.build(engine, campaign))
        json_s = median_s(lambda: report_json_text(whole), runs=1)
        return fill_s, all_s, one_s, json_s, len(whole.posts)


def run(quick: bool = False) -> str:
    posts = 10_000 if quick else FULL_POSTS
    snapshots = posts * SNAPSHOTS_PER_POST
    # Quick mode keeps the per-post budget: 2 s for 100,000 posts is 0.2 s for 10,000.
    target_s = TARGET_S * posts / FULL_POSTS
    lines = [
        "## `storyline report` over the whole calendar (`bench/report.py`)",
        "",
        f"`python -m bench report{' --quick' if quick else ''}`: {posts:,} published posts, "
        f"{snapshots:,} metric snapshots ({SNAPSHOTS_PER_POST} per post), one web-outcome row "
        "per post. `calendar.report.build` (filters checked, one SQL read with each post's latest "
        f"snapshot and summed outcomes, roll-ups), median of {RUNS} runs; the JSON rendering of "
        "the whole report for information. Target: < 2 s for 100,000 posts; in quick mode the "
        "same budget per post.",
        "",
        "| database | posts | snapshots | whole report | one campaign | JSON rendering | target "
        "| populate | result |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for kind, name in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        fill_s, all_s, one_s, json_s, _ = measure(kind, posts)
        ok = all_s < target_s
        lines.append(
            f"| {name} | {posts:,} | {snapshots:,} | {all_s:.2f} s | {one_s * 1000:.0f} ms | "
            f"{json_s:.2f} s | < {target_s:g} s | {fill_s:.1f} s | {'pass' if ok else 'FAIL'} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
