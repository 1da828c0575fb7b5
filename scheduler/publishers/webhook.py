"""The webhook publisher: a signed JSON POST to a URL the brand (or its agency) controls.

Secrets ``{url, secret}`` and, optionally, ``lookup_url``. The body is compact JSON; the receiver
authenticates it with ``Storyline-Signature: t=<unix seconds>,v1=<hex>``, the hex being the
HMAC-SHA256 with ``secret`` of ``<t>.<raw body>`` (the scheme of Stripe and Slack): the timestamp is
signed with the body, so a receiver that refuses a ``t`` outside its tolerance window refuses a
replayed request, and nobody can re-date one. ``Idempotency-Key: <post id>`` lets the receiver
drop a repeat inside the window. :func:`verify` is what a receiver runs (docs/publishers.md,
"Webhook").

The webhook is also a *relay*: an account of another network whose ``markets.yaml`` entry says
``via: webhook:<account>`` is delivered here, with that webhook account's secrets; the body keeps
the post's own ``network``, ``market`` and ``account``, so the agency knows where it goes.

``find`` asks ``GET <lookup_url>?post_id=<id>`` (signed over ``<t>.<post id>``) when the receiver
documents such a lookup: 200 with ``{"id", "url"}`` is found, 404 is certainly absent; anything
else, or no ``lookup_url``, is :class:`~scheduler.core.errors.CannotCheck`: never guess.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx

from scheduler.core.errors import CannotCheck, PublishError
from scheduler.publishers.base import (
    Checkpoint,
    Credentials,
    OutgoingPost,
    Published,
    PublisherSettings,
)
from scheduler.publishers.http import HttpClient

SIGNATURE_HEADER = "Storyline-Signature"
#: How far a receiver should accept a signature's timestamp from its own clock (seconds).
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, payload: bytes) -> str:
    """The hex HMAC-SHA256 of ``<timestamp>.<payload>`` with ``secret``."""
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(secret: str, payload: bytes, timestamp: int | None = None) -> str:
    """The ``Storyline-Signature`` value for ``payload`` sent at ``timestamp`` (default: now)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret, t, payload)}"


def verify(
    secret: str,
    payload: bytes,
    header: str,
    *,
    tolerance: float = TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """What a receiver runs on the raw body, before parsing it: the header's ``t`` within
    ``tolerance`` seconds of ``now`` (a replay or a stale request fails) and one of its ``v1``
    signatures equal to ours, compared in constant time."""
    parts = [p.partition("=") for p in header.split(",")]
    stamps = [v for k, _, v in parts if k.strip() == "t"]
    given = [v.strip() for k, _, v in parts if k.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit() or not given:
        return False
    t = int(stamps[0])
    current = time.time() if now is None else now
    if abs(current - t) > tolerance:
        return False
    expected = signature(secret, t, payload)
    return any(hmac.compare_digest(expected, g) for g in given)


def body_of(post: OutgoingPost, sent_at: datetime) -> dict[str, Any]:
    return {
        "post_id": post.post_id,
        "story": post.story,
        "beat": post.beat,
        "network": post.network,
        "market": post.market,
        "account": post.account,
        "campaign": post.campaign,
        "due_utc": post.due_utc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "sent_at": sent_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "text": post.text,
        "title": post.title,
        "link": post.link,
        "media": [{"file": m.file, "alt": m.alt, "kind": m.kind} for m in post.media],
        "first_comment": post.first_comment,
        "marker": post.marker,
    }


class WebhookPublisher:
    network: ClassVar[str] = "webhook"
    requires: ClassVar[tuple[str, ...]] = ("url", "secret")

    def __init__(self, settings: PublisherSettings, http: HttpClient) -> None:
        self.settings = settings
        self.http = http

    def describe(self, post: OutgoingPost) -> dict[str, Any]:
        """The request without its secret parts (for the outbox)."""
        return {
            "method": "POST",
            "url": "<webhook url from the secrets>",
            "json": body_of(post, post.due_utc),
        }

    def publish(
        self,
        post: OutgoingPost,
        credentials: Credentials,
        checkpoint: Checkpoint | None = None,
    ) -> Published:
        sent_at = datetime.now(UTC)
        raw = json.dumps(body_of(post, sent_at), separators=(",", ":"), ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(credentials["secret"], raw, int(sent_at.timestamp())),
            "Idempotency-Key": post.post_id,
        }
        response = self.http.request(
            "POST",
            credentials["url"],
            network="webhook",
            secrets=credentials.secret_values(),
            content=raw,
            headers=headers,
        )
        return self._published_of(response, post)

    def find(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        lookup = credentials.get("lookup_url")
        if not lookup:
            raise CannotCheck("webhook: the receiver offers no lookup_url to ask whether it got it")
        headers = {SIGNATURE_HEADER: sign(credentials["secret"], post.post_id.encode())}
        try:
            response = self.http.request(
                "GET",
                lookup,
                network="webhook",
                secrets=credentials.secret_values(),
                params={"post_id": post.post_id},
                headers=headers,
                ok=(200, 404),
            )
        except PublishError as exc:
            raise CannotCheck(f"webhook lookup failed: {exc}") from None
        if response.status_code == 404:
            return None
        return self._published_of(response, post)

    @staticmethod
    def _published_of(response: httpx.Response, post: OutgoingPost) -> Published:
        try:
            data = response.json() if response.content else {}
        except ValueError:
            data = {}
        if not isinstance(data, dict):
            data = {}
        remote_id = str(data.get("id") or post.post_id)
        url = data.get("url")
        return Published(remote_id=remote_id, url=str(url) if url else None)
