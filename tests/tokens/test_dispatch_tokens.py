"""The dispatcher and the beat with the token store: a 401 renews once and sends once more; a
grant refused for good holds the account with the re-connect hint; the beat renews ahead of
expiry; no token ever reaches the log.

The network is a local X token endpoint (rotating, single-use refresh tokens) and a publisher
that accepts only the access tokens that endpoint issued and still honours.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from token_fakes import APP_ID, APP_SECRET, FakeServer, FakeX
from tokens_support import KEY, NOW

from scheduler.app.secrets import Secrets
from scheduler.app.settings import Settings
from scheduler.app.tokens import credential_source
from scheduler.calendar.tables import AccountToken, Post
from scheduler.core.errors import NeedsAuth
from scheduler.dispatch.credentials import check_tokens
from scheduler.dispatch.dispatcher import Dispatcher, Policy
from scheduler.publishers import registry as registry_module
from scheduler.publishers.base import Credentials, OutgoingPost, Published
from scheduler.publishers.http import HttpClient
from scheduler.publishers.registry import Registry

POSTS = Post.__table__  # type: ignore[attr-defined]
TOKENS = AccountToken.__table__  # type: ignore[attr-defined]
TOKEN_PATH = "/2/oauth2/token"


class Network:
    """The X API's side: which access tokens it honours, and what it received."""

    def __init__(self, fake: FakeX) -> None:
        self.fake = fake
        self.sent: list[tuple[str, str]] = []  # (post id, access token)
        self.refuse_all = False


def publisher_class(network: Network) -> type[Any]:
    class TokenCheckingX:
        """Answers 401 to an access token the token endpoint did not issue (or revoked)."""

        network_name = "x"
        requires: ClassVar[tuple[str, ...]] = ("access_token",)

        def __init__(self, settings: Any, http: Any) -> None:
            pass

        def publish(
            self, post: OutgoingPost, credentials: Credentials, checkpoint: Any = None
        ) -> Published:
            token = credentials["access_token"]
            if network.refuse_all or token not in network.fake.tokens.access:
                raise NeedsAuth("x: 401 Unauthorized", http_status=401)
            network.sent.append((post.post_id, token))
            return Published(remote_id=f"t{len(network.sent)}", url="https://x.com/i/1")

    return TokenCheckingX


@pytest.fixture
def network(server: FakeServer, monkeypatch: pytest.MonkeyPatch) -> Network:
    net = Network(FakeX(server))
    cls = publisher_class(net)
    monkeypatch.setattr(registry_module, "load_class", lambda name: cls)
    return net


@pytest.fixture
def settings(tmp_path: Path, calendar: str, server: FakeServer) -> Settings:
    return Settings.from_env(
        {
            "STORYLINE_DATA_DIR": str(tmp_path / "data"),
            "STORYLINE_DATABASE_URL": calendar,
            "STORYLINE_API_BASE_X": server.url,
            "STORYLINE_SECRET_KEY": KEY,
        }
    )


def file_with(access: str, refresh: str) -> Secrets:
    fields = {
        "access_token": access,
        "refresh_token": refresh,
        "client_id": APP_ID,
        "client_secret": APP_SECRET,
    }
    return Secrets(file_fields={"x": {"BrandFR": fields}})


@pytest.fixture
def make_dispatcher(
    engine: Engine, settings: Settings, http: HttpClient
) -> Iterator[Callable[[Secrets], Dispatcher]]:
    made: list[Dispatcher] = []

    def make(secrets: Secrets) -> Dispatcher:
        source = credential_source(settings, secrets, http, engine=engine, clock=lambda: NOW)
        registry = Registry(settings, secrets=source, http=http)
        d = Dispatcher(
            engine,
            settings,
            clock=lambda: NOW,
            policy=Policy(lease=timedelta(seconds=60), min_spacing={}),
            registry=registry,
            worker="test",
        )
        made.append(d)
        return d

    yield make


