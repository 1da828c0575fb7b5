"""LinkedIn publisher against a local server speaking the versioned Posts API."""

from __future__ import annotations

from pathlib import Path

import pytest
from social_fakenet import Checkpoints, FakeNetwork, Reply, creds, make_post, settings_for

from scheduler.core.errors import CannotCheck, NeedsAuth, Permanent, Transient
from scheduler.core.model import Media
from scheduler.publishers.http import HttpClient
from scheduler.publishers.linkedin import (
    DEFAULT_VERSION,
    LinkedInPublisher,
    author_urn,
    escape_commentary,
)

ORG = "9001"
TOKEN = "linkedin-token-abcdef"
URN = "urn:li:share:7141138937766391808"
CREATED = Reply(201, headers={"x-restli-id": URN})
DUPLICATE = Reply(
    422,
    json={
        "errorDetailType": "com.linkedin.common.error.BadRequest",
        "message": "com.linkedin.content.common.exception.BadRequestResponseException: "
        f"Content is a duplicate of {URN}",
        "errorDetails": {
            "inputErrors": [
                {"description": "Duplicate post is detected", "input": {}, "code": "DUPLICATE_POST"}
            ]
        },
        "status": 422,
    },
)


@pytest.fixture
def publisher(fake: FakeNetwork, http: HttpClient, tmp_path: Path) -> LinkedInPublisher:
    return LinkedInPublisher(settings_for("linkedin", fake.url, tmp_path), http)


def credentials():  # type: ignore[no-untyped-def]
    return creds("linkedin", ORG, access_token=TOKEN)


def test_reserved_characters_are_escaped_but_links_and_hashtags_kept() -> None:
    text = "New (and quiet) SUV_2026 @home ~ 5*5 <3 [ok] {x} a|b back\\slash #ComfortSUV https://brand.example/a_b(c)"
    assert escape_commentary(text) == (
        "New \\(and quiet\\) SUV\\_2026 \\@home \\~ 5\\*5 \\<3 \\[ok\\] \\{x\\} a\\|b "
        "back\\\\slash #ComfortSUV https://brand.example/a_b(c)"
    )


def test_a_lone_hash_is_escaped() -> None:
    assert escape_commentary("We are # 1") == "We are \\# 1"


def test_the_author_is_the_organization_urn() -> None:
    assert author_urn("9001") == "urn:li:organization:9001"
    assert author_urn("urn:li:organization:9001") == "urn:li:organization:9001"


def test_publish_sends_the_documented_posts_request_and_reads_the_urn_header(
    fake: FakeNetwork, publisher: LinkedInPublisher
) -> None:
    fake.route("POST", "/rest/posts", CREATED)
    post = make_post("linkedin", ORG, text="The comfort SUV (finally) arrives.")

    published = publisher.publish(post, credentials())

    assert published.remote_id == URN
    assert published.url == f"https://www.linkedin.com/feed/update/{URN}/"
    (sent,) = fake.calls("POST", "/rest/posts")
    assert sent.header("authorization") == f"Bearer {TOKEN}"
    assert sent.header("linkedin-version") == DEFAULT_VERSION
    assert sent.header("x-restli-protocol-version") == "2.0.0"
    assert sent.json() == {
        "author": "urn:li:organization:9001",
        "commentary": "The comfort SUV \\(finally\\) arrives.",
        "visibility": "PUBLIC",
        "distribution": {
            "feedDistribution": "MAIN_FEED",
            "targetEntities": [],
            "thirdPartyDistributionChannels": [],
        },
        "content": {
            "article": {"source": "https://brand.example/suv", "title": "The comfort SUV arrives"}
        },
        "lifecycleState": "PUBLISHED",
        "isReshareDisabledByAuthor": False,
    }


def test_the_version_header_can_be_moved_by_setting(
    fake: FakeNetwork, http: HttpClient, tmp_path: Path
) -> None:
    pub = LinkedInPublisher(
        settings_for("linkedin", fake.url, tmp_path, STORYLINE_LINKEDIN_VERSION="202611"), http
    )
    fake.route("POST", "/rest/posts", CREATED)
    pub.publish(make_post("linkedin", ORG), credentials())
    assert fake.calls("POST", "/rest/posts")[0].header("linkedin-version") == "202611"


