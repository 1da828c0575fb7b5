"""The webhook signature, verified by an independent consumer written from the documentation.

The consumer below knows only what ``scheduler/publishers/webhook.py`` documents, and none of
its code: ``X-Storyline-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` with the shared
secret, compared in constant time; the body's ``sent_at`` (covered by the signature) within a
tolerance of the consumer's clock, and equal to ``X-Storyline-Timestamp`` (which is *not*
covered by the signature, so it is never trusted alone); ``Idempotency-Key`` to drop repeats.
It accepts a real publish and rejects a tampered body, a wrong secret and a replay.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from scheduler.app.settings import Settings
from scheduler.core.errors import NeedsAuth
from scheduler.publishers.base import Credentials, OutgoingPost
from scheduler.publishers.http import HttpClient
from scheduler.publishers.webhook import WebhookPublisher

SECRET = "whsec-shared-between-brand-and-agency"
TOLERANCE = timedelta(minutes=5)


@dataclass
class Delivery:
    raw: bytes
    headers: dict[str, str]


@dataclass
class Consumer:
    """The agency's receiving end: verifies, deduplicates, records what it accepted."""

    secret: str = SECRET
    clock_skew: timedelta = timedelta(0)  # moves the consumer's clock (to age a delivery)
    accepted: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    seen_keys: set[str] = field(default_factory=set)
    url: str = ""

    def verdict(self, raw: bytes, headers: dict[str, str]) -> tuple[int, str]:
        given = headers.get("x-storyline-signature", "")
        expected = "sha256=" + hmac.new(self.secret.encode(), raw, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return 401, "bad signature"
        body = json.loads(raw)
        sent_at = datetime.strptime(body["sent_at"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        now = datetime.now(UTC) + self.clock_skew
        if abs(now - sent_at) > TOLERANCE:
            return 401, "stale: outside the timestamp tolerance"
        if headers.get("x-storyline-timestamp") != str(int(sent_at.timestamp())):
            return 401, "timestamp header does not match the signed sent_at"
        key = headers.get("idempotency-key", "")
        if key != body["post_id"]:
            return 400, "idempotency key is not the post id"
        if key in self.seen_keys:
            return 200, "duplicate: already processed"
        self.seen_keys.add(key)
        self.accepted.append(body)
        return 200, "accepted"


@pytest.fixture
def consumer() -> Iterator[Consumer]:
    state = Consumer()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            state.deliveries.append(Delivery(raw, headers))
            status, why = state.verdict(raw, headers)
            if status != 200:
                state.rejected.append(why)
            answer = json.dumps({"id": f"agency-{len(state.accepted)}", "why": why}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/storyline"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def publisher() -> Iterator[WebhookPublisher]:
    http = HttpClient()
    try:
        yield WebhookPublisher(Settings(), http)
    finally:
        http.close()


POST = OutgoingPost(
    post_id="suv/reveal/webhook/fr",
    story="suv",
    beat="reveal",
    network="webhook",
    market="fr",
    account="agency",
    account_name="Agency",
    due_utc=datetime(2027, 6, 1, 7, 0, tzinfo=UTC),
    text="Meet the comfort SUV — 7 places 🚙",
)


def _send(consumer: Consumer, raw: bytes, headers: dict[str, str]) -> int:
    """Send ``raw`` again with the application headers of a captured delivery."""
    keep = {k: v for k, v in headers.items() if k.startswith("x-storyline-")}
    keep["idempotency-key"] = headers["idempotency-key"]
    keep["content-type"] = "application/json"
    with httpx.Client() as client:
        return client.post(consumer.url, content=raw, headers=keep).status_code


def _publish(publisher: WebhookPublisher, consumer: Consumer, secret: str = SECRET) -> Any:
    credentials = Credentials("webhook", "agency", {"url": consumer.url, "secret": secret})
    return publisher.publish(POST, credentials)


def test_the_consumer_accepts_a_real_webhook_publish(
    publisher: WebhookPublisher, consumer: Consumer
) -> None:
    published = _publish(publisher, consumer)
    assert consumer.rejected == []
    (body,) = consumer.accepted
    assert body["post_id"] == POST.post_id and body["text"] == POST.text
    assert published.remote_id == "agency-1"


def test_the_consumer_rejects_a_tampered_body(
    publisher: WebhookPublisher, consumer: Consumer
) -> None:
    _publish(publisher, consumer)
    original = consumer.deliveries[0]
    tampered = original.raw.replace(b"comfort SUV", b"discount SUV")
    assert tampered != original.raw
    assert _send(consumer, tampered, original.headers) == 401
    assert consumer.rejected == ["bad signature"]
    assert len(consumer.accepted) == 1


def test_the_consumer_rejects_a_publish_signed_with_the_wrong_secret(
    publisher: WebhookPublisher, consumer: Consumer
) -> None:
    with pytest.raises(NeedsAuth):
        _publish(publisher, consumer, secret="not-the-shared-secret")
    assert consumer.rejected == ["bad signature"]
    assert consumer.accepted == []


def test_the_consumer_rejects_a_replay_after_the_tolerance(
    publisher: WebhookPublisher, consumer: Consumer
) -> None:
    _publish(publisher, consumer)
    original = consumer.deliveries[0]
    consumer.seen_keys.clear()  # even a consumer that forgot the key refuses an old message
    consumer.clock_skew = TOLERANCE + timedelta(minutes=1)
    assert _send(consumer, original.raw, original.headers) == 401
    assert consumer.rejected == ["stale: outside the timestamp tolerance"]


def test_a_fresh_timestamp_header_cannot_revive_an_old_body(
    publisher: WebhookPublisher, consumer: Consumer
) -> None:
    """The header is outside the signature: a replay with a new header still fails, because
    the consumer trusts only the signed ``sent_at``."""
    _publish(publisher, consumer)
    original = consumer.deliveries[0]
    consumer.seen_keys.clear()
    consumer.clock_skew = timedelta(hours=1)
    fresh = str(int((datetime.now(UTC) + consumer.clock_skew).timestamp()))
    assert (
        _send(consumer, original.raw, {**original.headers, "x-storyline-timestamp": fresh}) == 401
    )
    assert len(consumer.accepted) == 1


def test_a_replay_within_the_tolerance_is_not_processed_twice(
    publisher: WebhookPublisher, consumer: Consumer
) -> None:
    _publish(publisher, consumer)
    original = consumer.deliveries[0]
    assert _send(consumer, original.raw, original.headers) == 200
    assert len(consumer.accepted) == 1


def test_the_signature_covers_the_exact_bytes_sent(
    publisher: WebhookPublisher, consumer: Consumer
) -> None:
    """Compact JSON, UTF-8 as is: a consumer re-serialising the body would not match, so the
    documented rule is the raw body — checked here against the bytes on the wire."""
    _publish(publisher, consumer)
    delivery = consumer.deliveries[0]
    assert "🚙".encode() in delivery.raw  # not \\u-escaped
    assert b", " not in delivery.raw.split(b'"text"')[0]  # compact separators
    expected = "sha256=" + hmac.new(SECRET.encode(), delivery.raw, hashlib.sha256).hexdigest()
    assert delivery.headers["x-storyline-signature"] == expected
