"""LinkedIn: 60-day member tokens; a 365-day refresh token only for apps LinkedIn approved.

learn.microsoft.com "Authorization Code Flow (3-legged OAuth)", "Refresh Tokens with OAuth 2.0"
and "Token Introspection": everything is on ``https://www.linkedin.com/oauth/v2/`` and
form-encoded, with ``client_id`` and ``client_secret`` in the body. With a refresh token the
access token is renewed a week ahead (``grant_type=refresh_token``); the refresh token's own
life is *not* extended (``refresh_token_expires_in`` keeps counting down from the first
consent), so a person is warned a month before it ends. Without one (most apps) the token
cannot be renewed: a person is warned two weeks ahead. ``introspectToken`` tells whether a
token is active and when it expires. The host is not the API's, so the endpoints move with
``STORYLINE_TOKEN_URL_LINKEDIN`` (the access-token URL; its siblings follow it).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import ClassVar
from urllib.parse import urljoin

from scheduler.core.errors import NeedsAuth
from scheduler.publishers.auth.base import Kind, TokenSet, TokenStatus, secrets_of
from scheduler.publishers.auth.oauth import OAuthLifecycle, json_of, oauth_classifier
from scheduler.publishers.base import Credentials

GRANT_URL = "https://www.linkedin.com/oauth/v2/accessToken"


class LinkedInTokens(OAuthLifecycle):
    network: ClassVar[str] = "linkedin"
    kind: ClassVar[Kind] = "refresh"
    fields: ClassVar[tuple[str, ...]] = (
        "access_token",
        "refresh_token",
        "client_id",
        "client_secret",
    )
    refresh_ahead: ClassVar[timedelta] = timedelta(days=7)
    refresh_unknown_expiry: ClassVar[bool] = True
    #: Without a refresh token: the access token. With one: the refresh token (see warning()).
    warn_ahead: ClassVar[timedelta] = timedelta(days=14)
    refresh_warn_ahead: ClassVar[timedelta] = timedelta(days=30)
    default_scopes: ClassVar[tuple[str, ...]] = ("w_organization_social", "r_organization_social")

    def kind_of(self, tokens: TokenSet | None) -> Kind:
        return "refresh" if tokens is not None and tokens.refresh_token else "warn-only"

    def ending(self, tokens: TokenSet) -> list[tuple[str, datetime, timedelta]]:
        if tokens.refresh_token and tokens.refresh_expires_at is not None:
            return [("refresh token", tokens.refresh_expires_at, self.refresh_warn_ahead)]
        return super().ending(tokens)

    def refresh(
        self, credentials: Credentials, current: TokenSet | None, now: datetime
    ) -> TokenSet:
        """The refresh grant with a refresh token; without one, a check (introspection)."""
        tokens = current or self.initial(credentials, now)
        if tokens is not None and tokens.refresh_token:
            return super().refresh(credentials, tokens, now)
        return self.recheck(credentials, current, now)

    def token_endpoint(self, credentials: Credentials) -> str:
        return self.settings.token_url(self.network, GRANT_URL)

    def authorize_endpoint(self, credentials: Credentials) -> str:
        return urljoin(self.token_endpoint(credentials), "authorization")

    def inspect(
        self, credentials: Credentials, current: TokenSet | None, now: datetime
    ) -> TokenStatus:
        """``POST /oauth/v2/introspectToken`` with ``client_id``, ``client_secret``, ``token``."""
        token = current.access_token if current else credentials.get("access_token", "")
        form = {
            "client_id": self.client_field(credentials, "client_id"),
            "client_secret": self.client_field(credentials, "client_secret"),
            "token": token,
        }
        try:
            response = self.http.request(
                "POST",
                urljoin(self.token_endpoint(credentials), "introspectToken"),
                network=self.network,
                secrets=secrets_of(credentials, current),
                classify=oauth_classifier(self.network, self.reconnect_hint(credentials.account)),
                data=form,
            )
        except NeedsAuth as exc:
            raise self.refused(exc, credentials.account) from None
        body = json_of(response, self.network)
        expires = str(body.get("expires_at") or "")
        expires_at = datetime.fromtimestamp(int(expires), UTC) if expires.isdigit() else None
        status = str(body.get("status") or ("active" if body.get("active") else "inactive"))
        return TokenStatus(
            valid=bool(body.get("active")),
            expires_at=expires_at,
            scope=str(body["scope"]) if body.get("scope") else None,
            detail=f"{status} ({body.get('auth_type', '?')} token)",
        )
