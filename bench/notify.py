"""Notifications for 1,000 posts held at once: at most one message per account and channel.

A calendar holds 1,000 ``held`` posts (no credentials) spread over 20 accounts of 4 markets;
two channels listen, a webhook that hears everything (``STORYLINE_NOTIFY``) and one that hears
one market (``STORYLINE_NOTIFY_FR``), both local HTTP receivers reached through apprise's
``json://``. One notifier run records the 1,000 events and sends; a second run, a minute later,
must send nothing. Target (docs/benchmarks.md): the most messages any (account, channel) pair
received is 1, on SQLite and on PostgreSQL. Also reported: the run's time, and a run with no
new event (the cost of the beat's scan when nothing happened).
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from bench.sync import pg_database
from scheduler.app.notify import Notifier
from scheduler.app.notify_store import POST
from scheduler.app.settings import Settings
from scheduler.calendar import migrate
from scheduler.calendar.database import make_engine

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
MARKETS = {
    "fr": "Europe/Paris",
    "de": "Europe/Berlin",
    "us": "America/New_York",
    "br": "America/Sao_Paulo",
}
NETWORKS = ("x", "facebook", "instagram", "linkedin", "threads")


class Receiver:
    """A local webhook that records the JSON it is sent."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.bodies.append(json.loads(raw))
                self.send_response(200)
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"json://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def fill(engine: Engine, posts: int) -> set[tuple[str, str]]:
    """``posts`` held posts over 4 markets x 5 networks (20 accounts); their accounts."""
    rows, accounts = [], set()
    for i in range(posts):
        market = list(MARKETS)[i % len(MARKETS)]
        network = NETWORKS[(i // len(MARKETS)) % len(NETWORKS)]
        account = f"Brand{market.upper()}"
        accounts.add((network, account))
        rows.append(
            {
                "post_id": f"story{i // 20}/b{i}/{network}/{market}",
                "story": f"story{i // 20}",
                "beat": f"b{i}",
                "network": network,
                "market": market,
                "account": account,
                "account_name": account,
                "campaign": "",
                "text": "text",
                "media_json": "[]",
                "content_hash": "0" * 64,
                "due_utc": NOW + timedelta(hours=1),
                "timezone": MARKETS[market],
                "status": "held",
                "hold_reason": "no_credentials",
                "status_reason": f"no credentials for {network}:{account}",
                "attempts": 0,
                "created_at": NOW,
                "updated_at": NOW,
            }
        )
    with engine.begin() as conn:
        conn.execute(POST.insert(), rows)
    return accounts


def measure(url: str, posts: int) -> dict[str, Any]:
    engine = make_engine(url)
    everywhere, france = Receiver(), Receiver()
    try:
        migrate.upgrade(engine)
        accounts = fill(engine, posts)
        settings = Settings.from_env(
            {
                "STORYLINE_NOTIFY": everywhere.url,
                "STORYLINE_NOTIFY_FR": france.url,
                "STORYLINE_DIGEST_HOUR": "",
            }
        )
        notifier = Notifier(engine, settings, zones=MARKETS)
        t0 = time.perf_counter()
        first = notifier.run(NOW)
        t1 = time.perf_counter()
        second = notifier.run(NOW + timedelta(minutes=1))
        t2 = time.perf_counter()
        per_pair: Counter[tuple[str, str]] = Counter()
        for channel, receiver in (("everywhere", everywhere), ("fr", france)):
            for body in receiver.bodies:
                account = body["title"].split(" · ", 1)[1].split(" ", 1)[0]
                per_pair[(channel, account)] += 1
        fr_accounts = sum(1 for _, a in accounts if a.endswith("FR"))
        return {
            "events": first.recorded,
            "messages": len(everywhere.bodies) + len(france.bodies),
            "expected": len(accounts) + fr_accounts,
            "max_per_pair": max(per_pair.values(), default=0),
            "second": second.messages,
            "first_s": t1 - t0,
            "quiet_s": t2 - t1,
        }
    finally:
        everywhere.close()
        france.close()
        engine.dispose()


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as tmp:
        yield f"sqlite:///{Path(tmp) / 'notify.db'}"


def run(quick: bool = False) -> str:
    posts = 1_000
    lines = [
        "## Notifications: 1,000 posts held at once (`bench/notify.py`)",
        "",
        f"`python -m bench notify{' --quick' if quick else ''}`: {posts:,} posts held at once "
        "over 20 accounts in 4 markets; a channel that hears everything and one that hears "
        "France (local webhooks through apprise's `json://`). One notifier run, then one a "
        "minute later with nothing new.",
        "",
        "| database | events | messages (= accounts per channel) | most per account and channel "
        "| target | run | run, nothing new | result |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, make in (("SQLite", sqlite_url), ("PostgreSQL", lambda: pg_database("notify"))):
        with make() as url:
            m = measure(url, posts)
        ok = m["max_per_pair"] <= 1 and m["second"] == 0 and m["events"] == posts
        lines.append(
            f"| {name} | {m['events']:,} | {m['messages']} (= {m['expected']}) | "
            f"{m['max_per_pair']} | <= 1 | {m['first_s']:.2f} s | {m['quiet_s'] * 1000:.0f} ms | "
            f"{'pass' if ok else 'FAIL'} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
