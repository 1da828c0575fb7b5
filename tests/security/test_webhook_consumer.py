"""The webhook signature, verified by an independent consumer written from the documentation.

The consumer below knows only what docs/publishers.md ("Webhook") documents, and none of the
code: ``Storyline-Signature: t=<unix seconds>,v1=<hex>``, the hex being the HMAC-SHA256 with the
shared secret of ``<t>.<raw body>``, compared in constant time; ``t`` within a tolerance of the
consumer's clock (the timestamp is signed: a replay cannot be re-dated); ``Idempotency-Key`` to
drop repeats inside the window. It accepts a real publish and rejects a tampered body, a wrong
secret, a stale replay and a re-dated one.
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
        fields = dict(
            part.strip().partition("=")[::2]
            for part in headers.get("storyline-signature", "").split(",")
        )
        stamp, given = fields.get("t", ""), fields.get("v1", "")
        if not stamp.isdigit():
            return 401, "no timestamp"
        signed = stamp.encode() + b"." + raw
        expected = hmac.new(self.secret.encode(), signed, hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return 401, "bad signature"
        now = datetime.now(UTC) + self.clock_skew
        if abs(now.timestamp() - int(stamp)) > TOLERANCE.total_seconds():
            return 401, "stale: outside the timestamp tolerance"
        body = json.loads(raw)
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
    keep = {k: v for k, v in headers.items() if k.startswith("storyline-")}
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


def test_a_replay_re_dated_to_now_fails_the_signature(
    publisher: WebhookPublisher, consumer: Consumer
) -> None:
    """The timestamp is inside the signature: an old request with a fresh ``t`` no longer
    matches its ``v1``."""
    _publish(publisher, consumer)
    original = consumer.deliveries[0]
    consumer.seen_keys.clear()
    consumer.clock_skew = timedelta(hours=1)
    v1 = original.headers["storyline-signature"].split(",v1=")[1]
    fresh = int((datetime.now(UTC) + consumer.clock_skew).timestamp())
    redated = {**original.headers, "storyline-signature": f"t={fresh},v1={v1}"}
    assert _send(consumer, original.raw, redated) == 401
    assert consumer.rejected == ["bad signature"]
    assert len(consumer.accepted) == 1


def test_the_publishers_own_verify_refuses_a_stale_signature() -> None:
    from scheduler.publishers.webhook import sign, verify

    header = sign(SECRET, b"{}", timestamp=1_000_000)
    assert verify(SECRET, b"{}", header, now=1_000_000 + 299)
    assert not verify(SECRET, b"{}", header, now=1_000_000 + 301)
    assert not verify(SECRET, b"{ }", header, now=1_000_000)
    assert not verify("other", b"{}", header, now=1_000_000)


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
    stamp = delivery.headers["storyline-signature"].split(",")[0].removeprefix("t=")
    signed = stamp.encode() + b"." + delivery.raw
    expected = hmac.new(SECRET.encode(), signed, hashlib.sha256).hexdigest()
    assert delivery.headers["storyline-signature"] == f"t={stamp},v1={expected}"
