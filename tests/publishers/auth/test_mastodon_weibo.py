"""Mastodon (tokens never expire: checked) and Weibo (expire, cannot be renewed: warned)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from token_fakes import APP_ID, APP_SECRET, FakeMastodon, FakeServer, FakeWeibo, Reply

from scheduler.app.settings import Settings
from scheduler.core.errors import Transient
from scheduler.publishers.auth.base import GrantRefused, TokenSet
from scheduler.publishers.auth.mastodon import MastodonTokens
from scheduler.publishers.auth.weibo import WeiboTokens
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import HttpClient

MASTODON = Credentials("mastodon", "brand@social.example", {"client_id": APP_ID})
WEIBO = Credentials("weibo", "1073880650", {"client_id": APP_ID, "client_secret": APP_SECRET})


def mastodon(server: FakeServer, http: HttpClient) -> MastodonTokens:
    return MastodonTokens(Settings.from_env({"STORYLINE_API_BASE_MASTODON": server.url}), http)


def weibo(server: FakeServer, http: HttpClient) -> WeiboTokens:
    return WeiboTokens(Settings.from_env({"STORYLINE_API_BASE_WEIBO": server.url}), http)


def test_a_mastodon_token_is_checked_with_verify_credentials(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeMastodon(server)
    token = fake.tokens.new("access")
    fake.tokens.access.add(token)

    status = mastodon(server, http).inspect(MASTODON, TokenSet(token), now)

    (sent,) = server.calls("/api/v1/accounts/verify_credentials")
    assert sent.header("authorization") == f"Bearer {token}"
    assert status.valid is True
    assert status.expires_at is None


def test_a_revoked_mastodon_token_needs_a_person(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    FakeMastodon(server)
    with pytest.raises(GrantRefused, match="storyline accounts connect mastodon brand@social"):
        mastodon(server, http).refresh(MASTODON, TokenSet("revoked"), now)


def test_a_mastodon_token_is_never_renewed_only_rechecked_daily(
    http: HttpClient, now: datetime
) -> None:
    tokens = MastodonTokens(Settings.from_env({}), http)
    checked = TokenSet("t", checked_at=now)
    assert tokens.kind_of(checked) == "never"
    assert not tokens.refresh_due(checked, now + timedelta(hours=23))
    assert tokens.refresh_due(checked, now + timedelta(days=1))
    assert tokens.warning(checked, now, account="brand@social.example") is None


def test_the_mastodon_instance_comes_from_the_handle(http: HttpClient) -> None:
    tokens = MastodonTokens(Settings.from_env({}), http)
    assert tokens.token_endpoint(MASTODON) == "https://social.example/oauth/token"


def test_weibo_get_token_info_gives_the_expiry(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = FakeWeibo(server)
    token = fake.tokens.new("access")
    fake.tokens.access.add(token)

    checked = weibo(server, http).refresh(WEIBO, TokenSet(token), now)

    (sent,) = server.calls("/oauth2/get_token_info")
    assert sent.form == {"access_token": token}
    assert checked.expires_at == now + timedelta(days=2)
    assert checked.checked_at == now


def test_an_expired_weibo_token_needs_a_person(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    FakeWeibo(server)
    with pytest.raises(GrantRefused, match="21327"):
        weibo(server, http).refresh(WEIBO, TokenSet("expired"), now)


def test_a_weibo_server_error_is_transient(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    FakeWeibo(server)
    server.fail_next(Reply(502, {"error": "bad gateway"}))
    with pytest.raises(Transient):
        weibo(server, http).inspect(WEIBO, TokenSet("t"), now)


def test_a_weibo_token_is_warned_three_days_ahead(http: HttpClient, now: datetime) -> None:
    tokens = WeiboTokens(Settings.from_env({}), http)
    token = TokenSet("t", expires_at=now + timedelta(days=4), checked_at=now)
    assert tokens.warning(token, now, account="1073880650") is None
    message = tokens.warning(token, now + timedelta(days=1, hours=1), account="1073880650")
    assert message is not None
    assert "storyline accounts connect weibo 1073880650" in message
    assert not tokens.refresh_due(token, now + timedelta(hours=1))
