"""The wall in headless Chromium: a post a real Celery worker publishes appears within 5 s, and
the page rides out a database, or its own server, that stops answering, then catches up."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from wall_support import add, allow_connections, post_row

from scheduler.app.settings import Settings
from scheduler.calendar.database import make_engine
from scheduler.calendar.migrate import upgrade
from scheduler.calendar.tables import Post
from scheduler.interfaces import wall

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]
CELERY = str(Path(sys.executable).parent / "celery")
POST = Post.__table__  # type: ignore[attr-defined]
SCREENSHOTS = ROOT / "tests" / "screenshots"


@contextmanager
def serving(settings: Settings, options: wall.WallOptions, port: int = 0) -> Iterator[str]:
    server = wall.make_server(settings, options, port=port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield wall.wall_url(server)
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        engine = server.wall._engine  # type: ignore[attr-defined]
        if engine is not None:
            engine.dispose()


@contextmanager
def worker(data_dir: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """``celery -A worker worker --beat`` on the embedded default, publishing to the outbox."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYLINE_")}
    env.update(
        STORYLINE_DATA_DIR=str(data_dir),
        STORYLINE_PUBLISHER="outbox",
        STORYLINE_TICK_SECONDS="0.5",
        STORYLINE_QUEUE=f"sl-wall-{uuid.uuid4().hex[:8]}",
        PYTHONUNBUFFERED="1",
    )
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [
                CELERY,
                "-A",
                "worker",
                "worker",
                "--beat",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-mingle",
                "--without-gossip",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def wait_for(what: str, check: Callable[[], Any], timeout: float, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def shown(browser: Any) -> list[str]:
    return list(
        browser.evaluate("[...document.querySelectorAll('.wall-post')].map(e => e.dataset.postId)")
    )


def test_a_post_a_worker_publishes_appears_on_the_open_page_within_5_s(
    browser: Any, tmp_path: Path, content_dir: Path
) -> None:
    data = tmp_path / "data"
    settings = Settings(content_dir=content_dir, data_dir=data)
    engine = make_engine(settings.database_url)
    upgrade(engine)
    now = datetime.now(UTC)
    media = [{"file": "media/fleet-van.jpg", "alt": "The van", "kind": "image"}]
    add(engine, post_row("suv/teaser/x/fr", published_at=now - timedelta(hours=1), media=media))
    fresh = post_row("suv/reveal/mastodon/de", published_at=None, status="planned")
    fresh.update(
        due_utc=now + timedelta(seconds=2), text="The Aurora is here.", media_json=json.dumps(media)
    )
    add(engine, fresh)
    try:
        with serving(settings, wall.WallOptions()) as url:  # the default 2 s poll
            browser.open(url)
            wait_for("the first card", lambda: shown(browser) == ["suv/teaser/x/fr"], 10)
            with worker(data, tmp_path / "worker.log") as proc:

                def published() -> datetime | None:
                    with engine.connect() as conn:
                        row = conn.execute(
                            select(POST.c.status, POST.c.published_at).where(
                                POST.c.post_id == fresh["post_id"]
                            )
                        ).one()
                    return row.published_at if row.status == "published" else None

                try:
                    wait_for("the worker to publish", published, 60, step=0.05)
                except AssertionError:
                    raise AssertionError((tmp_path / "worker.log").read_text()[-3000:]) from None
                seen_by_db = time.monotonic()
                wait_for("the new card", lambda: len(shown(browser)) == 2, 5, step=0.05)
                appeared = time.monotonic() - seen_by_db
                assert proc.poll() is None
            assert appeared < 5
            assert shown(browser) == ["suv/reveal/mastodon/de", "suv/teaser/x/fr"]
            card = browser.evaluate(
                "(() => { const c = document.querySelector('.wall-post');"
                " return [c.querySelector('.wall-badge').textContent,"
                " c.querySelector('.wall-market').textContent,"
                " c.querySelector('.wall-text').textContent,"
                " Boolean(c.querySelector('.wall-outbox')),"
                " c.querySelector('canvas').getAttribute('aria-label')]; })()"
            )
            assert card == ["Mastodon", "de", "The Aurora is here.", True, "The van"]
            painted = "document.querySelector('.wall-post canvas').dataset.painted === '1'"
            wait_for("the photo on its card", lambda: browser.evaluate(painted), 5)
            time.sleep(0.8)  # the new card's entrance animation
            browser.screenshot(SCREENSHOTS / "wall.png", full_page=False)
            assert browser.console_errors == []
    finally:
        engine.dispose()


def failed(browser: Any) -> int:
    return int(browser.evaluate("window.storylineWall.failures"))


def _allow(url: str, allow: bool) -> None:
    allow_connections(url, allow)


@pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)
def test_the_page_keeps_its_posts_while_the_database_is_down_and_catches_up(
    browser: Any, calendar: Engine, database_url: str, tmp_path: Path, content_dir: Path
) -> None:
    now = datetime.now(UTC)
    add(calendar, post_row("suv/teaser/x/fr", published_at=now - timedelta(minutes=10)))
    settings = Settings(
        content_dir=content_dir, data_dir=tmp_path, database_url_override=database_url
    )
    options = wall.WallOptions(poll_seconds=0.3, max_backoff_seconds=1.0)
    with serving(settings, options) as url:
        browser.open(url)
        wait_for("the first card", lambda: shown(browser) == ["suv/teaser/x/fr"], 5)
        calendar.dispose()
        _allow(database_url, False)
        try:
            wait_for(
                "the reconnecting note",
                lambda: browser.evaluate("!document.getElementById('wall-status').hidden"),
                5,
            )
            failures = failed(browser)
            wait_for(
                "a retry", lambda: browser.evaluate("window.storylineWall.failures") > failures, 5
            )
            assert shown(browser) == ["suv/teaser/x/fr"]
        finally:
            _allow(database_url, True)
        add(calendar, post_row("suv/reveal/x/fr", published_at=now))
        wait_for("the new card", lambda: len(shown(browser)) == 2, 5)
        assert shown(browser) == ["suv/reveal/x/fr", "suv/teaser/x/fr"]
        wait_for(
            "the note to go",
            lambda: browser.evaluate("document.getElementById('wall-status').hidden"),
            5,
        )


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_the_page_rides_out_its_server_stopping_then_catches_up(
    browser: Any, calendar: Engine, database_url: str, tmp_path: Path, content_dir: Path
) -> None:
    now = datetime.now(UTC)
    add(calendar, post_row("suv/teaser/x/fr", published_at=now - timedelta(minutes=10)))
    settings = Settings(
        content_dir=content_dir, data_dir=tmp_path, database_url_override=database_url
    )
    options = wall.WallOptions(poll_seconds=0.3, max_backoff_seconds=1.0)
    with serving(settings, options) as url:
        browser.open(url)
        wait_for("the first card", lambda: shown(browser) == ["suv/teaser/x/fr"], 5)
    # The server is gone: the page keeps its card and says it is reconnecting.
    wait_for(
        "the reconnecting note",
        lambda: browser.evaluate("!document.getElementById('wall-status').hidden"),
        5,
    )
    assert shown(browser) == ["suv/teaser/x/fr"]
    add(calendar, post_row("suv/reveal/x/fr", published_at=now))
    port = int(url.split(":")[2].split("/")[0])
    with serving(settings, options, port=port):
        wait_for("the new card", lambda: len(shown(browser)) == 2, 5)
        assert shown(browser) == ["suv/reveal/x/fr", "suv/teaser/x/fr"]
        wait_for(
            "the note to go",
            lambda: browser.evaluate("document.getElementById('wall-status').hidden"),
            5,
        )
