"""YouTube: Google's token endpoint on its own host (STORYLINE_TOKEN_URL_YOUTUBE), no rotation."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from token_fakes import APP_ID, APP_SECRET, FakeGoogle, FakeServer, Reply

from scheduler.app.settings import Settings
from scheduler.core.errors import Transient
from scheduler.publishers.auth.base import GrantRefused, TokenSet
from scheduler.publishers.auth.youtube import YouTubeTokens
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import HttpClient

CREDS = Credentials("youtube", "UCbrand", {"client_id": APP_ID, "client_secret": APP_SECRET})


def lifecycle(server: FakeServer, http: HttpClient) -> YouTubeTokens:
    env = {"STORYLINE_TOKEN_URL_YOUTUBE": f"{server.url}/token"}
    return YouTubeTokens(Settings.from_env(env), http)


def test_a_refresh_posts_the_documented_form_and_keeps_the_refresh_token(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeGoogle(server)
    access, refresh = fake.tokens.pair()

    renewed = lifecycle(server, http).refresh(CREDS, TokenSet(access, refresh), now)

    (sent,) = server.calls("/token")
    assert sent.form == {
        "grant_type": "refresh_token",
        "refresh_token": refresh,
        "client_id": APP_ID,
        "client_secret": APP_SECRET,
    }
    assert renewed.refresh_token == refresh  # Google does not rotate it
    assert renewed.expires_at == now + timedelta(seconds=3599)
    assert renewed.scope == "https://www.googleapis.com/auth/youtube.upload"


def test_invalid_grant_needs_a_person_to_reconnect(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    FakeGoogle(server)
    with pytest.raises(GrantRefused, match="storyline accounts connect youtube UCbrand"):
        lifecycle(server, http).refresh(CREDS, TokenSet("old", "revoked-refresh"), now)


def test_a_google_server_error_is_transient(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeGoogle(server)
    server.fail_next(Reply(503, {"error": "backendError"}))
    with pytest.raises(Transient):
        lifecycle(server, http).refresh(CREDS, TokenSet(*fake.tokens.pair()), now)


def test_temporarily_unavailable_in_a_400_is_transient(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeGoogle(server)
    server.fail_next(Reply(400, {"error": "temporarily_unavailable"}))
    with pytest.raises(Transient):
        lifecycle(server, http).refresh(CREDS, TokenSet(*fake.tokens.pair()), now)


def test_refresh_is_due_ten_minutes_before_the_hour_ends(http: HttpClient, now: datetime) -> None:
    tokens = YouTubeTokens(Settings.from_env({}), http)
    hour = TokenSet("a", "r", expires_at=now + timedelta(minutes=60))
    assert not tokens.refresh_due(hour, now + timedelta(minutes=49))
    assert tokens.refresh_due(hour, now + timedelta(minutes=50))


def test_the_token_url_is_googles_unless_moved(http: HttpClient) -> None:
    tokens = YouTubeTokens(Settings.from_env({}), http)
    assert tokens.token_endpoint(CREDS) == "https://oauth2.googleapis.com/token"
    assert tokens.authorize_endpoint(CREDS) == "https://accounts.google.com/o/oauth2/v2/auth"


def test_a_moved_token_url_takes_the_consent_page_with_it(
    server: FakeServer, http: HttpClient
) -> None:
    tokens = lifecycle(server, http)
    assert tokens.authorize_endpoint(CREDS) == f"{server.url}/o/oauth2/v2/auth"