def add_post(engine: Engine, beat: str = "teaser", status: str = "planned") -> str:
    post_id = f"launch/{beat}/x/fr"
    with engine.begin() as conn:
        conn.execute(
            insert(POSTS).values(
                post_id=post_id,
                story="launch",
                beat=beat,
                network="x",
                market="fr",
                account="BrandFR",
                account_name="Brand France",
                campaign="launch",
                text="The comfort SUV arrives",
                media_json=json.dumps([]),
                content_hash="0" * 64,
                due_utc=NOW,
                timezone="Europe/Paris",
                status=status,
                attempts=0,
                created_at=NOW - timedelta(days=1),
                updated_at=NOW - timedelta(days=1),
            )
        )
    return post_id


def run_tick(d: Dispatcher) -> list[str]:
    jobs: list[Any] = []
    d.tick(lambda batch: jobs.extend(batch))
    return d.publish_many(jobs)


def post_row(engine: Engine, post_id: str) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(POSTS).where(POSTS.c.post_id == post_id)).mappings().one()


def token_row(engine: Engine) -> Any:
    with engine.connect() as conn:
        return conn.execute(select(TOKENS)).mappings().one()


def test_a_401_renews_the_token_once_and_sends_the_post_with_the_new_one(
    engine: Engine, network: Network, server: FakeServer, make_dispatcher: Any
) -> None:
    _, refresh = network.fake.tokens.pair()
    d = make_dispatcher(file_with("x-access-expired-zzzzzzzzzzzz", refresh))
    post_id = add_post(engine)

    assert run_tick(d) == ["published"]

    assert len(server.calls(TOKEN_PATH)) == 1
    assert post_row(engine, post_id)["status"] == "published"
    ((_, used),) = network.sent
    assert used in network.fake.tokens.access
    assert token_row(engine)["version"] == 1


def test_the_next_posts_use_the_stored_token_without_asking_again(
    engine: Engine, network: Network, server: FakeServer, make_dispatcher: Any
) -> None:
    _, refresh = network.fake.tokens.pair()
    secrets = file_with("x-access-expired-zzzzzzzzzzzz", refresh)
    add_post(engine, "teaser")
    run_tick(make_dispatcher(secrets))
    add_post(engine, "reveal")
    add_post(engine, "followup")

    # Another worker process (a new dispatcher, no cache) sends the next two.
    assert sorted(run_tick(make_dispatcher(secrets))) == ["published", "published"]
    assert len(server.calls(TOKEN_PATH)) == 1


def test_a_second_401_after_the_renewal_holds_the_account_without_asking_again(
    engine: Engine, network: Network, server: FakeServer, make_dispatcher: Any
) -> None:
    _, refresh = network.fake.tokens.pair()
    d = make_dispatcher(file_with("x-access-expired-zzzzzzzzzzzz", refresh))
    post_id = add_post(engine)
    network.refuse_all = True  # the renewed token is refused too (the app lost its access)

    assert run_tick(d) == ["held"]

    assert len(server.calls(TOKEN_PATH)) == 1  # one renewal, one retry, then held
    row = post_row(engine, post_id)
    assert (row["status"], row["hold_reason"]) == ("held", "needs_reauth")


def test_invalid_grant_holds_the_account_with_the_reconnect_hint(
    engine: Engine, network: Network, make_dispatcher: Any
) -> None:
    d = make_dispatcher(file_with("x-access-expired-zzzzzzzzzzzz", "x-refresh-revoked-zzzzzzz"))
    first = add_post(engine, "teaser")
    later = add_post(engine, "reveal")
    with engine.begin() as conn:  # only the first is due
        conn.execute(
            POSTS.update().where(POSTS.c.post_id == later).values(due_utc=NOW + timedelta(days=2))
        )

    assert run_tick(d) == ["held"]

    for post_id in (first, later):
        row = post_row(engine, post_id)
        assert (row["status"], row["hold_reason"]) == ("held", "needs_reauth")
        assert "re-connect with `storyline accounts connect x BrandFR`" in row["status_reason"]
    token = token_row(engine)
    assert token["status"] == "refused"
    assert "storyline accounts connect x BrandFR" in token["last_error"]
    assert network.sent == []


