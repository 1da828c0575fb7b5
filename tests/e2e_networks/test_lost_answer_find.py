"""The dispatcher's side of a lost answer, pinned down without a worker: when a network acted
but its answer never came, ``find`` must be given what the publisher checkpointed during that
very call (the YouTube upload session, the Instagram container). The end-to-end run found a
YouTube post retried after ``find`` was handed the checkpoint from before the call."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine

from scheduler.app.settings import Settings
from scheduler.calendar import migrate
from scheduler.calendar.database import make_engine
from scheduler.calendar.tables import Attempt, Post
from scheduler.core.errors import Transient
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.publishers.base import Checkpoint, Credentials, OutgoingPost, Published
from scheduler.publishers.registry import Route

POST = Post.__table__  # type: ignore[attr-defined]
ATTEMPT = Attempt.__table__  # type: ignore[attr-defined]
NOW = datetime(2026, 12, 15, 8, 0, tzinfo=UTC)
SESSION = {"upload_url": "https://www.googleapis.com/upload/youtube/v3/videos?upload_id=u1"}


class LosesItsAnswer:
    """Checkpoints an upload session, then the connection drops after the bytes went out."""

    network = "youtube"
    requires = ()

    def __init__(self) -> None:
        self.found_with: list[dict[str, Any]] = []

    def publish(
        self, post: OutgoingPost, credentials: Credentials, checkpoint: Checkpoint
    ) -> Published:
        checkpoint(SESSION)
        raise Transient("youtube: no answer after the request was sent", sent=True)

    def find(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        """Like YouTube's: the session knows; no session means nothing was ever sent."""
        self.found_with.append(dict(post.checkpoint))
        if post.checkpoint.get("upload_url"):
            return Published("v1", "https://www.youtube.com/watch?v=v1")
        return None


class OneRoute:
    def __init__(self, publisher: LosesItsAnswer) -> None:
        self.publisher = publisher

    def route(self, network: str, account: str) -> Route:
        return Route(self.publisher, Credentials(network, account, {}), network)  # type: ignore[arg-type]

    #: Not live: every account can send (the claim never holds for missing credentials).
    live = False

    def uses_network(self, network: str) -> bool:
        return True

    def close(self) -> None:
        return None


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    eng = make_engine(f"sqlite:///{tmp_path / 'calendar.db'}")
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


def add_post(engine: Engine, **values: Any) -> str:
    row: Mapping[str, Any] = {
        "post_id": "aurora-launch/reveal/youtube/fr",
        "story": "aurora-launch",
        "beat": "reveal",
        "network": "youtube",
        "market": "fr",
        "account": "UCholdoutFR00000000000001",
        "account_name": "Holdout France",
        "campaign": "aurora-launch",
        "text": "Meet Aurora",
        "media_json": json.dumps([{"file": "media/aurora-film.mp4", "alt": "", "kind": "video"}]),
        "content_hash": "0" * 64,
        "due_utc": NOW - timedelta(seconds=1),
        "timezone": "Europe/Paris",
        "status": "planned",
        "attempts": 0,
        "created_at": NOW - timedelta(days=1),
        "updated_at": NOW - timedelta(days=1),
        **values,
    }
    with engine.begin() as conn:
        conn.execute(insert(POST), [row])
    return str(row["post_id"])


def test_find_after_a_lost_answer_sees_the_checkpoint_written_during_the_call(
    engine: Engine, tmp_path: Path
) -> None:
    publisher = LosesItsAnswer()
    settings = Settings(data_dir=tmp_path / "data", content_dir=tmp_path)
    dispatcher = Dispatcher(
        engine,
        settings,
        clock=lambda: NOW,
        registry=OneRoute(publisher),  # type: ignore[arg-type]
    )
    post_id = add_post(engine)
    claimed: list[tuple[str, str]] = []
    dispatcher.tick(claimed.extend)
    assert claimed and claimed[0][0] == post_id

    outcome = dispatcher.publish(*claimed[0])

    with engine.connect() as conn:
        status = conn.execute(select(POST.c.status).where(POST.c.post_id == post_id)).scalar()
        outcomes = list(
            conn.execute(select(ATTEMPT.c.outcome).where(ATTEMPT.c.post_id == post_id)).scalars()
        )
    assert publisher.found_with == [SESSION]
    assert (outcome, status, outcomes) == ("published", "published", ["published"])
