"""The Meta publishers under the real dispatcher (SQLite calendar, real registry, local Graph
API): what each network answer does to the post's state (docs/operations.md)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from meta_fakeapi import TOKEN, FakeApi, Reply, graph_error
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine, RowMapping

from scheduler.app.secrets import Secrets
from scheduler.app.settings import Settings
from scheduler.calendar import migrate
from scheduler.calendar.database import from_db, make_engine
from scheduler.calendar.tables import Attempt, Post
from scheduler.dispatch.dispatcher import Dispatcher, Policy
from scheduler.publishers.http import HttpClient
from scheduler.publishers.registry import Registry

T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
PAGE, IG = "100200300", "178400000001"
V = "/v26.0"
CDN = "https://cdn.brand.example/content"
POLICY = Policy(lease=timedelta(seconds=60), max_attempts=3, backoff_base=10.0)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'calendar.db'}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dispatcher(
    engine: Engine,
    fake_api: FakeApi,
    http: HttpClient,
    content_dir: Path,
    tmp_path: Path,
    clock: Clock,
) -> Iterator[Dispatcher]:
    settings = Settings.from_env(
        {
            "STORYLINE_API_BASE_FACEBOOK": fake_api.base_url + V,
            "STORYLINE_API_BASE_INSTAGRAM": fake_api.base_url + V,
        }
    ).with_overrides(content_dir=content_dir, data_dir=tmp_path / "data", media_base_url=CDN)
    secrets = Secrets(
        file_fields={
            "facebook": {PAGE: {"access_token": TOKEN}},
            "instagram": {IG: {"access_token": TOKEN}},
        }
    )
    d = Dispatcher(
        engine,
        settings,
        clock=clock,
        policy=POLICY,
        registry=Registry(settings, http=http, secrets=secrets),
        rng=random.Random(7),
        worker="meta-test",
    )
    yield d


def add_post(engine: Engine, network: str, account: str, beat: str = "reveal", **extra: Any) -> str:
    post_id = f"suv/{beat}/{network}/fr"
    media = [{"file": "media/suv-front.jpg", "alt": "Front", "kind": "image"}]
    row = {
        "post_id": post_id,
        "story": "suv",
        "beat": beat,
        "network": network,
        "market": "fr",
        "account": account,
        "account_name": "Holdout France",
        "campaign": "launch",
        "text": f"The comfort SUV arrives ({beat})",
        "link": "https://brand.example/suv",
        "media_json": json.dumps(media if network == "instagram" else []),
        "content_hash": "0" * 64,
        "due_utc": T0 - timedelta(seconds=1),
        "timezone": "Europe/Paris",
        "status": "planned",
        "attempts": 0,
        "created_at": T0 - timedelta(days=1),
        "updated_at": T0 - timedelta(days=1),
        **extra,
    }
    with engine.begin() as conn:
        conn.execute(insert(Post.__table__), [row])  # type: ignore[attr-defined]
    return post_id


def run_once(dispatcher: Dispatcher) -> dict[str, str]:
    """One tick, then publish every claimed post; returns post id -> outcome."""
    jobs: list[tuple[str, str]] = []
    dispatcher.tick(jobs.extend)
    return {post_id: dispatcher.publish(post_id, token) for post_id, token in jobs}


def row(engine: Engine, post_id: str) -> RowMapping:
    with engine.connect() as conn:
        found = conn.execute(select(Post.__table__).where(Post.__table__.c.post_id == post_id))  # type: ignore[attr-defined]
        result = found.mappings().first()
    assert result is not None
    return result


def attempts(engine: Engine) -> list[RowMapping]:
    with engine.connect() as conn:
        return list(conn.execute(select(Attempt.__table__)).mappings())  # type: ignore[attr-defined]


def test_a_facebook_post_is_published_with_its_remote_id_and_url(
    engine: Engine, dispatcher: Dispatcher, fake_api: FakeApi
) -> None:
    post_id = add_post(engine, "facebook", PAGE)
    fake_api.on("POST", f"{V}/{PAGE}/feed", Reply(200, {"id": f"{PAGE}_1"}))
    assert run_once(dispatcher) == {post_id: "published"}
    r = row(engine, post_id)
    assert (r["status"], r["remote_id"]) == ("published", f"{PAGE}_1")
    assert r["url"] == f"https://www.facebook.com/{PAGE}_1"


def test_an_expired_token_holds_the_accounts_posts(
    engine: Engine, dispatcher: Dispatcher, fake_api: FakeApi
) -> None:
    first = add_post(engine, "facebook", PAGE)
    later = add_post(engine, "facebook", PAGE, beat="followup", due_utc=T0 + timedelta(days=3))
    fake_api.on(
        "POST", f"{V}/{PAGE}/feed", Reply(400, graph_error(190, "Session has expired", subcode=463))
    )
    run_once(dispatcher)
    assert row(engine, first)["status"] == "held"
    assert row(engine, later)["status"] == "held"
    assert "Session has expired" in row(engine, first)["status_reason"]


def test_a_rate_limit_waits_until_retry_after(
    engine: Engine, dispatcher: Dispatcher, fake_api: FakeApi
) -> None:
    post_id = add_post(engine, "facebook", PAGE)
    fake_api.on(
        "POST",
        f"{V}/{PAGE}/feed",
        Reply(400, graph_error(32, "Page request limit reached"), {"Retry-After": "600"}),
    )
    run_once(dispatcher)
    r = row(engine, post_id)
    assert r["status"] == "retry_wait"
    assert from_db(r["next_attempt_at"]) == T0 + timedelta(seconds=600)


def test_a_validation_error_fails_with_metas_message(
    engine: Engine, dispatcher: Dispatcher, fake_api: FakeApi
) -> None:
    post_id = add_post(engine, "facebook", PAGE)
    fake_api.on(
        "POST", f"{V}/{PAGE}/feed", Reply(400, graph_error(100, "(#100) Invalid link parameter"))
    )
    run_once(dispatcher)
    r = row(engine, post_id)
    assert r["status"] == "failed"
    assert "Invalid link parameter" in r["status_reason"]
    assert attempts(engine)[0]["http_status"] == 400


def test_a_timeout_is_reconciled_by_find_and_not_resent(
    engine: Engine, dispatcher: Dispatcher, fake_api: FakeApi
) -> None:
    post_id = add_post(engine, "facebook", PAGE)
    fake_api.on("POST", f"{V}/{PAGE}/feed", Reply(200, {"id": f"{PAGE}_2"}, delay=2.0))
    fake_api.on(
        "GET",
        f"{V}/{PAGE}/published_posts",
        Reply(
            200,
            {
                "data": [
                    {
                        "id": f"{PAGE}_2",
                        "message": "The comfort SUV arrives (reveal)",
                        "created_time": "2026-12-01T08:00:00+0000",
                    }
                ]
            },
        ),
    )
    assert run_once(dispatcher) == {post_id: "published"}
    assert row(engine, post_id)["remote_id"] == f"{PAGE}_2"
    assert len(fake_api.calls("POST", f"{V}/{PAGE}/feed")) == 1


def test_an_instagram_container_survives_a_retry_in_the_database(
    engine: Engine, dispatcher: Dispatcher, fake_api: FakeApi, clock: Clock
) -> None:
    post_id = add_post(engine, "instagram", IG)
    limit = Reply(200, {"data": [{"quota_usage": 1, "config": {"quota_total": 100}}]})
    fake_api.on("GET", f"{V}/{IG}/content_publishing_limit", limit, repeat=True)
    fake_api.on("POST", f"{V}/{IG}/media", Reply(200, {"id": "C1"}))
    fake_api.on("GET", f"{V}/C1", Reply(200, {"status_code": "FINISHED"}), repeat=True)
    fake_api.on(
        "POST",
        f"{V}/{IG}/media_publish",
        Reply(400, graph_error(4, "Application request limit reached"), {"Retry-After": "30"}),
        Reply(200, {"id": "M1"}),
    )
    fake_api.on("GET", f"{V}/M1", Reply(200, {"permalink": "https://www.instagram.com/p/m1/"}))
    run_once(dispatcher)
    assert row(engine, post_id)["status"] == "retry_wait"
    assert json.loads(row(engine, post_id)["checkpoint_json"]) == {"container_id": "C1"}
    clock.now = T0 + timedelta(seconds=60)
    assert run_once(dispatcher) == {post_id: "published"}
    assert len(fake_api.calls("POST", f"{V}/{IG}/media")) == 1
    assert row(engine, post_id)["url"] == "https://www.instagram.com/p/m1/"


def test_no_attempt_or_post_row_ever_holds_the_token(
    engine: Engine, dispatcher: Dispatcher, fake_api: FakeApi
) -> None:
    add_post(engine, "facebook", PAGE)
    fake_api.on("POST", f"{V}/{PAGE}/feed", Reply(400, graph_error(190, f"Bad token {TOKEN}")))
    run_once(dispatcher)
    with engine.connect() as conn:
        dump = repr(list(conn.execute(select(Post.__table__)).mappings()))  # type: ignore[attr-defined]
    dump += repr(attempts(engine))
    assert TOKEN not in dump
    assert "Bad token ***" in dump
