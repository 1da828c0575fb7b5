"""Helpers of the wall tests: published posts and metric snapshots written to a calendar, and
a client of a wall server."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import Engine, make_url

from scheduler.calendar.tables import MetricSnapshot, Post
from scheduler.interfaces import wall

#: The first post of these tests was published at this instant.
T0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


def post_row(
    post_id: str,
    *,
    published_at: datetime | None = T0,
    status: str = "published",
    campaign: str = "launch",
    timezone: str = "Europe/Paris",
    media: list[dict[str, str]] | None = None,
    text: str | None = None,
) -> dict[str, Any]:
    story, beat, network, market = post_id.split("/")
    return {
        "post_id": post_id,
        "story": story,
        "beat": beat,
        "network": network,
        "market": market,
        "account": "1",
        "account_name": "Holdout",
        "campaign": campaign,
        "text": text if text is not None else f"Text of {post_id}",
        "media_json": json.dumps(media or []),
        "content_hash": "0" * 64,
        "due_utc": published_at or T0,
        "timezone": timezone,
        "status": status,
        "attempts": 1 if published_at else 0,
        "created_at": T0 - timedelta(days=1),
        "updated_at": published_at or T0,
        "published_at": published_at,
        "destination": "outbox" if published_at else None,
        "remote_id": f"r-{post_id}" if published_at else None,
    }


def add(engine: Engine, *rows: dict[str, Any]) -> None:
    with engine.begin() as conn:
        conn.execute(insert(Post.__table__), list(rows))  # type: ignore[attr-defined]


def add_snapshot(
    engine: Engine, post_id: str, window: str, taken_at: datetime, **counts: int | None
) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(MetricSnapshot.__table__),  # type: ignore[attr-defined]
            [{"post_id": post_id, "window": window, "taken_at": taken_at, **counts}],
        )


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Wall:
    url: str
    feed: wall.WallFeed

    def get(self, path: str) -> Answer:
        try:
            with urllib.request.urlopen(self.url + path, timeout=10) as r:
                return Answer(r.status, dict(r.headers), r.read())
        except urllib.error.HTTPError as exc:
            return Answer(exc.code, dict(exc.headers), exc.read())


def allow_connections(url: str, allow: bool) -> None:
    """Make the PostgreSQL database at ``url`` refuse every connection (and drop those open),
    or accept them again: the database blinks for real."""
    name = make_url(url).database
    admin = create_engine(url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allow).lower()}'))
        if not allow:
            conn.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )
    admin.dispose()
