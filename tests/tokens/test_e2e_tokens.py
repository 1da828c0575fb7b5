"""End to end with a real worker: access tokens that expire during the run are renewed, and no
post is held; a worker refuses to start while the stored tokens cannot be read.

The network is local: X's token endpoint (rotating, single-use refresh tokens) issuing access
tokens that live :data:`LIFETIME` seconds, and ``POST /2/tweets`` refusing (401) any token it
did not issue or that has expired. Posts come due in three bursts, each after the token of the
one before has expired.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select
from token_fakes import APP_ID, APP_SECRET, FakeServer, FakeX, Reply, Req
from tokens_support import KEY

from scheduler.calendar.database import make_engine
from scheduler.calendar.migrate import upgrade
from scheduler.calendar.tables import Post
from scheduler.dispatch.sealing import new_key

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).parent / "celery"
POSTS = Post.__table__  # type: ignore[attr-defined]
TOKEN_PATH = "/2/oauth2/token"
#: Seconds an access token lives, as the token endpoint says and the API enforces.
LIFETIME = 3.0
#: Three bursts of three posts, each burst after the previous burst's token has expired.
BURSTS = (1.0, 6.0, 11.0)
PER_BURST = 3

MARKETS = """\
markets:
  fr:
    name: France
    timezone: Europe/Paris
    locale: fr
    accounts:
      x: {handle: BrandFR, name: Brand France}
