"""The interface the database side builds on: TokenSet, the registry, the shared rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduler.app.settings import Settings
from scheduler.core.errors import ConfigError
from scheduler.publishers.auth.base import TokenSet, with_tokens
from scheduler.publishers.auth.registry import LIFECYCLES, fields_of, lifecycle_for
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import HttpClient

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
FULL = TokenSet(
    access_token="access-value-123",
    refresh_token="refresh-value-456",
    expires_at=NOW + timedelta(hours=2),
    refresh_expires_at=NOW + timedelta(days=90),
    scope="tweet.read",
    issued_at=NOW,
    checked_at=NOW,
    extra={"did": "did:plc:x"},
)


def test_a_token_sets_repr_names_fields_never_values() -> None:
    shown = repr(FULL)
    assert "access-value-123" not in shown
    assert "refresh-value-456" not in shown
    assert "access_token=***" in shown
    assert "expires_at=2026-12-01T10:00:00+00:00" in shown


def test_a_token_set_survives_the_round_trip_through_its_dict() -> None:
    assert TokenSet.from_dict(FULL.to_dict()) == FULL


def test_a_token_set_refuses_a_naive_time() -> None:
    with pytest.raises(ValueError, match="aware"):
        TokenSet("a", expires_at=datetime(2026, 12, 1, 8, 0))


def test_the_current_tokens_replace_the_secrets_files_for_a_publisher() -> None:
    creds = Credentials("x", "BrandFR", {"access_token": "from-file", "client_id": "id"})
    merged = with_tokens(creds, FULL)
    assert merged["access_token"] == "access-value-123"
    assert merged["refresh_token"] == "refresh-value-456"
    assert merged["client_id"] == "id"


def test_every_network_with_tokens_has_a_lifecycle() -> None:
    assert set(LIFECYCLES) == {
        "x",
        "youtube",
        "linkedin",
        "threads",
        "instagram",
        "facebook",
        "bluesky",
        "mastodon",
        "weibo",
    }


def test_each_lifecycle_names_the_fields_it_reads() -> None:
    assert fields_of("x") == ("access_token", "refresh_token", "client_id", "client_secret")
    assert fields_of("bluesky") == ("identifier", "app_password")
    assert "user_access_token" in fields_of("facebook")
    assert fields_of("webhook") == ()


def test_an_unknown_network_is_refused_with_a_suggestion() -> None:
    http = HttpClient()
    try:
        with pytest.raises(ConfigError, match="did you mean: x"):
            lifecycle_for("xx", Settings.from_env({}), http)
    finally:
        http.close()


@pytest.mark.parametrize("network", sorted(LIFECYCLES))
def test_a_refused_token_tells_how_to_reconnect(network: str) -> None:
    http = HttpClient()
    try:
        hint = lifecycle_for(network, Settings.from_env({}), http).reconnect_hint("acct")
    finally:
        http.close()
    assert ("storyline accounts connect" in hint) or ("app password" in hint)
