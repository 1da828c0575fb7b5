"""The probe against a real deployment: a `celery worker --beat` on PostgreSQL and Redis makes
`storyline health` pass, then the broker, the database and the beat are taken away in turn,
and each time the probe exits 1 naming the check that failed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from scheduler.calendar.database import dispose_all, make_engine
from scheduler.calendar.migrate import upgrade
from scheduler.interfaces.cli import cli

from .conftest import BIN, Processes, base_env, closed_port, wait_until

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]


def probe(env: dict[str, str], **override: str) -> tuple[int, dict[str, Any]]:
    """`storyline health --format json` with the deployment's variables (in this process:
    the worker's are the real processes; the probe is the command under test)."""
    variables = {k: v for k, v in {**env, **override}.items() if k.startswith("STORYLINE_")}
    result = CliRunner().invoke(
        cli, ["health", "--format", "json", "--broker-timeout", "2"], env=variables
    )
    dispose_all()
    return result.exit_code, json.loads(result.stdout)


def test_each_dependency_taken_away_in_turn_fails_its_own_check(
    pg_url: str, redis_url: str, queue: str, tmp_path: Path, processes: Processes
) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    engine.dispose()
    env = base_env(
        STORYLINE_DATA_DIR=str(tmp_path),
        STORYLINE_DATABASE_URL=pg_url,
        STORYLINE_BROKER_URL=redis_url,
        STORYLINE_QUEUE=queue,
        STORYLINE_TICK_SECONDS="0.5",
        STORYLINE_HEALTH_BEAT_SECONDS="3",
    )
    worker = processes.start(
        [
            str(BIN / "celery"), "-A", "worker", "worker", "--beat", "--concurrency=2",
            f"--schedule={tmp_path / 'schedule'}", "--without-mingle", "--without-gossip",
            f"--hostname=health-{queue}@%h",
        ],
        env,
        "worker",
    )  # fmt: skip

    # All present: healthy once the beat's first tick has run.
    wait_until(lambda: probe(env)[0] == 0, 25, "a healthy probe", processes.tails())
    code, report = probe(env)
    assert (code, report["failed"]) == (0, [])

    # The broker taken away.
    code, report = probe(env, STORYLINE_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0")
    assert (code, report["failed"]) == (1, ["broker"])

    # The database taken away (nothing listens on its port).
    port = closed_port()
    code, report = probe(
        env, STORYLINE_DATABASE_URL=f"postgresql+psycopg://postgres@127.0.0.1:{port}/x"
    )
    assert code == 1
    assert report["failed"][0] == "database"
    assert report["checks"][0]["name"] == "database" and not report["checks"][0]["ok"]

    # The beat taken away: the worker (and its beat) stops; within the limit the probe fails.
    processes.stop(worker)
    wait_until(lambda: probe(env)[1]["failed"] == ["beat"], 15, "the beat check to fail")
    assert probe(env)[0] == 1

    # The database dropped under a configured URL.
    name = pg_url.rsplit("/", 1)[1]
    admin = create_engine(pg_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    admin.dispose()
    code, report = probe(env)
    assert code == 1
    assert report["failed"][0] == "database"
    assert f'database "{name}" does not exist' in report["checks"][0]["detail"]
