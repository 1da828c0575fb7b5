"""The "due now" query with 1M posts in history vs 1k: its cost must not follow the history.

This is the candidate query of the dispatcher's claim (``scheduler/dispatch/claims.py``,
``_claim_due``; built by :func:`scheduler.calendar.queries.due_query`)::

    SELECT post_id, due_utc FROM post
    WHERE status = 'planned' AND due_utc <= :now
    ORDER BY due_utc LIMIT 100                      -- + FOR UPDATE SKIP LOCKED on PostgreSQL

Both calendars hold the same 150 due posts; the big one adds a year-long history (mostly
published, a tenth planned in the future, some cancelled). Target (docs/benchmarks.md): median
time with 1M rows <= 2x the median with 1k, on SQLite and on PostgreSQL. The rows are made by the
database itself (a recursive CTE on SQLite, ``generate_series`` on PostgreSQL), so populating
a million takes seconds; each PostgreSQL database is made and dropped here.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from bench.sync import pg_database
from scheduler.calendar import migrate, queries
from scheduler.calendar.database import make_engine

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
DUE_NOW = 150  # posts due at NOW in both calendars: the query returns its LIMIT of 100
ROUNDS, PER_ROUND = 15, 20
TARGET_RATIO = 2.0

_COLUMNS = (
    "post_id, story, beat, network, market, account, account_name, campaign, text, media_json, "
    "content_hash, due_utc, timezone, status, attempts, created_at, updated_at"
)
_STATUS = (
    "CASE WHEN i % 10 = 0 THEN 'planned' WHEN i % 50 = 1 THEN 'cancelled' ELSE 'published' END"
)

_SQLITE_FILL = f"""
INSERT INTO post ({_COLUMNS})
WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n)
SELECT 'history-' || (i / 20) || '/reveal/n' || (i % 20) || '/fr', 'history-' || (i / 20),
       'reveal', 'n' || (i % 20), 'fr', 'acct', 'Account', 'bench',
       'A post of the history, number ' || i, '[]', 'hash',
       strftime('%Y-%m-%d %H:%M:%S', :base,
                CASE WHEN i % 10 = 0 THEN '+' ELSE '-' END || (1 + i % 525600) || ' minutes')
         || '.000000',
       'Europe/Paris', {_STATUS}, 1, :base_s, :base_s
FROM seq
"""

_PG_FILL = f"""
INSERT INTO post ({_COLUMNS})
SELECT 'history-' || (i / 20) || '/reveal/n' || (i % 20) || '/fr', 'history-' || (i / 20),
       'reveal', 'n' || (i % 20), 'fr', 'acct', 'Account', 'bench',
       'A post of the history, number ' || i, '[]', 'hash',
       CAST(:base AS timestamptz)
         + (CASE WHEN i % 10 = 0 THEN 1 ELSE -1 END) * (1 + i % 525600) * interval '1 minute',
       'Europe/Paris', {_STATUS}, 1, CAST(:base AS timestamptz), CAST(:base AS timestamptz)