def test_an_image_goes_through_the_images_api_then_the_post(
    fake: FakeNetwork, publisher: LinkedInPublisher, tmp_path: Path, checkpoints: Checkpoints
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "suv.jpg").write_bytes(b"\xff\xd8jpeg")
    fake.route(
        "POST",
        "/rest/images",
        Reply(
            json={
                "value": {
                    "uploadUrlExpiresAt": 1650567510704,
                    "uploadUrl": f"{fake.url}/dms-uploads/abc",
                    "image": "urn:li:image:C4E10AQFoyyAjHPMQuQ",
                }
            }
        ),
    )
    fake.route("PUT", "/dms-uploads/abc", Reply(201))
    fake.route("POST", "/rest/posts", CREATED)
    post = make_post(
        "linkedin", ORG, content_dir=content, media=(Media(file="suv.jpg", alt="The SUV"),)
    )

    publisher.publish(post, credentials(), checkpoints)

    (init,) = fake.calls("POST", "/rest/images")
    assert init.q("action") == "initializeUpload"
    assert init.json() == {"initializeUploadRequest": {"owner": "urn:li:organization:9001"}}
    assert init.header("linkedin-version") == DEFAULT_VERSION
    (put,) = fake.calls("PUT", "/dms-uploads/abc")
    assert put.body == b"\xff\xd8jpeg"
    assert fake.calls("POST", "/rest/posts")[0].json()["content"] == {
        "media": {"id": "urn:li:image:C4E10AQFoyyAjHPMQuQ", "altText": "The SUV"}
    }
    assert checkpoints.merged == {"images": ["urn:li:image:C4E10AQFoyyAjHPMQuQ"]}


def test_a_duplicate_refusal_names_the_existing_post_which_is_the_result(
    fake: FakeNetwork, publisher: LinkedInPublisher
) -> None:
    fake.route("POST", "/rest/posts", DUPLICATE)
    fake.route("GET", f"/rest/posts/{URN}", Reply(json={"id": URN, "commentary": "x"}))

    published = publisher.publish(make_post("linkedin", ORG), credentials())

    assert published.remote_id == URN
    (check,) = fake.calls("GET", f"/rest/posts/{URN}")
    assert check.header("x-restli-protocol-version") == "2.0.0"


def test_a_duplicate_of_a_deleted_post_not_found_on_the_page_is_permanent(
    fake: FakeNetwork, publisher: LinkedInPublisher
) -> None:
    fake.route("POST", "/rest/posts", DUPLICATE)
    fake.route(
        "GET", f"/rest/posts/{URN}", Reply(404, json={"message": "Not Found", "status": 404})
    )
    fake.route(
        "GET", "/rest/posts", Reply(json={"elements": [], "paging": {"start": 0, "count": 50}})
    )
    with pytest.raises(Permanent, match="duplicate"):
        publisher.publish(make_post("linkedin", ORG), credentials())


def test_an_expired_token_needs_auth(fake: FakeNetwork, publisher: LinkedInPublisher) -> None:
    fake.route(
        "POST",
        "/rest/posts",
        Reply(
            401,
            json={
                "status": 401,
                "serviceErrorCode": 65601,
                "code": "REVOKED_ACCESS_TOKEN",
                "message": "The token used in the request has been revoked by the user",
            },
        ),
    )
    with pytest.raises(NeedsAuth, match="revoked") as caught:
        publisher.publish(make_post("linkedin", ORG), credentials())
    assert TOKEN not in str(caught.value)


def test_a_missing_page_permission_needs_auth(
    fake: FakeNetwork, publisher: LinkedInPublisher
) -> None:
    fake.route(
        "POST",
        "/rest/posts",
        Reply(
            403,
            json={
                "status": 403,
                "serviceErrorCode": 100,
                "code": "ACCESS_DENIED",
                "message": "Not enough permissions to access: partnerApiPostsExternal.CREATE",
            },
        ),
    )
    with pytest.raises(NeedsAuth):
        publisher.publish(make_post("linkedin", ORG), credentials())


