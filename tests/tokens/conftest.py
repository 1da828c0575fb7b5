"""Fixtures of the token-store tests: a migrated calendar (SQLite and PostgreSQL), the local
token servers of ``tests/publishers/auth/token_fakes.py``, a key, and a clock.

Nothing here reaches the internet: every token endpoint is a local fake that keeps state as
the network does (X spends a refresh token on use and refuses it after).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import Engine

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "publishers" / "auth"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from token_fakes import FakeServer

from scheduler.calendar.database import make_engine
from scheduler.calendar.migrate import upgrade
from scheduler.publishers.http import HttpClient


@pytest.fixture
def calendar(database_url: str) -> Iterator[str]:
    """A database URL whose schema is at head."""
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    yield database_url


@pytest.fixture
def engine(calendar: str) -> Iterator[Engine]:
    eng = make_engine(calendar)
    yield eng
    eng.dispose()


@pytest.fixture
def server() -> Iterator[FakeServer]:
    fake = FakeServer()
    try:
        yield fake
    finally:
        fake.close()
    assert fake.violations == [], fake.violations


@pytest.fixture
def http() -> Iterator[HttpClient]:
    client = HttpClient(timeout=httpx.Timeout(2.0, connect=1.0))
    try:
        yield client
    finally:
        client.close()