FROM generate_series(1, :n) AS i
"""


def populate(engine: Engine, history: int) -> None:
    """``history`` rows of past and future posts, plus the same DUE_NOW due posts."""
    migrate.upgrade(engine)
    base = NOW - timedelta(hours=2)
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            stamp = base.strftime("%Y-%m-%d %H:%M:%S")
            conn.execute(
                text(_SQLITE_FILL),
                {"n": history, "base": stamp, "base_s": stamp + ".000000"},
            )
        else:
            conn.execute(text(_PG_FILL), {"n": history, "base": base})
        conn.execute(
            queries.POST.insert(),
            [
                {
                    "post_id": f"due/reveal/x/m{i}",
                    "story": "due",
                    "beat": "reveal",
                    "network": "x",
                    "market": f"m{i}",
                    "account": "acct",
                    "account_name": "Account",
                    "campaign": "bench",
                    "text": "Due now",
                    "media_json": "[]",
                    "content_hash": "hash",
                    "due_utc": NOW - timedelta(seconds=i * 7),
                    "timezone": "Europe/Paris",
                    "status": "planned",
                    "attempts": 0,
                    "created_at": base,
                    "updated_at": base,
                }
                for i in range(DUE_NOW)
            ],
        )
    with engine.connect() as conn:
        conn.exec_driver_sql("ANALYZE")
        conn.commit()


def statement(engine: Engine) -> Any:
    return queries.due_query(NOW, limit=100)


def query_plan(engine: Engine) -> str:
    sql = str(statement(engine).compile(engine, compile_kwargs={"literal_binds": True}))
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
            plan = "\n".join(str(r[-1]) for r in rows)
        else:
            rows = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) {sql}").all()
            plan = "\n".join(str(r[0]) for r in rows)
        conn.rollback()
    return " ".join(sql.split()) + "\n\n" + plan


def time_queries(engine: Engine, n: int) -> list[float]:
    """``n`` runs of the claim's query, each in its own (rolled back) transaction."""
    stmt = statement(engine)
    out: list[float] = []
    with engine.connect() as conn:
        for _ in range(n):
            start = time.perf_counter()
            got = conn.execute(stmt).all()
            out.append(time.perf_counter() - start)
            conn.rollback()
            assert len(got) == 100, len(got)
    return out


@contextmanager
def database(kind: str, label: str) -> Iterator[Engine]:
    with ExitStack() as stack:
        if kind == "sqlite":
            tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="storyline-due-"))
            url = f"sqlite:///{Path(tmp) / f'{label}.db'}"
        else:
            url = stack.enter_context(pg_database(f"due_{label}"))
        engine = make_engine(url)
        stack.callback(engine.dispose)
        yield engine


def measure(kind: str, big: int, small: int) -> tuple[float, float, float, str]:
    """(median small ms, median big ms, seconds to populate big, plan on big)."""
    with database(kind, "small") as small_db, database(kind, "big") as big_db:
        populate(small_db, small)
        start = time.perf_counter()
        populate(big_db, big)
        fill_s = time.perf_counter() - start
        small_t: list[float] = []
        big_t: list[float] = []
        time_queries(small_db, 5)  # warm caches and pools
        time_queries(big_db, 5)
        for _ in range(ROUNDS):  # interleaved, so load on the machine hits both alike
            small_t += time_queries(small_db, PER_ROUND)
            big_t += time_queries(big_db, PER_ROUND)
        return (
            statistics.median(small_t) * 1000,
            statistics.median(big_t) * 1000,
            fill_s,
            query_plan(big_db),
        )


def run(quick: bool = False) -> str:
    big, small = (100_000, 1_000) if quick else (1_000_000, 1_000)
    lines = [
        '## The "due now" query vs history size (`bench/due_query.py`)',
        "",
        f"`python -m bench due_query{' --quick' if quick else ''}`: the dispatcher's claim query "
        f"(`calendar.queries.due_query`, the candidate select of `dispatch.claims._claim_due`) "
        f"on a calendar of {big:,} posts vs one of {small:,}, both with the same {DUE_NOW} "
        f"posts due; median of {ROUNDS * PER_ROUND} runs each, interleaved.",
        "",
        f"| database | {small:,} posts | {big:,} posts | ratio | target | populate {big:,} | "
        "result |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    plans: list[str] = []
    for kind, name in (("sqlite", "SQLite"), ("postgresql", "PostgreSQL")):
        small_ms, big_ms, fill_s, plan = measure(kind, big, small)
        ratio = big_ms / small_ms
        ok = ratio <= TARGET_RATIO
        lines.append(
            f"| {name} | {small_ms:.3f} ms | {big_ms:.3f} ms | {ratio:.2f}x | "
            f"<= {TARGET_RATIO:g}x | {fill_s:.1f} s | {'pass' if ok else 'FAIL'} |"
        )
        plans += [f"{name}, {big:,} posts:", "", "```", plan, "```", ""]
    lines += ["", "Query plans (the range scan of `ix_post_status_due` is why):", "", *plans]
    return "\n".join(lines).rstrip()


if __name__ == "__main__":
    print(run())
