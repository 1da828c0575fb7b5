"""The one HTTP layer every publisher shares: timeouts, connection reuse, error mapping.

Why one layer: nine publishers must agree on what a timeout, a 429 or a 5xx *means* for the
state machine (docs/architecture.md, lifecycle), and that agreement lives here:

* connect errors and connect timeouts: nothing reached the network -> ``Transient(sent=False)``;
* read/write timeouts, dropped connections after the request was written: the network may
  have acted -> ``Transient(sent=True)``: the dispatcher reconciles before any resend;
* 429 -> ``Transient`` with ``retry_after`` from ``Retry-After`` or the rate-limit reset header;
* 5xx -> ``Transient(sent=False)``: the server says it failed (documented networks answer 5xx
  before committing); 401 -> ``NeedsAuth``; other 4xx -> ``Permanent`` with the network's message.

Publishers refine the mapping by passing ``classify`` (Facebook's error codes, for example).
Secrets are redacted from every message this layer produces.
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from scheduler.core.errors import NeedsAuth, Permanent, PublishError, Transient
from scheduler.publishers.base import Credentials

#: Kept well under the dispatcher's claim lease (see docs/operations.md): a call that could
#: outlive the lease would let a second worker take the post over while the first still waits.
DEFAULT_TIMEOUT = httpx.Timeout(20.0, connect=5.0)
USER_AGENT = "storyline/0.1 (+https://github.com/storyline)"

Classifier = Callable[[httpx.Response], PublishError | None]

#: httpx logs every request's full URL at INFO, query included, and Graph API reads carry
#: ``access_token`` there: a worker at ``--loglevel=INFO`` would write tokens to its log.
logging.getLogger("httpx").setLevel(logging.WARNING)


@dataclass(frozen=True, slots=True)
class RateLimit:
    """What the network told us about its budget on the last response."""

    limit: int | None
    remaining: int | None
    reset_at: float | None  # epoch seconds


def retry_after_seconds(response: httpx.Response, *, now: float | None = None) -> float | None:
    """Seconds to wait, from ``Retry-After`` (seconds or HTTP date) or ``x-rate-limit-reset``."""
    now = time.time() if now is None else now
    value = response.headers.get("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, when.timestamp() - now)
    # X sends epoch seconds in x-rate-limit-reset; Bluesky (IETF draft) sends epoch seconds in
    # ratelimit-reset; Mastodon sends an ISO 8601 timestamp in x-ratelimit-reset.
    for name in ("x-rate-limit-reset", "ratelimit-reset", "x-ratelimit-reset"):
        reset = response.headers.get(name)
        if not reset:
            continue
        try:
            reset_f = float(reset)
        except ValueError:
            try:
                return max(
                    0.0, datetime.fromisoformat(reset.replace("Z", "+00:00")).timestamp() - now
                )
            except ValueError:
                continue
        return max(0.0, reset_f - now) if reset_f > 10**9 else reset_f
    return None


def rate_limit_of(response: httpx.Response) -> RateLimit | None:
    """Read X's ``x-rate-limit-*``, Mastodon's ``x-ratelimit-*`` or Bluesky's ``ratelimit-*``."""
    h = response.headers

    def num(*names: str) -> int | None:
        for name in names:
            if name in h:
                try:
                    return int(float(h[name]))
                except ValueError:
                    return None
        return None

    limit = num("x-rate-limit-limit", "x-ratelimit-limit", "ratelimit-limit")
    remaining = num("x-rate-limit-remaining", "x-ratelimit-remaining", "ratelimit-remaining")
    if limit is None and remaining is None:
        return None
    reset = retry_after_seconds(response)
    return RateLimit(limit, remaining, time.time() + reset if reset is not None else None)


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def error_text(response: httpx.Response, limit: int = 500) -> str:
    """The network's own words, shortened: JSON ``error``/``message`` fields, else the body."""
    try:
        body: Any = response.json()
    except ValueError:
        return response.text[:limit]
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict):
            msg = err.get("message") or err.get("error_user_msg") or err
            return str(msg)[:limit]
        for key in ("error_description", "message", "detail", "error", "title"):
            if body.get(key):
                return str(body[key])[:limit]
        if isinstance(body.get("errors"), list) and body["errors"]:
            return str(body["errors"][0])[:limit]
    return str(body)[:limit]


def default_classify(response: httpx.Response, network: str) -> PublishError | None:
    """Map a non-success response to the state machine's error classes."""
    status = response.status_code
    msg = f"{network} answered HTTP {status}: {error_text(response)}"
    if status == 429:
        return Transient(msg, retry_after=retry_after_seconds(response), http_status=status)
    if status >= 500:
        return Transient(msg, retry_after=retry_after_seconds(response), http_status=status)
    if status == 401:
        return NeedsAuth(msg, http_status=status)
    if status >= 400:
        return Permanent(msg, http_status=status)
    return None


class HttpClient:
    """A thin, shared wrapper around one ``httpx.Client`` (connection reuse across posts)."""

    def __init__(
        self,
        *,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._client = httpx.Client(
            timeout=timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )
        self.last_rate_limit: dict[str, RateLimit] = {}

    def close(self) -> None:
        self._client.close()

    def request(
        self,
        method: str,
        url: str,
        *,
        network: str,
        secrets: Iterable[str] = (),
        classify: Classifier | None = None,
        ok: Iterable[int] = (200, 201, 202, 204),
        rate_key: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Send one request; return the response if its status is in ``ok``, else raise.

        ``kwargs`` go to httpx: ``json``, ``data``, ``files``, ``params``, ``headers``, ``content``.
        """
        secrets = list(secrets)
        try:
            response = self._client.request(method, url, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise Transient(redact(f"{network}: cannot connect: {exc}", secrets)) from None
        except httpx.PoolTimeout as exc:
            raise Transient(redact(f"{network}: no free connection: {exc}", secrets)) from None
        except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError) as exc:
            raise Transient(
                redact(f"{network}: no answer after the request was sent ({exc!r})", secrets),
                sent=True,
            ) from None
        except httpx.HTTPError as exc:
            raise Transient(redact(f"{network}: {exc!r}", secrets), sent=True) from None
        if rate_key is not None:
            limit = rate_limit_of(response)
            if limit is not None:
                self.last_rate_limit[rate_key] = limit
        if response.status_code in set(ok):
            return response
        error = (classify(response) if classify else None) or default_classify(response, network)
        if error is None:
            error = Permanent(f"{network}: unexpected HTTP {response.status_code}")
        error.args = (redact(str(error), secrets),)
        raise error

    def for_account(
        self,
        method: str,
        url: str,
        *,
        network: str,
        credentials: Credentials,
        classify: Classifier | None = None,
        headers: Mapping[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """A request on an account's behalf: its OAuth bearer token (``access_token``), its
        secrets redacted from every message, its rate-limit budget recorded under
        ``<network>:<account>``. ``headers`` are added after (and may replace) the bearer."""
        sent = {"Authorization": f"Bearer {credentials.get('access_token', '')}"}
        sent.update(headers or {})
        return self.request(
            method,
            url,
            network=network,
            secrets=credentials.secret_values(),
            classify=classify,
            rate_key=f"{network}:{credentials.account}",
            headers=sent,
            **kwargs,
        )


def form(fields: Mapping[str, Any]) -> dict[str, str]:
    """Drop None values and stringify the rest, for form-encoded bodies."""
    return {k: str(v) for k, v in fields.items() if v is not None}
