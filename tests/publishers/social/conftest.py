"""Fixtures of the social publishers' tests: a fake network and a fast-failing HTTP client.

The helpers themselves live in ``social_fakenet.py`` (importable by the test modules: this
folder is put on ``sys.path`` because pytest's importlib mode does not do it).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from social_fakenet import Checkpoints, FakeNetwork

from scheduler.publishers.http import HttpClient


@pytest.fixture
def fake() -> Iterator[FakeNetwork]:
    server = FakeNetwork()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def http() -> Iterator[HttpClient]:
    """The shared client with a short timeout, so "no answer" tests stay fast."""
    client = HttpClient(timeout=httpx.Timeout(1.0, connect=1.0))
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def checkpoints() -> Checkpoints:
    return Checkpoints()
