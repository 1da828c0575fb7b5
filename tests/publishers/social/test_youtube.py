"""YouTube publisher against a local server speaking the resumable upload protocol."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from social_fakenet import (
    DUE,
    Checkpoints,
    FakeNetwork,
    Recorded,
    Reply,
    creds,
    make_post,
    settings_for,
)

from scheduler.core.errors import CannotCheck, NeedsAuth, Permanent, Transient
from scheduler.core.model import Media
from scheduler.publishers.http import HttpClient
from scheduler.publishers.youtube import YouTubePublisher, seconds_until_pacific_midnight

CHANNEL = "UCbrand000000000000000"
TOKEN = "ya29.youtube-token"
VIDEO = b"0123456789" * 10  # 100 bytes of "mp4"
SESSION_PATH = "/upload/youtube/v3/videos/session-1"
INSERT = "/upload/youtube/v3/videos"
RESOURCE = {"kind": "youtube#video", "id": "dQw4w9WgXcQ", "snippet": {"title": "t"}}


@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    root.mkdir()
    (root / "suv.mp4").write_bytes(VIDEO)
    return root


def publisher_at(
    fake: FakeNetwork, http: HttpClient, tmp_path: Path, now: datetime
) -> YouTubePublisher:
    return YouTubePublisher(settings_for("youtube", fake.url, tmp_path), http, clock=lambda: now)


@pytest.fixture
def publisher(fake: FakeNetwork, http: HttpClient, tmp_path: Path) -> YouTubePublisher:
    return publisher_at(fake, http, tmp_path, DUE)


def credentials():  # type: ignore[no-untyped-def]
    return creds("youtube", CHANNEL, access_token=TOKEN)


def video_post(content: Path, **kwargs):  # type: ignore[no-untyped-def]
    return make_post(
        "youtube",
        CHANNEL,
        text="The comfort SUV, filmed in the Alps. #ComfortSUV #Alps",
        content_dir=content,
        media=(Media(file="suv.mp4", alt="", kind="video"),),
        **kwargs,
    )


def session_opened(fake: FakeNetwork) -> Reply:
    return Reply(200, headers={"Location": f"{fake.url}{SESSION_PATH}?upload_id=xa298sd_f"})


def test_publish_opens_a_resumable_session_then_puts_the_bytes(
    fake: FakeNetwork, publisher: YouTubePublisher, content: Path, checkpoints: Checkpoints
) -> None:
    fake.route("POST", INSERT, session_opened(fake))
    fake.route("PUT", SESSION_PATH, Reply(200, json=RESOURCE))

    published = publisher.publish(video_post(content), credentials(), checkpoints)

    assert published.remote_id == "dQw4w9WgXcQ"
    assert published.url == "https://www.youtube.com/watch?v=dQw4w9WgXcQ"
    (start,) = fake.calls("POST", INSERT)
    assert start.query == {"uploadType": ["resumable"], "part": ["snippet,status"]}
    assert start.header("authorization") == f"Bearer {TOKEN}"
    assert start.header("content-type") == "application/json; charset=UTF-8"
    assert start.header("x-upload-content-length") == "100"
    assert start.header("x-upload-content-type") == "video/mp4"
    assert start.json() == {
        "snippet": {
            "title": "The comfort SUV arrives",
            "description": "The comfort SUV, filmed in the Alps. #ComfortSUV #Alps",
            "tags": ["ComfortSUV", "Alps"],
            "categoryId": "22",
        },
        "status": {"selfDeclaredMadeForKids": False, "privacyStatus": "public"},
    }
    (put,) = fake.calls("PUT", SESSION_PATH)
    assert put.body == VIDEO
    assert put.header("content-type") == "video/mp4"
    assert put.header("authorization") == f"Bearer {TOKEN}"
    assert checkpoints.steps == [
        {"upload_url": f"{fake.url}{SESSION_PATH}?upload_id=xa298sd_f", "size": 100}
    ]


def test_a_video_uploaded_ahead_of_its_slot_is_private_until_publish_at(
    fake: FakeNetwork, http: HttpClient, tmp_path: Path, content: Path
) -> None:
    publisher = publisher_at(fake, http, tmp_path, DUE - timedelta(hours=2))
    fake.route("POST", INSERT, session_opened(fake))
    fake.route("PUT", SESSION_PATH, Reply(200, json=RESOURCE))
    publisher.publish(video_post(content), credentials())
    assert fake.calls("POST", INSERT)[0].json()["status"] == {
        "selfDeclaredMadeForKids": False,
        "privacyStatus": "private",
        "publishAt": "2026-12-01T08:00:00Z",
    }


def test_an_interrupted_upload_resumes_from_the_byte_the_session_reports(
    fake: FakeNetwork, publisher: YouTubePublisher, content: Path
) -> None:
    def session(request: Recorded) -> Reply:
        if request.header("content-range") == "bytes */100":
            return Reply(308, headers={"Range": "bytes=0-41"})
        return Reply(201, json=RESOURCE)

    fake.route("PUT", SESSION_PATH, session)
    url = f"{fake.url}{SESSION_PATH}?upload_id=xa298sd_f"
    post = video_post(content, checkpoint={"upload_url": url, "size": 100})

    published = publisher.publish(post, credentials())

    assert published.remote_id == "dQw4w9WgXcQ"
    assert fake.calls("POST", INSERT) == []
    status, rest = fake.calls("PUT", SESSION_PATH)
    assert status.body == b"" and status.header("content-length") == "0"
    assert rest.header("content-range") == "bytes 42-99/100"
    assert rest.body == VIDEO[42:]


def test_a_resume_of_a_finished_upload_returns_the_video_without_sending_again(
    fake: FakeNetwork, publisher: YouTubePublisher, content: Path
) -> None:
    fake.route("PUT", SESSION_PATH, Reply(200, json=RESOURCE))
    post = video_post(content, checkpoint={"upload_url": f"{fake.url}{SESSION_PATH}", "size": 100})
    assert publisher.publish(post, credentials()).remote_id == "dQw4w9WgXcQ"
    (only,) = fake.calls("PUT", SESSION_PATH)
    assert only.header("content-range") == "bytes */100"


def test_a_post_without_a_video_is_refused(
    fake: FakeNetwork, publisher: YouTubePublisher, tmp_path: Path
) -> None:
    post = make_post("youtube", CHANNEL, text="No video")
    with pytest.raises(Permanent, match="no video"):
        publisher.publish(post, credentials())
    assert fake.requests == []


def test_invalid_credentials_need_auth(
    fake: FakeNetwork, publisher: YouTubePublisher, content: Path
) -> None:
    fake.route(
        "POST",
        INSERT,
        Reply(
            401,
            json={
                "error": {
                    "code": 401,
                    "message": "Invalid Credentials",
                    "errors": [{"reason": "authError"}],
                }
            },
        ),
    )
    with pytest.raises(NeedsAuth, match="Invalid Credentials") as caught:
        publisher.publish(video_post(content), credentials())
    assert TOKEN not in str(caught.value)


def test_an_exhausted_quota_waits_until_midnight_pacific(
    fake: FakeNetwork, publisher: YouTubePublisher, content: Path
) -> None:
    fake.route(
        "POST",
        INSERT,
        Reply(
            403,
            json={
                "error": {
                    "code": 403,
                    "message": "The request cannot be completed because you have "
                    "exceeded your quota.",
                    "errors": [{"reason": "quotaExceeded", "domain": "youtube.quota"}],
                }
            },
        ),
    )
    with pytest.raises(Transient, match="exceeded your quota") as caught:
        publisher.publish(video_post(content), credentials())
    expected = seconds_until_pacific_midnight(datetime.now(UTC))
    assert caught.value.retry_after is not None
    assert abs(caught.value.retry_after - expected) < 5


def test_midnight_pacific_is_counted_in_pacific_time() -> None:
    # 2026-12-01 08:00 UTC is 00:00 PST: a whole day until the next reset.
    assert seconds_until_pacific_midnight(DUE) == 24 * 3600
    assert seconds_until_pacific_midnight(DUE + timedelta(hours=23)) == 3600


def test_a_server_error_is_transient(
    fake: FakeNetwork, publisher: YouTubePublisher, content: Path
) -> None:
    fake.route(
        "POST", INSERT, Reply(503, json={"error": {"code": 503, "message": "Backend Error"}})
    )
    with pytest.raises(Transient) as caught:
        publisher.publish(video_post(content), credentials())
    assert caught.value.sent is False


def test_no_answer_to_the_upload_is_unconfirmed(
    fake: FakeNetwork, publisher: YouTubePublisher, content: Path, checkpoints: Checkpoints
) -> None:
    fake.route("POST", INSERT, session_opened(fake))
    fake.route("PUT", SESSION_PATH, Reply(200, json=RESOURCE, delay=3))
    with pytest.raises(Transient) as caught:
        publisher.publish(video_post(content), credentials(), checkpoints)
    assert caught.value.sent is True
    assert checkpoints.merged["upload_url"].endswith("upload_id=xa298sd_f")


def test_invalid_metadata_is_permanent_with_youtubes_message(
    fake: FakeNetwork, publisher: YouTubePublisher, content: Path
) -> None:
    fake.route(
        "POST",
        INSERT,
        Reply(
            400,
            json={
                "error": {
                    "code": 400,
                    "message": "The request metadata specifies an invalid video title.",
                    "errors": [{"reason": "invalidTitle"}],
                }
            },
        ),
    )
    with pytest.raises(Permanent, match="invalid video title"):
        publisher.publish(video_post(content), credentials())


def test_find_asks_the_checkpointed_session_which_knows_the_video(
    fake: FakeNetwork, publisher: YouTubePublisher, content: Path
) -> None:
    fake.route("PUT", SESSION_PATH, Reply(201, json=RESOURCE))
    post = video_post(content, checkpoint={"upload_url": f"{fake.url}{SESSION_PATH}", "size": 100})
    found = publisher.find(post, credentials())
    assert found is not None and found.remote_id == "dQw4w9WgXcQ"


def test_find_of_an_incomplete_upload_is_absent_so_publishing_resumes(
    fake: FakeNetwork, publisher: YouTubePublisher, content: Path
) -> None:
    fake.route("PUT", SESSION_PATH, Reply(308, headers={"Range": "bytes=0-9"}))
    post = video_post(content, checkpoint={"upload_url": f"{fake.url}{SESSION_PATH}", "size": 100})
    assert publisher.find(post, credentials()) is None


def test_find_without_a_session_knows_nothing_was_sent(
    fake: FakeNetwork, publisher: YouTubePublisher, content: Path
) -> None:
    assert publisher.find(video_post(content), credentials()) is None
    assert fake.requests == []


def test_find_after_the_session_expired_looks_through_the_uploads(
    fake: FakeNetwork, publisher: YouTubePublisher, content: Path
) -> None:
    fake.route(
        "PUT", SESSION_PATH, Reply(404, json={"error": {"code": 404, "message": "Not Found"}})
    )
    fake.route(
        "GET",
        "/youtube/v3/channels",
        Reply(json={"items": [{"contentDetails": {"relatedPlaylists": {"uploads": "UUbrand"}}}]}),
    )
    post = video_post(content, checkpoint={"upload_url": f"{fake.url}{SESSION_PATH}", "size": 100})
    fake.route(
        "GET",
        "/youtube/v3/playlistItems",
        Reply(
            json={
                "items": [
                    {
                        "snippet": {
                            "title": "The comfort SUV arrives",
                            "description": post.text,
                            "resourceId": {"kind": "youtube#video", "videoId": "abc123"},
                        }
                    }
                ]
            }
        ),
    )
    found = publisher.find(post, credentials())
    assert found is not None and found.remote_id == "abc123"
    (listing,) = fake.calls("GET", "/youtube/v3/playlistItems")
    assert listing.q("playlistId") == "UUbrand"


def test_find_cannot_check_when_the_session_cannot_be_asked(
    fake: FakeNetwork, publisher: YouTubePublisher, content: Path
) -> None:
    fake.route(
        "PUT", SESSION_PATH, Reply(500, json={"error": {"code": 500, "message": "Backend Error"}})
    )
    post = video_post(content, checkpoint={"upload_url": f"{fake.url}{SESSION_PATH}", "size": 100})
    with pytest.raises(CannotCheck):
        publisher.find(post, credentials())


def test_describe_is_the_session_opening_request(
    publisher: YouTubePublisher, fake: FakeNetwork, content: Path
) -> None:
    described = publisher.describe(video_post(content))
    assert (
        described["url"]
        == f"{fake.url}/upload/youtube/v3/videos?uploadType=resumable&part=snippet,status"
    )
    assert described["json"]["status"]["publishAt"] == "2026-12-01T08:00:00Z"
    assert described["media"] == [{"file": "suv.mp4"}]


def test_accounts_check_reports_the_tokens_expiry_and_channel(
    fake: FakeNetwork, publisher: YouTubePublisher
) -> None:
    fake.route(
        "GET", "/oauth2/v3/tokeninfo", Reply(json={"exp": "1796112000", "expires_in": "3599"})
    )
    fake.route("GET", "/youtube/v3/channels", Reply(json={"items": [{"id": CHANNEL}]}))
    status = publisher.check(credentials())
    assert status.valid is True
    assert status.expires_at == datetime.fromtimestamp(1796112000, UTC)
    assert status.detail == f"channel {CHANNEL}"


def test_accounts_check_of_a_dead_token_needs_auth(
    fake: FakeNetwork, publisher: YouTubePublisher
) -> None:
    fake.route(
        "GET",
        "/oauth2/v3/tokeninfo",
        Reply(400, json={"error": "invalid_token", "error_description": "Invalid Value"}),
    )
    with pytest.raises(NeedsAuth):
        publisher.check(credentials())
