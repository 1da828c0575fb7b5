"""A worker or beat started against a calendar that is not ready says why, once, instead of a
traceback every tick: a schema behind exits 78 with the `storyline db upgrade` message; an
unreachable database or broker is named (password hidden) with what to do."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from scheduler.interfaces.cli import cli

from .conftest import BIN, ROOT, Processes, base_env, closed_port, wait_until

pytestmark = [pytest.mark.e2e]

CELERY = str(BIN / "celery")


def run_to_exit(
    args: list[str], env: dict[str, str], timeout: float = 25
) -> tuple[int, str, float]:
    started = time.monotonic()
    done = subprocess.run(
        args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return done.returncode, done.stdout + done.stderr, time.monotonic() - started


@pytest.mark.postgres
def test_a_worker_on_a_fresh_database_exits_78_with_one_clear_message(
    pg_url: str, tmp_path: Path
) -> None:
    env = base_env(STORYLINE_DATA_DIR=str(tmp_path), STORYLINE_DATABASE_URL=pg_url)
    code, output, took = run_to_exit(
        [CELERY, "-A", "worker", "worker", "--pool=processes", "--concurrency=2"], env
    )
    assert code == 78
    assert took < 20
    assert (
        output.count("storyline worker: cannot start: no calendar yet: run `storyline db upgrade`")
        == 1
    )
    assert "Traceback" not in output


def test_a_beat_on_a_fresh_database_exits_78_with_one_clear_message(tmp_path: Path) -> None:
    env = base_env(STORYLINE_DATA_DIR=str(tmp_path))
    code, output, _ = run_to_exit(
        [CELERY, "-A", "worker", "beat", f"--schedule={tmp_path / 'schedule'}"], env
    )
    assert code == 78
    assert (
        output.count("storyline beat: cannot start: no calendar yet: run `storyline db upgrade`")
        == 1
    )
    assert "Traceback" not in output


def test_a_worker_names_an_unreachable_database_and_broker_and_what_to_do(
    tmp_path: Path, processes: Processes
) -> None:
    db_port, broker_port = closed_port(), closed_port()
    env = base_env(
        STORYLINE_DATA_DIR=str(tmp_path),
        STORYLINE_DATABASE_URL=f"postgresql+psycopg://brand:hunter2@127.0.0.1:{db_port}/cal",
        STORYLINE_BROKER_URL=f"redis://:hunter2@127.0.0.1:{broker_port}/0",
    )
    proc = processes.start([CELERY, "-A", "worker", "worker"], env, "worker")
    log = processes.logs[-1]
    wait_until(
        lambda: "cannot reach the broker" in log.read_text(), 20, "the messages", processes.tails()
    )
    processes.stop(proc)
    text = log.read_text()
    assert (
        f"storyline worker: cannot connect to postgresql+psycopg://brand:***@127.0.0.1:{db_port}/cal"
        in text
    )
    assert "start the database server or fix STORYLINE_DATABASE_URL" in text
    assert f"cannot reach the broker redis://:***@127.0.0.1:{broker_port}/0" in text
    assert "start Redis or fix STORYLINE_BROKER_URL" in text
    assert "hunter2" not in text


def test_run_names_an_unreachable_broker_and_what_to_do(tmp_path: Path) -> None:
    port = closed_port()
    result = CliRunner().invoke(
        cli,
        ["--content", str(ROOT / "content"), "--lines", str(ROOT / "editorial_lines"), "run"],
        env={
            "STORYLINE_DATA_DIR": str(tmp_path),
            "STORYLINE_BROKER_URL": f"amqp://guest:hunter2@127.0.0.1:{port}//",
        },
    )
    assert result.exit_code == 1
    assert f"cannot reach the broker amqp://guest:***@127.0.0.1:{port}//" in result.output
    assert "start RabbitMQ or fix STORYLINE_BROKER_URL" in result.output
    assert "hunter2" not in result.output


def test_the_cli_names_an_unreachable_database_and_what_to_do(tmp_path: Path) -> None:
    port = closed_port()
    result = CliRunner().invoke(
        cli,
        ["db", "upgrade"],
        env={
            "STORYLINE_DATA_DIR": str(tmp_path),
            "STORYLINE_DATABASE_URL": f"postgresql+psycopg://brand:hunter2@127.0.0.1:{port}/cal",
        },
    )
    assert result.exit_code == 1
    assert f"cannot connect to postgresql+psycopg://brand:***@127.0.0.1:{port}/cal" in result.output
    assert "fix STORYLINE_DATABASE_URL" in result.output
    assert "hunter2" not in result.output


def test_a_worker_whose_metrics_port_is_taken_exits_78_saying_so(tmp_path: Path) -> None:
    import socket

    from scheduler.calendar.database import make_engine
    from scheduler.calendar.migrate import upgrade

    engine = make_engine(f"sqlite:///{(tmp_path / 'storyline.db').resolve()}")
    upgrade(engine)
    engine.dispose()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = base_env(STORYLINE_DATA_DIR=str(tmp_path), STORYLINE_METRICS_PORT=str(port))
        code, output, _ = run_to_exit([CELERY, "-A", "worker", "worker"], env)
    assert code == 78
    assert f"storyline worker: cannot serve metrics on 127.0.0.1:{port}" in output
    assert "give each worker its own STORYLINE_METRICS_PORT" in output
