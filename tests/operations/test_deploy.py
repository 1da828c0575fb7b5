"""deploy/: the compose file and the Procfile name only commands, options and variables that
exist, and the Procfile runs for real under honcho (no Docker daemon here): PostgreSQL and
Redis of the test's own, the one-shot upgrade, then web, worker and beat publish a post to a
local webhook receiver."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from sqlalchemy import select

from scheduler.app.settings import documented
from scheduler.calendar.database import make_engine
from scheduler.calendar.tables import Post
from scheduler.interfaces.cli import cli

from .conftest import (
    BIN,
    ROOT,
    Processes,
    Receiver,
    add_webhook_posts,
    base_env,
    closed_port,
    wait_until,
    webhook_secrets,
)

DEPLOY = ROOT / "deploy"
WORKER_APP = "scheduler.interfaces.worker"


def compose() -> dict[str, Any]:
    return yaml.safe_load((DEPLOY / "compose.yaml").read_text())  # type: ignore[no-any-return]


def procfile() -> dict[str, str]:
    lines = (DEPLOY / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def check_storyline(argv: list[str]) -> None:
    """``argv`` (after ``storyline``) names a command of the click group and only its options."""
    command: click.Command = cli
    ctx = click.Context(cli)
    words = list(argv)
    while words and isinstance(command, click.Group) and not words[0].startswith("-"):
        found = command.get_command(ctx, words[0])
        assert found is not None, f"`storyline {' '.join(argv)}`: no command {words[0]!r}"
        command, words = found, words[1:]
    assert not isinstance(command, click.Group), f"`storyline {' '.join(argv)}` is a group"
    options = {o for p in command.params for o in getattr(p, "opts", [])}
    for word in words:
        if word.startswith("-"):
            assert word.split("=", 1)[0] in options, f"`storyline {' '.join(argv)}`: {word}?"


def check_celery(argv: list[str]) -> None:
    """A worker or beat of Storyline's Celery app."""
    assert argv[:2] == ["-A", WORKER_APP], argv
    assert argv[2] in {"worker", "beat"}, argv


def check_command(argv: list[str]) -> None:
    if argv[0] == "storyline":
        check_storyline(argv[1:])
    else:
        assert argv[0] == "celery", argv
        check_celery(argv[1:])


def storyline_services() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in compose()["services"].items()
        if service.get("image") == "storyline:latest"
    }


def test_compose_has_the_services_of_a_deployment() -> None:
    services = compose()["services"]
    assert {"postgres", "redis", "migrate", "worker", "beat", "flower", "web"} <= set(services)
    assert services["migrate"]["restart"] == "no"
    assert services["migrate"]["command"] == ["storyline", "db", "upgrade"]
    assert services["beat"]["deploy"]["replicas"] == 1
    for name in ("worker", "beat", "web"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }


def test_every_storyline_command_of_compose_exists_in_the_cli() -> None:
    services = storyline_services()
    assert services
    for service in services.values():
        check_command(service["command"])
        healthcheck = service.get("healthcheck", {}).get("test")
        if healthcheck:
            check_command(healthcheck[1:])


def test_the_workers_send_task_events_for_flower() -> None:
    worker = compose()["services"]["worker"]
    assert "-E" in worker["command"]
    assert "flower" in compose()["services"]["flower"]["command"]


def test_every_storyline_variable_of_compose_is_a_setting() -> None:
    names = {
        name
        for service in storyline_services().values()
        for name in service["environment"]
        if name.startswith("STORYLINE_")
    }
    assert "STORYLINE_DATABASE_URL" in names and "STORYLINE_METRICS_PORT" in names
    assert {n for n in names if not documented(n)} == set()


def test_every_procfile_command_exists_and_every_variable_is_a_setting() -> None:
    processes = procfile()
    assert set(processes) == {"release", "web", "worker", "beat"}
    for line in processes.values():
        check_command([w for w in shlex.split(line) if "${" not in w])
        for name in re.findall(r"\$\{?(STORYLINE_[A-Z_]+)", line):
            assert documented(name), name


def test_the_dockerfile_sets_only_settings_and_runs_as_a_user() -> None:
    text = (DEPLOY / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    assert "pip install ." in text
    assert re.search(r"^USER storyline$", text, re.MULTILINE)
    for name in re.findall(r"(STORYLINE_[A-Z_]+)=", text):
        assert documented(name), name
    cmd = re.search(r"^CMD (\[.*\])$", text, re.MULTILINE)
    assert cmd is not None
    check_command(yaml.safe_load(cmd.group(1)))


@pytest.mark.e2e
@pytest.mark.postgres
@pytest.mark.redis
def test_the_procfile_publishes_a_post_under_honcho(
    pg_url: str,
    redis_url: str,
    queue: str,
    tmp_path: Path,
    processes: Processes,
    receiver: Receiver,
) -> None:
    data = tmp_path / "data"
    web_port = closed_port()
    env = base_env(
        STORYLINE_DATA_DIR=str(data),
        STORYLINE_CONTENT_DIR=str(ROOT / "content"),
        STORYLINE_LINES_DIR=str(ROOT / "editorial_lines"),
        STORYLINE_DATABASE_URL=pg_url,
        STORYLINE_BROKER_URL=redis_url,
        STORYLINE_QUEUE=queue,
        STORYLINE_TICK_SECONDS="0.5",
        HOST="127.0.0.1",
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        **webhook_secrets(receiver.url),
    )
    honcho = [str(BIN / "honcho"), "-f", str(DEPLOY / "Procfile"), "-d", str(tmp_path)]

    # The release phase, alone: it upgrades the database and exits 0.
    release = subprocess.run(
        [*honcho, "start", "release"], env=env, capture_output=True, text=True, timeout=60
    )
    assert release.returncode == 0, release.stdout + release.stderr
    assert "upgraded the calendar database" in release.stdout

    engine = make_engine(pg_url)
    try:
        [post_id] = add_webhook_posts(engine, 1, due=datetime.now(UTC) + timedelta(seconds=3))
        env["PORT"] = str(web_port)
        proc = processes.start([*honcho, "start", "web", "worker", "beat"], env, "honcho")

        def published() -> bool:
            with engine.connect() as conn:
                status = conn.execute(select(Post.status).where(Post.post_id == post_id))  # type: ignore[arg-type]
                return status.scalar() == "published"

        wait_until(published, 30, "the post to be published", processes.tails())
        assert receiver.counts == {post_id: 1}

        def previews_served() -> bool:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{web_port}/", timeout=2) as page:
                    return page.status == 200
            except OSError:
                return False

        wait_until(previews_served, 15, "the web process", processes.tails())
        processes.stop(proc, signal.SIGTERM)  # honcho stops web, worker and beat
        log = processes.logs[-1].read_text()
        assert re.search(r"web\.1\s+\|", log) and re.search(r"beat\.1\s+\|", log)
        assert re.search(r"worker\.1\s+\|", log)
    finally:
        engine.dispose()
