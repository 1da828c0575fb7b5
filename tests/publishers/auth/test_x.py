"""X: the refresh grant at POST /2/oauth2/token, with rotating single-use refresh tokens."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from token_fakes import APP_ID, APP_SECRET, FakeServer, FakeX, Reply

from scheduler.app.settings import Settings
from scheduler.core.errors import NeedsAuth, Transient
from scheduler.publishers.auth.base import GrantRefused, TokenSet
from scheduler.publishers.auth.x import XTokens
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import HttpClient


def lifecycle(server: FakeServer, http: HttpClient) -> XTokens:
    return XTokens(Settings.from_env({"STORYLINE_API_BASE_X": server.url}), http)


def creds(**extra: str) -> Credentials:
    fields = {"client_id": APP_ID, "client_secret": APP_SECRET, **extra}
    return Credentials("x", "BrandFR", fields)


def stored(fake: FakeX) -> TokenSet:
    access, refresh = fake.tokens.pair()
    return TokenSet(access_token=access, refresh_token=refresh)


def test_a_confidential_client_refreshes_with_basic_auth_and_gets_a_new_pair(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeX(server, confidential=True)
    current = stored(fake)

    renewed = lifecycle(server, http).refresh(creds(), current, now)

    (sent,) = server.calls("/2/oauth2/token")
    assert sent.form == {"grant_type": "refresh_token", "refresh_token": current.refresh_token}
    assert renewed.refresh_token != current.refresh_token
    assert renewed.access_token in fake.tokens.access
    assert renewed.expires_at == now + timedelta(seconds=7200)
    assert renewed.issued_at == now


def test_a_public_client_sends_its_client_id_in_the_body(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeX(server, confidential=False)
    lifecycle(server, http).refresh(creds(client_secret=""), stored(fake), now)

    (sent,) = server.calls("/2/oauth2/token")
    assert sent.form["client_id"] == APP_ID
    assert sent.header("authorization") == ""


def test_the_old_refresh_token_is_refused_once_used(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeX(server)
    tokens = lifecycle(server, http)
    first = stored(fake)
    second = tokens.refresh(creds(), first, now)

    with pytest.raises(GrantRefused) as refused:
        tokens.refresh(creds(), first, now)

    assert "storyline accounts connect x BrandFR" in str(refused.value)
    assert tokens.refresh(creds(), second, now).access_token in fake.tokens.access


def test_without_a_current_pair_the_secrets_files_refresh_token_is_used(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeX(server)
    _, refresh = fake.tokens.pair()

    lifecycle(server, http).refresh(creds(refresh_token=refresh), None, now)

    assert server.calls("/2/oauth2/token")[0].form["refresh_token"] == refresh


def test_no_refresh_token_anywhere_needs_a_person(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    FakeX(server)
    with pytest.raises(NeedsAuth, match="no refresh token"):
        lifecycle(server, http).refresh(creds(), TokenSet(access_token="only-an-access"), now)
    assert server.requests == []


@pytest.mark.parametrize("status", [500, 503, 429])
def test_a_server_error_or_rate_limit_is_transient(
    server: FakeServer, http: HttpClient, now: datetime, status: int
) -> None:
    fake = FakeX(server)
    server.fail_next(Reply(status, {"error": "busy"}, headers={"Retry-After": "30"}))
    with pytest.raises(Transient) as raised:
        lifecycle(server, http).refresh(creds(), stored(fake), now)
    assert raised.value.retry_after == 30


def test_no_answer_after_sending_is_transient_and_marked_sent(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeX(server)
    server.fail_next(Reply(200, {}, delay=3.0))
    with pytest.raises(Transient) as raised:
        lifecycle(server, http).refresh(creds(), stored(fake), now)
    assert raised.value.sent  # the single-use refresh token may be spent: re-read before retrying


def test_no_token_value_reaches_an_error_message(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    FakeX(server)
    spent = TokenSet(access_token="x-access-secret-1", refresh_token="x-refresh-secret-1")
    server.fail_next(
        Reply(400, {"error": "invalid_grant", "error_description": "x-refresh-secret-1"})
    )
    with pytest.raises(GrantRefused) as refused:
        lifecycle(server, http).refresh(creds(), spent, now)
    assert "x-refresh-secret-1" not in str(refused.value)
    assert APP_SECRET not in str(refused.value)


def test_refresh_is_due_fifteen_minutes_before_expiry(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    tokens = lifecycle(server, http)
    pair = TokenSet("a", "r", expires_at=now + timedelta(minutes=16))
    assert not tokens.refresh_due(pair, now)
    assert tokens.refresh_due(pair, now + timedelta(minutes=1))


def test_a_token_of_unknown_expiry_is_refreshed_to_learn_it(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    assert lifecycle(server, http).refresh_due(TokenSet("a", "r"), now)


def test_the_api_base_moves_the_token_endpoint(http: HttpClient) -> None:
    tokens = XTokens(Settings.from_env({"STORYLINE_API_BASE_X": "http://127.0.0.1:9"}), http)
    assert tokens.token_endpoint(creds()) == "http://127.0.0.1:9/2/oauth2/token"
    default = XTokens(Settings.from_env({}), http)
    assert default.token_endpoint(creds()) == "https://api.x.com/2/oauth2/token"
