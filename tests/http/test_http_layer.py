"""The shared HTTP layer: what each failure means for the post's lifecycle."""

from __future__ import annotations

import httpx
import pytest

from scheduler.core.errors import NeedsAuth, Permanent, Transient
from scheduler.publishers.http import HttpClient, rate_limit_of, retry_after_seconds

NOW = 1_900_000_000.0


def response(status: int = 200, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, json={"error": {"message": "nope"}})


def test_retry_after_in_seconds() -> None:
    assert retry_after_seconds(response(429, **{"retry-after": "30"}), now=NOW) == 30


def test_retry_after_as_http_date() -> None:
    r = response(429, **{"retry-after": "Thu, 01 Mar 2030 00:00:30 GMT"})
    wait = retry_after_seconds(r, now=1_898_553_600.0)  # 2030-03-01T00:00:00Z
    assert wait == pytest.approx(30)


def test_x_reset_header_is_epoch_seconds() -> None:
    r = response(429, **{"x-rate-limit-reset": str(int(NOW) + 90)})
    assert retry_after_seconds(r, now=NOW) == pytest.approx(90)


def test_mastodon_reset_header_is_iso_8601() -> None:
    r = response(429, **{"x-ratelimit-reset": "2030-03-01T00:01:00.000Z"})
    assert retry_after_seconds(r, now=1_898_553_600.0) == pytest.approx(60)


def test_bluesky_ratelimit_headers_are_read() -> None:
    r = response(
        200,
        **{
            "ratelimit-limit": "5000",
            "ratelimit-remaining": "12",
            "ratelimit-reset": str(int(NOW) + 10),
        },
    )
    limit = rate_limit_of(r)
    assert limit is not None
    assert (limit.limit, limit.remaining) == (5000, 12)


def client_answering(status: int, **headers: str) -> HttpClient:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, headers=headers, json={"error": {"message": "token sk-SECRET-1 is bad"}}
        )

    return HttpClient(transport=httpx.MockTransport(handler))


def test_429_is_transient_with_the_networks_wait() -> None:
    client = client_answering(429, **{"retry-after": "7"})
    with pytest.raises(Transient) as caught:
        client.request("POST", "http://127.0.0.1/x", network="x")
    assert caught.value.retry_after == 7
    assert caught.value.sent is False
    client.close()


def test_5xx_is_transient_and_not_sent() -> None:
    client = client_answering(503)
    with pytest.raises(Transient) as caught:
        client.request("POST", "http://127.0.0.1/x", network="x")
    assert caught.value.http_status == 503
    client.close()


def test_401_needs_auth_and_the_secret_is_redacted() -> None:
    client = client_answering(401)
    with pytest.raises(NeedsAuth) as caught:
        client.request("POST", "http://127.0.0.1/x", network="x", secrets=["sk-SECRET-1"])
    assert "sk-SECRET-1" not in str(caught.value)
    client.close()


def test_other_4xx_is_permanent_with_the_networks_message() -> None:
    client = client_answering(400)
    with pytest.raises(Permanent, match="token"):
        client.request("POST", "http://127.0.0.1/x", network="x")
    client.close()


def test_a_read_timeout_after_sending_is_unconfirmed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    client = HttpClient(transport=httpx.MockTransport(handler))
    with pytest.raises(Transient) as caught:
        client.request("POST", "http://127.0.0.1/x", network="x")
    assert caught.value.sent is True
    client.close()


def test_a_refused_connection_was_never_sent() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = HttpClient(transport=httpx.MockTransport(handler))
    with pytest.raises(Transient) as caught:
        client.request("POST", "http://127.0.0.1/x", network="x")
    assert caught.value.sent is False
    client.close()
