"""Bluesky: sessions from the app password, refreshed with the refresh JWT (rotated)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from token_fakes import FakeBluesky, FakeServer, Reply, jwt

from scheduler.app.settings import Settings
from scheduler.core.errors import Transient
from scheduler.publishers.auth.base import GrantRefused, TokenSet
from scheduler.publishers.auth.bluesky import BlueskyTokens, jwt_expiry
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import HttpClient

HANDLE = "brand.bsky.social"
PASSWORD = "abcd-efgh-ijkl-mnop"
CREDS = Credentials("bluesky", HANDLE, {"identifier": HANDLE, "app_password": PASSWORD})


def lifecycle(server: FakeServer, http: HttpClient) -> BlueskyTokens:
    return BlueskyTokens(Settings.from_env({"STORYLINE_API_BASE_BLUESKY": server.url}), http)


def fake(server: FakeServer, now: datetime) -> FakeBluesky:
    return FakeBluesky(server, handle=HANDLE, password=PASSWORD, now=now.timestamp())


def test_without_a_session_one_is_created_from_the_app_password(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake(server, now)

    session = lifecycle(server, http).refresh(CREDS, None, now)

    (sent,) = server.calls("/xrpc/com.atproto.server.createSession")
    assert sent.json() == {"identifier": HANDLE, "password": PASSWORD}
    assert session.expires_at == now + timedelta(hours=2)  # read from the JWT's exp
    assert session.refresh_expires_at == now + timedelta(days=90)
    assert session.extra == {"did": "did:plc:brand", "handle": HANDLE}


def test_a_session_is_refreshed_with_the_refresh_jwt_as_bearer_and_no_body(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    pds = fake(server, now)
    first = pds.session()
    current = TokenSet(first["accessJwt"], first["refreshJwt"])

    renewed = lifecycle(server, http).refresh(CREDS, current, now)

    (sent,) = server.calls("/xrpc/com.atproto.server.refreshSession")
    assert sent.header("authorization") == f"Bearer {first['refreshJwt']}"
    assert sent.body == b""
    assert renewed.refresh_token != first["refreshJwt"]
    assert server.calls("/xrpc/com.atproto.server.createSession") == []


def test_an_expired_refresh_jwt_400_falls_back_to_a_new_session(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake(server, now)
    stale = TokenSet(jwt("did:plc:brand", 0), jwt("did:plc:brand", 0))

    session = lifecycle(server, http).refresh(CREDS, stale, now)

    assert server.calls("/xrpc/com.atproto.server.refreshSession")  # answered 400 ExpiredToken
    assert len(server.calls("/xrpc/com.atproto.server.createSession")) == 1
    assert session.extra["did"] == "did:plc:brand"


def test_a_revoked_app_password_needs_a_person(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake(server, now)
    wrong = Credentials("bluesky", HANDLE, {"identifier": HANDLE, "app_password": "revoked-pw"})
    with pytest.raises(GrantRefused, match="new app password") as refused:
        lifecycle(server, http).refresh(wrong, None, now)
    assert "revoked-pw" not in str(refused.value)


def test_the_createsession_rate_limit_is_transient(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake(server, now)
    reset = int(now.timestamp()) + 300
    server.fail_next(
        Reply(429, {"error": "RateLimitExceeded"}, headers={"ratelimit-reset": str(reset)})
    )
    with pytest.raises(Transient):
        lifecycle(server, http).refresh(CREDS, None, now)


def test_a_session_is_refreshed_fifteen_minutes_before_the_access_jwt_ends(
    http: HttpClient, now: datetime
) -> None:
    tokens = BlueskyTokens(Settings.from_env({}), http)
    session = TokenSet("a", "r", expires_at=now + timedelta(hours=2))
    assert not tokens.refresh_due(session, now + timedelta(minutes=104))
    assert tokens.refresh_due(session, now + timedelta(minutes=105))


def test_a_jwt_expiry_is_its_exp_claim_and_garbage_has_none() -> None:
    moment = datetime(2027, 1, 1, tzinfo=UTC)
    assert jwt_expiry(jwt("did:plc:x", moment.timestamp())) == moment
    assert jwt_expiry("not-a-jwt") is None
