"""Instagram publisher against a local Graph API: containers, waiting, quota, resume, find."""

from __future__ import annotations

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

from scheduler.core.errors import NeedsAuth, Permanent, Transient
from scheduler.core.model import Media
from scheduler.publishers.base import OutgoingPost, Published, Publisher
from scheduler.publishers.http import HttpClient
from scheduler.publishers.instagram import InstagramPublisher
from scheduler.publishers.meta import Polling

IG = "17841400000000001"
V = "/v26.0"
MEDIA = f"{V}/{IG}/media"
PUBLISH = f"{V}/{IG}/media_publish"
LIMIT = f"{V}/{IG}/content_publishing_limit"
CDN = "https://cdn.brand.example/content"
FRONT = Media(file="media/suv-front.jpg", alt="The SUV from the front")
BACK = Media(file="media/suv-back.jpg", alt="")
REEL = Media(file="media/teaser.mp4", alt="", kind="video")


def quota(used: int = 3, total: int = 100) -> Reply:
    return Reply(
        200,
        {
            "data": [
                {"quota_usage": used, "config": {"quota_total": total, "quota_duration": 86400}}
            ]
        },
    )


def status(code: str, detail: str | None = None) -> Reply:
    body = {"status_code": code, "id": "c"}
    if detail:
        body["status"] = detail
    return Reply(200, body)


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def publisher(fake_api: FakeApi, http: HttpClient, sleeps: list[float]) -> InstagramPublisher:
    return InstagramPublisher(
        settings_for("instagram", fake_api.base_url + V, media_base_url=CDN),
        http,
        polling=Polling(interval=0.01, max_wait=0.2, retry_after=60),
        sleep=sleeps.append,
    )


def post_with(
    content_dir: Path, *media: Media, checkpoint: dict[str, object] | None = None
) -> OutgoingPost:
    return make_post("instagram", IG, content_dir, media=media, checkpoint=checkpoint)


def test_it_is_a_publisher_on_graph_facebook_com(http: HttpClient) -> None:
    from scheduler.app.settings import Settings

    assert isinstance(InstagramPublisher(Settings(), http), Publisher)
    assert InstagramPublisher(Settings(), http).base == "https://graph.facebook.com/v26.0"


