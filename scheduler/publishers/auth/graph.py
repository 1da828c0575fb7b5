"""What the Meta token lifecycles share: Graph API calls, ``debug_token`` and Facebook Login.

Why here: Facebook Pages, Instagram and Threads speak one dialect (the publishers' ``meta``
module maps its error codes: 190, 102, 10, 200-299 -> NeedsAuth, throttling -> Transient). Token
calls are GET requests with the token in the query string, as Meta documents them; the httpx
logger stays at WARNING (publishers/http.py) so those URLs never reach a log.

Facebook Login (developers.facebook.com "Manually Build a Login Flow", "Get Long-Lived
Tokens"): the code is exchanged at ``GET /oauth/access_token`` for a user token, that one for a
long-lived user token (``grant_type=fb_exchange_token``, about 60 days), and the Page tokens
read with a long-lived user token (``GET /me/accounts``) do not expire. ``debug_token`` tells
whether a token is valid and when it expires (``expires_at`` 0: never); it is called with an
app token (``app_token``, else ``client_id|client_secret``), else with the token itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from scheduler.core.errors import NeedsAuth, Permanent
from scheduler.publishers.auth.base import TokenLifecycle, TokenStatus
from scheduler.publishers.auth.oauth import json_of
from scheduler.publishers.base import Credentials
from scheduler.publishers.meta import graph_classifier

#: ``GET /me/accounts`` pages read at most, 100 Pages each.
PAGES_MAX = 5
_SECRET_PARAMS = {"access_token", "input_token", "fb_exchange_token", "client_secret", "code"}


def graph_get(
    lifecycle: TokenLifecycle,
    url: str,
    credentials: Credentials,
    params: Mapping[str, str],
    *,
    secrets: tuple[str, ...] = (),
) -> dict[str, Any]:
    """One Graph GET; a token refusal becomes :class:`GrantRefused` with the connect hint."""
    try:
        response = lifecycle.http.request(
            "GET",
            url,
            network=lifecycle.network,
            secrets=[
                *credentials.secret_values(),
                *secrets,
                *(v for k, v in params.items() if k in _SECRET_PARAMS),
            ],
            classify=graph_classifier(lifecycle.network, write=False),
            params=dict(params),
        )
    except NeedsAuth as exc:
        raise lifecycle.refused(exc, credentials.account) from None
    return json_of(response, lifecycle.network)


def app_token(credentials: Credentials) -> str | None:
    """The app's token for ``debug_token``: ``app_token``, else ``client_id|client_secret``."""
    if credentials.get("app_token"):
        return credentials["app_token"]
    if credentials.get("client_id") and credentials.get("client_secret"):
        return f"{credentials['client_id']}|{credentials['client_secret']}"
    return None


def debug_token(
    lifecycle: TokenLifecycle, base: str, credentials: Credentials, token: str
) -> TokenStatus:
    """``GET /debug_token?input_token=<token>&access_token=<app token>``."""
    body = graph_get(
        lifecycle,
        f"{base}/debug_token",
        credentials,
        {"input_token": token, "access_token": app_token(credentials) or token},
    )
    data = body.get("data") or {}
    if not isinstance(data, dict) or "is_valid" not in data:
        raise Permanent(f"{lifecycle.network}: debug_token answered without data.is_valid")
    raw = (str(data.get(key) or "") for key in ("expires_at", "data_access_expires_at"))
    stamps = [int(v) for v in raw if v.isdigit() and int(v) > 0]
    scopes = data.get("scopes")
    if not data.get("is_valid"):
        reason = (data.get("error") or {}).get("message") or "the network says it is invalid"
        return TokenStatus(valid=False, detail=str(reason))
    return TokenStatus(
        valid=True,
        expires_at=datetime.fromtimestamp(min(stamps), UTC) if stamps else None,
        scope=",".join(map(str, scopes)) if isinstance(scopes, list) else None,
        detail=f"{str(data.get('type') or 'token').lower()} token"
        + ("" if stamps else ", never expires"),
    )


def dialog_url(base_url: str, client_id: str, redirect_uri: str, state: str, scope: str) -> str:
    """The Facebook Login dialog (no PKCE: Meta's is "still in testing")."""
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "state": state,
            "response_type": "code",
            "scope": scope,
        }
    )
    return f"{base_url}?{query}"


def user_token_for_code(
    lifecycle: TokenLifecycle, base: str, credentials: Credentials, code: str, redirect_uri: str
) -> str:
    """``GET /oauth/access_token?client_id&redirect_uri&client_secret&code`` -> a user token."""
    body = graph_get(
        lifecycle,
        f"{base}/oauth/access_token",
        credentials,
        {
            "client_id": lifecycle.client_field(credentials, "client_id"),
            "redirect_uri": redirect_uri,
            "client_secret": lifecycle.client_field(credentials, "client_secret"),
            "code": code,
        },
    )
    return _token_of(body, lifecycle.network)


def long_lived_user_token(
    lifecycle: TokenLifecycle, base: str, credentials: Credentials, token: str
) -> dict[str, Any]:
    """``GET /oauth/access_token?grant_type=fb_exchange_token``: a ~60-day user token."""
    body = graph_get(
        lifecycle,
        f"{base}/oauth/access_token",
        credentials,
        {
            "grant_type": "fb_exchange_token",
            "client_id": lifecycle.client_field(credentials, "client_id"),
            "client_secret": lifecycle.client_field(credentials, "client_secret"),
            "fb_exchange_token": token,
        },
    )
    _token_of(body, lifecycle.network)
    return body


def page_token(
    lifecycle: TokenLifecycle, base: str, credentials: Credentials, user_token: str
) -> str:
    """The Page's token among the user's Pages (``GET /me/accounts``), paged by cursor."""
    params = {"fields": "id,access_token", "limit": "100", "access_token": user_token}
    for _ in range(PAGES_MAX):
        body = graph_get(lifecycle, f"{base}/me/accounts", credentials, params)
        for page in body.get("data") or []:
            if isinstance(page, dict) and str(page.get("id")) == credentials.account:
                return _token_of(page, lifecycle.network)
        after = ((body.get("paging") or {}).get("cursors") or {}).get("after")
        if not after or not (body.get("paging") or {}).get("next"):
            break
        params = {**params, "after": str(after)}
    raise NeedsAuth(
        f"{lifecycle.network}:{credentials.account}: the user token does not manage this Page "
        f"(GET /me/accounts); {lifecycle.reconnect_hint(credentials.account)}"
    )


def _token_of(body: Mapping[str, Any], network: str) -> str:
    token = body.get("access_token")
    if not token:
        raise Permanent(f"{network}: the answer has no access_token")
    return str(token)
