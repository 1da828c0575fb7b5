"""Threads and Instagram Login (long-lived tokens), Facebook Pages (Page tokens, debug_token),
Instagram through Facebook Login (checked, never refreshed)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from token_fakes import APP_ID, APP_SECRET, FakeFacebook, FakeLongLived, FakeServer, Reply

from scheduler.app.settings import Settings
from scheduler.core.errors import Transient
from scheduler.publishers.auth.base import GrantRefused, TokenSet
from scheduler.publishers.auth.facebook import FacebookTokens
from scheduler.publishers.auth.instagram import InstagramTokens
from scheduler.publishers.auth.threads import ThreadsTokens
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import HttpClient

PAGE = "104857600"
APP = {"client_id": APP_ID, "client_secret": APP_SECRET}


def threads(server: FakeServer, http: HttpClient) -> ThreadsTokens:
    env = {"STORYLINE_API_BASE_THREADS": f"{server.url}/v1.0"}
    return ThreadsTokens(Settings.from_env(env), http)


def instagram(server: FakeServer, http: HttpClient) -> InstagramTokens:
    env = {
        "STORYLINE_TOKEN_URL_INSTAGRAM": f"{server.url}/refresh_access_token",
        "STORYLINE_API_BASE_INSTAGRAM": server.url,
    }
    return InstagramTokens(Settings.from_env(env), http)


def facebook(server: FakeServer, http: HttpClient) -> FacebookTokens:
    return FacebookTokens(Settings.from_env({"STORYLINE_API_BASE_FACEBOOK": server.url}), http)


# -- Threads -------------------------------------------------------------------------------


def test_threads_refreshes_at_the_unversioned_path_with_the_token_in_the_query(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeLongLived(
        server, grant="th_refresh_token", exchange="th_exchange_token", prefix="TH"
    )
    token = fake.tokens.new("long")
    fake.tokens.access.add(token)

    renewed = threads(server, http).refresh(
        Credentials("threads", "1789", {}), TokenSet(token), now
    )

    (sent,) = server.calls("/refresh_access_token")
    assert sent.method == "GET"
    assert sent.query == {"grant_type": "th_refresh_token", "access_token": token}
    assert renewed.access_token != token
    assert renewed.expires_at == now + timedelta(seconds=5183944)


def test_threads_refusing_the_token_needs_a_person(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    FakeLongLived(server, grant="th_refresh_token", exchange="th_exchange_token", prefix="TH")
    with pytest.raises(GrantRefused, match="storyline accounts connect threads 1789"):
        threads(server, http).refresh(Credentials("threads", "1789", {}), TokenSet("dead"), now)


def test_a_threads_server_error_is_transient(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    FakeLongLived(server, grant="th_refresh_token", exchange="th_exchange_token", prefix="TH")
    server.fail_next(Reply(500, {"error": {"message": "unknown", "code": 1}}))
    with pytest.raises(Transient):
        threads(server, http).refresh(Credentials("threads", "1789", {}), TokenSet("t"), now)


def test_a_long_lived_token_is_never_refreshed_before_it_is_a_day_old(
    http: HttpClient, now: datetime
) -> None:
    tokens = ThreadsTokens(Settings.from_env({}), http)
    young = TokenSet("t", expires_at=now + timedelta(days=2), issued_at=now)
    assert not tokens.refresh_due(young, now + timedelta(hours=23))
    assert tokens.refresh_due(young, now + timedelta(hours=24))


def test_a_long_lived_token_is_refreshed_when_thirty_days_are_left(
    http: HttpClient, now: datetime
) -> None:
    tokens = ThreadsTokens(Settings.from_env({}), http)
    fresh = TokenSet("t", expires_at=now + timedelta(days=60), issued_at=now)
    assert not tokens.refresh_due(fresh, now + timedelta(days=29))
    assert tokens.refresh_due(fresh, now + timedelta(days=30))


def test_a_long_lived_token_first_seen_in_the_secrets_waits_a_day(
    http: HttpClient, now: datetime
) -> None:
    tokens = ThreadsTokens(Settings.from_env({}), http)
    first = tokens.initial(Credentials("threads", "1789", {"access_token": "t"}), now)
    assert first is not None
    assert not tokens.refresh_due(first, now + timedelta(hours=1))
    assert tokens.refresh_due(first, now + timedelta(days=1))


def test_failing_renewals_are_warned_a_week_before_the_end(http: HttpClient, now: datetime) -> None:
    tokens = ThreadsTokens(Settings.from_env({}), http)
    ending = TokenSet("t", expires_at=now + timedelta(days=6))
    assert "renewals are failing" in (tokens.warning(ending, now, account="1789") or "")


# -- Instagram -----------------------------------------------------------------------------


def test_an_instagram_login_token_refreshes_with_ig_refresh_token(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeLongLived(
        server, grant="ig_refresh_token", exchange="ig_exchange_token", prefix="IG"
    )
    token = fake.tokens.new("long")
    fake.tokens.access.add(token)
    current = TokenSet(token, extra={"login": "instagram"})

    renewed = instagram(server, http).refresh(Credentials("instagram", "1784", {}), current, now)

    (sent,) = server.calls("/refresh_access_token")
    assert sent.query == {"grant_type": "ig_refresh_token", "access_token": token}
    assert renewed.extra["login"] == "instagram"


def test_a_facebook_login_instagram_token_is_checked_not_refreshed(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeFacebook(server, PAGE)
    token = fake.tokens.new("user")
    fake.tokens.access.add(token)
    creds = Credentials("instagram", "1784", {"access_token": token, **APP})

    checked = instagram(server, http).refresh(creds, None, now)

    assert server.calls("/refresh_access_token") == []
    assert server.calls("/debug_token")[0].query["input_token"] == token
    assert checked.access_token == token
    assert checked.checked_at == now


def test_the_instagram_kind_follows_the_login(http: HttpClient, now: datetime) -> None:
    tokens = InstagramTokens(Settings.from_env({}), http)
    facebook_login = tokens.initial(Credentials("instagram", "1", {"access_token": "t"}), now)
    instagram_login = TokenSet("t", extra={"login": "instagram"})
    assert tokens.kind_of(facebook_login) == "warn-only"
    assert tokens.kind_of(instagram_login) == "long-lived"


# -- Facebook ------------------------------------------------------------------------------


def test_debug_token_tells_a_page_token_never_expires(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeFacebook(server, PAGE)
    page = fake.tokens.new("page")
    fake.tokens.access.add(page)

    status = facebook(server, http).inspect(Credentials("facebook", PAGE, APP), TokenSet(page), now)

    (sent,) = server.calls("/debug_token")
    assert sent.query == {"input_token": page, "access_token": f"{APP_ID}|{APP_SECRET}"}
    assert status.valid is True
    assert status.expires_at is None
    assert "never expires" in status.detail


def test_a_page_token_is_rederived_from_the_long_lived_user_token(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeFacebook(server, PAGE)
    user = fake.tokens.new("user-long")
    fake.users.add(user)
    creds = Credentials("facebook", PAGE, {"access_token": "old-page", "user_access_token": user})

    renewed = facebook(server, http).refresh(creds, None, now)

    (sent,) = server.calls("/me/accounts")
    assert sent.query["access_token"] == user
    assert renewed.access_token in fake.tokens.access
    assert renewed.refresh_token == user


def test_an_invalidated_page_token_without_a_user_token_needs_a_person(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    FakeFacebook(server, PAGE)
    creds = Credentials("facebook", PAGE, {"access_token": "invalidated", **APP})
    with pytest.raises(GrantRefused, match=f"storyline accounts connect facebook {PAGE}"):
        facebook(server, http).refresh(creds, None, now)


def test_a_refused_user_token_needs_a_person(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    FakeFacebook(server, PAGE)
    creds = Credentials("facebook", PAGE, {"access_token": "p", "user_access_token": "dead"})
    with pytest.raises(GrantRefused, match="code 190"):
        facebook(server, http).refresh(creds, None, now)


def test_a_graph_throttle_is_transient(server: FakeServer, http: HttpClient, now: datetime) -> None:
    FakeFacebook(server, PAGE)
    server.fail_next(Reply(400, {"error": {"message": "limit", "code": 4}}))
    with pytest.raises(Transient):
        facebook(server, http).inspect(Credentials("facebook", PAGE, APP), TokenSet("p"), now)


def test_a_page_token_is_rechecked_once_a_day(http: HttpClient, now: datetime) -> None:
    tokens = FacebookTokens(Settings.from_env({}), http)
    page = TokenSet("p", checked_at=now)
    assert not tokens.refresh_due(page, now + timedelta(hours=23))
    assert tokens.refresh_due(page, now + timedelta(hours=24))
