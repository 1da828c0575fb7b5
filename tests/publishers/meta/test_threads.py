"""Threads publisher against a local Threads API: containers, waiting, quota, resume, find."""

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

from scheduler.core.errors import CannotCheck, NeedsAuth, Permanent, Transient
from scheduler.core.model import Media
from scheduler.publishers.base import OutgoingPost, Published, Publisher
from scheduler.publishers.http import HttpClient
from scheduler.publishers.meta import Polling
from scheduler.publishers.threads import ThreadsPublisher

USER = "178400000101"
V = "/v1.0"
THREADS = f"{V}/{USER}/threads"
PUBLISH = f"{V}/{USER}/threads_publish"
LIMIT = f"{V}/{USER}/threads_publishing_limit"
CDN = "https://cdn.brand.example/content"
FRONT = Media(file="media/suv-front.jpg", alt="The SUV from the front")
BACK = Media(file="media/suv-back.jpg", alt="")
CLIP = Media(file="media/teaser.mp4", alt="", kind="video")


def quota(used: int = 4, total: int = 250) -> Reply:
    return Reply(
        200,
        {
            "data": [
                {"quota_usage": used, "config": {"quota_total": total, "quota_duration": 86400}}
            ]
        },
    )


def status(value: str, error: str | None = None) -> Reply:
    body = {"status": value, "id": "c"}
    if error:
        body["error_message"] = error
    return Reply(200, body)


def post_with(
    content_dir: Path,
    *media: Media,
    checkpoint: dict[str, object] | None = None,
    first_comment: str | None = None,
) -> OutgoingPost:
    return make_post(
        "threads",
        USER,
        content_dir,
        media=media,
        checkpoint=checkpoint,
        first_comment=first_comment,
    )


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def publisher(fake_api: FakeApi, http: HttpClient, sleeps: list[float]) -> ThreadsPublisher:
    return ThreadsPublisher(
        settings_for("threads", fake_api.base_url + V, media_base_url=CDN),
        http,
        polling=Polling(interval=0.01, max_wait=0.2, retry_after=60),
        sleep=sleeps.append,
    )


def published_ok(fake_api: FakeApi, container: str = "C1", media: str = "T1") -> None:
    fake_api.on("GET", f"{V}/{container}", status("FINISHED"))
    fake_api.on("POST", PUBLISH, Reply(200, {"id": media}))
    fake_api.on(
        "GET",
        f"{V}/{media}",
        Reply(200, {"permalink": f"https://www.threads.net/@holdout_fr/post/{media}"}),
    )


def test_the_documented_base_url_is_graph_threads_net(http: HttpClient) -> None:
    from scheduler.app.settings import Settings

    threads = ThreadsPublisher(Settings(), http)
    assert isinstance(threads, Publisher)
    assert threads.base == "https://graph.threads.net/v1.0"


