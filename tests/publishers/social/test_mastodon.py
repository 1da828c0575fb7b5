"""Mastodon publisher against a local server speaking docs.joinmastodon.org's API."""

from __future__ import annotations

from pathlib import Path

import pytest
from social_fakenet import Checkpoints, FakeNetwork, Reply, creds, make_post, settings_for

from scheduler.core.errors import CannotCheck, NeedsAuth, Permanent, Transient
from scheduler.core.model import Media
from scheduler.publishers.http import HttpClient
from scheduler.publishers.mastodon import MastodonPublisher, idempotency_key, instance_of

ACCOUNT = "brand@social.example"
TOKEN = "mastodon-token-123456"
INSTANCE = {"configuration": {"statuses": {"max_characters": 500}}}
STATUS = {
    "id": "109876",
    "url": "https://social.example/@brand/109876",
    "uri": "https://social.example/users/brand/statuses/109876",
    "created_at": "2026-12-01T08:00:01.000Z",
    "content": "<p>The comfort SUV arrives.</p>",
}


@pytest.fixture
def publisher(fake: FakeNetwork, http: HttpClient, tmp_path: Path) -> MastodonPublisher:
    pub = MastodonPublisher(
        settings_for("mastodon", fake.url, tmp_path), http, sleep=lambda _: None
    )
    pub.media_poll_interval = 0.0
    return pub


def credentials():  # type: ignore[no-untyped-def]
    return creds("mastodon", ACCOUNT, access_token=TOKEN)


def test_the_instance_comes_from_the_handle() -> None:
    assert instance_of("brand@social.example") == "https://social.example"
    assert instance_of("@brand@mastodon.social") == "https://mastodon.social"


def test_a_handle_without_instance_is_refused() -> None:
    with pytest.raises(Permanent, match="user@instance"):
        instance_of("brand")


def test_publish_sends_the_status_with_bearer_token_and_idempotency_key(
    fake: FakeNetwork, publisher: MastodonPublisher
) -> None:
    fake.route("GET", "/api/v2/instance", Reply(json=INSTANCE))
    fake.route("POST", "/api/v1/statuses", Reply(json=STATUS))
    post = make_post("mastodon", ACCOUNT, text="The comfort SUV arrives.")

    published = publisher.publish(post, credentials())

    assert published.remote_id == "109876"
    assert published.url == "https://social.example/@brand/109876"
    (sent,) = fake.calls("POST", "/api/v1/statuses")
    assert sent.header("authorization") == f"Bearer {TOKEN}"
    assert sent.header("idempotency-key") == idempotency_key("suv/reveal/mastodon/fr")
    assert sent.json() == {"status": "The comfort SUV arrives.", "visibility": "public"}


def test_the_idempotency_key_is_stable_per_post_and_differs_between_posts() -> None:
    assert idempotency_key("a/b/mastodon/fr") == idempotency_key("a/b/mastodon/fr")
    assert idempotency_key("a/b/mastodon/fr") != idempotency_key("a/b/mastodon/de")


def test_a_post_longer_than_the_servers_own_limit_is_refused_before_sending(
    fake: FakeNetwork, publisher: MastodonPublisher
) -> None:
    fake.route(
        "GET",
        "/api/v2/instance",
        Reply(json={"configuration": {"statuses": {"max_characters": 20}}}),
    )
    post = make_post("mastodon", ACCOUNT, text="This text is clearly longer than twenty.")

    with pytest.raises(Permanent, match="limit of 20"):
        publisher.publish(post, credentials())
    assert fake.calls("POST", "/api/v1/statuses") == []


def test_the_instance_limit_is_read_once_per_instance(
    fake: FakeNetwork, publisher: MastodonPublisher
) -> None:
    fake.route("GET", "/api/v2/instance", Reply(json=INSTANCE))
    fake.route("POST", "/api/v1/statuses", Reply(json=STATUS))
    post = make_post("mastodon", ACCOUNT, text="Hello")
    publisher.publish(post, credentials())
    publisher.publish(post, credentials())
    assert len(fake.calls("GET", "/api/v2/instance")) == 1