def test_a_throttled_call_waits_for_retry_after(
    fake: FakeNetwork, publisher: LinkedInPublisher
) -> None:
    fake.route(
        "POST",
        "/rest/posts",
        Reply(
            429,
            json={"status": 429, "message": "Resource level throttle limit"},
            headers={"Retry-After": "3600"},
        ),
    )
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("linkedin", ORG), credentials())
    assert caught.value.retry_after == 3600


def test_a_server_error_is_transient(fake: FakeNetwork, publisher: LinkedInPublisher) -> None:
    fake.route(
        "POST", "/rest/posts", Reply(500, json={"status": 500, "message": "Internal Server Error"})
    )
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("linkedin", ORG), credentials())
    assert caught.value.sent is False


def test_no_answer_after_sending_is_unconfirmed(
    fake: FakeNetwork, publisher: LinkedInPublisher
) -> None:
    fake.route("POST", "/rest/posts", Reply(201, headers={"x-restli-id": URN}, delay=3))
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("linkedin", ORG), credentials())
    assert caught.value.sent is True


def test_a_validation_error_is_permanent_with_linkedins_message(
    fake: FakeNetwork, publisher: LinkedInPublisher
) -> None:
    fake.route(
        "POST",
        "/rest/posts",
        Reply(422, json={"status": 422, "message": "ERROR :: /commentary :: String is too long"}),
    )
    with pytest.raises(Permanent, match="commentary :: String is too long"):
        publisher.publish(make_post("linkedin", ORG), credentials())


def test_find_uses_the_author_finder_and_matches_the_commentary(
    fake: FakeNetwork, publisher: LinkedInPublisher
) -> None:
    text = "The comfort SUV (finally) arrives."
    fake.route(
        "GET",
        "/rest/posts",
        Reply(
            json={
                "elements": [
                    {"id": URN, "commentary": escape_commentary(text), "createdAt": 1796112000000}
                ],
                "paging": {"start": 0, "count": 50},
            }
        ),
    )

    found = publisher.find(make_post("linkedin", ORG, text=text), credentials())

    assert found is not None and found.remote_id == URN
    (search,) = fake.calls("GET", "/rest/posts")
    assert "author=urn%3Ali%3Aorganization%3A9001" in search.raw_query
    assert search.q("q") == "author"
    assert search.header("linkedin-version") == DEFAULT_VERSION


def test_find_says_absent_when_the_page_has_no_such_post(
    fake: FakeNetwork, publisher: LinkedInPublisher
) -> None:
    fake.route(
        "GET",
        "/rest/posts",
        Reply(json={"elements": [{"id": "urn:li:share:1", "commentary": "Other"}]}),
    )
    assert publisher.find(make_post("linkedin", ORG), credentials()) is None


def test_find_cannot_check_when_the_api_fails(
    fake: FakeNetwork, publisher: LinkedInPublisher
) -> None:
    fake.route("GET", "/rest/posts", Reply(504, body=b"Gateway Timeout"))
    with pytest.raises(CannotCheck):
        publisher.find(make_post("linkedin", ORG), credentials())


def test_describe_is_the_posts_request(publisher: LinkedInPublisher, fake: FakeNetwork) -> None:
    described = publisher.describe(make_post("linkedin", ORG))
    assert described["method"] == "POST"
    assert described["url"] == f"{fake.url}/rest/posts"
    assert described["json"]["author"] == "urn:li:organization:9001"


def test_accounts_check_reads_the_pages_posts(
    fake: FakeNetwork, publisher: LinkedInPublisher
) -> None:
    fake.route("GET", "/rest/posts", Reply(json={"elements": []}))
    status = publisher.check(credentials())
    assert status.valid is True
    assert fake.calls("GET", "/rest/posts")[0].header("linkedin-version") == DEFAULT_VERSION
