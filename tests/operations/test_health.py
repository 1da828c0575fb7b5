"""`storyline health`: exit 0 only when the database, its schema, the beat and the broker are
all fine; exit 1 and a JSON that names the failed check otherwise. Accounts that need a person
are listed without failing the probe."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import insert

from scheduler.calendar.database import dispose_all, make_engine
from scheduler.calendar.health import BEAT, record_heartbeat
from scheduler.calendar.migrate import upgrade
from scheduler.calendar.tables import AccountToken, Post
from scheduler.interfaces.cli import cli

from .conftest import closed_port


@pytest.fixture(autouse=True)
def _fresh_engines() -> Any:
    yield
    dispose_all()


def health(data_dir: Path, *args: str, **env: str) -> Result:
    variables = {"STORYLINE_DATA_DIR": str(data_dir), **env}
    return CliRunner().invoke(cli, ["health", *args], env=variables)


def as_json(result: Result) -> dict[str, Any]:
    return json.loads(result.stdout)  # type: ignore[no-any-return]


@pytest.fixture
def calendar(tmp_path: Path) -> Any:
    """An upgraded embedded calendar whose beat ticked just now."""
    data = tmp_path / "data"
    data.mkdir()
    engine = make_engine(f"sqlite:///{(data / 'storyline.db').resolve()}")
    upgrade(engine)
    record_heartbeat(engine, BEAT, datetime.now(UTC))
    yield data, engine
    engine.dispose()


def test_everything_in_order_is_healthy(calendar: Any) -> None:
    data, _ = calendar
    result = health(data, "--format", "json")
    assert result.exit_code == 0, result.output
    report = as_json(result)
    assert report["ok"] is True
    assert report["failed"] == []
    assert [c["name"] for c in report["checks"]] == ["database", "schema", "beat", "broker"]


def test_a_stale_heartbeat_fails_the_beat_check(calendar: Any) -> None:
    data, engine = calendar
    record_heartbeat(engine, BEAT, datetime.now(UTC) - timedelta(seconds=120))
    result = health(data, "--format", "json", STORYLINE_HEALTH_BEAT_SECONDS="60")
    assert result.exit_code == 1
    report = as_json(result)
    assert report["failed"] == ["beat"]
    beat = next(c for c in report["checks"] if c["name"] == "beat")
    assert "STORYLINE_HEALTH_BEAT_SECONDS=60" in beat["detail"]


def test_a_calendar_no_beat_ever_ticked_fails_the_beat_check(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{(tmp_path / 'storyline.db').resolve()}")
    upgrade(engine)
    result = health(tmp_path, "--format", "json")
    assert result.exit_code == 1
    assert as_json(result)["failed"] == ["beat"]


def test_a_schema_behind_fails_the_schema_check_and_says_what_to_run(tmp_path: Path) -> None:
    result = health(tmp_path, "--format", "json")
    assert result.exit_code == 1
    report = as_json(result)
    assert report["failed"][0] == "schema"
    schema = next(c for c in report["checks"] if c["name"] == "schema")
    assert "storyline db upgrade" in schema["detail"]


def test_a_database_at_a_closed_port_fails_the_database_check_password_hidden(
    calendar: Any,
) -> None:
    data, _ = calendar
    url = f"postgresql+psycopg://brand:hunter2@127.0.0.1:{closed_port()}/calendar"
    result = health(data, "--format", "json", STORYLINE_DATABASE_URL=url)
    assert result.exit_code == 1
    report = as_json(result)
    assert report["failed"][0] == "database"
    database = report["checks"][0]
    assert "brand:***@127.0.0.1" in database["detail"]
    assert "STORYLINE_DATABASE_URL" in database["detail"]
    assert "hunter2" not in result.output


def test_a_broker_at_a_closed_port_fails_the_broker_check_password_hidden(calendar: Any) -> None:
    data, _ = calendar
    url = f"redis://:hunter2@127.0.0.1:{closed_port()}/0"
    result = health(data, "--format", "json", STORYLINE_BROKER_URL=url)
    assert result.exit_code == 1
    report = as_json(result)
    assert report["failed"] == ["broker"]
    broker = report["checks"][3]
    assert f"redis://:***@127.0.0.1:{url.rsplit(':', 1)[1]}" in broker["detail"]
    assert "start Redis or fix STORYLINE_BROKER_URL" in broker["detail"]
    assert "hunter2" not in result.output


def test_accounts_that_need_a_person_are_listed_without_failing_the_probe(calendar: Any) -> None:
    data, engine = calendar
    now = datetime.now(UTC)
    post = {
        "story": "s", "beat": "b", "market": "fr", "text": "t", "content_hash": "0" * 64,
        "due_utc": now, "timezone": "UTC", "status": "held", "created_at": now, "updated_at": now,
        "media_json": "[]",
    }  # fmt: skip
    with engine.begin() as conn:
        conn.execute(
            insert(Post.__table__),  # type: ignore[attr-defined]
            [
                {**post, "post_id": "s/b1/x/fr", "network": "x", "account": "BrandFR",
                 "hold_reason": "needs_reauth"},
                {**post, "post_id": "s/b2/x/fr", "network": "x", "account": "BrandFR",
                 "hold_reason": "needs_reauth"},
                {**post, "post_id": "s/b3/facebook/fr", "network": "facebook", "account": "100",
                 "hold_reason": "no_credentials"},
                {**post, "post_id": "s/b4/x/us", "network": "x", "account": "BrandUS",
                 "hold_reason": "operator"},
            ],
        )  # fmt: skip
        conn.execute(
            insert(AccountToken.__table__),  # type: ignore[attr-defined]
            [{"network": "youtube", "account": "UC1", "sealed": "x", "status": "refused",
              "last_error": "invalid_grant", "updated_at": now}],
        )  # fmt: skip
    result = health(data, "--format", "json")
    assert result.exit_code == 0, result.output
    assert as_json(result)["attention"] == [
        {"network": "facebook", "account": "100", "reason": "no_credentials", "held_posts": 1},
        {"network": "x", "account": "BrandFR", "reason": "needs_reauth", "held_posts": 2},
        {"network": "youtube", "account": "UC1", "reason": "token refused: invalid_grant",
         "held_posts": 0},
    ]  # fmt: skip
    text = health(data)
    assert "x:BrandFR needs attention: needs_reauth (2 post(s) held)" in text.output


def test_the_text_report_names_each_failed_check(tmp_path: Path) -> None:
    url = f"redis://127.0.0.1:{closed_port()}/0"
    result = health(tmp_path, STORYLINE_BROKER_URL=url)
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == "unhealthy: schema, beat, broker"
