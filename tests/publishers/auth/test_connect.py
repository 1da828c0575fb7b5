"""``storyline accounts connect``: the authorization-code flow end to end, against a local
consent page and token endpoint, with a "browser" that follows the redirect to the loopback."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from token_fakes import (
    APP_ID,
    APP_SECRET,
    FakeFacebook,
    FakeGoogle,
    FakeLinkedIn,
    FakeLongLived,
    FakeMastodon,
    FakeServer,
    FakeWeibo,
    FakeX,
    browser,
)

from scheduler.app.settings import Settings
from scheduler.publishers.auth.base import ConnectFailed, GrantRefused, TokenLifecycle
from scheduler.publishers.auth.bluesky import BlueskyTokens
from scheduler.publishers.auth.connect import connect, new_pkce
from scheduler.publishers.auth.loopback import LoopbackReceiver
from scheduler.publishers.auth.registry import lifecycle_for
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import HttpClient

APP = {"client_id": APP_ID, "client_secret": APP_SECRET}


@dataclass
class Case:
    network: str
    account: str
    env: Callable[[str], dict[str, str]]
    fake: Callable[[FakeServer], Any]
    consent_path: str
    token_path: str
    fields: dict[str, str]


CASES = [
    Case(
        "x",
        "BrandFR",
        lambda u: {"STORYLINE_API_BASE_X": u},
        FakeX,
        "/i/oauth2/authorize",
        "/2/oauth2/token",
        APP,
    ),
    Case(
        "youtube",
        "UCbrand",
        lambda u: {"STORYLINE_TOKEN_URL_YOUTUBE": f"{u}/token"},
        FakeGoogle,
        "/o/oauth2/v2/auth",
        "/token",
        APP,
    ),
    Case(
        "linkedin",
        "9001",
        lambda u: {"STORYLINE_TOKEN_URL_LINKEDIN": f"{u}/oauth/v2/accessToken"},
        FakeLinkedIn,
        "/oauth/v2/authorization",
        "/oauth/v2/accessToken",
        APP,
    ),
    Case(
        "mastodon",
        "brand@social.example",
        lambda u: {"STORYLINE_API_BASE_MASTODON": u},
        FakeMastodon,
        "/oauth/authorize",
        "/oauth/token",
        APP,
    ),
    Case(
        "weibo",
        "1073880650",
        lambda u: {"STORYLINE_API_BASE_WEIBO": u},
        FakeWeibo,
        "/oauth2/authorize",
        "/oauth2/access_token",
        APP,
    ),
    Case(
        "threads",
        "1789",
        lambda u: {"STORYLINE_API_BASE_THREADS": f"{u}/v1.0"},
        lambda s: FakeLongLived(
            s, grant="th_refresh_token", exchange="th_exchange_token", prefix="TH"
        ),
        "/oauth/authorize",
        "/access_token",
        APP,
    ),
    Case(
        "instagram",
        "1784",
        lambda u: {"STORYLINE_TOKEN_URL_INSTAGRAM": f"{u}/refresh_access_token"},
        lambda s: FakeLongLived(
            s, grant="ig_refresh_token", exchange="ig_exchange_token", prefix="IG"
        ),
        "/oauth/authorize",
        "/access_token",
        {**APP, "login": "instagram"},
    ),
    Case(
        "facebook",
        "104857600",
        lambda u: {"STORYLINE_API_BASE_FACEBOOK": u},
        lambda s: FakeFacebook(s, "104857600"),
        "/dialog/oauth",
        "/me/accounts",
        APP,
    ),
]


def lifecycle(case: Case, server: FakeServer, http: HttpClient) -> TokenLifecycle:
    return lifecycle_for(case.network, Settings.from_env(case.env(server.url)), http)


@pytest.mark.parametrize("case", CASES, ids=[c.network for c in CASES])
def test_connect_runs_the_flow_end_to_end(
    case: Case, server: FakeServer, http: HttpClient, now: datetime
) -> None:
    fake = case.fake(server)
    visited: list[str] = []
    creds = Credentials(case.network, case.account, case.fields)

    tokens = connect(
        lifecycle(case, server, http),
        creds,
        open_url=browser(visited),
        receiver=LoopbackReceiver(timeout=5),
        clock=lambda: now,
    )

    consent, back = visited
    assert urlsplit(consent).path == case.consent_path
    assert back.startswith("http://127.0.0.1:") and "/callback?" in back
    assert server.calls(case.token_path)
    assert tokens.access_token in fake.tokens.access
    assert tokens.issued_at == now


def test_pkce_networks_send_a_fresh_s256_challenge(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    FakeX(server)
    visited: list[str] = []
    case = CASES[0]
    for _ in range(2):
        connect(
            lifecycle(case, server, http),
            Credentials("x", "BrandFR", APP),
            open_url=browser(visited),
            receiver=LoopbackReceiver(timeout=5),
        )
    first, second = (parse_qs(urlsplit(visited[i]).query) for i in (0, 2))
    assert first["code_challenge_method"] == ["S256"]
    assert first["code_challenge"] != second["code_challenge"]
    assert first["state"] != second["state"]
    assert first["scope"] == ["tweet.read tweet.write users.read media.write offline.access"]


def test_a_code_already_used_is_refused(
    server: FakeServer, http: HttpClient, now: datetime
) -> None:
    FakeGoogle(server)
    tokens = lifecycle(CASES[1], server, http)
    with pytest.raises(GrantRefused):
        tokens.exchange_code(
            Credentials("youtube", "UCbrand", APP),
            code="never-issued",
            redirect_uri="http://127.0.0.1:1/callback",
            code_verifier=new_pkce().verifier,
            now=now,
        )


def test_bluesky_has_no_browser_flow(http: HttpClient) -> None:
    with pytest.raises(ConnectFailed, match="not connected through a browser"):
        BlueskyTokens(Settings.from_env({}), http).authorization_url(
            Credentials("bluesky", "b", {}), redirect_uri="x", state="s", code_challenge="c"
        )


def test_instagram_through_facebook_login_is_not_connected_in_a_browser(
    http: HttpClient,
) -> None:
    tokens = lifecycle_for("instagram", Settings.from_env({}), http)
    with pytest.raises(ConnectFailed, match="login: instagram"):
        tokens.authorization_url(
            Credentials("instagram", "1784", APP), redirect_uri="x", state="s", code_challenge="c"
        )


def test_the_pkce_verifier_follows_rfc_7636() -> None:
    pkce = new_pkce()
    assert 43 <= len(pkce.verifier) <= 128
    assert set(pkce.verifier) <= set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
    )
    assert pkce.verifier not in repr(pkce)


# -- the loopback receiver ---------------------------------------------------------------


def test_the_receiver_listens_on_the_loopback_ip_with_an_ephemeral_port() -> None:
    with LoopbackReceiver(timeout=1) as receiver:
        assert receiver.redirect_uri.startswith("http://127.0.0.1:")
        assert receiver.port > 0


def test_a_callback_with_another_state_is_refused_and_the_wait_goes_on() -> None:
    with LoopbackReceiver(timeout=5) as receiver:
        receiver.expect("the-right-state")
        forged = httpx.get(f"{receiver.redirect_uri}?code=evil&state=forged")
        genuine = httpx.get(f"{receiver.redirect_uri}?code=good-code&state=the-right-state")
        assert forged.status_code == 400
        assert receiver.wait() == "good-code"
        assert genuine.status_code == 200
        assert "close this tab" in genuine.text
        assert "good-code" not in genuine.text


def test_a_refusal_on_the_consent_page_ends_the_flow() -> None:
    with LoopbackReceiver(timeout=5) as receiver:
        receiver.expect("s")
        httpx.get(f"{receiver.redirect_uri}?error=access_denied&state=s")
        with pytest.raises(ConnectFailed, match="access_denied"):
            receiver.wait()


def test_no_answer_from_the_browser_times_out() -> None:
    with LoopbackReceiver(timeout=0.2) as receiver:
        receiver.expect("s")
        with pytest.raises(ConnectFailed, match="no answer from the browser"):
            receiver.wait()


def test_another_path_is_not_the_callback() -> None:
    with LoopbackReceiver(timeout=1) as receiver:
        receiver.expect("s")
        assert httpx.get(f"http://127.0.0.1:{receiver.port}/favicon.ico").status_code == 404


def test_a_busy_fixed_port_says_so() -> None:
    with LoopbackReceiver(timeout=1) as first, pytest.raises(ConnectFailed, match="cannot listen"):
        LoopbackReceiver(port=first.port).__enter__()
