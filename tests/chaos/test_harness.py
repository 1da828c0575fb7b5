"""The harness itself, without workers: the fault-injecting receiver speaks the webhook
publisher's documented protocol (signed POST, ``GET ?post_id=`` lookup), each injected fault
reaches the publisher as the error class the state machine expects, the database proxy cuts
and refuses, and the verdict counts duplicates and lost posts. A harness that could not see a
duplicate would prove nothing."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bench.chaoslib import (
    ChaosResult,
    Faults,
    Injected,
    Receiver,
    Recovery,
    Scenario,
    TcpProxy,
    Verdict,
    percentile,
    run_chaos,
)
from scheduler.app.settings import Settings
from scheduler.core.errors import CannotCheck, Transient
from scheduler.publishers.base import Credentials, OutgoingPost
from scheduler.publishers.http import HttpClient
from scheduler.publishers.webhook import WebhookPublisher

SECRET = "harness-secret"
MakeReceiver = Callable[..., Receiver]
NO_FAULTS = Faults(p_5xx=0, p_timeout=0, p_429=0, p_drop=0, p_lookup_5xx=0, timeout_sleep=0.6)


def only(
    *,
    p_5xx: float = 0.0,
    p_timeout: float = 0.0,
    p_429: float = 0.0,
    p_drop: float = 0.0,
    p_lookup_5xx: float = 0.0,
) -> Faults:
    """Faults where the named ones happen to every request."""
    return Faults(p_5xx, p_timeout, p_429, p_drop, p_lookup_5xx, timeout_sleep=0.6)


@pytest.fixture
def make_receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(faults: Faults = NO_FAULTS) -> Receiver:
        r = Receiver("agency", SECRET, faults, seed=1)
        r.start()
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


@pytest.fixture
def webhook() -> Iterator[WebhookPublisher]:
    http = HttpClient(timeout=httpx.Timeout(0.3, connect=0.3))
    yield WebhookPublisher(Settings(), http)
    http.close()


def post(n: int = 1) -> OutgoingPost:
    return OutgoingPost(
        post_id=f"chaos/p{n:05d}/webhook/m0",
        story="chaos",
        beat=f"p{n:05d}",
        network="webhook",
        market="m0",
        account="agency",
        account_name="Agency",
        due_utc=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        text="hello",
    )


def creds(r: Receiver, secret: str = SECRET) -> Credentials:
    return Credentials("webhook", "agency", {"url": r.url, "secret": secret, "lookup_url": r.url})


def test_an_accepted_post_is_recorded_once_and_found_by_the_publishers_lookup(
    make_receiver: MakeReceiver, webhook: WebhookPublisher
) -> None:
    r = make_receiver()
    sent = webhook.publish(post(), creds(r))
    assert [a.post_id for a in r.snapshot()] == [post().post_id]
    assert r.snapshot()[0].idempotency_key == post().post_id
    assert webhook.find(post(), creds(r)) == sent


def test_the_lookup_answers_certainly_absent_for_a_post_never_accepted(
    make_receiver: MakeReceiver, webhook: WebhookPublisher
) -> None:
    r = make_receiver()
    assert webhook.find(post(2), creds(r)) is None


def test_a_dropped_response_is_recorded_and_reaches_the_publisher_as_maybe_sent(
    make_receiver: MakeReceiver, webhook: WebhookPublisher
) -> None:
    r = make_receiver(only(p_drop=1.0))
    with pytest.raises(Transient) as caught:
        webhook.publish(post(), creds(r))
    assert caught.value.sent is True
    assert len(r.snapshot()) == 1
    assert webhook.find(post(), creds(r)) is not None


def test_a_5xx_is_not_recorded_and_is_transient_unsent(
    make_receiver: MakeReceiver, webhook: WebhookPublisher
) -> None:
    r = make_receiver(only(p_5xx=1.0))
    with pytest.raises(Transient) as caught:
        webhook.publish(post(), creds(r))
    assert (caught.value.sent, caught.value.http_status) == (False, 503)
    assert r.snapshot() == []


def test_a_429_carries_its_retry_after(
    make_receiver: MakeReceiver, webhook: WebhookPublisher
) -> None:
    r = make_receiver(only(p_429=1.0))
    with pytest.raises(Transient) as caught:
        webhook.publish(post(), creds(r))
    assert (caught.value.http_status, caught.value.retry_after) == (429, 1.0)
    assert r.snapshot() == []


def test_a_stalled_answer_times_out_the_publisher_and_records_nothing(
    make_receiver: MakeReceiver, webhook: WebhookPublisher
) -> None:
    r = make_receiver(only(p_timeout=1.0))
    with pytest.raises(Transient) as caught:
        webhook.publish(post(), creds(r))
    assert caught.value.sent is True
    assert r.snapshot() == []
    assert r.outcomes["timeout"] == 1


def test_a_failing_lookup_is_cannot_check(
    make_receiver: MakeReceiver, webhook: WebhookPublisher
) -> None:
    r = make_receiver(only(p_lookup_5xx=1.0))
    with pytest.raises(CannotCheck):
        webhook.find(post(), creds(r))


def test_a_wrong_signature_is_refused_and_not_recorded(
    make_receiver: MakeReceiver, webhook: WebhookPublisher
) -> None:
    r = make_receiver()
    with pytest.raises(Exception, match="401"):
        webhook.publish(post(), creds(r, secret="not-the-secret"))
    assert r.snapshot() == [] and r.outcomes["bad_signature"] == 1


def test_a_second_delivery_of_a_post_is_recorded_as_a_repeat(
    make_receiver: MakeReceiver, webhook: WebhookPublisher
) -> None:
    r = make_receiver()
    webhook.publish(post(), creds(r))
    webhook.publish(post(), creds(r))
    assert len(r.snapshot()) == 2 and r.outcomes["repeat"] == 1


# --- the database proxy -------------------------------------------------------------------


@pytest.fixture
def echo_server() -> Iterator[int]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn, contextlib.suppress(OSError):  # the proxy may reset it
                while data := conn.recv(1024):
                    conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    server.close()


@pytest.fixture
def proxy(echo_server: int) -> Iterator[TcpProxy]:
    p = TcpProxy(("127.0.0.1", echo_server))
    p.start()
    yield p
    p.close()


def roundtrip(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
        s.sendall(b"ping")
        return s.recv(16)


def test_the_proxy_forwards_both_ways(proxy: TcpProxy) -> None:
    assert roundtrip(proxy.port) == b"ping"


def test_a_paused_proxy_cuts_open_connections(proxy: TcpProxy) -> None:
    with socket.create_connection(("127.0.0.1", proxy.port), timeout=2) as s:
        s.sendall(b"one")
        assert s.recv(16) == b"one"
        assert proxy.pause() == 1
        with pytest.raises(OSError):
            s.sendall(b"two")
            if not s.recv(16):
                raise ConnectionResetError("closed")


def test_a_paused_proxy_refuses_new_connections_until_resumed(proxy: TcpProxy) -> None:
    proxy.pause()
    with pytest.raises(OSError):
        data = roundtrip(proxy.port)
        if not data:
            raise ConnectionResetError("closed")
    proxy.resume()
    assert roundtrip(proxy.port) == b"ping"


# --- the verdict ---------------------------------------------------------------------------


def result_of(*verdicts: Verdict) -> ChaosResult:
    return ChaosResult(
        scenario=Scenario(posts=len(verdicts)),
        started=0.0,
        finished=1.0,
        verdicts=list(verdicts),
        injected=[],
        receiver_outcomes=Counter(),
        settled_in=1.0,
        workdir=Path(),
    )


def v(status: str, received: int, reason: str | None = None) -> Verdict:
    return Verdict(
        f"p-{status}-{received}", status, reason, received, 10.0, 11.0 if received else None
    )


def test_a_post_received_twice_is_a_duplicate() -> None:
    result = result_of(v("published", 2), v("published", 1))
    assert [x.post_id for x in result.duplicates] == ["p-published-2"]
    assert result.problems()


def test_published_but_never_received_is_lost() -> None:
    assert [x.post_id for x in result_of(v("published", 0)).lost] == ["p-published-0"]


def test_stuck_in_flight_and_never_received_is_lost() -> None:
    assert len(result_of(v("queued", 0), v("publishing", 0)).lost) == 2


def test_failed_with_a_reason_and_never_received_is_neither_lost_nor_a_problem() -> None:
    result = result_of(v("failed", 0, "gave up after 8 attempts: 503"), v("published", 1))
    assert result.lost == [] and result.problems() == []


def test_failed_without_a_reason_is_lost() -> None:
    assert len(result_of(v("failed", 0, None)).lost) == 1


def test_received_but_recorded_as_failed_is_a_mismatch() -> None:
    result = result_of(v("failed", 1, "gave up"), v("needs_review", 1, "cannot tell"))
    assert [x.status for x in result.mismatched] == ["failed"]


def test_the_report_names_counts_lateness_and_verdict() -> None:
    text = result_of(v("published", 1), v("failed", 0, "too late: 2 h past due")).markdown()
    assert "| published | 1 |" in text and "| failed | 1 |" in text
    assert "p50" in text and "**duplicates: 0**" in text and "**PASS**" in text


def test_percentiles_are_nearest_rank() -> None:
    values = [float(i) for i in range(1, 101)]
    assert [percentile(values, q) for q in (50, 90, 99, 100)] == [50.0, 90.0, 99.0, 100.0]


def test_a_timeout_fault_that_would_not_outlast_the_publishers_timeout_is_refused() -> None:
    too_short = Scenario(lease=6.0, faults=Faults(timeout_sleep=1.0))  # HTTP timeout is 2 s
    with pytest.raises(ValueError, match="must exceed the publisher's HTTP timeout"):
        run_chaos(too_short)


def test_a_recovery_that_waited_for_the_database_is_told_apart() -> None:
    result = result_of(v("published", 1))
    result.injected = [
        Injected(100.0, 1100.0, "PostgreSQL unreachable for 60 s"),
        Injected(160.0, 1160.0, "PostgreSQL reachable again"),
    ]
    result.recoveries = [Recovery(1010.0, 6.0), Recovery(1170.0, 7.0), Recovery(1095.0, 70.0)]
    assert [r.seconds for r in result.recoveries_outside_outage()] == [6.0, 7.0]
    assert "1 of them were stuck across the database outage" in result.markdown()


def test_reasons_are_grouped_by_their_gist_without_nested_details() -> None:
    reason = "sent but no answer (webhook: no answer (ReadTimeout('x'))); cannot tell: 503"
    text = result_of(v("needs_review", 0, reason)).markdown()
    assert "sent but no answer; cannot tell ×1" in text
