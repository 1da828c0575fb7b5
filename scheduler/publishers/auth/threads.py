"""Threads: long-lived user tokens (60 days) that renew themselves once a day old.

developers.facebook.com "Long-Lived Access Tokens" (Threads): ``GET
https://graph.threads.net/refresh_access_token?grant_type=th_refresh_token&access_token=<token>``
renews a long-lived token "at least 24 hours old but [that has] not expired"; the answer is
``{access_token, token_type, expires_in}``, valid 60 days from the refresh. The paths are not
under the API version (``/v1.0``): they are built from the host root of
``STORYLINE_API_BASE_THREADS``. Connecting: the code is exchanged at ``POST /oauth/access_token``
(a one-hour token and the ``user_id``), then ``GET /access_token?grant_type=th_exchange_token``
for the long-lived one (server-side: it needs the Threads app secret). Meta documents no PKCE.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import ClassVar
from urllib.parse import urlencode

from scheduler.core.errors import NeedsAuth
from scheduler.publishers.auth import graph
from scheduler.publishers.auth.base import Kind, TokenLifecycle, TokenSet, on_stand_in
from scheduler.publishers.auth.oauth import json_of, token_set_from
from scheduler.publishers.base import Credentials
from scheduler.publishers.meta import THREADS_BASE, graph_classifier

AUTHORIZE_URL = "https://threads.com/oauth/authorize"
_VERSION = re.compile(r"/v\d+(\.\d+)?/?$")


class LongLivedTokens(TokenLifecycle):
    """What Threads and Instagram Login share: 60 days, renewable once 24 hours old."""

    kind: ClassVar[Kind] = "long-lived"
    min_age: ClassVar[timedelta] = timedelta(hours=24)
    refresh_ahead: ClassVar[timedelta] = timedelta(days=30)
    refresh_unknown_expiry: ClassVar[bool] = True
    warn_ahead: ClassVar[timedelta] = timedelta(days=7)
    scope_separator: ClassVar[str] = ","

    def renew(
        self,
        url: str,
        grant_type: str,
        credentials: Credentials,
        current: TokenSet | None,
        now: datetime,
    ) -> TokenSet:
        token = current.access_token if current else credentials.get("access_token", "")
        if not token:
            raise NeedsAuth(
                f"{self.network}:{credentials.account}: no access_token to renew; "
                f"{self.reconnect_hint(credentials.account)}"
            )
        body = graph.graph_get(
            self, url, credentials, {"grant_type": grant_type, "access_token": token}
        )
        return token_set_from(body, network=self.network, now=now, previous=current)


class ThreadsTokens(LongLivedTokens):
    network: ClassVar[str] = "threads"
    fields: ClassVar[tuple[str, ...]] = ("access_token", "client_id", "client_secret")
    default_scopes: ClassVar[tuple[str, ...]] = (
        "threads_basic",
        "threads_content_publish",
        "threads_manage_replies",
    )

    @property
    def root(self) -> str:
        """The host root: the refresh and exchange paths carry no API version."""
        return _VERSION.sub("", self.settings.api_base(self.network, THREADS_BASE))

    def refresh(
        self, credentials: Credentials, current: TokenSet | None, now: datetime
    ) -> TokenSet:
        return self.renew(
            f"{self.root}/refresh_access_token", "th_refresh_token", credentials, current, now
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
        query = urlencode(
            {
                "client_id": self.client_field(credentials, "client_id"),
                "redirect_uri": redirect_uri,
                "scope": self.scope_of(scopes),
                "response_type": "code",
                "state": state,
            }
        )
        base = on_stand_in(AUTHORIZE_URL, self.settings.api_base_override(self.network))
        return f"{base}?{query}"

    def exchange_code(
        self,
        credentials: Credentials,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
        now: datetime,
    ) -> TokenSet:
        secret = self.client_field(credentials, "client_secret")
        try:
            response = self.http.request(
                "POST",
                f"{self.root}/oauth/access_token",
                network=self.network,
                secrets=[*credentials.secret_values(), code],
                classify=graph_classifier(self.network, write=False),
                data={
                    "client_id": self.client_field(credentials, "client_id"),
                    "client_secret": secret,
                    "code": code,
                    "grant_type": "authorization_code",
                    "redirect_uri": redirect_uri,
                },
            )
        except NeedsAuth as exc:
            raise self.refused(exc, credentials.account) from None
        short = json_of(response, self.network)
        user_id = str(short.get("user_id") or "")
        body = graph.graph_get(
            self,
            f"{self.root}/access_token",
            credentials,
            {
                "grant_type": "th_exchange_token",
                "client_secret": secret,
                "access_token": str(short.get("access_token") or ""),
            },
        )
        extra = {"user_id": user_id} if user_id else {}
        return token_set_from(body, network=self.network, now=now, extra=extra)
