"""The batch's one-statement step (``published_then_begin``) against its plain version.

Between two claims of one message, PostgreSQL writes the first one's ``published`` and the
next one's ``queued -> publishing`` as one statement. Whatever a message holds (stale tokens,
a post named twice, a missing post, refusals, a takeover during the send), the outcomes, the
posts, the attempts and what reached the network are those of the plain two steps.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update
from sqlalchemy.engine import Connection, Engine

from scheduler.app.settings import Settings
from scheduler.calendar.database import make_engine
from scheduler.calendar.tables import Attempt, Post
from scheduler.core.errors import NeedsAuth, Permanent, Transient
from scheduler.dispatch import publish
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.publishers.base import Credentials, OutgoingPost, Published

from .conftest import POLICY, Clock, FakeRegistry, ScriptedPublisher, add_posts, create_schema

POST = Post.__table__  # type: ignore[attr-defined]
ATTEMPT = Attempt.__table__  # type: ignore[attr-defined]

pytestmark = pytest.mark.postgres

#: What the network does with a post, and what the message says about it.
SENDS = ("ok", "ok", "transient", "permanent", "needs_auth", "taken_over")
SHAPES = ("claimed", "claimed", "claimed", "stale_token", "again", "missing", "published")


class Network(ScriptedPublisher):
    """Answers each post as its plan says; ``taken_over`` hands the post to another worker
    while the request is out (the outcome then lands after a takeover)."""

    def __init__(self, engine: Engine, plan: dict[str, str]) -> None:
        super().__init__()
        self.engine, self.plan = engine, plan

    def publish(
        self, post: OutgoingPost, credentials: Credentials, checkpoint: Any = None
    ) -> Published:
        self.sent.append(post.post_id)
        answer = self.plan.get(post.post_id, "ok")
        if answer == "transient":
            raise Transient("HTTP 503", http_status=503)
        if answer == "permanent":
            raise Permanent("HTTP 400: refused", http_status=400)
        if answer == "needs_auth":
            raise NeedsAuth("HTTP 401", http_status=401)
        if answer == "taken_over":
            with self.engine.begin() as conn:
                conn.execute(
                    update(POST)
                    .where(POST.c.post_id == post.post_id)
                    .values(status="reconciling", attempt_token="another-worker")
                )
        return Published(remote_id=f"r-{post.post_id}", url=f"https://net/{post.post_id}")


@pytest.fixture(scope="module")
def pg_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    from tests.conftest import _create_pg_database, _drop_pg_database

    name, url = _create_pg_database("fast")
    engine = make_engine(url)
    create_schema(engine)
    try:
        yield engine
    finally:
        from scheduler.calendar.database import dispose_all

        engine.dispose()
        dispose_all()
        _drop_pg_database(name)


def run_message(
    engine: Engine, data_dir: Any, shapes: list[tuple[str, str]], *, fast: bool
) -> dict[str, Any]:
    """Publish one message built from ``shapes`` on an empty calendar; everything it left."""
    with engine.begin() as conn:
        conn.execute(delete(ATTEMPT))
        conn.execute(delete(POST))
    ids = add_posts(engine, len(shapes), account="100")
    plan = {post_id: send for post_id, (_, send) in zip(ids, shapes, strict=True)}
    network = Network(engine, plan)
    dispatcher = Dispatcher(
        engine,
        Settings(data_dir=data_dir),
        clock=Clock(),
        policy=POLICY,
        registry=FakeRegistry(network),
        rng=random.Random(7),
        worker="test",
    )
    tokens: dict[str, str] = {}
    dispatcher.tick(lambda jobs: tokens.update(jobs))
    message: list[tuple[str, str]] = []
    for post_id, (shape, _) in zip(ids, shapes, strict=True):
        if shape == "stale_token":
            message.append((post_id, "not-the-token"))
        elif shape == "again" and message:
            message.append(message[-1])
        elif shape == "missing":
            message.append(("gone/b0/facebook/fr", "t"))
        else:
            message.append((post_id, tokens[post_id]))
        if shape == "published":
            with engine.begin() as conn:
                conn.execute(
                    update(POST).where(POST.c.post_id == post_id).values(status="published")
                )
    original = publish.published_then_begin
    publish.published_then_begin = original if fast else publish.published_then_begin_plain
    try:
        outcomes = dispatcher.publish_many(message)
    finally:
        publish.published_then_begin = original
    with engine.connect() as conn:
        posts = _rows(
            conn,
            POST.c.post_id,
            POST.c.status,
            POST.c.attempts,
            POST.c.attempt_token,
            POST.c.status_reason,
            POST.c.remote_id,
            POST.c.destination,
            POST.c.lease_until.is_(None).label("no_lease"),
            order_by=POST.c.post_id,
        )
        tried = _rows(
            conn,
            ATTEMPT.c.post_id,
            ATTEMPT.c.attempt_token,
            ATTEMPT.c.outcome,
            ATTEMPT.c.error,
            ATTEMPT.c.http_status,
            ATTEMPT.c.finished_at.is_(None).label("unfinished"),
            order_by=ATTEMPT.c.id,
        )
    # The tokens are new on each run: compare whose they are, not their value.
    for post in posts:
        post["attempt_token"] = post["attempt_token"] == tokens.get(post["post_id"])
    for attempt in tried:
        attempt["attempt_token"] = attempt["attempt_token"] == tokens.get(attempt["post_id"])
    return {"outcomes": outcomes, "sent": network.sent, "posts": posts, "attempts": tried}


def _rows(conn: Connection, *columns: Any, order_by: Any) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(select(*columns).order_by(order_by)).mappings()]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    shapes=st.lists(
        st.tuples(st.sampled_from(SHAPES), st.sampled_from(SENDS)), min_size=1, max_size=6
    )
)
def test_one_statement_between_claims_ends_exactly_as_the_two_plain_steps(
    pg_engine: Engine, tmp_path: Any, shapes: list[tuple[str, str]]
) -> None:
    fast = run_message(pg_engine, tmp_path, shapes, fast=True)
    plain = run_message(pg_engine, tmp_path, shapes, fast=False)
    assert fast == plain


def test_a_message_of_plain_claims_writes_one_statement_between_two_posts(
    pg_engine: Engine, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps: list[str] = []
    for name in ("begin", "published_then_begin", "_recorded"):
        real = getattr(publish, name)

        def spy(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            steps.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(publish, name, spy)
    result = run_message(pg_engine, tmp_path, [("claimed", "ok")] * 3, fast=True)
    assert result["outcomes"] == ["published"] * 3
    assert steps == ["begin", "published_then_begin", "published_then_begin", "_recorded"]
