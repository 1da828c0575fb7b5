"""A metrics pull asks each batching network once per batch, never once per post.

10,000 published posts on each network whose metrics endpoint takes several ids (X 100,
YouTube 50, Bluesky 25, Weibo 100, LinkedIn 20) in a SQLite calendar; one ``storyline
analytics pull`` pass (:class:`~scheduler.dispatch.metrics_pull.MetricsPuller`) against one
local HTTP server that answers each network's documented shape and counts its requests.

Target (docs/benchmarks.md): requests per network <= ceil(posts / batch size), every post
given a snapshot.
"""

from __future__ import annotations

import json
import math
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from sqlalchemy import func, insert, select

from scheduler.app.settings import Settings
from scheduler.calendar.database import make_engine
from scheduler.calendar.migrate import upgrade
from scheduler.calendar.tables import MetricSnapshot, Post
from scheduler.core.pulls import DEFAULT_PULL_AFTER, parse_windows
from scheduler.dispatch.metrics_pull import MetricsPuller
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import HttpClient
from scheduler.publishers.registry import Registry

PUBLISHED = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BATCHES = {"x": 100, "youtube": 50, "bluesky": 25, "weibo": 100, "linkedin": 20}
ACCOUNTS = {
    "x": "brand",
    "youtube": "UCbrand",
    "bluesky": "brand.bsky.social",
    "weibo": "brand",
    "linkedin": "9001",
}


def remote_id(network: str, n: int) -> str:
    return {
        "bluesky": f"at://did:plc:brand/app.bsky.feed.post/rk{n:06d}",
        "linkedin": f"urn:li:share:{n}",
        "youtube": f"vid{n:08d}",
    }.get(network, str(10**9 + n))


class Secrets:
    def credentials(self, network: str, account: str) -> Credentials | None:
        fields = {"access_token": "t", "identifier": account, "app_password": "p"}
        return Credentials(network, account, fields) if ACCOUNTS.get(network) == account else None

    def has_network(self, network: str) -> bool:
        return network in ACCOUNTS


def _answer(network: str, path: str, query: str) -> Any:
    """The documented answer shape, every post showing 3 likes."""
    q = parse_qs(query)
    if network == "x":
        ids = q["ids"][0].split(",")
        return {"data": [{"id": i, "public_metrics": {"like_count": 3}} for i in ids]}
    if network == "youtube":
        ids = q["id"][0].split(",")
        return {"items": [{"id": i, "statistics": {"likeCount": "3"}} for i in ids]}
    if network == "bluesky":
        if path.endswith("createSession"):
            return {"accessJwt": "a", "refreshJwt": "r", "did": "did:plc:brand", "handle": "b"}
        return {"posts": [{"uri": u, "likeCount": 3} for u in q["uris"]]}
    if network == "weibo":
        return [{"id": i, "attitudes": 3} for i in q["ids"][0].split(",")]
    listed = query.split("shares=List(", 1)[1].rstrip(")")
    urns = [unquote(u) for u in listed.split(",")]
    return {"elements": [{"share": u, "totalShareStatistics": {"likeCount": 3}} for u in urns]}


def serve(requests: Counter[str]) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            return None

        def _do(self) -> None:
            split = urlsplit(self.path)
            network, _, rest = split.path.lstrip("/").partition("/")
            self.rfile.read(int(self.headers.get("content-length") or 0))
            if not rest.endswith("createSession"):
                requests[network] += 1
            body = json.dumps(_answer(network, rest, split.query)).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _do
        do_POST = _do

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def measure(posts: int) -> dict[str, Any]:
    requests: Counter[str] = Counter()
    server, url = serve(requests)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'calendar.db'}")
        upgrade(engine)
        table = Post.__table__  # type: ignore[attr-defined]
        rows = [
            {
                "post_id": f"s/{network}/m/{n}",
                "story": "s",
                "beat": "b",
                "network": network,
                "market": "m",
                "account": account,
                "text": "t",
                "media_json": "[]",
                "content_hash": "0" * 64,
                "due_utc": PUBLISHED,
                "timezone": "UTC",
                "status": "published",
                "remote_id": remote_id(network, n),
                "created_at": PUBLISHED,
                "updated_at": PUBLISHED,
                "published_at": PUBLISHED,
                "destination": "network",
            }
            for network, account in ACCOUNTS.items()
            for n in range(posts)
        ]
        with engine.begin() as conn:
            conn.execute(insert(table), rows)
        settings = Settings(data_dir=Path(tmp), api_bases={n: f"{url}/{n}" for n in ACCOUNTS})
        registry = Registry(settings, secrets=Secrets(), http=HttpClient())
        puller = MetricsPuller(
            engine,
            registry,
            windows=parse_windows(DEFAULT_PULL_AFTER),
            clock=lambda: PUBLISHED + timedelta(hours=2),
        )
        started = time.perf_counter()
        report = puller.pull()
        elapsed = time.perf_counter() - started
        snap = MetricSnapshot.__table__  # type: ignore[attr-defined]
        with engine.connect() as conn:
            written = dict(
                conn.execute(
                    select(table.c.network, func.count())
                    .select_from(snap.join(table, snap.c.post_id == table.c.post_id))
                    .group_by(table.c.network)
                ).all()
            )
        registry.close()
        engine.dispose()
    server.shutdown()
    server.server_close()
    return {
        "posts": posts,
        "requests": dict(requests),
        "written": written,
        "seconds": elapsed,
        "errors": report.errors,
    }


def run(quick: bool = False) -> str:
    m = measure(1_000 if quick else 10_000)
    lines = [
        "## Metrics pull: one request per batch (`bench/metrics_pull.py`)",
        "",
        f"{m['posts']:,} published posts on each network whose metrics endpoint takes several",
        "ids, one pull pass against a local server answering the documented shapes; "
        f"{m['seconds']:.1f} s for all {m['posts'] * len(BATCHES):,} posts.",
        "",
        "| network | posts | batch size | requests | target | snapshots | result |",
        "|---|---|---|---|---|---|---|",
    ]
    for network, batch in BATCHES.items():
        bound = math.ceil(m["posts"] / batch)
        asked = m["requests"].get(network, 0)
        written = m["written"].get(network, 0)
        ok = asked <= bound and written == m["posts"] and not m["errors"]
        lines.append(
            f"| {network} | {m['posts']:,} | {batch} | {asked:,} | <= {bound:,} "
            f"(⌈posts / batch⌉) | {written:,} | {'pass' if ok else 'FAIL'} |"
        )
    return "\n".join(lines)
