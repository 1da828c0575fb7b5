"""The outbox, the webhook publisher, the registry that chooses between publishers, and the
secrets they get (docs/publishers.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scheduler.app.publishing import registry_for
from scheduler.app.secrets import load_secrets
from scheduler.app.settings import Settings
from scheduler.core.errors import CannotCheck, ConfigError, NeedsAuth, Permanent
from scheduler.core.model import Media
from scheduler.publishers.base import Credentials, OutgoingPost, Published
from scheduler.publishers.http import HttpClient
from scheduler.publishers.outbox import OutboxPublisher
from scheduler.publishers.registry import check_network
from scheduler.publishers.webhook import WebhookPublisher, verify

from .conftest import Sink

DUE = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 8, 0, 3, tzinfo=UTC)


def post(network: str = "facebook", **kw: object) -> OutgoingPost:
    fields: dict = {
        "post_id": f"suv-launch/teaser/{network}/fr",
        "story": "suv-launch",
        "beat": "teaser",
        "network": network,
        "market": "fr",
        "account": "100200300",
        "account_name": "Brand France",
        "due_utc": DUE,
        "text": "Le SUV arrive. #ComfortSUV",
        "link": "https://brand.example/suv",
        "media": (Media(file="media/suv.jpg", alt="Le SUV", kind="image"),),
    }
    fields.update(kw)
    return OutgoingPost(**fields)


NO_CREDS = Credentials("facebook", "100200300", {})


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def http():
    client = HttpClient()
    yield client
    client.close()


# --- outbox ---------------------------------------------------------------------------------


def test_outbox_writes_one_file_per_post_in_the_fixed_shape(settings, http):
    outbox = OutboxPublisher(settings, http, clock=lambda: NOW)
    outbox.publish(post(), NO_CREDS)
    path = settings.data_dir / "outbox/facebook/fr/suv-launch__teaser.json"
    data = json.loads(path.read_text())
    assert data["post_id"] == "suv-launch/teaser/facebook/fr"
    assert (data["network"], data["market"], data["account"]) == ("facebook", "fr", "100200300")
    assert data["due_utc"] == "2026-12-01T08:00:00Z"
    assert data["published_at"] == "2026-12-01T08:00:03Z"
    assert data["request"]["method"] == "POST"
    assert data["request"]["url"] == "https://graph.facebook.com/v21.0/100200300/feed"
    assert data["request"]["json"]["text"] == "Le SUV arrive. #ComfortSUV"


def test_outbox_leaves_no_temporary_file_behind(settings, http):
    OutboxPublisher(settings, http).publish(post(), NO_CREDS)
    assert [p.name for p in (settings.data_dir / "outbox/facebook/fr").iterdir()] == [
        "suv-launch__teaser.json"
    ]


def test_outbox_replaces_a_temporary_file_left_by_a_killed_writer(tmp_path):
    import os
    import threading

    from scheduler.publishers.outbox import atomic_write_json

    path = tmp_path / "post.json"
    leftover = tmp_path / f".post.json.{os.getpid()}-{threading.get_ident()}.tmp"
    leftover.write_text('{"half": ')
    atomic_write_json(path, {"post_id": "p"})
    assert json.loads(path.read_text()) == {"post_id": "p"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["post.json"]


def test_outbox_asks_the_real_publisher_to_describe_its_request(settings, http):
    def describe(p: OutgoingPost) -> dict:
        return {"method": "POST", "url": "https://graph.example/feed", "data": {"message": p.text}}

    OutboxPublisher(settings, http, describe=describe).publish(post(), NO_CREDS)
    data = json.loads(
        (settings.data_dir / "outbox/facebook/fr/suv-launch__teaser.json").read_text()
    )
    assert data["request"] == {
        "method": "POST",
        "url": "https://graph.example/feed",
        "data": {"message": "Le SUV arrive. #ComfortSUV"},
    }


def test_outbox_generic_request_honours_the_api_base_override(tmp_path, http):
    settings = Settings.from_env({"STORYLINE_API_BASE_X": "http://127.0.0.1:9999"}).with_overrides(
        data_dir=tmp_path
    )
    OutboxPublisher(settings, http).publish(post("x", account="BrandFR"), NO_CREDS)
    data = json.loads((tmp_path / "outbox/x/fr/suv-launch__teaser.json").read_text())
    assert data["request"]["url"] == "http://127.0.0.1:9999/2/tweets"


def test_outbox_find_reads_the_post_back(settings, http):
    outbox = OutboxPublisher(settings, http)
    published = outbox.publish(post(), NO_CREDS)
    assert outbox.find(post(), NO_CREDS) == published
    assert published.remote_id == "outbox/facebook/fr/suv-launch__teaser.json"


def test_outbox_find_is_certain_when_nothing_was_written(settings, http):
    assert OutboxPublisher(settings, http).find(post(), NO_CREDS) is None


def test_outbox_refuses_a_post_id_that_would_escape_the_folder(settings, http):
    with pytest.raises(Permanent, match="cannot be written"):
        OutboxPublisher(settings, http).publish(post(story=".."), NO_CREDS)


# --- webhook ---------------------------------------------------------------------------------


def webhook_creds(sink: Sink, **extra: str) -> Credentials:
    return Credentials("webhook", "agency", {"url": sink.url, "secret": "s3cret-key", **extra})


def test_webhook_posts_signed_json_with_an_idempotency_key(sink, settings, http):
    creds = webhook_creds(sink)
    result = WebhookPublisher(settings, http).publish(post("webhook"), creds)
    [got] = sink.received
    assert got.body["post_id"] == "suv-launch/teaser/webhook/fr"
    assert got.body["text"] == "Le SUV arrive. #ComfortSUV"
    assert got.headers["Idempotency-Key"] == "suv-launch/teaser/webhook/fr"
    assert verify("s3cret-key", got.raw, got.headers["X-Storyline-Signature"])
    assert got.headers["X-Storyline-Timestamp"].isdigit()
    assert result == Published(
        "w-suv-launch/teaser/webhook/fr", "https://sink/suv-launch/teaser/webhook/fr"
    )


def test_a_tampered_webhook_body_fails_verification(sink, settings, http):
    WebhookPublisher(settings, http).publish(post("webhook"), webhook_creds(sink))
    [got] = sink.received
    assert not verify(
        "s3cret-key", got.raw.replace(b"SUV", b"VUS"), got.headers["X-Storyline-Signature"]
    )


def test_webhook_find_without_a_lookup_cannot_tell(sink, settings, http):
    with pytest.raises(CannotCheck, match="lookup_url"):
        WebhookPublisher(settings, http).find(post("webhook"), webhook_creds(sink))


def test_webhook_find_asks_the_receivers_lookup(sink, settings, http):
    creds = webhook_creds(sink, lookup_url=sink.url)
    hook = WebhookPublisher(settings, http)
    assert hook.find(post("webhook"), creds) is None
    hook.publish(post("webhook"), creds)
    assert hook.find(post("webhook"), creds) == Published(
        "w-suv-launch/teaser/webhook/fr", "https://sink/suv-launch/teaser/webhook/fr"
    )


def test_webhook_errors_never_show_the_secret(sink, settings, http):
    sink.status_for = lambda _p, _n: 400
    creds = webhook_creds(sink)
    with pytest.raises(Permanent) as info:
        WebhookPublisher(settings, http).publish(post("webhook"), creds)
    assert "s3cret-key" not in str(info.value)


# --- registry ----------------------------------------------------------------------------------


def test_an_account_without_credentials_goes_to_the_outbox(settings):
    route = registry_for(settings).route("facebook", "100200300")
    assert route.kind == "outbox"
    assert isinstance(route.publisher, OutboxPublisher)


def test_an_account_with_credentials_gets_its_real_publisher(tmp_path):
    settings = Settings.from_env(
        {
            "STORYLINE_SECRET_WEBHOOK_AGENCY_URL": "http://127.0.0.1:1/hook",
            "STORYLINE_SECRET_WEBHOOK_AGENCY_SECRET": "k3y-value",
        }
    ).with_overrides(data_dir=tmp_path)
    route = registry_for(settings).route("webhook", "agency")
    assert isinstance(route.publisher, WebhookPublisher)
    assert route.credentials["secret"] == "k3y-value"


def test_storyline_publisher_outbox_forces_the_outbox(tmp_path):
    settings = Settings.from_env(
        {
            "STORYLINE_SECRET_WEBHOOK_AGENCY_URL": "http://x",
            "STORYLINE_SECRET_WEBHOOK_AGENCY_SECRET": "k",
        }
    ).with_overrides(data_dir=tmp_path, publisher_override="outbox")
    assert registry_for(settings).route("webhook", "agency").kind == "outbox"


def test_incomplete_credentials_mean_the_account_needs_auth(tmp_path):
    settings = Settings.from_env(
        {"STORYLINE_SECRET_WEBHOOK_AGENCY_URL": "http://x"}
    ).with_overrides(data_dir=tmp_path)
    with pytest.raises(NeedsAuth, match="lack secret"):
        registry_for(settings).route("webhook", "agency")


def test_google_plus_gets_a_clear_error():
    with pytest.raises(ConfigError, match=r"shut down .* 2019"):
        check_network("google+")


def test_every_builtin_publisher_is_registered_as_an_entry_point():
    from scheduler.publishers.registry import publisher_classes

    assert {"outbox", "webhook"} <= set(publisher_classes())


# --- secrets -------------------------------------------------------------------------------


def test_secrets_come_from_the_file_keyed_by_network_then_account(tmp_path):
    path = tmp_path / "secrets.yaml"
    path.write_text(
        'x:\n  BrandFR: {access_token: tok-from-file}\nfacebook:\n  "100": {access_token: fb}\n'
    )
    secrets = load_secrets(Settings(secrets_file=path))
    assert secrets.credentials("x", "BrandFR")["access_token"] == "tok-from-file"
    assert secrets.credentials("facebook", "100")["access_token"] == "fb"
    assert secrets.credentials("x", "BrandDE") is None


def test_an_environment_variable_overrides_one_field(tmp_path):
    path = tmp_path / "secrets.yaml"
    path.write_text("mastodon:\n  brand@social.example: {access_token: old, client_id: kept}\n")
    env = {"STORYLINE_SECRET_MASTODON_BRAND_SOCIAL_EXAMPLE_ACCESS_TOKEN": "new"}
    creds = load_secrets(Settings.from_env(env).with_overrides(secrets_file=path)).credentials(
        "mastodon", "brand@social.example"
    )
    assert dict(creds) == {"access_token": "new", "client_id": "kept"}


def test_credentials_never_show_their_values(tmp_path):
    env = {"STORYLINE_SECRET_X_BRANDFR_ACCESS_TOKEN": "very-secret-token"}
    creds = load_secrets(Settings.from_env(env)).credentials("x", "BrandFR")
    assert "very-secret-token" not in repr(creds)
    assert "very-secret-token" not in str(creds)


def test_a_broken_secrets_file_names_the_place_not_the_value(tmp_path):
    path = tmp_path / "secrets.yaml"
    path.write_text("x:\n  BrandFR: {access_token: [leaky-value\n")
    with pytest.raises(ConfigError) as info:
        load_secrets(Settings(secrets_file=path))
    assert str(path) in str(info.value)
    assert "leaky-value" not in str(info.value)


def test_a_secret_that_is_not_a_string_is_named(tmp_path):
    path = tmp_path / "secrets.yaml"
    path.write_text("x:\n  BrandFR: {access_token: {nested: 1}}\n")
    with pytest.raises(ConfigError, match=r"x\.BrandFR\.access_token: must be a string"):
        load_secrets(Settings(secrets_file=path))


def test_a_missing_secrets_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="secrets file not found"):
        load_secrets(Settings(secrets_file=tmp_path / "nope.yaml"))
