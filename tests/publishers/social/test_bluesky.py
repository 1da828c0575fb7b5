"""Bluesky publisher against a local PDS speaking the documented XRPC calls."""

from __future__ import annotations

import dataclasses
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from social_fakenet import DUE, FakeNetwork, Reply, creds, make_post, settings_for

from scheduler.core.errors import CannotCheck, NeedsAuth, Permanent, Transient
from scheduler.core.model import Media
from scheduler.publishers.bluesky import BlueskyPublisher, facets_of, record_key
from scheduler.publishers.http import HttpClient

HANDLE = "brand.bsky.social"
PASSWORD = "abcd-efgh-ijkl-mnop"
DID = "did:plc:brand123"
SESSION = {"accessJwt": "access-jwt-1", "refreshJwt": "refresh-jwt-1", "did": DID, "handle": HANDLE}
CREATE = "/xrpc/com.atproto.repo.createRecord"
LOGIN = "/xrpc/com.atproto.server.createSession"
GET = "/xrpc/com.atproto.repo.getRecord"


@pytest.fixture
def publisher(fake: FakeNetwork, http: HttpClient, tmp_path: Path) -> BlueskyPublisher:
    return BlueskyPublisher(settings_for("bluesky", fake.url, tmp_path), http)


def credentials():  # type: ignore[no-untyped-def]
    return creds("bluesky", HANDLE, identifier=HANDLE, app_password=PASSWORD)


def created(rkey: str) -> Reply:
    return Reply(json={"uri": f"at://{DID}/app.bsky.feed.post/{rkey}", "cid": "bafyrei"})


RKEY = record_key("suv/reveal/bluesky/fr", DUE)


# -- facets: UTF-8 byte offsets ------------------------------------------------------------


def test_a_link_facet_covers_the_urls_bytes() -> None:
    text = "Go to https://example.com now"
    (facet,) = facets_of(text)
    assert facet["index"] == {"byteStart": 6, "byteEnd": 25}
    assert facet["features"] == [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com"}
    ]


def test_offsets_count_bytes_after_accents_and_emoji() -> None:
    text = "Élégance 🚙 ici: https://brand.example/suv #ConfortSUV"
    link, tag = facets_of(text)
    url_start = text.index("https")
    expected_start = len(text[:url_start].encode("utf-8"))
    assert expected_start == url_start + 2 + 3  # two accents (1 extra byte) + emoji (3 extra)
    assert link["index"] == {
        "byteStart": expected_start,
        "byteEnd": expected_start + len("https://brand.example/suv"),
    }
    raw = text.encode("utf-8")
    assert raw[tag["index"]["byteStart"] : tag["index"]["byteEnd"]] == b"#ConfortSUV"
    assert tag["features"] == [{"$type": "app.bsky.richtext.facet#tag", "tag": "ConfortSUV"}]


def test_trailing_punctuation_is_not_part_of_the_link() -> None:
    (facet,) = facets_of("See https://brand.example/suv.")
    assert facet["features"][0]["uri"] == "https://brand.example/suv"


def test_a_link_with_parentheses_is_one_facet_over_the_whole_url() -> None:
    url = "https://en.example/wiki/Foo_(bar)"
    (facet,) = facets_of(url)
    assert facet["index"] == {"byteStart": 0, "byteEnd": len(url.encode("utf-8"))}
    assert facet["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": url}]


def test_a_link_with_parentheses_inside_a_sentence_keeps_its_bytes() -> None:
    url = "https://en.example/wiki/Foo_(bar)"
    text = f"Histoire 🚙 (voir {url})."
    (facet,) = facets_of(text)
    raw = text.encode("utf-8")
    assert raw[facet["index"]["byteStart"] : facet["index"]["byteEnd"]] == url.encode("utf-8")
    assert facet["features"][0]["uri"] == url


def test_a_url_fragment_and_a_number_are_not_hashtags() -> None:
    facets = facets_of("Page https://brand.example/a#specs and #2026 only")
    assert [f["features"][0]["$type"] for f in facets] == ["app.bsky.richtext.facet#link"]


