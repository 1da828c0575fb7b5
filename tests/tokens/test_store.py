"""The token store: sealed at rest, renewed once across workers, the file's new token wins.

Each test runs on SQLite and on PostgreSQL (``database_url``) against a local X token
endpoint that rotates its refresh tokens and refuses a spent one, as X does.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.engine import Engine
from token_fakes import APP_ID, APP_SECRET, FakeServer, FakeX, Reply, Req
from tokens_support import KEY, NOW

from scheduler.app.settings import Settings
from scheduler.calendar.database import make_engine
from scheduler.calendar.tables import AccountToken
from scheduler.dispatch.sealing import KeyMissing, KeyWrong, Sealer, new_key
from scheduler.dispatch.tokens import REFUSED, TokenStore
from scheduler.publishers.auth.base import GrantRefused, TokenSet
from scheduler.publishers.auth.x import XTokens
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import HttpClient

TOKENS = AccountToken.__table__  # type: ignore[attr-defined]
TOKEN_PATH = "/2/oauth2/token"


def x_file(fake: FakeX) -> Credentials:
    """The secrets file's entry for one X account: a live pair and the app's client."""
    access, refresh = fake.tokens.pair()
    fields = {
        "access_token": access,
        "refresh_token": refresh,
        "client_id": APP_ID,
        "client_secret": APP_SECRET,
    }
    return Credentials("x", "BrandFR", fields)


def lifecycle(server: FakeServer, http: HttpClient) -> XTokens:
    return XTokens(Settings.from_env({"STORYLINE_API_BASE_X": server.url}), http)


def store_on(engine: Engine, key: str = KEY) -> TokenStore:
    return TokenStore(engine, Sealer([key]), clock=lambda: NOW)


def slow_token_endpoint(fake: FakeX, server: FakeServer, seconds: float) -> None:
    """The token endpoint answers after a while: wide enough for both workers to arrive."""

    def slow(req: Req) -> Reply:
        time.sleep(seconds)
        return fake.token(req)

    server.route("POST", TOKEN_PATH, slow)


def test_two_workers_racing_on_a_single_use_refresh_token_make_one_request(
    calendar: str, server: FakeServer
) -> None:
    fake = FakeX(server)
    file = x_file(fake)
    slow_token_endpoint(fake, server, 0.3)
    start = threading.Barrier(2)
    got: list[TokenSet] = []
    errors: list[BaseException] = []

    def worker() -> None:
        # A worker of its own: its own engine (connections) and HTTP client.
        engine, http = make_engine(calendar), HttpClient()
        try:
            start.wait()
            got.append(
                store_on(engine).renew(
                    lifecycle(server, http), file, seen_access=file["access_token"], force=True
                )
            )
        except BaseException as exc:
            errors.append(exc)
        finally:
            http.close()
            engine.dispose()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)

    assert errors == []
    assert len(server.calls(TOKEN_PATH)) == 1
    first, second = got
    assert first.access_token == second.access_token != file["access_token"]
    assert first.refresh_token in fake.tokens.refresh  # the account is not lost


#: One worker process: say it is ready, wait for "go", renew, print the token it got (a digest).
RACER = """
import hashlib, json, os, sys, time
from scheduler.calendar.database import make_engine
from scheduler.app.settings import Settings
from scheduler.dispatch.sealing import Sealer
from scheduler.dispatch.tokens import TokenStore
from scheduler.publishers.auth.x import XTokens
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import HttpClient
job = json.loads(os.environ["RACE_JOB"])
engine, http = make_engine(job["url"]), HttpClient()
store = TokenStore(engine, Sealer([job["key"]]), clock=Settings().now)
x = XTokens(Settings.from_env({"STORYLINE_API_BASE_X": job["api"]}), http)
file = Credentials("x", "BrandFR", job["file"])
print("ready", flush=True)
sys.stdin.readline()
got = store.renew(x, file, seen_access=file["access_token"], force=True)
print(hashlib.sha256(got.access_token.encode()).hexdigest())
"""


def test_two_worker_processes_racing_make_one_request_and_share_its_answer(
    calendar: str, server: FakeServer
) -> None:
    import hashlib
    import json
    import os
    import subprocess
    import sys

    fake = FakeX(server)
    file = x_file(fake)
    slow_token_endpoint(fake, server, 0.3)
    job = {"url": calendar, "key": KEY, "api": server.url, "file": dict(file)}
    env = {**os.environ, "RACE_JOB": json.dumps(job)}
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER],
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for _ in range(2)
    ]
    for racer in racers:  # both interpreters up and connected ...
        assert racer.stdout is not None and racer.stdout.readline().strip() == b"ready"
    for racer in racers:  # ... then go together
        assert racer.stdin is not None
        racer.stdin.write(b"go\n")
        racer.stdin.flush()
    answers = [r.communicate(timeout=30) for r in racers]

    assert [r.returncode for r in racers] == [0, 0], [err.decode()[-2000:] for _, err in answers]
    assert len(server.calls(TOKEN_PATH)) == 1
    digests = {out.decode().strip() for out, _ in answers}
    (alive,) = fake.tokens.access - {file["access_token"]}
    assert digests == {hashlib.sha256(alive.encode()).hexdigest()}  # both use the new token


def test_the_renewed_pair_is_committed_before_it_is_used_and_renews_again(
    engine: Engine, server: FakeServer, http: HttpClient
) -> None:
    fake = FakeX(server)
    file = x_file(fake)
    store = store_on(engine)

    renewed = store.renew(lifecycle(server, http), file, force=True)
    stored = store.read("x", "BrandFR")
    assert stored is not None and stored.version == 1 and stored.status == "ok"
    assert store.effective(stored, file, lifecycle(server, http), NOW) == renewed

    again = store.renew(lifecycle(server, http), file, force=True)
    assert again.refresh_token != renewed.refresh_token
    assert [r.form["refresh_token"] for r in server.calls(TOKEN_PATH)] == [
        file["refresh_token"],
        renewed.refresh_token,
    ]


def test_a_token_that_is_not_due_is_not_renewed(
    engine: Engine, server: FakeServer, http: HttpClient
) -> None:
    fake = FakeX(server)
    store = store_on(engine)
    file = x_file(fake)
    store.renew(lifecycle(server, http), file, force=True)  # expires in 2 h

    store.renew(lifecycle(server, http), file)

    assert len(server.calls(TOKEN_PATH)) == 1


def test_nothing_in_the_row_reveals_a_token(
    engine: Engine, server: FakeServer, http: HttpClient
) -> None:
    fake = FakeX(server)
    renewed = store_on(engine).renew(lifecycle(server, http), x_file(fake), force=True)

    with engine.connect() as conn:
        row = conn.execute(select(TOKENS)).mappings().one()
    text = " ".join(str(v) for v in row.values())
    assert renewed.access_token not in text
    assert renewed.refresh_token is not None and renewed.refresh_token not in text
    assert renewed.access_token not in repr(renewed)


def test_a_new_token_put_in_the_file_wins_over_the_stored_one(
    engine: Engine, server: FakeServer, http: HttpClient
) -> None:
    fake = FakeX(server)
    store = store_on(engine)
    store.renew(lifecycle(server, http), x_file(fake), force=True)
    pasted = x_file(fake)  # an operator pasted a freshly granted pair

    current = store.effective(store.read("x", "BrandFR"), pasted, lifecycle(server, http), NOW)

    assert current is not None and current.access_token == pasted["access_token"]


def test_invalid_grant_is_recorded_in_the_row_with_the_reconnect_hint(
    engine: Engine, server: FakeServer, http: HttpClient
) -> None:
    fake = FakeX(server)
    file = x_file(fake)
    fake.tokens.refresh.clear()  # revoked on the network's side
    store = store_on(engine)

    with pytest.raises(GrantRefused, match="storyline accounts connect x BrandFR"):
        store.renew(lifecycle(server, http), file, force=True)

    stored = store.read("x", "BrandFR")
    assert stored is not None and stored.status == REFUSED
    assert "re-connect with `storyline accounts connect x BrandFR`" in (stored.last_error or "")
    assert file["refresh_token"] not in (stored.last_error or "")
    # Told once: the beat does not ask again until the file changes or a person re-connects.
    with pytest.raises(GrantRefused):
        store.renew(lifecycle(server, http), file)
    assert len(server.calls(TOKEN_PATH)) == 1


def test_without_a_key_nothing_is_requested(
    engine: Engine, server: FakeServer, http: HttpClient
) -> None:
    fake = FakeX(server)
    store = TokenStore(engine, Sealer([]), clock=lambda: NOW)

    with pytest.raises(KeyMissing, match="STORYLINE_SECRET_KEY is not set"):
        store.renew(lifecycle(server, http), x_file(fake), force=True)

    assert server.calls(TOKEN_PATH) == []


def test_a_wrong_key_refuses_and_never_overwrites_the_stored_tokens(
    engine: Engine, server: FakeServer, http: HttpClient
) -> None:
    fake = FakeX(server)
    file = x_file(fake)
    store_on(engine).renew(lifecycle(server, http), file, force=True)
    before = store_on(engine).read("x", "BrandFR")

    wrong = store_on(engine, new_key())
    with pytest.raises(KeyWrong, match="cannot be decrypted with STORYLINE_SECRET_KEY"):
        wrong.check_readable()
    with pytest.raises(KeyWrong):
        wrong.renew(lifecycle(server, http), file, force=True)

    after = store_on(engine).read("x", "BrandFR")
    assert before is not None and after is not None
    assert (after.sealed, after.version) == (before.sealed, before.version)
    assert len(server.calls(TOKEN_PATH)) == 1


def test_a_missing_key_refuses_to_start_while_tokens_are_stored(
    engine: Engine, server: FakeServer, http: HttpClient
) -> None:
    store_on(engine).renew(lifecycle(server, http), x_file(FakeX(server)), force=True)

    with pytest.raises(KeyMissing, match="1 account token set"):
        TokenStore(engine, Sealer([]), clock=lambda: NOW).check_readable()


def test_rotating_the_key_reseals_every_row_with_the_new_key(
    engine: Engine, server: FakeServer, http: HttpClient
) -> None:
    old, new = KEY, new_key()
    renewed = store_on(engine, old).renew(
        lifecycle(server, http), x_file(FakeX(server)), force=True
    )

    rotated = TokenStore(engine, Sealer([new, old]), clock=lambda: NOW).rotate()

    assert rotated == 1
    only_new = store_on(engine, new)
    stored = only_new.read("x", "BrandFR")
    assert stored is not None
    assert only_new.sealer.unseal(stored.sealed, what="x:BrandFR") == renewed
    with pytest.raises(KeyWrong):
        store_on(engine, old).check_readable()


def test_a_malformed_key_is_named_by_position_never_quoted() -> None:
    with pytest.raises(Exception, match="key #2 is not a Fernet key") as caught:
        Sealer([KEY, "not-a-key-at-all"])
    assert "not-a-key-at-all" not in str(caught.value)


def test_expiry_is_kept_in_the_row_for_the_notifications(
    engine: Engine, server: FakeServer, http: HttpClient
) -> None:
    store_on(engine).renew(lifecycle(server, http), x_file(FakeX(server)), force=True)

    stored = store_on(engine).read("x", "BrandFR")
    assert stored is not None and stored.expires_at == NOW + timedelta(hours=2)
