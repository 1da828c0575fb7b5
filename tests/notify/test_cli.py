"""``storyline notify test|status|run``: the operator's view of the channels."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from receivers import HttpReceiver, free_port
from sqlalchemy.engine import Engine

from scheduler.interfaces.cli import cli

from .conftest import NOW, add_posts


def invoke(
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    *args: str,
    now: str = NOW.isoformat(),
    **env: str,
) -> tuple[int, str]:
    monkeypatch.delenv("STORYLINE_NOTIFY", raising=False)
    monkeypatch.setenv("STORYLINE_DIGEST_HOUR", "")  # digests: tests/notify/test_delivery.py
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("STORYLINE_NOW", now)
    result = CliRunner().invoke(cli, ["--database-url", database_url, "notify", *args])
    return result.exit_code, result.output


def webhook(receiver: HttpReceiver) -> str:
    return f"json://127.0.0.1:{receiver.port}/hooks/sEcReTpAtH"


@pytest.fixture
def receiver() -> HttpReceiver:
    r = HttpReceiver()
    yield r
    r.close()


def test_notify_test_sends_to_every_channel_and_says_which_worked(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, database_url: str, receiver: HttpReceiver
) -> None:
    down = f"json://127.0.0.1:{free_port()}/hooks/d0wnSECRET"
    code, out = invoke(
        monkeypatch,
        database_url,
        "test",
        STORYLINE_NOTIFY=webhook(receiver),
        STORYLINE_NOTIFY_FR=down,
    )
    assert code == 1
    assert len(receiver.received) == 1
    assert receiver.received[0].body["title"] == "Storyline · test notification"
    assert "✓ json://127.0.0.1" in out and "(STORYLINE_NOTIFY): delivered" in out
    assert "✗ json://127.0.0.1" in out and "(STORYLINE_NOTIFY_FR): " in out
    assert "sEcReTpAtH" not in out and "d0wnSECRET" not in out


def test_notify_test_without_a_channel_says_how_to_set_one(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, database_url: str
) -> None:
    code, out = invoke(monkeypatch, database_url, "test")
    assert code == 1
    assert "set STORYLINE_NOTIFY" in out


def test_a_url_apprise_cannot_read_is_an_error_naming_its_variable(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, database_url: str
) -> None:
    code, out = invoke(monkeypatch, database_url, "status", STORYLINE_NOTIFY_FR="slakc://tok3n/abc")
    assert code == 1
    assert "STORYLINE_NOTIFY_FR: slakc://… is not a notification URL" in out
    assert "tok3n" not in out


def test_notify_run_then_status_shows_sent_pending_and_the_error(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, database_url: str, receiver: HttpReceiver
) -> None:
    add_posts(engine, 3)
    receiver.down = 1
    env = {"STORYLINE_NOTIFY": webhook(receiver)}
    code, out = invoke(monkeypatch, database_url, "run", **env)
    assert code == 1
    assert "3 new events, 0 of 1 messages sent" in out
    code, out = invoke(monkeypatch, database_url, "status", "--format", "json", **env)
    assert code == 0
    status = json.loads(out)
    assert status["sent"] == 0
    assert [c["pending"] for c in status["channels"]] == [3]
    first = status["deliveries"][0]
    assert first["state"] == "pending"
    assert first["attempts"] == 1
    assert first["next_attempt_at"] == "2026-12-01T07:30:30Z"
    assert "503" in first["last_error"]
    assert "sEcReTpAtH" not in out
    code, out = invoke(monkeypatch, database_url, "run", now="2026-12-01T07:31:00Z", **env)
    assert (code, out.splitlines()[0]) == (0, "0 new events, 1 of 1 messages sent")
    code, out = invoke(monkeypatch, database_url, "status", **env)
    assert code == 0
    assert "3 deliveries sent, 0 not sent" in out
    assert len(receiver.received) == 1


def test_status_exits_1_and_lists_deliveries_given_up(
    monkeypatch: pytest.MonkeyPatch,
    engine: Engine,
    database_url: str,
    receiver: HttpReceiver,
    tmp_path: Path,
) -> None:
    from sqlalchemy import update

    from scheduler.app.notify import MAX_ATTEMPTS
    from scheduler.app.notify_store import DELIVERY

    add_posts(engine, 1)
    receiver.down = 1
    env = {"STORYLINE_NOTIFY": webhook(receiver)}
    invoke(monkeypatch, database_url, "run", **env)
    with engine.begin() as conn:  # as if every attempt had failed
        conn.execute(update(DELIVERY).values(attempts=MAX_ATTEMPTS, next_attempt_at=None))
    code, out = invoke(monkeypatch, database_url, "status", **env)
    assert code == 1
    assert "0 pending, 1 failed" in out
    assert "failed       post:suv/b0/x/fr#1" in out


def test_a_market_variable_that_names_no_market_is_warned_with_a_suggestion(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, database_url: str, receiver: HttpReceiver
) -> None:
    monkeypatch.setenv("STORYLINE_CONTENT_DIR", str(Path(__file__).parents[2] / "content"))
    code, out = invoke(monkeypatch, database_url, "test", STORYLINE_NOTIFY_FRX=webhook(receiver))
    assert code == 0
    assert "STORYLINE_NOTIFY_FRX: no market 'frx' in markets.yaml (did you mean 'fr'?)" in out