# -- record keys ---------------------------------------------------------------------------


def test_the_record_key_is_a_valid_tid_stable_per_post() -> None:
    key = record_key("suv/reveal/bluesky/fr", DUE)
    assert key == record_key("suv/reveal/bluesky/fr", DUE)
    assert len(key) == 13
    assert set(key) <= set("234567abcdefghijklmnopqrstuvwxyz")
    assert key[0] in "234567abcdefghij"


def test_two_posts_due_in_the_same_second_get_different_keys() -> None:
    assert record_key("suv/reveal/bluesky/fr", DUE) != record_key("suv/reveal/bluesky/de", DUE)


def test_record_keys_sort_like_the_calendar() -> None:
    later = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
    assert record_key("a/b/bluesky/fr", DUE) < record_key("a/b/bluesky/fr", later)


# -- publish ---------------------------------------------------------------------------------


def test_publish_logs_in_then_creates_the_record_under_its_key(
    fake: FakeNetwork, publisher: BlueskyPublisher
) -> None:
    fake.route("POST", LOGIN, Reply(json=SESSION))
    fake.route("POST", CREATE, created(RKEY))
    text = "Élégance 🚙 https://brand.example/suv #ComfortSUV"
    published = publisher.publish(make_post("bluesky", HANDLE, text=text), credentials())

    assert published.remote_id == f"at://{DID}/app.bsky.feed.post/{RKEY}"
    assert published.url == f"https://bsky.app/profile/{HANDLE}/post/{RKEY}"
    (login,) = fake.calls("POST", LOGIN)
    assert login.json() == {"identifier": HANDLE, "password": PASSWORD}
    (create,) = fake.calls("POST", CREATE)
    assert create.header("authorization") == "Bearer access-jwt-1"
    body = create.json()
    assert body["repo"] == DID
    assert body["collection"] == "app.bsky.feed.post"
    assert body["rkey"] == RKEY
    record = body["record"]
    assert record["$type"] == "app.bsky.feed.post"
    assert record["text"] == text
    assert record["createdAt"].endswith("Z")
    assert record["facets"] == facets_of(text)
    assert record["embed"]["$type"] == "app.bsky.embed.external"
    assert record["embed"]["external"]["uri"] == "https://brand.example/suv"


def test_the_session_is_reused_across_posts(fake: FakeNetwork, publisher: BlueskyPublisher) -> None:
    fake.route("POST", LOGIN, Reply(json=SESSION))
    fake.route("POST", CREATE, created(RKEY))
    publisher.publish(make_post("bluesky", HANDLE), credentials())
    publisher.publish(make_post("bluesky", HANDLE, market="de"), credentials())
    assert len(fake.calls("POST", LOGIN)) == 1


def test_an_expired_access_token_is_refreshed_and_the_call_repeated(
    fake: FakeNetwork, publisher: BlueskyPublisher
) -> None:
    fake.route("POST", LOGIN, Reply(json=SESSION))
    fake.route(
        "POST",
        CREATE,
        Reply(400, json={"error": "ExpiredToken", "message": "Token has expired"}),
        created(RKEY),
    )
    fresh = dict(SESSION, accessJwt="access-jwt-2", refreshJwt="refresh-jwt-2")
    fake.route("POST", "/xrpc/com.atproto.server.refreshSession", Reply(json=fresh))

    publisher.publish(make_post("bluesky", HANDLE), credentials())

    (refresh,) = fake.calls("POST", "/xrpc/com.atproto.server.refreshSession")
    assert refresh.header("authorization") == "Bearer refresh-jwt-1"
    assert [c.header("authorization") for c in fake.calls("POST", CREATE)] == [
        "Bearer access-jwt-1",
        "Bearer access-jwt-2",
    ]


