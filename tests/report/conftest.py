"""A calendar with published posts and metric snapshots written directly (as a metrics pull
would), for the analytics import and ``storyline report`` tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy.engine import Engine

from scheduler.calendar import migrate
from scheduler.calendar.database import make_engine
from scheduler.calendar.tables import MetricSnapshot, Post
from scheduler.interfaces.cli import cli

POST = Post.__table__  # type: ignore[attr-defined]
SNAPSHOT = MetricSnapshot.__table__  # type: ignore[attr-defined]
LAUNCH = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
NOW_ENV = {"STORYLINE_NOW": "2026-12-07T12:00:00Z"}


def post_row(story: str, beat: str, network: str, market: str, **extra: Any) -> dict[str, Any]:
    """A published post of ``story`` (campaign ``<story>-launch`` unless given)."""
    due = extra.pop("due_utc", LAUNCH)
    row = {
        "post_id": f"{story}/{beat}/{network}/{market}",
        "story": story,
        "beat": beat,
        "network": network,
        "market": market,
        "account": "brand",
        "account_name": "Brand",
        "campaign": f"{story}-launch",
        "text": "A post",
        "media_json": "[]",
        "content_hash": "h",
        "due_utc": due,
        "timezone": "Europe/Paris",
        "status": "published",
        "attempts": 1,
        "created_at": due - timedelta(days=3),
        "updated_at": due,
        "published_at": due,
        "destination": "network",
    }
    row.update(extra)
    return row


@dataclass
class Calendar:
    url: str
    engine: Engine

    def posts(self, *rows: dict[str, Any]) -> None:
        with self.engine.begin() as conn:
            conn.execute(POST.insert(), list(rows))

    def snapshot(self, post_id: str, window: str, taken_at: datetime, **counts: int) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                SNAPSHOT.insert(),
                {"post_id": post_id, "window": window, "taken_at": taken_at, **counts},
            )

    def run(self, *args: str) -> Result:
        return CliRunner().invoke(cli, ["--database-url", self.url, *args], env=NOW_ENV)


@pytest.fixture
def calendar(database_url: str) -> Iterator[Calendar]:
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    try:
        yield Calendar(database_url, engine)
    finally:
        engine.dispose()


@pytest.fixture
def write(tmp_path: Path) -> Callable[[str, str], Path]:
    def _write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return _write