"""


@dataclass
class ShortLivedX:
    """The token endpoint and the posting API of X, with short-lived access tokens."""

    fake: FakeX
    expiry: dict[str, float] = field(default_factory=dict)
    tweets: list[tuple[str, str]] = field(default_factory=list)  # (text, token)
    refused: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def token(self, req: Req) -> Reply:
        reply = self.fake.token(req)
        if reply.status == 200:
            reply.json["expires_in"] = LIFETIME
            self.expiry[reply.json["access_token"]] = time.time() + LIFETIME
        return reply

    def tweet(self, req: Req) -> Reply:
        token = req.header("authorization").removeprefix("Bearer ")
        with self.lock:
            if time.time() >= self.expiry.get(token, 0.0):
                self.refused += 1
                return Reply(401, {"title": "Unauthorized", "status": 401})
            self.tweets.append((req.json()["text"], token))
            return Reply(201, {"data": {"id": str(1000 + len(self.tweets)), "text": "ok"}})


@pytest.fixture
def x_api(server: FakeServer) -> ShortLivedX:
    api = ShortLivedX(FakeX(server))
    server.route("POST", TOKEN_PATH, api.token)
    server.route("POST", "/2/tweets", api.tweet)
    return api


@dataclass
class Brand:
    env: dict[str, str]
    database_url: str
    log: Path


@pytest.fixture
def brand(tmp_path: Path, server: FakeServer, x_api: ShortLivedX) -> Brand:
    content = tmp_path / "content"
    (content / "stories").mkdir(parents=True)
    (content / "markets.yaml").write_text(MARKETS, encoding="utf-8")
    access, refresh = x_api.fake.tokens.pair()
    x_api.expiry[access] = time.time()  # already dead: the first post must renew it
    secrets = tmp_path / "secrets.yaml"
    secrets.write_text(
        f"x:\n  BrandFR: {{access_token: {access}, refresh_token: {refresh}, "
        f"client_id: {APP_ID}, client_secret: {APP_SECRET}}}\n",
        encoding="utf-8",
    )
    url = f"sqlite:///{tmp_path / 'calendar.db'}"
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    env = {k: v for k, v in os.environ.items() if not k.startswith("STORYLINE_")}
    env.update(
        STORYLINE_DATA_DIR=str(tmp_path / "data"),
        STORYLINE_CONTENT_DIR=str(content),
        STORYLINE_LINES_DIR=str(ROOT / "editorial_lines"),
        STORYLINE_DATABASE_URL=url,
        STORYLINE_SECRETS_FILE=str(secrets),
        STORYLINE_SECRET_KEY=KEY,
        STORYLINE_API_BASE_X=server.url,
        STORYLINE_PUBLISHER="live",
        STORYLINE_TICK_SECONDS="0.3",
        STORYLINE_MIN_SPACING_X="0",
        STORYLINE_QUEUE=f"sl-e2e-tokens-{uuid.uuid4().hex[:8]}",
        PYTHONUNBUFFERED="1",
    )
    return Brand(env, url, tmp_path / "worker.log")


@contextmanager
def worker(brand: Brand, **env: str) -> Iterator[subprocess.Popen[bytes]]:
    args = [str(CELERY), "-A", "worker", "worker", "--beat", "--loglevel=INFO"]
    args += ["--concurrency=3", f"--hostname=e2e-tokens-{uuid.uuid4().hex[:6]}@%h"]
    args += ["--without-mingle", "--without-gossip"]
    with brand.log.open("wb") as out:
        proc = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**brand.env, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        yield proc
    finally:
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)


def wait_ready(brand: Brand, proc: subprocess.Popen[bytes], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while b" ready." not in brand.log.read_bytes():
        assert proc.poll() is None, brand.log.read_text(errors="replace")[-3000:]
        assert time.monotonic() < deadline, "the worker did not start"
        time.sleep(0.2)


def add_posts(brand: Brand, start: datetime) -> list[str]:
    rows = []
    for b, offset in enumerate(BURSTS):
        for i in range(PER_BURST):
            due = start + timedelta(seconds=offset + 0.2 * i)
            rows.append(
                {
                    "post_id": f"launch/b{b}p{i}/x/fr",
                    "story": "launch",
                    "beat": f"b{b}p{i}",
                    "network": "x",
                    "market": "fr",
                    "account": "BrandFR",
                    "account_name": "Brand France",
                    "campaign": "launch",
                    "text": f"Burst {b}, post {i}: the comfort SUV arrives",
                    "media_json": "[]",
                    "content_hash": "0" * 64,
                    "due_utc": due,
                    "timezone": "Europe/Paris",
                    "status": "planned",
                    "attempts": 0,
                    "created_at": start,
                    "updated_at": start,
                }
            )
    engine = make_engine(brand.database_url)
    try:
        with engine.begin() as conn:
            conn.execute(insert(POSTS), rows)
    finally:
        engine.dispose()
    return [r["post_id"] for r in rows]


def statuses(brand: Brand) -> dict[str, Any]:
    engine = make_engine(brand.database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(select(POSTS.c.post_id, POSTS.c.status, POSTS.c.status_reason))
            return {r.post_id: (r.status, r.status_reason) for r in rows}
    finally:
        engine.dispose()


def test_tokens_expiring_during_the_run_are_renewed_and_no_post_is_held(
    brand: Brand, server: FakeServer, x_api: ShortLivedX
) -> None:
    with worker(brand) as proc:
        wait_ready(brand, proc)
        ids = add_posts(brand, datetime.now(UTC))
        deadline = time.monotonic() + BURSTS[-1] + 12
        while time.monotonic() < deadline:
            now = statuses(brand)
            if all(status == "published" for status, _ in now.values()):
                break
            assert not any(s in ("held", "failed") for s, _ in now.values()), now
            time.sleep(0.3)
    final = statuses(brand)
    assert {s for s, _ in final.values()} == {"published"}, json.dumps(final, indent=1)
    assert len(final) == len(ids) == len(x_api.tweets)  # each sent once
    renewals = len(server.calls(TOKEN_PATH))
    # One renewal per expiry crossed (three bursts), never one per post.
    assert len(BURSTS) <= renewals <= len(BURSTS) + 1, renewals
    assert len({token for _, token in x_api.tweets}) == renewals
    log = brand.log.read_text(errors="replace")
    for token in {*x_api.expiry, *x_api.fake.tokens.refresh}:
        assert token not in log


def test_a_worker_refuses_to_start_while_the_stored_tokens_cannot_be_read(
    brand: Brand, x_api: ShortLivedX
) -> None:
    with worker(brand) as proc:  # the first post renews, and stores, the tokens
        wait_ready(brand, proc)
        add_posts(brand, datetime.now(UTC) - timedelta(seconds=1))
        deadline = time.monotonic() + 15
        while not x_api.tweets and time.monotonic() < deadline:
            time.sleep(0.2)
    assert x_api.tweets

    with worker(brand, STORYLINE_SECRET_KEY=new_key()) as proc:
        code = proc.wait(timeout=60)  # a loaded CI machine starts a worker slowly

    assert code != 0
    assert "refusing to start" in brand.log.read_text(errors="replace")
    assert "cannot be decrypted with STORYLINE_SECRET_KEY" in brand.log.read_text(errors="replace")
