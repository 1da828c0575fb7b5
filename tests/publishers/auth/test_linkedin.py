"""LinkedIn: refresh tokens where the app has them, introspection, and early warnings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from token_fakes import APP_ID, APP_SECRET, FakeLinkedIn, FakeServer, Reply

from scheduler.app.settings import Settings
from scheduler.core.errors import Transient
from scheduler.publishers.auth.base import GrantRefused, TokenSet
from scheduler.publishers.auth.linkedin import LinkedInTokens
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import HttpClient

CREDS = Credentials("linkedin", "9001", {"client_id": APP_ID, "client_secret": APP_SECRET})


def lifecycle(server: FakeServer, http: HttpClient) -> LinkedInTokens:
    env = {"STORYLINE_TOKEN_URL_LINKEDIN": f"{server.url}/oauth/v2/accessToken"}
    return LinkedInTokens(Settings.from_env(env), http)


def test_a_refresh_sends_the_client_in_the_body_and_stores_the_returned_refresh_token(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeLinkedIn(server)
    access, refresh = fake.tokens.pair()

    renewed = lifecycle(server, http).refresh(CREDS, TokenSet(access, refresh), now)

    (sent,) = server.calls("/oauth/v2/accessToken")
    assert sent.form == {
        "grant_type": "refresh_token",
        "refresh_token": refresh,
        "client_id": APP_ID,
        "client_secret": APP_SECRET,
    }
    assert renewed.refresh_token in fake.tokens.refresh
    assert renewed.expires_at == now + timedelta(days=60)
    assert renewed.refresh_expires_at == now + timedelta(days=299)  # counting down, not reset


def test_a_revoked_refresh_token_needs_a_person(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    FakeLinkedIn(server)
    with pytest.raises(GrantRefused, match="storyline accounts connect linkedin 9001"):
        lifecycle(server, http).refresh(CREDS, TokenSet("a", "revoked"), now)


def test_a_rate_limit_is_transient(server: FakeServer, http: HttpClient, now: datetime) -> None:
    fake = FakeLinkedIn(server)
    server.fail_next(Reply(429, {"message": "Too many requests"}))
    with pytest.raises(Transient):
        lifecycle(server, http).refresh(CREDS, TokenSet(*fake.tokens.pair()), now)


def test_introspection_tells_status_and_expiry(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeLinkedIn(server)
    access, _ = fake.tokens.pair()

    status = lifecycle(server, http).inspect(CREDS, TokenSet(access), now)

    (sent,) = server.calls("/oauth/v2/introspectToken")
    assert sent.form == {"client_id": APP_ID, "client_secret": APP_SECRET, "token": access}
    assert status.valid is True
    assert status.expires_at == datetime.fromtimestamp(1795184000, UTC)
    assert "3L" in status.detail


def test_without_a_refresh_token_the_refresh_is_an_introspection(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeLinkedIn(server)
    access, _ = fake.tokens.pair()

    checked = lifecycle(server, http).refresh(CREDS, TokenSet(access), now)

    assert server.calls("/oauth/v2/accessToken") == []
    assert checked.access_token == access
    assert checked.expires_at == datetime.fromtimestamp(1795184000, UTC)
    assert checked.checked_at == now


def test_without_a_refresh_token_a_revoked_token_needs_a_person(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    FakeLinkedIn(server)
    with pytest.raises(GrantRefused, match="storyline accounts connect linkedin 9001"):
        lifecycle(server, http).refresh(CREDS, TokenSet("revoked-access"), now)


def test_the_kind_follows_the_refresh_token(http: HttpClient) -> None:
    tokens = LinkedInTokens(Settings.from_env({}), http)
    assert tokens.kind_of(TokenSet("a", "r")) == "refresh"
    assert tokens.kind_of(TokenSet("a")) == "warn-only"


def test_with_a_refresh_token_the_access_token_is_renewed_a_week_ahead(
    http: HttpClient, now: datetime
) -> None:
    tokens = LinkedInTokens(Settings.from_env({}), http)
    pair = TokenSet("a", "r", expires_at=now + timedelta(days=8), checked_at=now)
    assert not tokens.refresh_due(pair, now)
    assert tokens.refresh_due(pair, now + timedelta(days=1))


def test_without_a_refresh_token_a_person_is_warned_two_weeks_ahead(
    http: HttpClient, now: datetime
) -> None:
    tokens = LinkedInTokens(Settings.from_env({}), http)
    alone = TokenSet("a", expires_at=now + timedelta(days=15))
    assert tokens.warning(alone, now, account="9001") is None
    message = tokens.warning(alone, now + timedelta(days=2), account="9001")
    assert message is not None
    assert "expires in 13 days" in message
    assert "storyline accounts connect linkedin 9001" in message


def test_a_refresh_token_ending_is_warned_a_month_ahead(http: HttpClient, now: datetime) -> None:
    tokens = LinkedInTokens(Settings.from_env({}), http)
    pair = TokenSet(
        "a", "r", expires_at=now + timedelta(days=60), refresh_expires_at=now + timedelta(days=31)
    )
    assert tokens.warning(pair, now, account="9001") is None
    assert "refresh token" in (tokens.warning(pair, now + timedelta(days=2), account="9001") or "")
