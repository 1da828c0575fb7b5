"""YouTube (Google OAuth 2.0): access tokens of about an hour, a refresh token that stays.

developers.google.com "OAuth 2.0 for iOS & Desktop Apps" (the installed-app flow, PKCE S256,
loopback redirect ``http://127.0.0.1:<port>``) and "Refreshing an access token": the token
endpoint is ``POST https://oauth2.googleapis.com/token``, form-encoded, with ``client_id`` and
``client_secret`` in the body (the secret is optional for Desktop clients). A refresh answer
carries no ``refresh_token``: Google does not rotate it, the stored one is kept. ``invalid_grant``
means revoked, unused for six months, or (a consent screen in "Testing") older than 7 days.
The endpoint is on another host than the API, so it moves with ``STORYLINE_TOKEN_URL_YOUTUBE``;
the consent page follows it to the same stand-in host.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import ClassVar

from scheduler.publishers.auth.base import Kind, on_stand_in
from scheduler.publishers.auth.oauth import OAuthLifecycle
from scheduler.publishers.base import Credentials

GRANT_URL = "https://oauth2.googleapis.com/token"
AUTHORIZE_URL = "https://accounts.google.com/o/oauth2/v2/auth"


class YouTubeTokens(OAuthLifecycle):
    network: ClassVar[str] = "youtube"
    kind: ClassVar[Kind] = "refresh"
    fields: ClassVar[tuple[str, ...]] = (
        "access_token",
        "refresh_token",
        "client_id",
        "client_secret",
    )
    refresh_ahead: ClassVar[timedelta] = timedelta(minutes=10)
    refresh_unknown_expiry: ClassVar[bool] = True
    warn_ahead: ClassVar[timedelta] = timedelta(days=2)
    default_scopes: ClassVar[tuple[str, ...]] = (
        "https://www.googleapis.com/auth/youtube.upload",
        "https://www.googleapis.com/auth/youtube.readonly",
    )
    pkce: ClassVar[bool] = True
    client_secret_required: ClassVar[bool] = False
    #: A Web-application client returns a refresh token only for ``access_type=offline``, and
    #: a new one on re-consent only with ``prompt=consent`` (Desktop clients always get one).
    authorize_params: ClassVar[Mapping[str, str]] = {"access_type": "offline", "prompt": "consent"}

    def token_endpoint(self, credentials: Credentials) -> str:
        return self.settings.token_url(self.network, GRANT_URL)

    def authorize_endpoint(self, credentials: Credentials) -> str:
        moved = self.token_endpoint(credentials)
        return on_stand_in(AUTHORIZE_URL, moved if moved != GRANT_URL else None)