def test_images_are_uploaded_as_blobs_and_embedded_with_alt_text(
    fake: FakeNetwork, publisher: BlueskyPublisher, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "suv.png").write_bytes(b"\x89PNG-bytes")
    blob = {"$type": "blob", "ref": {"$link": "bafkrei"}, "mimeType": "image/png", "size": 10}
    fake.route("POST", LOGIN, Reply(json=SESSION))
    fake.route("POST", "/xrpc/com.atproto.repo.uploadBlob", Reply(json={"blob": blob}))
    fake.route("POST", CREATE, created(RKEY))
    post = make_post(
        "bluesky", HANDLE, content_dir=content, media=(Media(file="suv.png", alt="The SUV"),)
    )

    publisher.publish(post, credentials())

    (upload,) = fake.calls("POST", "/xrpc/com.atproto.repo.uploadBlob")
    assert upload.body == b"\x89PNG-bytes"
    assert upload.header("content-type") == "image/png"
    assert upload.header("authorization") == "Bearer access-jwt-1"
    embed = fake.calls("POST", CREATE)[0].json()["record"]["embed"]
    assert embed == {
        "$type": "app.bsky.embed.images",
        "images": [{"alt": "The SUV", "image": blob}],
    }


def test_a_wrong_app_password_needs_auth(fake: FakeNetwork, publisher: BlueskyPublisher) -> None:
    fake.route(
        "POST",
        LOGIN,
        Reply(
            401,
            json={"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
        ),
    )
    with pytest.raises(NeedsAuth, match="Invalid identifier or password") as caught:
        publisher.publish(make_post("bluesky", HANDLE), credentials())
    assert PASSWORD not in str(caught.value)


def test_a_rate_limit_waits_until_the_ratelimit_reset_header(
    fake: FakeNetwork, publisher: BlueskyPublisher
) -> None:
    fake.route("POST", LOGIN, Reply(json=SESSION))
    reset = str(int(time.time()) + 300)
    fake.route(
        "POST",
        CREATE,
        Reply(
            429,
            json={"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
            headers={
                "ratelimit-limit": "5000",
                "ratelimit-remaining": "0",
                "ratelimit-reset": reset,
            },
        ),
    )
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("bluesky", HANDLE), credentials())
    assert caught.value.retry_after is not None and 290 <= caught.value.retry_after <= 301
    assert fake.calls("GET", GET) == []


def test_a_server_error_is_transient(fake: FakeNetwork, publisher: BlueskyPublisher) -> None:
    fake.route("POST", LOGIN, Reply(json=SESSION))
    fake.route("POST", CREATE, Reply(502, body=b"Bad Gateway"))
    fake.route(
        "GET",
        GET,
        Reply(400, json={"error": "RecordNotFound", "message": "Could not locate record"}),
    )
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("bluesky", HANDLE), credentials())
    assert caught.value.sent is False


def test_no_answer_after_sending_is_unconfirmed(
    fake: FakeNetwork, publisher: BlueskyPublisher
) -> None:
    fake.route("POST", LOGIN, Reply(json=SESSION))
    fake.route("POST", CREATE, Reply(json={}, delay=3))
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("bluesky", HANDLE), credentials())
    assert caught.value.sent is True


def test_an_invalid_record_is_permanent_with_the_pds_message(
    fake: FakeNetwork, publisher: BlueskyPublisher
) -> None:
    fake.route("POST", LOGIN, Reply(json=SESSION))
    fake.route(
        "POST",
        CREATE,
        Reply(
            400,
            json={
                "error": "InvalidRequest",
                "message": "Record/text must not be longer than 300 graphemes",
            },
        ),
    )
    fake.route(
        "GET",
        GET,
        Reply(400, json={"error": "RecordNotFound", "message": "Could not locate record"}),
    )
    with pytest.raises(Permanent, match="300 graphemes"):
        publisher.publish(make_post("bluesky", HANDLE), credentials())