def test_media_is_uploaded_with_its_alt_text_and_waited_for_while_processing(
    fake: FakeNetwork, publisher: MastodonPublisher, tmp_path: Path, checkpoints: Checkpoints
) -> None:
    content = tmp_path / "content"
    (content / "media").mkdir(parents=True)
    (content / "media" / "suv.jpg").write_bytes(b"\xff\xd8jpeg")
    fake.route("GET", "/api/v2/instance", Reply(json=INSTANCE))
    fake.route("POST", "/api/v2/media", Reply(202, json={"id": "22", "url": None}))
    fake.route(
        "GET",
        "/api/v1/media/22",
        Reply(206, json={"id": "22", "url": None}),
        Reply(200, json={"id": "22", "url": "https://files.example/22.jpg"}),
    )
    fake.route("POST", "/api/v1/statuses", Reply(json=STATUS))
    post = make_post(
        "mastodon",
        ACCOUNT,
        text="Look.",
        content_dir=content,
        media=(Media(file="media/suv.jpg", alt="The SUV from the front"),),
    )

    publisher.publish(post, credentials(), checkpoints)

    (upload,) = fake.calls("POST", "/api/v2/media")
    parts = upload.parts()
    assert parts["file"].data == b"\xff\xd8jpeg"
    assert parts["file"].content_type == "image/jpeg"
    assert parts["description"].text == "The SUV from the front"
    assert len(fake.calls("GET", "/api/v1/media/22")) == 2
    assert fake.calls("POST", "/api/v1/statuses")[0].json()["media_ids"] == ["22"]
    assert checkpoints.merged == {"media_ids": ["22"]}


def test_media_already_uploaded_before_a_crash_is_not_uploaded_again(
    fake: FakeNetwork, publisher: MastodonPublisher, tmp_path: Path
) -> None:
    fake.route("GET", "/api/v2/instance", Reply(json=INSTANCE))
    fake.route("POST", "/api/v1/statuses", Reply(json=STATUS))
    post = make_post(
        "mastodon",
        ACCOUNT,
        text="Look.",
        content_dir=tmp_path,
        media=(Media(file="media/suv.jpg", alt="front"),),
        checkpoint={"media_ids": ["22"]},
    )
    publisher.publish(post, credentials())
    assert fake.calls("POST", "/api/v2/media") == []
    assert fake.calls("POST", "/api/v1/statuses")[0].json()["media_ids"] == ["22"]


def test_a_revoked_token_needs_auth(fake: FakeNetwork, publisher: MastodonPublisher) -> None:
    fake.route("GET", "/api/v2/instance", Reply(json=INSTANCE))
    fake.route(
        "POST", "/api/v1/statuses", Reply(401, json={"error": "The access token was revoked"})
    )
    with pytest.raises(NeedsAuth, match="revoked") as caught:
        publisher.publish(make_post("mastodon", ACCOUNT, text="Hi"), credentials())
    assert TOKEN not in str(caught.value)


def test_a_rate_limit_waits_until_the_iso_reset_instant(
    fake: FakeNetwork, publisher: MastodonPublisher
) -> None:
    from datetime import UTC, datetime, timedelta

    reset = (datetime.now(UTC) + timedelta(seconds=120)).isoformat().replace("+00:00", "Z")
    fake.route("GET", "/api/v2/instance", Reply(json=INSTANCE))
    fake.route(
        "POST",
        "/api/v1/statuses",
        Reply(429, json={"error": "Too many requests"}, headers={"X-RateLimit-Reset": reset}),
    )
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("mastodon", ACCOUNT, text="Hi"), credentials())
    assert caught.value.retry_after is not None
    assert 110 <= caught.value.retry_after <= 121


def test_a_server_error_is_transient_and_unsent(
    fake: FakeNetwork, publisher: MastodonPublisher
) -> None:
    fake.route("GET", "/api/v2/instance", Reply(json=INSTANCE))
    fake.route("POST", "/api/v1/statuses", Reply(503, body=b"Service Unavailable"))
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("mastodon", ACCOUNT, text="Hi"), credentials())
    assert caught.value.sent is False


