"""A pause takes effect within one tick: ``storyline pause --all`` against a ticking dispatcher.

A thread ticks the dispatcher every ``TICK`` seconds (the beat's schedule) over a calendar where
a post falls due every 10 ms; the main thread runs the operator's pause (``dispatch.bulk.pause``,
what ``storyline pause --all`` calls) at a random phase of the tick, and the enqueue callback
records the wall time of every claim. The measure is the time from the pause's commit to the
last claim after it: only a tick already running when the pause committed may still claim, so
it must stay below one tick interval. Repeated for ``TRIALS`` pauses, on SQLite and PostgreSQL.
For information: a tick's duration with no pause and with a market paused (the claim filter's
cost).
"""

from __future__ import annotations

import random
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.sync import pg_database, sqlite_database
from scheduler.app.publishing import registry_for
from scheduler.app.settings import Settings
from scheduler.calendar import migrate
from scheduler.calendar.database import make_engine
from scheduler.calendar.tables import Post
from scheduler.core.selectors import Selector
from scheduler.dispatch import bulk
from scheduler.dispatch.dispatcher import Dispatcher, Policy

TICK = 0.25  # seconds between ticks: the beat's STORYLINE_TICK_SECONDS in this bench
POST = Post.__table__  # type: ignore[attr-defined]


def _fill(engine: Any, start: datetime, count: int, every: timedelta) -> None:
    from sqlalchemy import insert

    rows = [
        {
            "post_id": f"bench/b{i:06d}/webhook/{'fr' if i % 2 else 'de'}",
            "story": "bench",
            "beat": f"b{i:06d}",
            "network": "webhook",
            "market": "fr" if i % 2 else "de",
            "account": "agency",
            "account_name": "Agency",
            "campaign": "bench",
            "text": f"post {i}",
            "media_json": "[]",
            "content_hash": "0" * 64,
            "due_utc": start + i * every,
            "timezone": "Europe/Paris",
            "status": "planned",
            "attempts": 0,
            "created_at": start,
            "updated_at": start,
        }
        for i in range(count)
    ]
    with engine.begin() as conn:
        conn.execute(insert(POST), rows)


@contextmanager
def _dispatcher(url: str) -> Iterator[Dispatcher]:
    """A dispatcher in ``outbox`` mode: a tick asks no account for credentials, as in the
    dispatch bench, so only claims and the pause filter are measured."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    settings = Settings(data_dir=Path(tempfile.gettempdir()), publisher_override="outbox")
    try:
        yield Dispatcher(
            engine,
            settings,
            policy=Policy(min_spacing={}),
            make_registry=lambda: registry_for(settings),
            worker="bench",
        )
    finally:
        engine.dispose()


def _trial(url: str, rng: random.Random, seconds: float) -> tuple[float, int]:
    """One pause against a ticking dispatcher: (seconds from the pause's commit to the last
    claim after it, ticks that claimed after it)."""
    claims: list[float] = []
    stop = threading.Event()
    with _dispatcher(url) as d:
        start = datetime.now(UTC)
        _fill(d.engine, start, int(seconds * 100) + 200, timedelta(milliseconds=10))

        def enqueue(jobs: Sequence[tuple[str, str]]) -> None:
            claims.append(time.perf_counter())

        def ticking() -> None:
            while not stop.is_set():
                d.tick(enqueue)
                stop.wait(TICK)

        thread = threading.Thread(target=ticking, daemon=True)
        thread.start()
        time.sleep(seconds / 2 + rng.uniform(0, TICK))
        bulk.pause(d, Selector(everything=True), reason="bench", by="bench")
        paused = time.perf_counter()
        time.sleep(seconds / 2)
        stop.set()
        thread.join()
    after = [c - paused for c in claims if c > paused]
    return (max(after) if after else 0.0), len(after)


def _tick_cost(url: str, rounds: int) -> tuple[float, float]:
    """Median tick duration with no pause, then with a market paused (nothing due is claimed:
    each tick pays the candidate query and the filter)."""
    with _dispatcher(url) as d:
        past = datetime.now(UTC) - timedelta(hours=1)
        _fill(d.engine, past, 2000, timedelta(0))
        # Claimed once, so that both measures tick over the same, empty, due set.
        d.tick(lambda jobs: None)
        plain = [_timed(d) for _ in range(rounds)]
        bulk.pause(d, Selector(markets=("fr",)), reason="bench", by="bench")
        filtered = [_timed(d) for _ in range(rounds)]
    return statistics.median(plain), statistics.median(filtered)


def _timed(d: Dispatcher) -> float:
    t = time.perf_counter()
    d.tick(lambda jobs: None)
    return time.perf_counter() - t


def _database(label: str) -> Any:
    return sqlite_database() if label == "SQLite" else pg_database("pause")


def run(quick: bool = False) -> str:
    trials = 3 if quick else 10
    seconds = 1.5 if quick else 3.0
    rng = random.Random(12)
    rows = []
    for label in ("SQLite", "PostgreSQL"):
        effects, late_ticks = [], 0
        for _ in range(trials):
            with _database(label) as url:
                effect, ticks = _trial(url, rng, seconds)
            effects.append(effect)
            late_ticks += ticks
        with _database(label) as url:
            plain, filtered = _tick_cost(url, 20 if quick else 100)
        worst = max(effects)
        verdict = "pass" if worst <= TICK else "FAIL"
        rows.append(
            f"| {label} | {trials} | {worst * 1000:.1f} ms | {late_ticks} "
            f"| <= {TICK * 1000:.0f} ms (one tick) | {plain * 1000:.2f} ms "
            f"| {filtered * 1000:.2f} ms | {verdict} |"
        )
    return (
        "## A pause takes effect within one tick (`bench/pause.py`)\n\n"
        f"`python -m bench pause{' --quick' if quick else ''}`: a dispatcher ticking every "
        f"{TICK * 1000:.0f} ms over a calendar where a post falls due every 10 ms; "
        "`storyline pause --all` (`dispatch.bulk.pause`) at a random phase of the tick. "
        "Measured: the time from the pause's commit to the last claim after it (only a tick "
        "already running may still claim), worst of the trials. For information: a tick's "
        "median duration with no pause and with a market paused.\n\n"
        "| database | pauses | pause → last claim (worst) | claims after a pause | target "
        "| tick, no pause | tick, a market paused | result |\n"
        "|---|---:|---:|---:|---|---:|---:|---|\n" + "\n".join(rows)
    )
