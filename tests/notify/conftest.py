"""Notification fixtures: an upgraded calendar (SQLite and PostgreSQL), posts written as the
dispatcher leaves them, local receivers for Slack, Teams and e-mail, and a settable clock.

This folder is put on ``sys.path`` for ``receivers.py`` (pytest's importlib mode does not).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))

from receivers import HttpReceiver, SmtpReceiver

from scheduler.calendar import migrate
from scheduler.calendar.database import make_engine
from scheduler.calendar.tables import Post

#: 08:30 in Paris: inside the default digest hour there.
NOW = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)
ZONES = {"fr": "Europe/Paris", "us": "America/New_York"}


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    migrate.upgrade(eng)
    try:
        yield eng
    finally:
        eng.dispose()


def add_posts(
    engine: Engine,
    n: int,
    *,
    status: str = "held",
    hold_reason: str | None = "no_credentials",
    network: str = "x",
    market: str = "fr",
    account: str = "BrandFR",
    story: str = "suv",
    due: datetime = NOW + timedelta(hours=2),
    reason: str | None = None,
) -> list[str]:
    """``n`` posts in ``status``, as the dispatcher leaves them."""
    ids = []
    with Session(engine) as session:
        for i in range(n):
            pid = f"{story}/b{i}/{network}/{market}"
            ids.append(pid)
            session.add(
                Post(
                    post_id=pid,
                    story=story,
                    beat=f"b{i}",
                    network=network,
                    market=market,
                    account=account,
                    account_name=f"Brand {market.upper()}",
                    text="The comfort SUV arrives.",
                    content_hash="0" * 64,
                    due_utc=due,
                    timezone=ZONES[market],
                    status=status,
                    hold_reason=hold_reason if status == "held" else None,
                    status_reason=reason
                    or (f"no credentials for {network}:{account}" if status == "held" else None),
                    created_at=NOW - timedelta(days=1),
                    updated_at=NOW,
                )
            )
        session.commit()
    return ids


@pytest.fixture
def slack(monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpReceiver]:
    """A Slack incoming-webhook stand-in. apprise's Slack plugin has no host setting (its
    webhook base is fixed to hooks.slack.com), so the test moves that base to the receiver:
    the request is apprise's real Slack payload."""
    import apprise.plugins.slack as slack_plugin

    receiver = HttpReceiver()
    monkeypatch.setattr(
        slack_plugin.NotifySlack, "webhook_url", f"http://127.0.0.1:{receiver.port}/services"
    )
    yield receiver
    receiver.close()


@pytest.fixture
def teams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[HttpReceiver]:
    """A Microsoft Teams Workflows endpoint over HTTPS (apprise's ``workflows://`` takes a
    host and port); its self-signed certificate is trusted through REQUESTS_CA_BUNDLE."""
    receiver = HttpReceiver(tls_dir=tmp_path)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(receiver.cert))
    yield receiver
    receiver.close()


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    yield receiver
    receiver.close()