def test_an_image_post_is_quota_container_status_publish_with_the_documented_fields(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", MEDIA, Reply(200, {"id": "C1"}))
    fake_api.on("GET", f"{V}/C1", status("FINISHED"))
    fake_api.on("POST", PUBLISH, Reply(200, {"id": "M1"}))
    fake_api.on("GET", f"{V}/M1", Reply(200, {"permalink": "https://www.instagram.com/p/abc/"}))
    post = post_with(content_dir, FRONT)
    saved = Checkpoints()
    result = publisher.publish(post, credentials("instagram", IG), saved)
    assert result == Published("M1", "https://www.instagram.com/p/abc/")
    assert [(r.method, r.path) for r in fake_api.requests] == [
        ("GET", LIMIT),
        ("POST", MEDIA),
        ("GET", f"{V}/C1"),
        ("POST", PUBLISH),
        ("GET", f"{V}/M1"),
    ]
    limit, container, poll, publish, _ = fake_api.requests
    assert limit.query == {"fields": "quota_usage,config", "access_token": TOKEN}
    assert container.form == {
        "image_url": f"{CDN}/media/suv-front.jpg",
        "alt_text": "The SUV from the front",
        "caption": post.text,
        "access_token": TOKEN,
    }
    assert poll.query == {"fields": "status_code,status", "access_token": TOKEN}
    assert publish.form == {"creation_id": "C1", "access_token": TOKEN}
    assert saved.calls == [{"container_id": "C1"}, {"container_id": "C1", "media_id": "M1"}]


def test_a_video_is_published_as_a_reel(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", MEDIA, Reply(200, {"id": "C1"}))
    fake_api.on("GET", f"{V}/C1", status("FINISHED"))
    fake_api.on("POST", PUBLISH, Reply(200, {"id": "M1"}))
    fake_api.on("GET", f"{V}/M1", Reply(200, {"permalink": "https://www.instagram.com/reel/x/"}))
    publisher.publish(post_with(content_dir, REEL), credentials("instagram", IG))
    [container] = fake_api.calls("POST", MEDIA)
    assert container.form["media_type"] == "REELS"
    assert container.form["video_url"] == f"{CDN}/media/teaser.mp4"


def test_a_carousel_makes_children_then_a_parent_then_publishes_the_parent(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on(
        "POST", MEDIA, Reply(200, {"id": "K1"}), Reply(200, {"id": "K2"}), Reply(200, {"id": "P"})
    )
    for cid in ("K1", "K2", "P"):
        fake_api.on("GET", f"{V}/{cid}", status("FINISHED"))
    fake_api.on("POST", PUBLISH, Reply(200, {"id": "M9"}))
    fake_api.on("GET", f"{V}/M9", Reply(200, {"permalink": "https://www.instagram.com/p/c/"}))
    post = post_with(content_dir, FRONT, BACK)
    saved = Checkpoints()
    assert publisher.publish(post, credentials("instagram", IG), saved).remote_id == "M9"
    first, second, parent = fake_api.calls("POST", MEDIA)
    assert first.form["is_carousel_item"] == "true"
    assert "caption" not in first.form
    assert second.form["image_url"] == f"{CDN}/media/suv-back.jpg"
    assert parent.form["media_type"] == "CAROUSEL"
    assert parent.form["children"] == "K1,K2"
    assert parent.form["caption"] == post.text
    assert fake_api.calls("POST", PUBLISH)[0].form["creation_id"] == "P"
    assert saved.calls[:3] == [
        {"children": ["K1"]},
        {"children": ["K1", "K2"]},
        {"children": ["K1", "K2"], "container_id": "P"},
    ]


def test_a_container_still_processing_is_waited_for_then_published(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path, sleeps: list[float]
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", MEDIA, Reply(200, {"id": "C1"}))
    fake_api.on("GET", f"{V}/C1", status("IN_PROGRESS"), status("IN_PROGRESS"), status("FINISHED"))
    fake_api.on("POST", PUBLISH, Reply(200, {"id": "M1"}))
    fake_api.on("GET", f"{V}/M1", Reply(200, {}))
    result = publisher.publish(post_with(content_dir, REEL), credentials("instagram", IG))
    assert result == Published("M1", None)
    assert sleeps == [0.01, 0.01]
    assert len(fake_api.calls("GET", f"{V}/C1")) == 3


def test_a_container_still_processing_at_the_end_is_transient_and_keeps_the_container(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", MEDIA, Reply(200, {"id": "C1"}))
    fake_api.on("GET", f"{V}/C1", status("IN_PROGRESS"), repeat=True)
    saved = Checkpoints()
    with pytest.raises(Transient, match="still processing") as caught:
        publisher.publish(post_with(content_dir, REEL), credentials("instagram", IG), saved)
    assert caught.value.retry_after == 60
    assert saved.state == {"container_id": "C1"}
    assert fake_api.calls("POST", PUBLISH) == []


def test_a_retry_resumes_from_the_checkpointed_container_without_a_second_one(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("GET", f"{V}/C1", status("FINISHED"))
    fake_api.on("POST", PUBLISH, Reply(200, {"id": "M1"}))
    fake_api.on("GET", f"{V}/M1", Reply(200, {"permalink": "https://www.instagram.com/p/r/"}))
    post = post_with(content_dir, FRONT, checkpoint={"container_id": "C1"})
    assert publisher.publish(post, credentials("instagram", IG)).remote_id == "M1"
    assert fake_api.calls("POST", MEDIA) == []
    assert fake_api.calls("POST", PUBLISH)[0].form["creation_id"] == "C1"


def test_a_carousel_retry_reuses_children_already_made(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", MEDIA, Reply(200, {"id": "K2"}), Reply(200, {"id": "P"}))
    for cid in ("K1", "K2", "P"):
        fake_api.on("GET", f"{V}/{cid}", status("FINISHED"))
    fake_api.on("POST", PUBLISH, Reply(200, {"id": "M9"}))
    fake_api.on("GET", f"{V}/M9", Reply(200, {}))
    post = post_with(content_dir, FRONT, BACK, checkpoint={"children": ["K1"]})
    publisher.publish(post, credentials("instagram", IG))
    child, parent = fake_api.calls("POST", MEDIA)
    assert child.form["image_url"].endswith("suv-back.jpg")
    assert parent.form["children"] == "K1,K2"


def test_an_expired_container_is_dropped_so_the_retry_makes_a_new_one(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("GET", f"{V}/C1", status("EXPIRED"))
    saved = Checkpoints()
    post = post_with(content_dir, FRONT, checkpoint={"container_id": "C1"})
    with pytest.raises(Transient, match="expired"):
        publisher.publish(post, credentials("instagram", IG), saved)
    assert saved.calls[-1] == {}


def test_a_container_in_error_is_permanent_with_metas_reason(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", MEDIA, Reply(200, {"id": "C1"}))
    fake_api.on("GET", f"{V}/C1", status("ERROR", "2207026: unsupported video format"))
    with pytest.raises(Permanent, match="unsupported video format"):
        publisher.publish(post_with(content_dir, REEL), credentials("instagram", IG))


def test_an_exhausted_publishing_quota_is_transient_before_anything_is_created(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota(used=100, total=100))
    with pytest.raises(Transient, match="quota") as caught:
        publisher.publish(post_with(content_dir, FRONT), credentials("instagram", IG))
    assert caught.value.retry_after == 3600
    assert fake_api.calls("POST", MEDIA) == []


def test_the_publish_limit_error_code_is_transient(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", MEDIA, Reply(200, {"id": "C1"}))
    fake_api.on("GET", f"{V}/C1", status("FINISHED"))
    fake_api.on(
        "POST",
        PUBLISH,
        Reply(400, graph_error(9, "Application request limit reached", subcode=2207042)),
    )
    with pytest.raises(Transient):
        publisher.publish(post_with(content_dir, FRONT), credentials("instagram", IG))


def test_a_missing_media_base_url_is_a_clear_permanent_error_before_any_call(
    fake_api: FakeApi, http: HttpClient, content_dir: Path
) -> None:
    publisher = InstagramPublisher(settings_for("instagram", fake_api.base_url + V), http)
    with pytest.raises(Permanent, match="STORYLINE_MEDIA_BASE_URL"):
        publisher.publish(post_with(content_dir, FRONT), credentials("instagram", IG))
    assert fake_api.requests == []


def test_a_post_without_media_is_refused(publisher: InstagramPublisher, content_dir: Path) -> None:
    with pytest.raises(Permanent, match="need one"):
        publisher.publish(post_with(content_dir), credentials("instagram", IG))


def test_an_expired_token_needs_auth(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, Reply(400, graph_error(190, "Session has expired", subcode=463)))
    with pytest.raises(NeedsAuth, match="Session has expired"):
        publisher.publish(post_with(content_dir, FRONT), credentials("instagram", IG))


def test_rate_limit_with_retry_after_is_transient(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on(
        "POST",
        MEDIA,
        Reply(429, graph_error(4, "Application request limit reached"), {"Retry-After": "90"}),
    )
    with pytest.raises(Transient) as caught:
        publisher.publish(post_with(content_dir, FRONT), credentials("instagram", IG))
    assert caught.value.retry_after == 90


def test_a_server_error_is_transient(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, Reply(502, None))
    with pytest.raises(Transient) as caught:
        publisher.publish(post_with(content_dir, FRONT), credentials("instagram", IG))
    assert caught.value.http_status == 502


def test_a_timeout_on_media_publish_is_transient_and_sent(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", MEDIA, Reply(200, {"id": "C1"}))
    fake_api.on("GET", f"{V}/C1", status("FINISHED"))
    fake_api.on("POST", PUBLISH, Reply(200, {"id": "M1"}, delay=2.0))
    saved = Checkpoints()
    with pytest.raises(Transient) as caught:
        publisher.publish(post_with(content_dir, FRONT), credentials("instagram", IG), saved)
    assert caught.value.sent
    assert saved.state == {"container_id": "C1"}


def test_a_validation_error_is_permanent_with_metas_message(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on(
        "POST",
        MEDIA,
        Reply(400, graph_error(100, "The aspect ratio is not supported.", subcode=2207009)),
    )
    with pytest.raises(Permanent, match="aspect ratio"):
        publisher.publish(post_with(content_dir, FRONT), credentials("instagram", IG))


def test_describe_is_the_first_container_request(
    publisher: InstagramPublisher, fake_api: FakeApi, content_dir: Path
) -> None:
    post = post_with(content_dir, FRONT)
    assert publisher.describe(post) == {
        "method": "POST",
        "url": f"{fake_api.base_url}{MEDIA}",
        "data": {
            "image_url": f"{CDN}/media/suv-front.jpg",
            "alt_text": "The SUV from the front",
            "caption": post.text,
        },
    }


# --- find after a crash ---------------------------------------------------------------------


def test_find_after_a_crash_finds_the_media_by_caption(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    post = post_with(content_dir, FRONT)
    fake_api.on(
        "GET",
        MEDIA,
        Reply(
            200,
            {
                "data": [
                    {
                        "id": "M7",
                        "caption": post.text,
                        "timestamp": "2026-12-01T08:00:04+0000",
                        "permalink": "https://www.instagram.com/p/m7/",
                    }
                ]
            },
        ),
    )
    found = publisher.find(post, credentials("instagram", IG))
    assert found == Published("M7", "https://www.instagram.com/p/m7/")
    assert fake_api.requests[0].query["fields"] == "id,caption,timestamp,permalink"


def test_find_after_a_crash_reports_certainly_absent(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on(
        "GET",
        MEDIA,
        Reply(
            200, {"data": [{"id": "1", "caption": "x", "timestamp": "2026-11-20T08:00:00+0000"}]}
        ),
    )
    assert publisher.find(post_with(content_dir, FRONT), credentials("instagram", IG)) is None


def test_find_with_an_unpublished_container_is_certainly_absent(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", f"{V}/C1", status("FINISHED"))
    post = post_with(content_dir, FRONT, checkpoint={"container_id": "C1"})
    assert publisher.find(post, credentials("instagram", IG)) is None
    assert fake_api.calls("GET", MEDIA) == []


def test_a_published_container_without_a_media_id_is_found_and_not_republished(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    post = post_with(content_dir, FRONT, checkpoint={"container_id": "C1"})
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("GET", f"{V}/C1", status("PUBLISHED"), repeat=True)
    fake_api.on(
        "GET",
        MEDIA,
        Reply(
            200,
            {"data": [{"id": "M5", "caption": post.text, "timestamp": "2026-12-01T08:00:01+0000"}]},
        ),
    )
    assert publisher.publish(post, credentials("instagram", IG)).remote_id == "M5"
    assert fake_api.calls("POST", PUBLISH) == []


def test_first_comment_is_posted_under_the_new_media(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", MEDIA, Reply(200, {"id": "C1"}))
    fake_api.on("GET", f"{V}/C1", status("FINISHED"))
    fake_api.on("POST", PUBLISH, Reply(200, {"id": "M1"}))
    fake_api.on("POST", f"{V}/M1/comments", Reply(200, {"id": "CM1"}))
    fake_api.on("GET", f"{V}/M1", Reply(200, {}))
    post = make_post("instagram", IG, content_dir, media=(FRONT,), first_comment="Link in bio")
    publisher.publish(post, credentials("instagram", IG))
    [comment] = fake_api.calls("POST", f"{V}/M1/comments")
    assert comment.form == {"message": "Link in bio", "access_token": TOKEN}


def test_a_published_media_id_in_the_checkpoint_is_not_published_again(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", f"{V}/M1", Reply(200, {"permalink": "https://www.instagram.com/p/m1/"}))
    post = post_with(content_dir, FRONT, checkpoint={"container_id": "C1", "media_id": "M1"})
    result = publisher.publish(post, credentials("instagram", IG))
    assert result == Published("M1", "https://www.instagram.com/p/m1/")
    assert [r.path for r in fake_api.requests] == [f"{V}/M1"]


def test_a_retry_after_the_media_went_out_only_adds_the_comment(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("POST", f"{V}/M1/comments", Reply(200, {"id": "CM1"}))
    fake_api.on("GET", f"{V}/M1", Reply(200, {}))
    post = make_post(
        "instagram",
        IG,
        content_dir,
        media=(FRONT,),
        first_comment="Link in bio",
        checkpoint={"container_id": "C1", "media_id": "M1"},
    )
    saved = Checkpoints()
    assert publisher.publish(post, credentials("instagram", IG), saved).remote_id == "M1"
    assert [r.path for r in fake_api.requests] == [f"{V}/M1/comments", f"{V}/M1"]
    assert saved.state["comment_id"] == "CM1"


def test_a_first_comment_hitting_a_rate_limit_keeps_the_media_id(
    fake_api: FakeApi, publisher: InstagramPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", MEDIA, Reply(200, {"id": "C1"}))
    fake_api.on("GET", f"{V}/C1", status("FINISHED"))
    fake_api.on("POST", PUBLISH, Reply(200, {"id": "M1"}))
    fake_api.on("POST", f"{V}/M1/comments", Reply(400, graph_error(4, "Application limit")))
    saved = Checkpoints()
    post = make_post("instagram", IG, content_dir, media=(FRONT,), first_comment="Link in bio")
    with pytest.raises(Transient):
        publisher.publish(post, credentials("instagram", IG), saved)
    assert saved.state == {"container_id": "C1", "media_id": "M1"}
