"""The operator's commands: `storyline retry / cancel / publish --now / release / run`."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from scheduler.calendar.database import make_engine
from scheduler.calendar.tables import Post
from scheduler.interfaces.cli import cli

from .conftest import add_posts, create_schema

ROOT = Path(__file__).resolve().parents[2]
POST = Post.__table__  # type: ignore[attr-defined]
NOW = "2026-12-01T08:00:00Z"


@pytest.fixture
def calendar(tmp_path):
    url = f"sqlite:///{tmp_path / 'calendar.db'}"
    engine = make_engine(url)
    create_schema(engine)
    yield url, engine
    engine.dispose()


def invoke(url: str, *args: str):
    env = {"STORYLINE_DATABASE_URL": url, "STORYLINE_NOW": NOW}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def status_of(engine, post_id: str) -> str:
    with engine.connect() as conn:
        return conn.execute(select(POST.c.status).where(POST.c.post_id == post_id)).scalar_one()


def test_cancel_then_the_post_is_cancelled(calendar):
    url, engine = calendar
    [post_id] = add_posts(engine)
    result = invoke(url, "cancel", post_id)
    assert result.exit_code == 0, result.output
    assert status_of(engine, post_id) == "cancelled"


def test_cancel_of_a_published_post_is_refused_with_exit_1(calendar):
    url, engine = calendar
    [post_id] = add_posts(engine, status="published")
    result = invoke(url, "cancel", post_id)
    assert result.exit_code == 1
    assert "already published" in result.output
    assert "Traceback" not in result.output


def test_retry_of_a_failed_post(calendar):
    url, engine = calendar
    [post_id] = add_posts(engine, status="failed")
    assert invoke(url, "retry", post_id).exit_code == 0
    assert status_of(engine, post_id) == "planned"


def test_publish_now_needs_the_now_flag(calendar):
    url, engine = calendar
    [post_id] = add_posts(engine)
    result = invoke(url, "publish", post_id)
    assert result.exit_code == 2
    assert "--now" in result.output


def test_publish_now_makes_the_post_due_now(calendar):
    url, engine = calendar
    [post_id] = add_posts(engine, due=datetime(2026, 12, 5, tzinfo=UTC))
    result = invoke(url, "publish", post_id, "--now")
    assert result.exit_code == 0, result.output
    assert "due 2026-12-01 08:00:00 UTC" in result.output


def test_release_an_account(calendar):
    url, engine = calendar
    ids = add_posts(
        engine,
        2,
        status="held",
        status_reason="account needs re-auth: 401",
        hold_reason="needs_reauth",
    )
    result = invoke(url, "release", "--account", "facebook:100")
    assert result.exit_code == 0, result.output
    assert "released 2 post(s)" in result.output
    assert {status_of(engine, p) for p in ids} == {"planned"}


def test_release_wants_a_post_or_an_account(calendar):
    url, _ = calendar
    assert invoke(url, "release").exit_code == 2
    assert "NETWORK:ACCOUNT" in invoke(url, "release", "--account", "facebook").output


def test_an_unknown_post_is_a_clear_error(calendar):
    url, _ = calendar
    result = invoke(url, "cancel", "no/such/post/id")
    assert result.exit_code == 1
    assert "no post 'no/such/post/id'" in result.output


@pytest.mark.slow
@pytest.mark.e2e
def test_run_demo_publishes_the_sample_to_its_own_outbox_and_leaves_the_real_one_alone(tmp_path):
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copytree(ROOT / "editorial_lines", tmp_path / "editorial_lines")
    real = tmp_path / ".storyline"
    kept = real / "outbox" / "x" / "fr" / "kept__teaser.json"
    kept.parent.mkdir(parents=True)
    kept.write_text('{"post_id": "kept/teaser/x/fr"}', encoding="utf-8")
    stale = real / "demo" / "outbox" / "x" / "fr" / "stale__teaser.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}", encoding="utf-8")  # an earlier demo's: the new one starts fresh
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYLINE_")}
    storyline = [sys.executable, "-c", "from scheduler.interfaces.cli import main; main()"]
    proc = subprocess.Popen(
        [*storyline, "run", "--demo"],
        cwd=tmp_path,
        env={**env, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    outbox = real / "demo" / "outbox"

    def written() -> list[Path]:
        return [p for p in outbox.rglob("*.json") if p.name != stale.name]

    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not written():
            time.sleep(0.5)
        assert written(), "nothing reached the demo outbox within a minute"
        time.sleep(1)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "outbox mode" in out
    assert "⇥" in out and "→ outbox, not sent to" in out
    assert "✓" not in out  # nothing went to a network: nothing looks published
    assert "stopped" in err
    assert not stale.exists()
    assert [p for p in (real / "outbox").rglob("*") if p.is_file()] == [kept]
    assert not (real / "storyline.db").exists()


def test_the_demo_gets_a_fresh_data_dir_of_its_own(tmp_path):
    from scheduler.app.settings import Settings
    from scheduler.interfaces.cli.publishing import demo_settings

    leftover = tmp_path / "demo" / "storyline.db"
    leftover.parent.mkdir()
    leftover.write_text("an earlier demo", encoding="utf-8")
    real = Settings.from_env(
        {
            "STORYLINE_DATA_DIR": str(tmp_path),
            "STORYLINE_DATABASE_URL": "postgresql+psycopg://brand@db/storyline",
            "STORYLINE_BROKER_URL": "redis://broker:6379/0",
            "STORYLINE_PUBLISHER": "live",
        }
    )
    demo = demo_settings(real)
    assert not leftover.exists()
    assert demo.data_dir == tmp_path / "demo"
    assert demo.database_url == f"sqlite:///{(tmp_path / 'demo' / 'storyline.db').resolve()}"
    assert demo.broker_url.startswith("sqla+sqlite:///") and "/demo/" in demo.broker_url
    assert demo.outbox_dir == tmp_path / "demo" / "outbox"
    assert demo.publisher_mode == "outbox"
