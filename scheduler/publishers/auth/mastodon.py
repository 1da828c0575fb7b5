"""Mastodon: tokens that never expire; revoked ones are found by checking.

docs.joinmastodon.org "OAuth" and "Token": ``POST /oauth/token`` offers the
``authorization_code`` and ``client_credentials`` grants and no ``refresh_token`` grant;
"Tokens will not expire automatically. They will become invalid only when deleted by a user or
revoked by the app." So nothing is renewed: once a day (and after a 401) the token is checked
with ``GET /api/v1/accounts/verify_credentials``. Connecting: ``GET /oauth/authorize`` with
PKCE S256 (Mastodon 4.3+), then the code at ``POST /oauth/token`` with ``client_id`` and
``client_secret`` in the form. The API is the instance of the account's handle
(``user@instance``), or ``STORYLINE_API_BASE_MASTODON``.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from scheduler.core.errors import NeedsAuth
from scheduler.publishers.auth.base import Kind, TokenSet, TokenStatus, secrets_of
from scheduler.publishers.auth.oauth import OAuthLifecycle, json_of
from scheduler.publishers.base import Credentials
from scheduler.publishers.mastodon import instance_of


class MastodonTokens(OAuthLifecycle):
    network: ClassVar[str] = "mastodon"
    kind: ClassVar[Kind] = "never"
    fields: ClassVar[tuple[str, ...]] = ("access_token", "client_id", "client_secret")
    default_scopes: ClassVar[tuple[str, ...]] = (
        "read:accounts",
        "read:statuses",
        "write:statuses",
        "write:media",
    )
    pkce: ClassVar[bool] = True

    def base_of(self, account: str) -> str:
        override = self.settings.api_base_override(self.network)
        return override or instance_of(account).rstrip("/")

    def token_endpoint(self, credentials: Credentials) -> str:
        return f"{self.base_of(credentials.account)}/oauth/token"

    def authorize_endpoint(self, credentials: Credentials) -> str:
        return f"{self.base_of(credentials.account)}/oauth/authorize"

    def refresh(
        self, credentials: Credentials, current: TokenSet | None, now: datetime
    ) -> TokenSet:
        return self.recheck(credentials, current, now)

    def inspect(
        self, credentials: Credentials, current: TokenSet | None, now: datetime
    ) -> TokenStatus:
        """``GET /api/v1/accounts/verify_credentials`` with the token: 200 or 401."""
        token = current.access_token if current else credentials.get("access_token", "")
        if not token:
            return TokenStatus(valid=False, detail="no access token")
        base = self.base_of(credentials.account)
        try:
            response = self.http.request(
                "GET",
                f"{base}/api/v1/accounts/verify_credentials",
                network=self.network,
                secrets=secrets_of(credentials, current),
                headers={"Authorization": f"Bearer {token}"},
            )
        except NeedsAuth as exc:
            return TokenStatus(valid=False, detail=str(exc))
        me = json_of(response, self.network)
        return TokenStatus(valid=True, detail=f"@{me.get('acct', '?')} on {base}, never expires")
