"""Fixtures of the token-lifecycle tests: a local token server, settings pointing at it, a
fast HTTP client, and a pinned clock.

The fakes live in ``token_fakes.py``; this folder is put on ``sys.path`` so the test modules
can import them (pytest's importlib mode does not). A fake that saw a request of the wrong
shape fails the test when it closes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from token_fakes import FakeServer

from scheduler.publishers.http import HttpClient

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


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
    client = HttpClient(timeout=httpx.Timeout(1.0, connect=1.0))
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def now() -> datetime:
    return NOW