def test_no_answer_after_sending_is_unconfirmed(
    fake: FakeNetwork, publisher: MastodonPublisher
) -> None:
    fake.route("GET", "/api/v2/instance", Reply(json=INSTANCE))
    fake.route("POST", "/api/v1/statuses", Reply(json=STATUS, delay=3))
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("mastodon", ACCOUNT, text="Hi"), credentials())
    assert caught.value.sent is True


def test_a_validation_error_is_permanent_with_mastodons_message(
    fake: FakeNetwork, publisher: MastodonPublisher
) -> None:
    fake.route("GET", "/api/v2/instance", Reply(json=INSTANCE))
    fake.route(
        "POST",
        "/api/v1/statuses",
        Reply(422, json={"error": "Validation failed: Text can't be blank"}),
    )
    with pytest.raises(Permanent, match="Text can't be blank"):
        publisher.publish(make_post("mastodon", ACCOUNT, text="Hi"), credentials())


def test_find_recognises_our_status_in_the_accounts_timeline(
    fake: FakeNetwork, publisher: MastodonPublisher
) -> None:
    fake.route("GET", "/api/v1/accounts/verify_credentials", Reply(json={"id": "7"}))
    ours = dict(
        STATUS,
        content='<p>Arrives today &amp; now.<br />See <a href="https://brand.example/suv">'
        '<span class="invisible">https://</span><span class="">brand.example/suv</span></a> '
        '<a href="https://social.example/tags/SUV" class="mention hashtag">'
        "#<span>SUV</span></a></p>",
    )
    fake.route("GET", "/api/v1/accounts/7/statuses", Reply(json=[ours]))
    post = make_post(
        "mastodon", ACCOUNT, text="Arrives today & now.\nSee https://brand.example/suv #SUV"
    )

    found = publisher.find(post, credentials())

    assert found is not None and found.remote_id == "109876"
    (timeline,) = fake.calls("GET", "/api/v1/accounts/7/statuses")
    assert timeline.header("authorization") == f"Bearer {TOKEN}"


def test_find_says_absent_when_the_timeline_reaches_back_before_the_due_time(
    fake: FakeNetwork, publisher: MastodonPublisher
) -> None:
    fake.route("GET", "/api/v1/accounts/verify_credentials", Reply(json={"id": "7"}))
    older = dict(STATUS, content="<p>Something else</p>", created_at="2026-11-20T08:00:00Z")
    fake.route("GET", "/api/v1/accounts/7/statuses", Reply(json=[older]))
    assert publisher.find(make_post("mastodon", ACCOUNT, text="Hi"), credentials()) is None


def test_find_cannot_check_when_the_server_is_down(
    fake: FakeNetwork, publisher: MastodonPublisher
) -> None:
    fake.route("GET", "/api/v1/accounts/verify_credentials", Reply(502, body=b"Bad Gateway"))
    with pytest.raises(CannotCheck):
        publisher.find(make_post("mastodon", ACCOUNT, text="Hi"), credentials())


def test_describe_is_the_status_request(publisher: MastodonPublisher, fake: FakeNetwork) -> None:
    described = publisher.describe(make_post("mastodon", ACCOUNT, text="Hi"))
    assert described["method"] == "POST"
    assert described["url"] == f"{fake.url}/api/v1/statuses"
    assert described["json"] == {"status": "Hi", "visibility": "public"}


def test_accounts_check_reads_whose_token_it_is(
    fake: FakeNetwork, publisher: MastodonPublisher
) -> None:
    fake.route(
        "GET", "/api/v1/accounts/verify_credentials", Reply(json={"id": "7", "acct": "brand"})
    )
    status = publisher.check(credentials())
    assert status.valid is True and "@brand" in status.detail


def test_accounts_check_of_a_revoked_token_needs_auth(
    fake: FakeNetwork, publisher: MastodonPublisher
) -> None:
    fake.route(
        "GET",
        "/api/v1/accounts/verify_credentials",
        Reply(401, json={"error": "The access token is invalid"}),
    )
    with pytest.raises(NeedsAuth):
        publisher.check(credentials())
