"""OAuth 2.0 token endpoints (RFC 6749 sections 4.1, 5 and 6), as X, Google, LinkedIn, Mastodon
and Weibo speak them: one form POST, one JSON answer, one error vocabulary.

Why one module: five networks differ only in where the endpoint is, how the client
authenticates (HTTP Basic for X's confidential clients, the form body elsewhere), whether PKCE
is used and whether a refresh answer repeats the refresh token. What a refusal *means* is
shared: ``invalid_grant`` (or X's and LinkedIn's ``invalid_request`` "token ... invalid,
expired or revoked") is a dead grant only a person can replace -> :class:`GrantRefused` with
the ``storyline accounts connect`` hint; ``invalid_client`` says the secrets file's client id
or secret is wrong -> :class:`NeedsAuth`; Google's ``server_error`` / ``temporarily_unavailable``
and every 429 or 5xx -> :class:`Transient` (the shared HTTP layer).

The authorization URL is built with Authlib's ``prepare_grant_uri`` (RFC 6749 4.1.1).
"""

from __future__ import annotations

import re
from abc import abstractmethod
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar, Literal

import httpx
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri

from scheduler.core.errors import NeedsAuth, Permanent, PublishError, Transient
from scheduler.publishers.auth.base import GrantRefused, TokenLifecycle, TokenSet, secrets_of
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import Classifier, retry_after_seconds

#: X: "Value passed for the token was invalid."; LinkedIn: "The provided authorization grant
#: or refresh token is invalid, expired or revoked".
_DEAD_TOKEN = re.compile(r"\b(token|grant)\b.*\b(invalid|expired|revoked)\b", re.IGNORECASE)
_RETRYABLE = {"server_error", "temporarily_unavailable", "internal_failure"}
_BAD_CLIENT = {"invalid_client", "unauthorized_client"}


def oauth_error(response: httpx.Response) -> tuple[str, str]:
    """The ``error`` and ``error_description`` of an RFC 6749 section 5.2 answer."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200]
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error")
    description = body.get("error_description") or body.get("message") or ""
    return (str(error) if isinstance(error, str) else ""), str(description)[:300]


def oauth_classifier(network: str, hint: str) -> Classifier:
    """The ``classify`` hook of a token endpoint (see the module docstring)."""

    def classify(response: httpx.Response) -> PublishError | None:
        status = response.status_code
        if status == 429 or status >= 500:
            return None  # the shared mapping: Transient, with Retry-After
        error, description = oauth_error(response)
        said = ": ".join(part for part in (error, description) if part)
        msg = f"{network} token endpoint answered HTTP {status}: {said or 'no reason given'}"
        if error in _RETRYABLE:
            return Transient(msg, retry_after=retry_after_seconds(response), http_status=status)
        if error == "invalid_grant" or (error == "invalid_request" and _DEAD_TOKEN.search(said)):
            return GrantRefused(f"{msg}; {hint}", http_status=status)
        if error in _BAD_CLIENT or status == 401:
            return NeedsAuth(
                f"{msg}; check the app's client_id and client_secret in the secrets file",
                http_status=status,
            )
        return None

    return classify


def json_of(response: httpx.Response, network: str) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        raise Permanent(f"{network}: the token endpoint's answer is not JSON") from None
    if not isinstance(body, dict):
        raise Permanent(f"{network}: the token endpoint's answer is not a JSON object")
    return body


def seconds(value: Any) -> float | None:
    """``expires_in`` and its kin: a number, sometimes sent as a string."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def token_set_from(
    body: Mapping[str, Any],
    *,
    network: str,
    now: datetime,
    previous: TokenSet | None = None,
    extra: Mapping[str, str] | None = None,
) -> TokenSet:
    """An RFC 6749 section 5.1 answer as a :class:`TokenSet`. A refresh answer without a
    ``refresh_token`` (Google) keeps the previous one, and its expiry."""
    access = body.get("access_token")
    if not access:
        raise Permanent(f"{network}: the token endpoint answered without an access_token")
    expires_in = seconds(body.get("expires_in"))
    refresh = body.get("refresh_token")
    refresh_in = seconds(body.get("refresh_token_expires_in"))
    refresh_expires_at = now + timedelta(seconds=refresh_in) if refresh_in else None
    if not refresh and previous is not None:
        refresh = previous.refresh_token
        refresh_expires_at = refresh_expires_at or previous.refresh_expires_at
    scope = body.get("scope")
    return TokenSet(
        access_token=str(access),
        refresh_token=str(refresh) if refresh else None,
        expires_at=now + timedelta(seconds=expires_in) if expires_in else None,
        refresh_expires_at=refresh_expires_at if refresh else None,
        scope=" ".join(scope) if isinstance(scope, list) else (str(scope) if scope else None),
        issued_at=now,
        checked_at=now,
        extra={**(previous.extra if previous else {}), **(extra or {})},
    )


