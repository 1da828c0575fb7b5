"""Instagram: Instagram Login tokens renew like Threads'; Facebook Login tokens cannot.

Storyline's Instagram publisher speaks the Instagram API *with Facebook Login*
(graph.facebook.com, docs/publishers.md#instagram): its token is a Facebook user or system-user
token, which has no refresh grant. Such an account (the default, ``login: facebook``) is
checked with ``debug_token`` and a person is warned before it ends. An account connected with
*Instagram Login* (``login: instagram`` in the secrets, or connected so) holds a long-lived
Instagram token: developers.facebook.com "Refresh Access Token" (Instagram platform) documents
``GET https://graph.instagram.com/refresh_access_token?grant_type=ig_refresh_token`` for a token
"at least 24 hours old but [that has] not expired", valid 60 days from the refresh.

graph.instagram.com and api.instagram.com are not the API host, so those endpoints move with
``STORYLINE_TOKEN_URL_INSTAGRAM`` (the refresh URL; the others follow it to the same host).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import ClassVar
from urllib.parse import urlencode

from scheduler.core.errors import NeedsAuth
from scheduler.publishers.auth import graph
from scheduler.publishers.auth.base import (
    ConnectFailed,
    Kind,
    TokenSet,
    TokenStatus,
    on_stand_in,
)
from scheduler.publishers.auth.oauth import json_of, token_set_from
from scheduler.publishers.auth.threads import LongLivedTokens
from scheduler.publishers.base import Credentials
from scheduler.publishers.meta import GRAPH_BASE, graph_classifier

REFRESH_URL = "https://graph.instagram.com/refresh_access_token"
EXCHANGE_URL = "https://graph.instagram.com/access_token"
CODE_URL = "https://api.instagram.com/oauth/access_token"
AUTHORIZE_URL = "https://www.instagram.com/oauth/authorize"
LOGINS = ("facebook", "instagram")


class InstagramTokens(LongLivedTokens):
    network: ClassVar[str] = "instagram"
    fields: ClassVar[tuple[str, ...]] = (
        "access_token",
        "login",
        "client_id",
        "client_secret",
        "app_token",
    )
    warn_ahead: ClassVar[timedelta] = timedelta(days=14)
    default_scopes: ClassVar[tuple[str, ...]] = (
        "instagram_business_basic",
        "instagram_business_content_publish",
    )

    @staticmethod
    def login_of(tokens: TokenSet | None) -> str:
        return tokens.extra.get("login", "facebook") if tokens is not None else "facebook"

    def kind_of(self, tokens: TokenSet | None) -> Kind:
        return "long-lived" if self.login_of(tokens) == "instagram" else "warn-only"

    def initial(self, credentials: Credentials, now: datetime) -> TokenSet | None:
        first = super().initial(credentials, now)
        login = credentials.get("login", "facebook")
        if login not in LOGINS:
            raise NeedsAuth(
                f"instagram:{credentials.account}: login must be 'facebook' or 'instagram', "
                f"not {login!r}"
            )
        return first.with_changes(extra={"login": login}) if first else None

    def _moved(self, default: str) -> str:
        refresh_url = self.settings.token_url(self.network, REFRESH_URL)
        return on_stand_in(default, refresh_url if refresh_url != REFRESH_URL else None)

    def refresh(
        self, credentials: Credentials, current: TokenSet | None, now: datetime
    ) -> TokenSet:
        current = current or self.initial(credentials, now)
        if self.login_of(current) == "instagram":
            url = self.settings.token_url(self.network, REFRESH_URL)
            return self.renew(url, "ig_refresh_token", credentials, current, now)
        return self.recheck(credentials, current, now)

    def inspect(
        self, credentials: Credentials, current: TokenSet | None, now: datetime
    ) -> TokenStatus:
        """``debug_token`` on graph.facebook.com for a Facebook Login token; an Instagram
        Login token has no documented check (its expiry is the last refresh's)."""
        if self.login_of(current or self.initial(credentials, now)) == "instagram":
            return super().inspect(credentials, current, now)
        token = current.access_token if current else credentials.get("access_token", "")
        if not token:
            return TokenStatus(valid=False, detail="no access token")
        base = self.settings.api_base(self.network, GRAPH_BASE)
        return graph.debug_token(self, base, credentials, token)

    # -- connecting (Instagram Login) ------------------------------------------------------

    def _instagram_login(self, credentials: Credentials) -> None:
        if credentials.get("login", "facebook") != "instagram":
            raise ConnectFailed(
                f"instagram:{credentials.account}: Storyline publishes to Instagram through "
                "Facebook Login: put a long-lived Facebook user (or system-user) token in the "
                "secrets file, or set `login: instagram` to connect with Instagram Login"
            )

    def authorization_url(
        self,
        credentials: Credentials,
        *,
        redirect_uri: str,
        state: str,
        code_challenge: str,
        scopes: Sequence[str] | None = None,
    ) -> str:
        self._instagram_login(credentials)
        query = urlencode(
            {
                "client_id": self.client_field(credentials, "client_id"),
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": self.scope_of(scopes),
                "state": state,
            }
        )
        return f"{self._moved(AUTHORIZE_URL)}?{query}"

    def exchange_code(
        self,
        credentials: Credentials,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
        now: datetime,
    ) -> TokenSet:
        """``POST api.instagram.com/oauth/access_token`` (one hour), then
        ``GET graph.instagram.com/access_token?grant_type=ig_exchange_token`` (60 days)."""
        self._instagram_login(credentials)
        secret = self.client_field(credentials, "client_secret")
        try:
            response = self.http.request(
                "POST",
                self._moved(CODE_URL),
                network=self.network,
                secrets=[*credentials.secret_values(), code],
                classify=graph_classifier(self.network, write=False),
                data={
                    "client_id": self.client_field(credentials, "client_id"),
                    "client_secret": secret,
                    "grant_type": "authorization_code",
                    "redirect_uri": redirect_uri,
                    "code": code,
                },
            )
        except NeedsAuth as exc:
            raise self.refused(exc, credentials.account) from None
        short = json_of(response, self.network)
        data = short.get("data")
        if isinstance(data, list) and data and isinstance(data[0], dict):
            short = data[0]  # Business Login answers {"data": [{access_token, user_id, ...}]}
        body = graph.graph_get(
            self,
            self._moved(EXCHANGE_URL),
            credentials,
            {
                "grant_type": "ig_exchange_token",
                "client_secret": secret,
                "access_token": str(short.get("access_token") or ""),
            },
        )
        extra = {"login": "instagram"}
        if short.get("user_id"):
            extra["user_id"] = str(short["user_id"])
        return token_set_from(body, network=self.network, now=now, extra=extra)
