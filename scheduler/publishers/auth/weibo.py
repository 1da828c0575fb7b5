"""Weibo: tokens that expire (a day to five years, by the app's level) and cannot be renewed.

open.weibo.com "OAuth2/access_token" and "Oauth2/get_token_info" (read through copies: the
official pages are not in the docs corpus, see docs/publishers.md#weibo): the code is exchanged
at ``POST /oauth2/access_token`` (``client_id``, ``client_secret``, ``grant_type``, ``code``,
``redirect_uri``); ``POST /oauth2/get_token_info`` (form ``access_token``) answers ``expire_in``,
the seconds left. Refresh tokens exist only for the official mobile SDK, so a server app must
have a person re-authorise: Storyline checks the token once a day and warns 3 days ahead. Errors
come as ``{"error", "error_code"}``; the token codes (21327 expired, 21332 invalid, ...) mean
re-connect. The endpoints are on the API host: ``STORYLINE_API_BASE_WEIBO`` moves them.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

from scheduler.core.errors import NeedsAuth
from scheduler.publishers.auth.base import Kind, TokenSet, TokenStatus, secrets_of
from scheduler.publishers.auth.oauth import OAuthLifecycle, json_of, seconds
from scheduler.publishers.base import Credentials
from scheduler.publishers.weibo import DEFAULT_BASE
from scheduler.publishers.weibo import _classify as weibo_classify


class WeiboTokens(OAuthLifecycle):
    network: ClassVar[str] = "weibo"
    kind: ClassVar[Kind] = "warn-only"
    fields: ClassVar[tuple[str, ...]] = ("access_token", "client_id", "client_secret")
    warn_ahead: ClassVar[timedelta] = timedelta(days=3)

    @property
    def base(self) -> str:
        return self.settings.api_base(self.network, DEFAULT_BASE)

    def token_endpoint(self, credentials: Credentials) -> str:
        return f"{self.base}/oauth2/access_token"

    def authorize_endpoint(self, credentials: Credentials) -> str:
        return f"{self.base}/oauth2/authorize"

    def refresh(
        self, credentials: Credentials, current: TokenSet | None, now: datetime
    ) -> TokenSet:
        return self.recheck(credentials, current, now)

    def inspect(
        self, credentials: Credentials, current: TokenSet | None, now: datetime
    ) -> TokenStatus:
        """``POST /oauth2/get_token_info``: ``expire_in`` seconds left, ``uid``, ``scope``."""
        token = current.access_token if current else credentials.get("access_token", "")
        if not token:
            return TokenStatus(valid=False, detail="no access token")
        try:
            response = self.http.request(
                "POST",
                f"{self.base}/oauth2/get_token_info",
                network=self.network,
                secrets=secrets_of(credentials, current),
                classify=weibo_classify,
                data={"access_token": token},
            )
        except NeedsAuth as exc:
            return TokenStatus(valid=False, detail=str(exc))
        info = json_of(response, self.network)
        left = seconds(info.get("expire_in"))
        return TokenStatus(
            valid=True,
            expires_at=now + timedelta(seconds=left) if left else None,
            scope=str(info["scope"]) if info.get("scope") else None,
            detail=f"uid {info.get('uid', '?')}",
        )