class OAuthLifecycle(TokenLifecycle):
    """A network whose token endpoint speaks RFC 6749: authorization code (with PKCE where
    ``pkce``) and the ``refresh_token`` grant.

    ``client_auth``: ``basic`` sends ``client_id:client_secret`` as HTTP Basic when there is
    a secret, else ``client_id`` in the body (X: confidential vs public clients); ``body``
    always sends them in the form (Google, LinkedIn, Mastodon, Weibo).
    """

    client_auth: ClassVar[Literal["basic", "body"]] = "body"
    client_secret_required: ClassVar[bool] = True
    #: Extra parameters of the authorization request (Google's ``access_type``).
    authorize_params: ClassVar[Mapping[str, str]] = {}

    @abstractmethod
    def token_endpoint(self, credentials: Credentials) -> str: ...

    @abstractmethod
    def authorize_endpoint(self, credentials: Credentials) -> str: ...

    # -- requests -----------------------------------------------------------------------------

    def _client_auth(
        self, credentials: Credentials, form: dict[str, str]
    ) -> tuple[dict[str, str], tuple[str, str] | None]:
        client_id = self.client_field(credentials, "client_id")
        secret = credentials.get("client_secret") or ""
        if self.client_auth == "basic" and secret:
            return form, (client_id, secret)
        form = {**form, "client_id": client_id}
        if secret:
            form["client_secret"] = secret
        elif self.client_secret_required:
            self.client_field(credentials, "client_secret")
        return form, None

    def token_request(
        self,
        credentials: Credentials,
        form: dict[str, str],
        *,
        current: TokenSet | None,
        now: datetime,
        secrets: Sequence[str] = (),
    ) -> TokenSet:
        """POST the form to the token endpoint; the answer as the next :class:`TokenSet`."""
        form, basic = self._client_auth(credentials, form)
        response = self.http.request(
            "POST",
            self.token_endpoint(credentials),
            network=self.network,
            secrets=[*secrets_of(credentials, current), *secrets],
            classify=oauth_classifier(self.network, self.reconnect_hint(credentials.account)),
            data=form,
            headers={"Accept": "application/json"},
            auth=basic,
        )
        return token_set_from(
            json_of(response, self.network), network=self.network, now=now, previous=current
        )

    def refresh(
        self, credentials: Credentials, current: TokenSet | None, now: datetime
    ) -> TokenSet:
        """The ``refresh_token`` grant with the stored refresh token (else the secrets')."""
        refresh_token = (current.refresh_token if current else None) or credentials.get(
            "refresh_token"
        )
        if not refresh_token:
            raise NeedsAuth(
                f"{self.network}:{credentials.account}: no refresh token to renew the access "
                f"token; {self.reconnect_hint(credentials.account)}"
            )
        form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        return self.token_request(credentials, form, current=current, now=now)

    # -- connecting ---------------------------------------------------------------------------

    def authorization_url(
        self,
        credentials: Credentials,
        *,
        redirect_uri: str,
        state: str,
        code_challenge: str,
        scopes: Sequence[str] | None = None,
    ) -> str:
        params: dict[str, str] = dict(self.authorize_params)
        if self.pkce:
            params.update(code_challenge=code_challenge, code_challenge_method="S256")
        return str(
            prepare_grant_uri(
                self.authorize_endpoint(credentials),
                self.client_field(credentials, "client_id"),
                "code",
                redirect_uri=redirect_uri,
                scope=self.scope_of(scopes) or None,
                state=state,
                **params,
            )
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
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        if self.pkce:
            form["code_verifier"] = code_verifier
        return self.token_request(
            credentials, form, current=None, now=now, secrets=[code, code_verifier]
        )
