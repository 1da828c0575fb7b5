"""``storyline analytics pull`` and the worker's beat, against a local fake X.

The end-to-end test runs a real Celery worker (``celery -A worker worker --beat``) as a
subprocess: it publishes a due post to the local X, its beat sends ``storyline.metrics`` to
the metrics queue, its pool pulls, and the snapshots of that post and of earlier ones land in
the calendar, while publishing keeps its own queue.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid
from contextlib import suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis
from click.testing import CliRunner
from metrics_fakenet import MetricsNet
from sqlalchemy import select

from scheduler.calendar.tables import MetricSnapshot, Post
from scheduler.interfaces.cli import cli

from .conftest import PUBLISHED, seed

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = os.environ.get("STORYLINE_TEST_REDIS", "redis://127.0.0.1:6379") + "/0"
CELERY = Path(os.environ.get("VIRTUAL_ENV", ROOT / ".venv")) / "bin" / "celery"
SNAPSHOT = MetricSnapshot.__table__  # type: ignore[attr-defined]
POST = Post.__table__  # type: ignore[attr-defined]
PLANNED = "launch/x/fr/planned"


def plan_one(engine: Any, due: datetime) -> None:
    """A planned X post due ``due``, for the worker to publish."""
    with engine.begin() as conn:
        conn.execute(
            POST.insert(),
            {
                "post_id": PLANNED,
                "story": "launch",
                "beat": "reveal",
                "network": "x",
                "market": "fr",
                "account": "HoldoutFR",
                "text": "The reveal, live now",
                "media_json": "[]",
                "content_hash": "1" * 64,
                "due_utc": due,
                "timezone": "Europe/Paris",
                "status": "planned",
                "created_at": due,
                "updated_at": due,
            },
        )


def env_for(tmp_path: Path, engine: Any, x: MetricsNet, **more: str) -> dict[str, str]:
    return {
        "STORYLINE_DATA_DIR": str(tmp_path / "data"),
        "STORYLINE_DATABASE_URL": str(engine.url),
        "STORYLINE_API_BASE_X": x.url,
        "STORYLINE_SECRET_X_HOLDOUTFR_ACCESS_TOKEN": "x-token",
        "STORYLINE_SECRET_KEY": "",
        **more,
    }


def test_pull_writes_the_due_snapshots_and_answers_json(
    tmp_path: Path, engine: Any, nets: dict[str, MetricsNet]
) -> None:
    x = nets["x"]
    for remote in seed(engine, "x", 3):
        x.counts[remote] = {"likes": 4, "impressions": 90}
    now = (PUBLISHED + timedelta(hours=2)).isoformat()
    env = env_for(tmp_path, engine, x, STORYLINE_NOW=now)
    result = CliRunner().invoke(cli, ["analytics", "pull", "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["written"] == 3 and report["requests_by_network"] == {"x": 1}
    again = CliRunner().invoke(cli, ["analytics", "pull", "--format", "json"], env=env)
    assert json.loads(again.output)["due"] == 0


def test_pull_all_pulls_posts_not_yet_due(
    tmp_path: Path, engine: Any, nets: dict[str, MetricsNet]
) -> None:
    x = nets["x"]
    for remote in seed(engine, "x", 2):
        x.counts[remote] = {"likes": 1}
    env = env_for(tmp_path, engine, x, STORYLINE_NOW=(PUBLISHED + timedelta(minutes=5)).isoformat())
    due = CliRunner().invoke(cli, ["analytics", "pull"], env=env)
    assert due.exit_code == 0 and due.output.startswith("0 post(s) due")
    forced = CliRunner().invoke(cli, ["analytics", "pull", "--all"], env=env)
    assert forced.exit_code == 0 and "2 snapshot(s) written" in forced.output


def test_a_network_that_cannot_be_read_exits_1_with_its_reason(
    tmp_path: Path, engine: Any, nets: dict[str, MetricsNet]
) -> None:
    seed(engine, "x", 1)
    env = env_for(
        tmp_path, engine, nets["x"], STORYLINE_NOW=(PUBLISHED + timedelta(hours=2)).isoformat()
    )
    env["STORYLINE_SECRET_X_HOLDOUTFR_ACCESS_TOKEN"] = ""
    env["STORYLINE_PUBLISHER"] = "live"
    result = CliRunner().invoke(cli, ["analytics", "pull"], env=env)
    assert result.exit_code == 1
    assert "error: x:HoldoutFR: no credentials" in result.output
    assert "Traceback" not in result.output


def test_the_worker_beat_pulls_metrics_on_their_own_queue(
    tmp_path: Path, engine: Any, nets: dict[str, MetricsNet]
) -> None:
    x = nets["x"]
    queue = f"e2e-metrics-{uuid.uuid4().hex[:8]}"
    real_now = datetime.now(UTC)
    for remote in seed(engine, "x", 5, published=real_now - timedelta(hours=2)):
        x.counts[remote] = {"likes": 7, "impressions": 300}
    plan_one(engine, due=real_now)  # the worker publishes it to the fake X first
    env = {
        **os.environ,
        **env_for(tmp_path, engine, x),
        "STORYLINE_QUEUE": queue,
        "STORYLINE_BROKER_URL": REDIS_URL,
        "STORYLINE_METRICS_PULL_SECONDS": "1",
        # The pulls' clock two hours ahead (publishing keeps the real one): the post the
        # worker publishes now is then due its 1 h pull without waiting an hour.
        "STORYLINE_NOW": (real_now + timedelta(hours=2)).isoformat(),
    }
    log = tmp_path / "worker.log"
    args = [str(CELERY), "-A", "worker", "worker", "--beat", "--loglevel=INFO"]
    args += ["--concurrency=2", "--without-mingle", "--without-gossip"]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 25
        rows: list[Any] = []
        while time.monotonic() < deadline and len(rows) < 6 and proc.poll() is None:
            time.sleep(0.5)
            with engine.connect() as conn:
                rows = list(conn.execute(select(SNAPSHOT.c.window, SNAPSHOT.c.likes)))
        expected = [("1h", 7)] * 5 + [("1h", 9)]
        assert sorted(rows) == expected, log.read_text(errors="replace")[-3000:]
        with engine.connect() as conn:
            status = conn.execute(select(POST.c.status).where(POST.c.post_id == PLANNED)).scalar()
        assert status == "published"
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        client = redis.Redis.from_url(REDIS_URL)
        bound = client.smembers(f"_kombu.binding.{queue}.metrics")
        for key in client.scan_iter(f"*{queue}*"):
            client.delete(key)
    asked = [i for r in x.metric_requests() for i in r.one("ids").split(",")]
    assert len(asked) == len(set(asked)) == 6  # each post pulled once, in batches
    assert bound, "no worker consumed the metrics queue"
    assert "storyline.metrics" in log.read_text(errors="replace")
