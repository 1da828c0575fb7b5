"""Facebook Pages publisher against a local Graph API: the documented requests and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from meta_fakeapi import (
    TOKEN,
    Checkpoints,
    FakeApi,
    Reply,
    credentials,
    graph_error,
    make_post,
    settings_for,
)

from scheduler.core.errors import CannotCheck, NeedsAuth, Permanent, Transient
from scheduler.core.model import Media
from scheduler.publishers.base import Published, Publisher
from scheduler.publishers.facebook import FacebookPublisher
from scheduler.publishers.http import HttpClient
from scheduler.publishers.meta import GRAPH_BASE

PAGE = "100200300"
V = "/v26.0"
FEED = f"{V}/{PAGE}/feed"
PHOTOS = f"{V}/{PAGE}/photos"


@pytest.fixture
def publisher(fake_api: FakeApi, http: HttpClient) -> FacebookPublisher:
    return FacebookPublisher(settings_for("facebook", fake_api.base_url + V), http)


def test_it_is_a_publisher_needing_a_page_token(publisher: FacebookPublisher) -> None:
    assert isinstance(publisher, Publisher)
    assert publisher.requires == ("access_token",)


def test_the_documented_base_url_is_graph_api_v26(http: HttpClient) -> None:
    from scheduler.app.settings import Settings

    assert FacebookPublisher(Settings(), http).base == "https://graph.facebook.com/v26.0"
    assert GRAPH_BASE == "https://graph.facebook.com/v26.0"


def test_a_link_post_is_one_feed_post_with_message_link_and_page_token(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on("POST", FEED, Reply(200, {"id": f"{PAGE}_555"}))
    post = make_post("facebook", PAGE, content_dir)
    result = publisher.publish(post, credentials("facebook", PAGE))
    assert result == Published(f"{PAGE}_555", f"https://www.facebook.com/{PAGE}_555")
    [req] = fake_api.requests
    assert (req.method, req.path) == ("POST", FEED)
    assert req.form == {
        "message": post.text,
        "link": "https://brand.example/suv",
        "access_token": TOKEN,
    }
    assert "access_token" not in req.query  # the token stays out of the URL


def test_describe_is_the_first_request_without_the_token(
    publisher: FacebookPublisher, fake_api: FakeApi, content_dir: Path
) -> None:
    post = make_post("facebook", PAGE, content_dir)
    assert publisher.describe(post) == {
        "method": "POST",
        "url": f"{fake_api.base_url}{FEED}",
        "data": {"message": post.text, "link": "https://brand.example/suv"},
    }


def test_a_photo_post_uploads_the_file_with_the_message(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on("POST", PHOTOS, Reply(200, {"id": "777", "post_id": f"{PAGE}_778"}))
    post = make_post(
        "facebook", PAGE, content_dir, media=(Media(file="media/suv-front.jpg", alt="front"),)
    )
    result = publisher.publish(post, credentials("facebook", PAGE))
    assert result.remote_id == f"{PAGE}_778"
    [req] = fake_api.requests
    assert req.form["message"] == f"{post.text}\n\nhttps://brand.example/suv"
    assert req.form["access_token"] == TOKEN
    assert req.files["source"] == ("suv-front.jpg", b"\xff\xd8\xff\xe0front-jpeg", "image/jpeg")


def test_several_photos_are_uploaded_unpublished_then_attached_to_one_feed_post(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on("POST", PHOTOS, Reply(200, {"id": "901"}), Reply(200, {"id": "902"}))
    fake_api.on("POST", FEED, Reply(200, {"id": f"{PAGE}_903"}))
    media = (Media(file="media/suv-front.jpg", alt=""), Media(file="media/suv-back.jpg", alt=""))
    saved = Checkpoints()
    result = publisher.publish(
        make_post("facebook", PAGE, content_dir, media=media), credentials("facebook", PAGE), saved
    )
    assert result.remote_id == f"{PAGE}_903"
    uploads = fake_api.calls("POST", PHOTOS)
    assert [u.form["published"] for u in uploads] == ["false", "false"]
    [feed] = fake_api.calls("POST", FEED)
    assert json.loads(feed.form["attached_media[0]"]) == {"media_fbid": "901"}
    assert json.loads(feed.form["attached_media[1]"]) == {"media_fbid": "902"}
    assert saved.calls[0] == {"photo_ids": ["901"]}
    assert saved.state["post_id"] == f"{PAGE}_903"


def test_a_retry_reuses_photos_already_uploaded(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on("POST", PHOTOS, Reply(200, {"id": "902"}))
    fake_api.on("POST", FEED, Reply(200, {"id": f"{PAGE}_903"}))
    media = (Media(file="media/suv-front.jpg", alt=""), Media(file="media/suv-back.jpg", alt=""))
    post = make_post("facebook", PAGE, content_dir, media=media, checkpoint={"photo_ids": ["901"]})
    publisher.publish(post, credentials("facebook", PAGE))
    [upload] = fake_api.calls("POST", PHOTOS)
    assert upload.files["source"][0] == "suv-back.jpg"


def test_first_comment_is_posted_on_the_new_post(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on("POST", FEED, Reply(200, {"id": f"{PAGE}_555"}))
    fake_api.on("POST", f"{V}/{PAGE}_555/comments", Reply(200, {"id": "555_1"}))
    post = make_post(
        "facebook", PAGE, content_dir, link=None, first_comment="More: https://brand.example/suv"
    )
    saved = Checkpoints()
    publisher.publish(post, credentials("facebook", PAGE), saved)
    [comment] = fake_api.calls("POST", f"{V}/{PAGE}_555/comments")
    assert comment.form == {"message": "More: https://brand.example/suv", "access_token": TOKEN}
    assert "link" not in fake_api.calls("POST", FEED)[0].form
    assert saved.state == {"post_id": f"{PAGE}_555", "comment_id": "555_1"}


def test_a_retry_after_the_post_went_out_only_adds_the_comment(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on("POST", f"{V}/{PAGE}_555/comments", Reply(200, {"id": "555_1"}))
    post = make_post(
        "facebook", PAGE, content_dir, first_comment="More", checkpoint={"post_id": f"{PAGE}_555"}
    )
    result = publisher.publish(post, credentials("facebook", PAGE))
    assert result.remote_id == f"{PAGE}_555"
    assert fake_api.calls("POST", FEED) == []


def test_an_expired_token_needs_auth_and_never_shows_the_token(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on(
        "POST",
        FEED,
        Reply(400, graph_error(190, f"Error validating access token {TOKEN}", subcode=463)),
    )
    with pytest.raises(NeedsAuth) as caught:
        publisher.publish(make_post("facebook", PAGE, content_dir), credentials("facebook", PAGE))
    assert "Error validating access token" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_a_missing_permission_needs_auth(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on("POST", FEED, Reply(403, graph_error(200, "Requires pages_manage_posts")))
    with pytest.raises(NeedsAuth, match="pages_manage_posts"):
        publisher.publish(make_post("facebook", PAGE, content_dir), credentials("facebook", PAGE))


def test_rate_limit_with_retry_after_is_transient_with_that_delay(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on(
        "POST",
        FEED,
        Reply(400, graph_error(32, "Page request limit reached"), {"Retry-After": "120"}),
    )
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("facebook", PAGE, content_dir), credentials("facebook", PAGE))
    assert caught.value.retry_after == 120
    assert not caught.value.sent


def test_app_throttling_without_header_backs_off_by_default(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on("POST", FEED, Reply(400, graph_error(4, "Application request limit reached")))
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("facebook", PAGE, content_dir), credentials("facebook", PAGE))
    assert caught.value.retry_after == 300


def test_business_use_case_throttling_waits_the_estimated_time(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    usage = {PAGE: [{"type": "pages", "call_count": 100, "estimated_time_to_regain_access": 7}]}
    fake_api.on(
        "POST",
        FEED,
        Reply(
            400,
            graph_error(80001, "There have been too many calls to this Page account"),
            {"X-Business-Use-Case-Usage": json.dumps(usage)},
        ),
    )
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("facebook", PAGE, content_dir), credentials("facebook", PAGE))
    assert caught.value.retry_after == 7 * 60


def test_a_server_error_is_transient_and_not_sent(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on("POST", FEED, Reply(503, {"error": {"message": "Service unavailable", "code": 2}}))
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("facebook", PAGE, content_dir), credentials("facebook", PAGE))
    assert caught.value.http_status == 503
    assert not caught.value.sent


def test_an_unknown_error_after_a_write_may_have_been_sent(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on("POST", FEED, Reply(500, graph_error(1, "An unknown error occurred")))
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("facebook", PAGE, content_dir), credentials("facebook", PAGE))
    assert caught.value.sent


def test_a_timeout_is_transient_and_marked_sent(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on("POST", FEED, Reply(200, {"id": "late"}, delay=2.0))
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("facebook", PAGE, content_dir), credentials("facebook", PAGE))
    assert caught.value.sent


def test_a_validation_error_is_permanent_with_metas_message(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on(
        "POST",
        FEED,
        Reply(400, graph_error(100, "(#100) Invalid parameter", kind="GraphMethodException")),
    )
    with pytest.raises(Permanent, match=r"Invalid parameter"):
        publisher.publish(make_post("facebook", PAGE, content_dir), credentials("facebook", PAGE))


def test_a_duplicate_refusal_that_find_confirms_is_a_success(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    post = make_post("facebook", PAGE, content_dir)
    fake_api.on("POST", FEED, Reply(400, graph_error(506, "Duplicate status message")))
    fake_api.on(
        "GET",
        f"{V}/{PAGE}/published_posts",
        Reply(
            200,
            {
                "data": [
                    {
                        "id": f"{PAGE}_444",
                        "message": post.text,
                        "created_time": "2026-12-01T08:00:02+0000",
                        "permalink_url": "https://www.facebook.com/p/444",
                    }
                ]
            },
        ),
    )
    result = publisher.publish(post, credentials("facebook", PAGE))
    assert result == Published(f"{PAGE}_444", f"https://www.facebook.com/{PAGE}_444")


def test_a_duplicate_refusal_with_nothing_found_is_permanent(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on("POST", FEED, Reply(400, graph_error(506, "Duplicate status message")))
    fake_api.on("GET", f"{V}/{PAGE}/published_posts", Reply(200, {"data": []}))
    with pytest.raises(Permanent, match="Duplicate status message"):
        publisher.publish(make_post("facebook", PAGE, content_dir), credentials("facebook", PAGE))


def test_missing_credentials_need_auth(publisher: FacebookPublisher, content_dir: Path) -> None:
    from scheduler.publishers.base import Credentials

    with pytest.raises(NeedsAuth, match="no access_token"):
        publisher.publish(
            make_post("facebook", PAGE, content_dir), Credentials("facebook", PAGE, {})
        )


# --- find after a crash ---------------------------------------------------------------------


def test_find_after_a_crash_finds_the_post_by_its_message(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    post = make_post("facebook", PAGE, content_dir)
    fake_api.on(
        "GET",
        f"{V}/{PAGE}/published_posts",
        Reply(
            200,
            {
                "data": [
                    {
                        "id": f"{PAGE}_9",
                        "message": "another",
                        "created_time": "2026-12-01T09:00:00+0000",
                    },
                    {
                        "id": f"{PAGE}_8",
                        "message": post.text,
                        "created_time": "2026-12-01T08:00:01+0000",
                        "permalink_url": "https://www.facebook.com/x/8",
                    },
                ]
            },
        ),
    )
    found = publisher.find(post, credentials("facebook", PAGE))
    assert found == Published(f"{PAGE}_8", "https://www.facebook.com/x/8")
    [req] = fake_api.requests
    assert req.query["fields"] == "id,message,created_time,permalink_url"
    assert req.query["access_token"] == TOKEN
    assert int(req.query["since"]) == int(post.due_utc.timestamp()) - 3600


def test_find_after_a_crash_reports_certainly_absent(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on(
        "GET",
        f"{V}/{PAGE}/published_posts",
        Reply(
            200,
            {"data": [{"id": "1", "message": "old", "created_time": "2026-11-01T08:00:00+0000"}]},
        ),
    )
    assert (
        publisher.find(make_post("facebook", PAGE, content_dir), credentials("facebook", PAGE))
        is None
    )


def test_find_follows_pages_but_gives_up_with_cannot_check(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    page = {
        "data": [{"id": "1", "message": "other", "created_time": "2026-12-01T08:30:00+0000"}],
        "paging": {"cursors": {"after": "CURSOR"}, "next": "https://graph.facebook.com/next"},
    }
    fake_api.on("GET", f"{V}/{PAGE}/published_posts", Reply(200, page), repeat=True)
    with pytest.raises(CannotCheck):
        publisher.find(make_post("facebook", PAGE, content_dir), credentials("facebook", PAGE))
    calls = fake_api.calls("GET", f"{V}/{PAGE}/published_posts")
    assert len(calls) == 5
    assert calls[1].query["after"] == "CURSOR"


def test_find_trusts_the_checkpointed_post_id(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    post = make_post("facebook", PAGE, content_dir, checkpoint={"post_id": f"{PAGE}_1"})
    assert publisher.find(post, credentials("facebook", PAGE)) == Published(
        f"{PAGE}_1", f"https://www.facebook.com/{PAGE}_1"
    )
    assert fake_api.requests == []


def test_find_with_an_expired_token_needs_auth(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", f"{V}/{PAGE}/published_posts", Reply(400, graph_error(190, "expired")))
    with pytest.raises(NeedsAuth):
        publisher.find(make_post("facebook", PAGE, content_dir), credentials("facebook", PAGE))


def test_a_video_post_uploads_the_file_with_its_description(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on("POST", f"{V}/{PAGE}/videos", Reply(200, {"id": "31337"}))
    post = make_post(
        "facebook", PAGE, content_dir, media=(Media(file="media/teaser.mp4", alt="", kind="video"),)
    )
    assert publisher.publish(post, credentials("facebook", PAGE)).remote_id == "31337"
    [req] = fake_api.requests
    assert req.form == {
        "description": f"{post.text}\n\nhttps://brand.example/suv",
        "access_token": TOKEN,
    }
    assert req.files["source"] == ("teaser.mp4", b"\x00\x00\x00\x18ftypmp42", "video/mp4")


def test_photos_and_a_video_together_are_refused_before_any_request(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    media = (
        Media(file="media/suv-front.jpg", alt=""),
        Media(file="media/teaser.mp4", alt="", kind="video"),
    )
    with pytest.raises(Permanent, match="photos or one video"):
        publisher.publish(
            make_post("facebook", PAGE, content_dir, media=media), credentials("facebook", PAGE)
        )
    assert fake_api.requests == []


def test_a_media_path_leaving_the_content_folder_is_refused_before_any_request(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    post = make_post("facebook", PAGE, content_dir, media=(Media(file="../secrets.yaml", alt=""),))
    with pytest.raises(Permanent, match="inside the content folder"):
        publisher.publish(post, credentials("facebook", PAGE))
    assert fake_api.requests == []


def test_a_refused_first_comment_leaves_the_post_published(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on("POST", FEED, Reply(200, {"id": f"{PAGE}_555"}))
    fake_api.on(
        "POST", f"{V}/{PAGE}_555/comments", Reply(400, graph_error(100, "Invalid parameter"))
    )
    saved = Checkpoints()
    post = make_post("facebook", PAGE, content_dir, first_comment="More")
    assert publisher.publish(post, credentials("facebook", PAGE), saved).remote_id == f"{PAGE}_555"
    assert saved.state["comment_id"] == "refused"


def test_a_comment_hitting_a_rate_limit_is_retried_alone(
    fake_api: FakeApi, publisher: FacebookPublisher, content_dir: Path
) -> None:
    fake_api.on("POST", FEED, Reply(200, {"id": f"{PAGE}_555"}))
    fake_api.on("POST", f"{V}/{PAGE}_555/comments", Reply(400, graph_error(32, "Page limit")))
    saved = Checkpoints()
    post = make_post("facebook", PAGE, content_dir, first_comment="More")
    with pytest.raises(Transient):
        publisher.publish(post, credentials("facebook", PAGE), saved)
    assert saved.state == {"post_id": f"{PAGE}_555"}
