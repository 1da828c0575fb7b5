"""Facebook Pages: a Page token that does not expire, derived from a long-lived user token.

Meta documents no refresh grant. A Page token read with a long-lived user token
(``GET /me/accounts``) has no expiry; it dies when the person changes password, loses the Page
role or removes the app. So Storyline checks it with ``debug_token`` and, when the secrets give
a ``user_access_token`` (or ``storyline accounts connect`` stored one), re-derives it from that
user token. The long-lived user token plays the refresh token's part in the :class:`TokenSet`
(``refresh_token``; its ~60-day expiry in ``refresh_expires_at``). Endpoints are versioned and
on the API host: they move with ``STORYLINE_API_BASE_FACEBOOK``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import ClassVar

from scheduler.publishers.auth import graph
from scheduler.publishers.auth.base import (
    Kind,
    TokenLifecycle,
    TokenSet,
    TokenStatus,
)
from scheduler.publishers.auth.oauth import seconds
from scheduler.publishers.base import Credentials
from scheduler.publishers.meta import GRAPH_BASE, GRAPH_VERSION

DIALOG_URL = f"https://www.facebook.com/{GRAPH_VERSION}/dialog/oauth"


class FacebookTokens(TokenLifecycle):
    network: ClassVar[str] = "facebook"
    kind: ClassVar[Kind] = "page-token"
    fields: ClassVar[tuple[str, ...]] = (
        "access_token",
        "user_access_token",
        "client_id",
        "client_secret",
        "app_token",
    )
    #: A Page token read with a *short-lived* user token lasts an hour: renew it ahead.
    refresh_ahead: ClassVar[timedelta] = timedelta(minutes=10)
    warn_ahead: ClassVar[timedelta] = timedelta(days=14)
    default_scopes: ClassVar[tuple[str, ...]] = (
        "pages_manage_posts",
        "pages_read_engagement",
        "pages_show_list",
    )
    scope_separator: ClassVar[str] = ","

    @property
    def base(self) -> str:
        return self.settings.api_base(self.network, GRAPH_BASE)

    def can_refresh(self, tokens: TokenSet) -> bool:
        return bool(tokens.refresh_token)

    def initial(self, credentials: Credentials, now: datetime) -> TokenSet | None:
        first = super().initial(credentials, now)
        if first is None:
            return None
        return first.with_changes(refresh_token=credentials.get("user_access_token") or None)

    def refresh_due(self, tokens: TokenSet, now: datetime) -> bool:
        """Ahead of a known expiry; otherwise once a day (re-deriving is also a check)."""
        return super().refresh_due(tokens, now) or self.recheck_due(tokens, now)

    def ending(self, tokens: TokenSet) -> list[tuple[str, datetime, timedelta]]:
        """Only the Page token's own end: it outlives the user token it came from."""
        if tokens.expires_at is None or self.can_refresh(tokens):
            return []
        return [("Page token", tokens.expires_at, self.warn_ahead)]

    def refresh(
        self, credentials: Credentials, current: TokenSet | None, now: datetime
    ) -> TokenSet:
        """Re-derive the Page token from the user token; without one, check the Page token."""
        current = current or self.initial(credentials, now)
        user = (current.refresh_token if current else None) or credentials.get("user_access_token")
        if user:
            token = graph.page_token(self, self.base, credentials, user)
            return TokenSet(
                access_token=token,
                refresh_token=user,
                refresh_expires_at=current.refresh_expires_at if current else None,
                issued_at=now,
                checked_at=now,
                extra=current.extra if current else {},
            )
        return self.recheck(credentials, current, now)

    def inspect(
        self, credentials: Credentials, current: TokenSet | None, now: datetime
    ) -> TokenStatus:
        token = current.access_token if current else credentials.get("access_token", "")
        if not token:
            return TokenStatus(valid=False, detail="no Page token")
        return graph.debug_token(self, self.base, credentials, token)

    def authorization_url(
        self,
        credentials: Credentials,
        *,
        redirect_uri: str,
        state: str,
        code_challenge: str,
        scopes: Sequence[str] | None = None,
    ) -> str:
        override = self.settings.api_base_override(self.network)
        return graph.dialog_url(
            f"{override}/dialog/oauth" if override else DIALOG_URL,
            self.client_field(credentials, "client_id"),
            redirect_uri,
            state,
            self.scope_of(scopes),
        )

    def exchange_code(
        self,
        credentials: Credentials,
        *,
        code: str,
        redirect_uri: str,
        code_verifier: str,
        now: datetime,
    ) -> TokenSet:
        """Code -> user token -> long-lived user token -> the Page's token."""
        short = graph.user_token_for_code(self, self.base, credentials, code, redirect_uri)
        long = graph.long_lived_user_token(self, self.base, credentials, short)
        user = str(long["access_token"])
        lifetime = seconds(long.get("expires_in"))
        return TokenSet(
            access_token=graph.page_token(self, self.base, credentials, user),
            refresh_token=user,
            refresh_expires_at=now + timedelta(seconds=lifetime) if lifetime else None,
            issued_at=now,
            checked_at=now,
        )
