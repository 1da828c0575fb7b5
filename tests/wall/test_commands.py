"""``storyline wall`` prints its URL and serves the wall; ``storyline serve`` serves it too."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine
from wall_support import add, post_row

from scheduler.app.settings import Settings
from scheduler.interfaces import serve

STORYLINE = str(Path(sys.executable).parent / "storyline")


def read_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def test_storyline_wall_prints_its_url_and_serves_one_campaign(
    calendar: Engine, database_url: str, tmp_path: Path
) -> None:
    add(
        calendar,
        post_row("suv/reveal/x/fr", campaign="motor-show"),
        post_row("van/reveal/x/fr", campaign="fleet"),
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYLINE_")}
    env.update(STORYLINE_DATA_DIR=str(tmp_path / "data"), STORYLINE_DATABASE_URL=database_url)
    proc = subprocess.Popen(
        [STORYLINE, "wall", "--port", "0", "--campaign", "motor-show"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        assert url.endswith("/wall?campaign=motor-show")
        base = url.split("/wall", 1)[0]
        with urllib.request.urlopen(url, timeout=10) as page:
            assert 'data-feed="/wall/feed?campaign=motor-show"' in page.read().decode()
        # Without ?campaign= the command's campaign applies.
        posts = read_json(base + "/wall/feed")["posts"]
        assert [p["id"] for p in posts] == ["suv/reveal/x/fr"]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


def test_serve_answers_the_wall_routes(calendar: Engine, database_url: str, tmp_path: Path) -> None:
    add(calendar, post_row("suv/reveal/x/fr"))
    settings = Settings(
        content_dir=tmp_path / "content",
        lines_dir=tmp_path / "lines",
        data_dir=tmp_path / "data",
        database_url_override=database_url,
    )
    server = serve.make_server(settings, lambda: datetime.now(UTC), port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        base = serve.url_of(server).rstrip("/")
        with urllib.request.urlopen(base + "/wall", timeout=10) as page:
            assert page.status == 200
            assert 'id="wall"' in page.read().decode()
        assert [p["id"] for p in read_json(base + "/wall/feed")["posts"]] == ["suv/reveal/x/fr"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
        server.wall._engine.dispose()  # type: ignore[attr-defined]
