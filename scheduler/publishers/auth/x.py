"""X: OAuth 2.0 user tokens (2 hours) renewed with single-use, rotating refresh tokens.

docs.x.com "Authorization Code Flow with PKCE" and "User access token": the token endpoint is
``POST https://api.x.com/2/oauth2/token``, form-encoded. A confidential client (it has a
``client_secret``) authenticates with HTTP Basic ``client_id:client_secret``; a public client
sends ``client_id`` in the body. ``offline.access`` is the only way to get a refresh token, and
"refresh tokens rotate": each refresh answers a new one and the old one stops working, so the
caller must store the new pair before using it, under the account's lock. The authorization
code lives 30 seconds: :func:`scheduler.publishers.auth.connect.connect` exchanges it at once.
The endpoint moves with ``STORYLINE_API_BASE_X`` (same host as the API).
"""

from __future__ import annotations

from datetime import timedelta
from typing import ClassVar, Literal

from scheduler.publishers.auth.base import Kind, on_stand_in
from scheduler.publishers.auth.oauth import OAuthLifecycle
from scheduler.publishers.base import Credentials

DEFAULT_BASE = "https://api.x.com"
GRANT_PATH = "/2/oauth2/token"
AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"


class XTokens(OAuthLifecycle):
    network: ClassVar[str] = "x"
    kind: ClassVar[Kind] = "rotating-refresh"
    fields: ClassVar[tuple[str, ...]] = (
        "access_token",
        "refresh_token",
        "client_id",
        "client_secret",
    )
    refresh_ahead: ClassVar[timedelta] = timedelta(minutes=15)
    refresh_unknown_expiry: ClassVar[bool] = True
    warn_ahead: ClassVar[timedelta] = timedelta(days=3)
    default_scopes: ClassVar[tuple[str, ...]] = (
        "tweet.read",
        "tweet.write",
        "users.read",
        "media.write",
        "offline.access",
    )
    pkce: ClassVar[bool] = True
    client_auth: ClassVar[Literal["basic", "body"]] = "basic"
    client_secret_required: ClassVar[bool] = False

    def token_endpoint(self, credentials: Credentials) -> str:
        return self.settings.api_base(self.network, DEFAULT_BASE) + GRANT_PATH

    def authorize_endpoint(self, credentials: Credentials) -> str:
        return on_stand_in(AUTHORIZE_URL, self.settings.api_base_override(self.network))
