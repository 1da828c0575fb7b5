"""Fixtures of the metrics tests: a calendar with published posts, the nine fake networks,
and a puller pointed at them. ``metrics_fakenet.py`` is importable by the test modules (this
folder is put on ``sys.path``: pytest's importlib mode does not do it)."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from metrics_fakenet import NETS, MetricsNet, serve

from scheduler.app.settings import Settings
from scheduler.calendar import migrate
from scheduler.calendar.database import make_engine
from scheduler.calendar.tables import Post
from scheduler.core.pulls import DEFAULT_PULL_AFTER, parse_windows
from scheduler.dispatch.metrics_pull import MetricsPuller
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import HttpClient
from scheduler.publishers.registry import Registry

PUBLISHED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

#: The account each network's posts are published by, and its secret fields.
ACCOUNTS: dict[str, tuple[str, dict[str, str]]] = {
    "x": ("HoldoutFR", {"access_token": "x-token"}),
    "youtube": ("UCholdout", {"access_token": "yt-token"}),
    "bluesky": ("brand.bsky.social", {"identifier": "brand.bsky.social", "app_password": "pw"}),
    "weibo": ("holdoutcn", {"access_token": "wb-token"}),
    "mastodon": ("brand@social.example", {"access_token": "md-token"}),
    "linkedin": ("9001", {"access_token": "li-token"}),
    "facebook": ("1001", {"access_token": "fb-token"}),
    "instagram": ("1784", {"access_token": "ig-token"}),
    "threads": ("2555", {"access_token": "th-token"}),
}


def remote_id(network: str, n: int) -> str:
    """The id each network gives its n-th post, in that network's form."""
    return {
        "bluesky": f"at://did:plc:fake/app.bsky.feed.post/rk{n:05d}",
        "linkedin": f"urn:li:share:{7000 + n}",
        "facebook": f"1001_{5000 + n}",
        "youtube": f"vid{n:08d}",
    }.get(network, str(180000 + n))


class Secrets:
    """Every account of :data:`ACCOUNTS` has credentials (a CredentialSource)."""

    def credentials(self, network: str, account: str) -> Credentials | None:
        found = ACCOUNTS.get(network)
        if found is None or found[0] != account:
            return None
        return Credentials(network, account, found[1])

    def has_network(self, network: str) -> bool:
        return network in ACCOUNTS


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def seed(
    engine: Any,
    network: str,
    count: int,
    *,
    published: datetime = PUBLISHED,
    account: str | None = None,
) -> list[str]:
    """``count`` posts of ``network`` published at ``published``; answers their remote ids."""
    account = account or ACCOUNTS[network][0]
    rows = [
        {
            "post_id": f"launch/{network}/fr/{n:05d}",
            "story": "launch",
            "beat": "reveal",
            "network": network,
            "market": "fr",
            "account": account,
            "account_name": "",
            "campaign": "spring",
            "text": "hello",
            "media_json": "[]",
            "content_hash": "0" * 64,
            "due_utc": published,
            "timezone": "Europe/Paris",
            "status": "published",
            "attempts": 1,
            "remote_id": remote_id(network, n),
            "created_at": published,
            "updated_at": published,
            "published_at": published,
            "destination": "network",
        }
        for n in range(count)
    ]
    with engine.begin() as conn:
        conn.execute(Post.__table__.insert(), rows)  # type: ignore[attr-defined]
    return [r["remote_id"] for r in rows]


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated calendar, copied for each test (migrating takes longer than a test)."""
    path = tmp_path_factory.mktemp("template") / "calendar.db"
    eng = make_engine(f"sqlite:///{path}")
    migrate.upgrade(eng)
    eng.dispose()
    return path


@pytest.fixture
def engine(tmp_path: Path, migrated: Path) -> Iterator[Any]:
    shutil.copyfile(migrated, tmp_path / "calendar.db")
    eng = make_engine(f"sqlite:///{tmp_path / 'calendar.db'}")
    yield eng
    eng.dispose()


@pytest.fixture
def nets() -> Iterator[dict[str, MetricsNet]]:
    made = {name: cls() for name, cls in NETS.items()}
    servers = [serve(net)[0] for net in made.values()]
    yield made
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def clock() -> Clock:
    return Clock(PUBLISHED + timedelta(hours=1, minutes=5))


@pytest.fixture
def puller(
    engine: Any, nets: dict[str, MetricsNet], clock: Clock, tmp_path: Path
) -> Iterator[MetricsPuller]:
    settings = Settings(data_dir=tmp_path, api_bases={n: net.url for n, net in nets.items()})
    registry = Registry(settings, secrets=Secrets(), http=HttpClient())
    made = MetricsPuller(engine, registry, windows=parse_windows(DEFAULT_PULL_AFTER), clock=clock)
    yield made
    registry.close()