def test_the_beat_renews_a_token_ahead_of_its_expiry(
    engine: Engine, network: Network, server: FakeServer, make_dispatcher: Any
) -> None:
    access, refresh = network.fake.tokens.pair()
    d = make_dispatcher(file_with(access, refresh))

    report = check_tokens(d)  # the file's token: expiry unknown, X renews it to learn it
    assert (report.renewed, len(server.calls(TOKEN_PATH))) == (1, 1)
    assert check_tokens(d).renewed == 0  # 2 hours left: nothing to do
    assert len(server.calls(TOKEN_PATH)) == 1
    assert token_row(engine)["expires_at"] is not None


def test_the_beat_holds_the_posts_of_an_account_whose_grant_is_refused(
    engine: Engine, network: Network, make_dispatcher: Any
) -> None:
    d = make_dispatcher(file_with("x-access-old-zzzzzzzzzzzz", "x-refresh-revoked-zzzzzzz"))
    post_id = add_post(engine)

    report = check_tokens(d)

    assert [(n, a) for n, a, _ in report.refused] == [("x", "BrandFR")]
    row = post_row(engine, post_id)
    assert (row["status"], row["hold_reason"]) == ("held", "needs_reauth")
    assert token_row(engine)["status"] == "refused"


def test_no_token_value_ever_reaches_the_log(
    engine: Engine,
    network: Network,
    make_dispatcher: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    _, refresh = network.fake.tokens.pair()
    secrets = file_with("x-access-expired-zzzzzzzzzzzz", refresh)
    add_post(engine, "teaser")
    run_tick(make_dispatcher(secrets))
    check_tokens(make_dispatcher(secrets))
    issued = {
        refresh,
        "x-access-expired",
        *network.fake.tokens.access,
        *network.fake.tokens.refresh,
    }
    network.fake.tokens.refresh.clear()
    network.fake.tokens.access.clear()
    add_post(engine, "reveal")
    run_tick(make_dispatcher(secrets))  # 401, refused renewal: held

    assert len(issued) >= 5
    assert caplog.records
    for token in issued:
        assert token not in caplog.text


def test_a_threads_token_is_renewed_once_it_is_a_day_old_counting_from_first_seen(
    engine: Engine, server: FakeServer, http: HttpClient, tmp_path: Path
) -> None:
    from token_fakes import FakeLongLived

    from scheduler.dispatch.credentials import StoredCredentials

    fake = FakeLongLived(
        server, grant="th_refresh_token", exchange="th_exchange_token", prefix="TH"
    )
    token = fake.tokens.new("long")
    fake.tokens.access.add(token)
    settings = Settings.from_env(
        {"STORYLINE_API_BASE_THREADS": server.url, "STORYLINE_SECRET_KEY": KEY}
    )
    now = [NOW]

    def a_process() -> StoredCredentials:  # each pass in a new worker process (no memory)
        secrets = Secrets(file_fields={"threads": {"1789": {"access_token": token}}})
        return credential_source(settings, secrets, http, engine=engine, clock=lambda: now[0])

    a_process().check_all()  # first seen now: too young (Threads refuses under 24 h)
    now[0] = NOW + timedelta(hours=23)
    a_process().check_all()
    assert server.calls("/refresh_access_token") == []

    now[0] = NOW + timedelta(hours=25)
    report = a_process().check_all()

    assert report.renewed == 1
    assert len(server.calls("/refresh_access_token")) == 1


def test_without_a_key_a_weibo_check_still_records_the_expiry_once_a_day(
    engine: Engine, server: FakeServer, http: HttpClient
) -> None:
    from token_fakes import FakeWeibo

    fake = FakeWeibo(server)
    token = fake.tokens.new("access")
    fake.tokens.access.add(token)
    settings = Settings.from_env({"STORYLINE_API_BASE_WEIBO": server.url})  # no key
    now = [NOW]
    secrets = Secrets(file_fields={"weibo": {"5000000001": {"access_token": token}}})
    source = credential_source(settings, secrets, http, engine=engine, clock=lambda: now[0])

    source.check_all()
    now[0] = NOW + timedelta(hours=1)
    source.check_all()  # checked an hour ago: nothing to ask

    assert len(server.calls("/oauth2/get_token_info")) == 1
    row = token_row(engine)
    assert row["sealed"] == ""  # nothing sealed without a key; the token is the file's
    assert row["expires_at"] is not None  # the notifications can warn ahead of it
    assert token not in " ".join(str(v) for v in row.values())
