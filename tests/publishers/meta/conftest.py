"""Fixtures of the Meta publishers' tests: a recording local Graph API and a fast HTTP client.

The helpers live in ``meta_fakeapi.py``; this folder is put on ``sys.path`` so the test modules
can import them (pytest's importlib mode does not).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from meta_fakeapi import FakeApi, _Handler

from scheduler.publishers.http import HttpClient


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    """A recording fake network on 127.0.0.1 (a free port), shut down after the test."""
    api = FakeApi()
    handler = type("Handler", (_Handler,), {"api": api})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def http() -> Iterator[HttpClient]:
    """The shared client with a short read timeout, so timeout tests stay fast."""
    client = HttpClient(timeout=httpx.Timeout(1.0, connect=1.0))
    try:
        yield client
    finally:
        client.close()


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    (root / "media").mkdir(parents=True)
    (root / "media" / "suv-front.jpg").write_bytes(b"\xff\xd8\xff\xe0front-jpeg")
    (root / "media" / "suv-back.jpg").write_bytes(b"\xff\xd8\xff\xe0back-jpeg")
    (root / "media" / "teaser.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42")
    return root