def test_a_text_post_is_quota_container_status_publish_with_the_link_attachment(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", THREADS, Reply(200, {"id": "C1"}))
    published_ok(fake_api)
    post = post_with(content_dir)
    saved = Checkpoints()
    result = publisher.publish(post, credentials("threads", USER), saved)
    assert result == Published("T1", "https://www.threads.net/@holdout_fr/post/T1")
    assert [(r.method, r.path) for r in fake_api.requests] == [
        ("GET", LIMIT),
        ("POST", THREADS),
        ("GET", f"{V}/C1"),
        ("POST", PUBLISH),
        ("GET", f"{V}/T1"),
    ]
    limit, container, poll, publish, _ = fake_api.requests
    assert limit.query == {"fields": "quota_usage,config", "access_token": TOKEN}
    assert container.form == {
        "media_type": "TEXT",
        "text": post.text,
        "link_attachment": "https://brand.example/suv",
        "access_token": TOKEN,
    }
    assert poll.query == {"fields": "status,error_message", "access_token": TOKEN}
    assert publish.form == {"creation_id": "C1", "access_token": TOKEN}
    assert saved.state == {"container_id": "C1", "media_id": "T1"}


def test_an_image_post_gives_the_public_url_and_the_link_in_the_text(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", THREADS, Reply(200, {"id": "C1"}))
    published_ok(fake_api)
    post = post_with(content_dir, FRONT)
    publisher.publish(post, credentials("threads", USER))
    [container] = fake_api.calls("POST", THREADS)
    assert container.form == {
        "media_type": "IMAGE",
        "image_url": f"{CDN}/media/suv-front.jpg",
        "alt_text": "The SUV from the front",
        "text": f"{post.text}\n\nhttps://brand.example/suv",
        "access_token": TOKEN,
    }


def test_a_video_post_is_a_video_container(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", THREADS, Reply(200, {"id": "C1"}))
    published_ok(fake_api)
    publisher.publish(post_with(content_dir, CLIP), credentials("threads", USER))
    [container] = fake_api.calls("POST", THREADS)
    assert container.form["media_type"] == "VIDEO"
    assert container.form["video_url"] == f"{CDN}/media/teaser.mp4"


def test_a_carousel_makes_children_then_the_carousel_container(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on(
        "POST",
        THREADS,
        Reply(200, {"id": "K1"}),
        Reply(200, {"id": "K2"}),
        Reply(200, {"id": "C1"}),
    )
    for cid in ("K1", "K2"):
        fake_api.on("GET", f"{V}/{cid}", status("FINISHED"))
    published_ok(fake_api)
    saved = Checkpoints()
    publisher.publish(post_with(content_dir, FRONT, BACK), credentials("threads", USER), saved)
    first, second, parent = fake_api.calls("POST", THREADS)
    assert first.form["is_carousel_item"] == "true"
    assert first.form["media_type"] == "IMAGE"
    assert "text" not in first.form
    assert second.form["image_url"] == f"{CDN}/media/suv-back.jpg"
    assert parent.form["media_type"] == "CAROUSEL"
    assert parent.form["children"] == "K1,K2"
    assert saved.calls[:2] == [{"children": ["K1"]}, {"children": ["K1", "K2"]}]


def test_a_container_still_processing_is_waited_for_then_published(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path, sleeps: list[float]
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", THREADS, Reply(200, {"id": "C1"}))
    fake_api.on("GET", f"{V}/C1", status("IN_PROGRESS"), status("FINISHED"))
    fake_api.on("POST", PUBLISH, Reply(200, {"id": "T1"}))
    fake_api.on("GET", f"{V}/T1", Reply(200, {}))
    assert (
        publisher.publish(post_with(content_dir, CLIP), credentials("threads", USER)).remote_id
        == "T1"
    )
    assert sleeps == [0.01]


def test_a_container_still_processing_at_the_end_is_transient_keeping_the_container(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", THREADS, Reply(200, {"id": "C1"}))
    fake_api.on("GET", f"{V}/C1", status("IN_PROGRESS"), repeat=True)
    saved = Checkpoints()
    with pytest.raises(Transient, match="still processing"):
        publisher.publish(post_with(content_dir, CLIP), credentials("threads", USER), saved)
    assert saved.state == {"container_id": "C1"}
    assert fake_api.calls("POST", PUBLISH) == []


def test_a_retry_resumes_from_the_checkpointed_container_without_a_second_one(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    published_ok(fake_api)
    post = post_with(content_dir, checkpoint={"container_id": "C1"})
    assert publisher.publish(post, credentials("threads", USER)).remote_id == "T1"
    assert fake_api.calls("POST", THREADS) == []


def test_a_container_in_error_is_permanent_with_the_error_message(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", THREADS, Reply(200, {"id": "C1"}))
    fake_api.on("GET", f"{V}/C1", status("ERROR", "FAILED_PROCESSING_VIDEO"))
    with pytest.raises(Permanent, match="FAILED_PROCESSING_VIDEO"):
        publisher.publish(post_with(content_dir, CLIP), credentials("threads", USER))


def test_an_exhausted_quota_is_transient_before_any_container(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota(used=250))
    with pytest.raises(Transient, match="250 of 250") as caught:
        publisher.publish(post_with(content_dir), credentials("threads", USER))
    assert caught.value.retry_after == 3600
    assert fake_api.calls("POST", THREADS) == []


def test_a_missing_media_base_url_is_a_clear_error_before_any_call(
    fake_api: FakeApi, http: HttpClient, content_dir: Path
) -> None:
    publisher = ThreadsPublisher(settings_for("threads", fake_api.base_url + V), http)
    with pytest.raises(Permanent, match="STORYLINE_MEDIA_BASE_URL"):
        publisher.publish(post_with(content_dir, FRONT), credentials("threads", USER))
    assert fake_api.requests == []


def test_an_expired_token_needs_auth(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on(
        "POST",
        THREADS,
        Reply(401, graph_error(190, "Error validating access token: Session has expired")),
    )
    with pytest.raises(NeedsAuth, match="Session has expired"):
        publisher.publish(post_with(content_dir), credentials("threads", USER))


def test_rate_limit_with_retry_after_is_transient(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on(
        "POST",
        THREADS,
        Reply(429, graph_error(4, "Application request limit reached"), {"Retry-After": "45"}),
    )
    with pytest.raises(Transient) as caught:
        publisher.publish(post_with(content_dir), credentials("threads", USER))
    assert caught.value.retry_after == 45


def test_a_server_error_is_transient(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on(
        "POST", THREADS, Reply(500, {"error": {"message": "Service unavailable", "code": 2}})
    )
    with pytest.raises(Transient) as caught:
        publisher.publish(post_with(content_dir), credentials("threads", USER))
    assert not caught.value.sent


def test_a_timeout_on_publish_is_transient_and_sent(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", THREADS, Reply(200, {"id": "C1"}))
    fake_api.on("GET", f"{V}/C1", status("FINISHED"))
    fake_api.on("POST", PUBLISH, Reply(200, {"id": "T1"}, delay=2.0))
    with pytest.raises(Transient) as caught:
        publisher.publish(post_with(content_dir), credentials("threads", USER))
    assert caught.value.sent


def test_a_validation_error_is_permanent_with_the_networks_message(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on(
        "POST",
        THREADS,
        Reply(400, graph_error(100, "Param text must be at most 500 characters long.")),
    )
    with pytest.raises(Permanent, match="at most 500 characters"):
        publisher.publish(post_with(content_dir), credentials("threads", USER))


def test_first_comment_is_a_published_reply(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", LIMIT, quota())
    fake_api.on("POST", THREADS, Reply(200, {"id": "C1"}), Reply(200, {"id": "R1"}))
    fake_api.on("GET", f"{V}/C1", status("FINISHED"))
    fake_api.on("GET", f"{V}/R1", status("FINISHED"))
    fake_api.on("POST", PUBLISH, Reply(200, {"id": "T1"}), Reply(200, {"id": "T2"}))
    fake_api.on("GET", f"{V}/T1", Reply(200, {}))
    saved = Checkpoints()
    post = post_with(content_dir, first_comment="Details: https://brand.example/suv")
    assert publisher.publish(post, credentials("threads", USER), saved).remote_id == "T1"
    reply = fake_api.calls("POST", THREADS)[1]
    assert reply.form["reply_to_id"] == "T1"
    assert reply.form["text"] == "Details: https://brand.example/suv"
    assert [p.form["creation_id"] for p in fake_api.calls("POST", PUBLISH)] == ["C1", "R1"]
    assert saved.state["reply_id"] == "T2"


def test_describe_is_the_first_container_request(
    publisher: ThreadsPublisher, fake_api: FakeApi, content_dir: Path
) -> None:
    post = post_with(content_dir)
    assert publisher.describe(post) == {
        "method": "POST",
        "url": f"{fake_api.base_url}{THREADS}",
        "data": {
            "media_type": "TEXT",
            "text": post.text,
            "link_attachment": "https://brand.example/suv",
        },
    }


# --- find after a crash ---------------------------------------------------------------------


def test_find_after_a_crash_finds_the_thread_by_its_text(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    post = post_with(content_dir)
    fake_api.on(
        "GET",
        THREADS,
        Reply(
            200,
            {
                "data": [
                    {
                        "id": "T7",
                        "text": post.text,
                        "timestamp": "2026-12-01T08:00:02+0000",
                        "permalink": "https://www.threads.net/@holdout_fr/post/T7",
                    }
                ]
            },
        ),
    )
    found = publisher.find(post, credentials("threads", USER))
    assert found == Published("T7", "https://www.threads.net/@holdout_fr/post/T7")
    [req] = fake_api.requests
    assert req.query["fields"] == "id,text,timestamp,permalink"


def test_find_after_a_crash_reports_certainly_absent(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", THREADS, Reply(200, {"data": []}))
    assert publisher.find(post_with(content_dir), credentials("threads", USER)) is None


def test_find_with_an_unpublished_container_is_certainly_absent(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", f"{V}/C1", status("FINISHED"))
    assert (
        publisher.find(
            post_with(content_dir, checkpoint={"container_id": "C1"}), credentials("threads", USER)
        )
        is None
    )
    assert fake_api.calls("GET", THREADS) == []


def test_find_that_cannot_list_says_cannot_check(
    fake_api: FakeApi, publisher: ThreadsPublisher, content_dir: Path
) -> None:
    fake_api.on("GET", THREADS, Reply(400, graph_error(100, "Unsupported get request")))
    with pytest.raises(CannotCheck):
        publisher.find(post_with(content_dir), credentials("threads", USER))
