"""Fixtures of the wall tests: a migrated calendar, a wall server on a free port, and (for the
browser tests) the DevTools client of ``tests/preview``."""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine

HERE = Path(__file__).resolve().parent
# wall_support (this folder) and preview_cdp (the headless Chromium client of tests/preview).
sys.path.insert(0, str(HERE.parent / "preview"))
sys.path.insert(0, str(HERE))

from wall_support import Wall  # noqa: E402

from scheduler.app.settings import Settings  # noqa: E402
from scheduler.calendar.database import make_engine  # noqa: E402
from scheduler.calendar.migrate import upgrade  # noqa: E402
from scheduler.interfaces import wall  # noqa: E402


@pytest.fixture
def calendar(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def wall_options() -> wall.WallOptions:
    return wall.WallOptions(poll_seconds=0.5, max_posts=30, max_backoff_seconds=2.0)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    media = tmp_path / "content" / "media"
    media.mkdir(parents=True)
    root = Path(__file__).resolve().parents[2] / "content" / "media"
    for name in ("fleet-van.jpg", "aurora-film.mp4"):
        (media / name).write_bytes((root / name).read_bytes())
    (tmp_path / "content" / "secret.txt").write_text("not for the wall")
    return tmp_path / "content"


@pytest.fixture
def wall_server(
    calendar: Engine,
    database_url: str,
    content_dir: Path,
    tmp_path: Path,
    wall_options: wall.WallOptions,
) -> Iterator[Wall]:
    settings = Settings(
        content_dir=content_dir, data_dir=tmp_path / "data", database_url_override=database_url
    )
    server = wall.make_server(settings, wall_options, port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield Wall(f"http://{host!s}:{port}", server.wall)  # type: ignore[attr-defined]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        feed_engine = server.wall._engine  # type: ignore[attr-defined]
        if feed_engine is not None:
            feed_engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the session; a missing browser FAILS the tests, it never skips."""
    import preview_cdp

    try:
        with preview_cdp.Browser(width=1920, height=1080) as b:
            yield b
    except preview_cdp.BrowserMissing as exc:
        pytest.fail(str(exc), pytrace=False)
