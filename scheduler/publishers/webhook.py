"""The webhook publisher: a signed JSON POST to a URL the brand (or its agency) controls.

Secrets ``{url, secret}`` and, optionally, ``lookup_url``. The body is compact JSON; the receiver
authenticates it with ``X-Storyline-Signature: sha256=<hex HMAC-SHA256 of the raw body>``; the
body carries ``sent_at`` (also sent as ``X-Storyline-Timestamp``) so a replay is detectable;
``Idempotency-Key: <post id>`` lets the receiver drop a repeat. See docs/publishers.md § Webhook.

``find`` asks ``GET <lookup_url>?post_id=<id>`` (signed over the post id) when the receiver
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

SIGNATURE_HEADER = "X-Storyline-Signature"
TIMESTAMP_HEADER = "X-Storyline-Timestamp"


def sign(secret: str, payload: bytes) -> str:
    """The signature header value for ``payload``: ``sha256=<hex>``."""
    return "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def verify(secret: str, payload: bytes, header: str) -> bool:
    """What a receiver runs: constant-time comparison of the header with our own signature."""
    return hmac.compare_digest(sign(secret, payload), header)


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
            SIGNATURE_HEADER: sign(credentials["secret"], raw),
            TIMESTAMP_HEADER: str(int(sent_at.timestamp())),
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
        headers = {
            SIGNATURE_HEADER: sign(credentials["secret"], post.post_id.encode()),
            TIMESTAMP_HEADER: str(int(time.time())),
        }
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