def test_a_refused_repeat_on_an_existing_key_is_the_earlier_post(
    fake: FakeNetwork, publisher: BlueskyPublisher
) -> None:
    fake.route("POST", LOGIN, Reply(json=SESSION))
    fake.route(
        "POST",
        CREATE,
        Reply(400, json={"error": "InvalidRequest", "message": "Record already exists"}),
    )
    fake.route(
        "GET",
        GET,
        Reply(json={"uri": f"at://{DID}/app.bsky.feed.post/{RKEY}", "cid": "x", "value": {}}),
    )
    published = publisher.publish(make_post("bluesky", HANDLE), credentials())
    assert published.remote_id == f"at://{DID}/app.bsky.feed.post/{RKEY}"


# -- find ----------------------------------------------------------------------------------


def test_find_is_an_exact_lookup_of_the_posts_record_key(
    fake: FakeNetwork, publisher: BlueskyPublisher
) -> None:
    fake.route("POST", LOGIN, Reply(json=SESSION))
    fake.route(
        "GET",
        GET,
        Reply(json={"uri": f"at://{DID}/app.bsky.feed.post/{RKEY}", "cid": "x", "value": {}}),
    )
    found = publisher.find(make_post("bluesky", HANDLE), credentials())
    assert found is not None and found.remote_id.endswith(RKEY)
    (lookup,) = fake.calls("GET", GET)
    assert lookup.query == {"repo": [DID], "collection": ["app.bsky.feed.post"], "rkey": [RKEY]}


def test_find_says_absent_when_the_record_does_not_exist(
    fake: FakeNetwork, publisher: BlueskyPublisher
) -> None:
    fake.route("POST", LOGIN, Reply(json=SESSION))
    fake.route(
        "GET",
        GET,
        Reply(400, json={"error": "RecordNotFound", "message": "Could not locate record"}),
    )
    assert publisher.find(make_post("bluesky", HANDLE), credentials()) is None


def test_find_cannot_check_when_the_pds_is_down(
    fake: FakeNetwork, publisher: BlueskyPublisher
) -> None:
    fake.route("POST", LOGIN, Reply(json=SESSION))
    fake.route("GET", GET, Reply(503, body=b"down"))
    with pytest.raises(CannotCheck):
        publisher.find(make_post("bluesky", HANDLE), credentials())


def test_describe_is_the_create_record_call(publisher: BlueskyPublisher, fake: FakeNetwork) -> None:
    described = publisher.describe(make_post("bluesky", HANDLE))
    assert described["url"] == f"{fake.url}/xrpc/com.atproto.repo.createRecord"
    assert described["json"]["rkey"] == RKEY
    assert described["json"]["record"]["facets"] == facets_of(make_post("bluesky", HANDLE).text)


def test_accounts_check_opens_a_session(fake: FakeNetwork, publisher: BlueskyPublisher) -> None:
    fake.route("POST", LOGIN, Reply(json=SESSION))
    status = publisher.check(credentials())
    assert status.valid is True and DID in status.detail


def test_the_record_key_is_checkpointed_before_the_record_is_sent(
    fake: FakeNetwork, publisher: BlueskyPublisher
) -> None:
    fake.route("POST", LOGIN, Reply(json=SESSION))
    fake.route("POST", CREATE, created(RKEY))
    saved: list[dict[str, object]] = []
    publisher.publish(make_post("bluesky", HANDLE), credentials(), lambda c: saved.append(dict(c)))
    assert saved == [{"rkey": RKEY}]


def test_a_retry_after_the_due_time_moved_keeps_the_first_attempts_key(
    fake: FakeNetwork, publisher: BlueskyPublisher
) -> None:
    fake.route("POST", LOGIN, Reply(json=SESSION))
    fake.route(
        "GET", GET, Reply(json={"uri": f"at://{DID}/app.bsky.feed.post/{RKEY}", "value": {}})
    )
    first = make_post("bluesky", HANDLE, checkpoint={"rkey": RKEY})
    moved = dataclasses.replace(first, due_utc=datetime(2031, 1, 1, tzinfo=UTC))
    found = publisher.find(moved, credentials())
    assert found is not None and found.remote_id.endswith(RKEY)
