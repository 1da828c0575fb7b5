"""Bluesky: a session created from an app password, renewed with its refresh JWT.

atproto lexicons ``com.atproto.server.createSession`` (JSON ``identifier`` + ``password``) and
``com.atproto.server.refreshSession`` (no body, ``Authorization: Bearer <refreshJwt>``), both
answering ``accessJwt``, ``refreshJwt``, ``did``, ``handle``. The reference PDS signs access
JWTs for 2 hours and refresh JWTs for 90 days, and rotates the refresh JWT on every refresh
(the old one stays usable for a 2-hour grace). Lifetimes are read from each JWT's ``exp``
claim, not assumed. A dead refresh JWT answers HTTP **400** ``ExpiredToken`` /
``InvalidToken``: Storyline then creates a new session from the app password; ``createSession``
is limited to 30 per 5 minutes and 300 a day per account, which is why sessions are kept and
refreshed rather than created per post. App passwords do not expire; there is no browser flow.
The PDS is the API host: ``STORYLINE_API_BASE_BLUESKY`` moves it.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx

from scheduler.core.errors import NeedsAuth, PublishError
from scheduler.publishers.auth.base import GrantRefused, Kind, TokenLifecycle, TokenSet, secrets_of
from scheduler.publishers.auth.oauth import json_of
from scheduler.publishers.base import Credentials
from scheduler.publishers.bluesky import DEFAULT_PDS
from scheduler.publishers.http import error_text

_DEAD_SESSION = {"ExpiredToken", "InvalidToken"}


def jwt_expiry(token: str) -> datetime | None:
    """The ``exp`` claim of a JWT, read without verifying it (only to schedule a renewal)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return datetime.fromtimestamp(int(claims["exp"]), UTC)
    except (IndexError, ValueError, KeyError, TypeError, binascii.Error):
        return None


def _xrpc_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def _classify(response: httpx.Response) -> PublishError | None:
    status = response.status_code
    name = _xrpc_error(response)
    if status == 429 or status >= 500:
        return None
    msg = f"bluesky answered HTTP {status}: {name + ': ' if name else ''}{error_text(response)}"
    if name in _DEAD_SESSION:
        return _DeadSession(msg, http_status=status)
    if status == 401 or name in ("AuthenticationRequired", "AccountTakedown"):
        return NeedsAuth(msg, http_status=status)
    return None


class _DeadSession(NeedsAuth):
    """The refresh JWT expired or was revoked: a new session is needed."""


class BlueskyTokens(TokenLifecycle):
    network: ClassVar[str] = "bluesky"
    kind: ClassVar[Kind] = "session"
    fields: ClassVar[tuple[str, ...]] = ("identifier", "app_password")
    refresh_ahead: ClassVar[timedelta] = timedelta(minutes=15)
    refresh_unknown_expiry: ClassVar[bool] = True

    @property
    def base(self) -> str:
        return self.settings.api_base(self.network, DEFAULT_PDS)

    def initial(self, credentials: Credentials, now: datetime) -> TokenSet | None:
        """None: the secrets hold an app password, not a session (``refresh`` creates one)."""
        return None

    def ending(self, tokens: TokenSet) -> list[tuple[str, datetime, timedelta]]:
        return []  # a dead session is replaced from the app password, without a person

    def reconnect_hint(self, account: str) -> str:
        return (
            f"create a new app password (Settings > App passwords) and put it in the secrets "
            f"file as bluesky.{account}.app_password"
        )

    def _xrpc(
        self, nsid: str, credentials: Credentials, current: TokenSet | None, **kw: Any
    ) -> Any:
        response = self.http.request(
            "POST",
            f"{self.base}/xrpc/{nsid}",
            network=self.network,
            secrets=secrets_of(credentials, current),
            classify=_classify,
            rate_key=f"{self.network}:{credentials.account}",
            **kw,
        )
        return json_of(response, self.network)

    def _session(self, body: dict[str, Any], now: datetime) -> TokenSet:
        access, refresh = str(body.get("accessJwt") or ""), str(body.get("refreshJwt") or "")
        if not access or not refresh:
            raise NeedsAuth("bluesky: the session answer has no accessJwt or refreshJwt")
        extra = {k: str(body[k]) for k in ("did", "handle") if body.get(k)}
        return TokenSet(
            access_token=access,
            refresh_token=refresh,
            expires_at=jwt_expiry(access),
            refresh_expires_at=jwt_expiry(refresh),
            issued_at=now,
            checked_at=now,
            extra=extra,
        )

    def create_session(self, credentials: Credentials, now: datetime) -> TokenSet:
        """``createSession`` from the app password."""
        if not credentials.get("app_password"):
            raise NeedsAuth(
                f"bluesky:{credentials.account}: no app_password in the secrets file; "
                f"{self.reconnect_hint(credentials.account)}"
            )
        body = {
            "identifier": credentials.get("identifier", credentials.account),
            "password": credentials["app_password"],
        }
        try:
            answer = self._xrpc("com.atproto.server.createSession", credentials, None, json=body)
            return self._session(answer, now)
        except NeedsAuth as exc:
            raise GrantRefused(
                f"{exc}; {self.reconnect_hint(credentials.account)}", http_status=exc.http_status
            ) from None

    def refresh(
        self, credentials: Credentials, current: TokenSet | None, now: datetime
    ) -> TokenSet:
        """``refreshSession`` with the refresh JWT; a dead one (400 ExpiredToken or
        InvalidToken) or none at all -> ``createSession``."""
        if current is not None and current.refresh_token:
            try:
                body = self._xrpc(
                    "com.atproto.server.refreshSession",
                    credentials,
                    current,
                    headers={"Authorization": f"Bearer {current.refresh_token}"},
                )
                return self._session(body, now)
            except _DeadSession:
                pass
        return self.create_session(credentials, now)

    def connect(self, credentials: Credentials, now: datetime) -> TokenSet:
        """What ``storyline accounts connect bluesky`` does: a session from the app password."""
        return self.create_session(credentials, now)
