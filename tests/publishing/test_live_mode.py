"""Live mode: an account without credentials is held at claim time, never written to the
outbox; `release` sends it once the credentials exist. Relays (`via: webhook:<account>`) are
delivered with the webhook account's secrets. Published posts say where they went."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from scheduler.core.errors import NoCredentials
from scheduler.core.lifecycle import HoldReason
from scheduler.dispatch.dispatcher import Dispatcher
from scheduler.publishers.base import Credentials
from scheduler.publishers.registry import Registry
from scheduler.publishers.webhook import WebhookPublisher, verify

from .conftest import POLICY, add_posts

POST_TABLE = __import__("scheduler.dispatch.context", fromlist=["POST"]).POST


@dataclass
class Vault:
    """Credentials the test adds and removes; counts every question asked."""

    fields: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    asked: list[tuple[str, str]] = field(default_factory=list)

    def credentials(self, network: str, account: str) -> Credentials | None:
        self.asked.append((network, account))
        found = self.fields.get((network, account))
        return Credentials(network, account, found) if found else None

    def has_network(self, network: str) -> bool:
        return any(n == network for n, _ in self.fields)


def live_registry(settings, vault: Vault, relays: Mapping | None = None) -> Registry:
    return Registry(settings, secrets=vault, relays=relays)


def row(engine, post_id: str):
    with engine.connect() as conn:
        return conn.execute(select(POST_TABLE).where(POST_TABLE.c.post_id == post_id)).one()


def tick(d: Dispatcher) -> list:
    jobs: list = []
    d.tick(jobs.extend)
    return jobs


def test_a_due_post_of_an_account_without_credentials_is_held_not_claimed(
    engine, settings, clock
) -> None:
    [post_id] = add_posts(engine, network="x", account="HoldoutUS")
    d = Dispatcher(
        engine, settings, clock=clock, policy=POLICY, registry=live_registry(settings, Vault())
    )
    assert tick(d) == []
    held = row(engine, post_id)
    assert (held.status, held.hold_reason) == ("held", HoldReason.NO_CREDENTIALS)
    assert held.status_reason == "no credentials for x:HoldoutUS"
    assert not (settings.outbox_dir).exists()


def test_credentials_are_asked_once_per_account_per_tick(engine, settings, clock) -> None:
    add_posts(engine, 50, network="x", account="HoldoutUS")
    add_posts(engine, 30, network="facebook", account="123", story="van")
    vault = Vault()
    d = Dispatcher(
        engine, settings, clock=clock, policy=POLICY, registry=live_registry(settings, vault)
    )
    tick(d)
    assert sorted(vault.asked) == [("facebook", "123"), ("x", "HoldoutUS")]


def test_accounts_with_credentials_are_claimed_as_before(engine, settings, clock) -> None:
    [ok] = add_posts(engine, network="x", account="HoldoutFR")
    [no] = add_posts(engine, network="x", account="HoldoutUS", story="van")
    vault = Vault({("x", "HoldoutFR"): {"access_token": "t"}})
    d = Dispatcher(
        engine, settings, clock=clock, policy=POLICY, registry=live_registry(settings, vault)
    )
    assert [post_id for post_id, _ in tick(d)] == [ok]
    assert row(engine, no).status == "held"


def test_release_sends_it_once_the_credentials_exist(engine, settings, clock) -> None:
    [post_id] = add_posts(engine, network="x", account="HoldoutUS")
    vault = Vault()
    d = Dispatcher(
        engine, settings, clock=clock, policy=POLICY, registry=live_registry(settings, vault)
    )
    tick(d)
    # Released too early: the next claim asks again and holds it again, never the outbox.
    d.release(post_id)
    assert tick(d) == []
    assert row(engine, post_id).hold_reason == HoldReason.NO_CREDENTIALS
    vault.fields[("x", "HoldoutUS")] = {"access_token": "t"}
    assert d.release_account("x", "HoldoutUS") == 1
    assert [p for p, _ in tick(d)] == [post_id]


def test_a_future_post_is_not_held_before_its_time(engine, settings, clock) -> None:
    from datetime import timedelta

    [later] = add_posts(
        engine, network="x", account="HoldoutUS", due=clock.now + timedelta(hours=1)
    )
    d = Dispatcher(
        engine, settings, clock=clock, policy=POLICY, registry=live_registry(settings, Vault())
    )
    tick(d)
    assert row(engine, later).status == "planned"


def test_outbox_mode_never_holds_for_credentials(engine, settings, clock) -> None:
    [post_id] = add_posts(engine, network="x", account="HoldoutUS")
    registry = Registry(settings, secrets=Vault(), forced_outbox=True)
    d = Dispatcher(engine, settings, clock=clock, policy=POLICY, registry=registry)
    [(claimed, token)] = tick(d)
    assert d.publish(claimed, token) == "published"
    published = row(engine, post_id)
    assert published.destination == "outbox"
    assert published.remote_id.startswith("outbox/x/")


def test_credentials_removed_after_the_claim_hold_the_post_at_send(engine, settings, clock) -> None:
    [post_id] = add_posts(engine, network="x", account="HoldoutUS")
    vault = Vault({("x", "HoldoutUS"): {"access_token": "t"}})
    d = Dispatcher(
        engine, settings, clock=clock, policy=POLICY, registry=live_registry(settings, vault)
    )
    [(claimed, token)] = tick(d)
    vault.fields.clear()
    assert d.publish(claimed, token) == "held"
    held = row(engine, post_id)
    assert (held.status, held.hold_reason) == ("held", HoldReason.NO_CREDENTIALS)
    assert not settings.outbox_dir.exists()


def test_the_live_registry_never_falls_back_to_the_outbox(settings) -> None:
    with pytest.raises(NoCredentials, match="no credentials for facebook:123"):
        live_registry(settings, Vault()).route("facebook", "123")


# --- relays ------------------------------------------------------------------------------------


RELAYS = {("x", "HoldoutUS"): ("webhook", "agency")}


def test_a_relayed_account_is_routed_to_the_webhook_with_the_relays_secrets(settings) -> None:
    vault = Vault({("webhook", "agency"): {"url": "http://127.0.0.1:9/hook", "secret": "k"}})
    route = live_registry(settings, vault, RELAYS).route("x", "HoldoutUS")
    assert isinstance(route.publisher, WebhookPublisher)
    assert (route.kind, route.credentials.account) == ("webhook", "agency")


def test_a_relayed_account_is_held_while_its_relay_has_no_credentials(
    engine, settings, clock
) -> None:
    [post_id] = add_posts(engine, network="x", account="HoldoutUS")
    vault = Vault({("x", "HoldoutUS"): {"access_token": "its own, unused"}})
    d = Dispatcher(
        engine,
        settings,
        clock=clock,
        policy=POLICY,
        registry=live_registry(settings, vault, RELAYS),
    )
    assert tick(d) == []
    assert row(engine, post_id).status_reason == (
        "no credentials for x:HoldoutUS (relayed through webhook:agency, which has none)"
    )


def test_a_relayed_post_goes_to_the_webhook_keeping_its_network(
    engine, settings, clock, sink
) -> None:
    [post_id] = add_posts(engine, network="x", account="HoldoutUS", market="us")
    vault = Vault({("webhook", "agency"): {"url": sink.url, "secret": "s3cret"}})
    d = Dispatcher(
        engine,
        settings,
        clock=clock,
        policy=POLICY,
        registry=live_registry(settings, vault, RELAYS),
    )
    [(claimed, token)] = tick(d)
    assert d.publish(claimed, token) == "published"
    [got] = sink.received
    assert verify("s3cret", got.raw, got.headers["Storyline-Signature"])
    body = json.loads(got.raw)
    assert (body["network"], body["market"], body["account"]) == ("x", "us", "HoldoutUS")
    published = row(engine, post_id)
    assert (published.network, published.destination) == ("x", "webhook")
