"""X publisher against a local server speaking the documented API v2."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from social_fakenet import Checkpoints, FakeNetwork, Recorded, Reply, creds, make_post, settings_for

from scheduler.core.errors import CannotCheck, NeedsAuth, Permanent, Transient
from scheduler.core.model import Media
from scheduler.publishers.http import HttpClient
from scheduler.publishers.x import XPublisher, split_thread
from scheduler.text import networks

HANDLE = "HoldoutFR"
TOKEN = "x-user-token-abcdef"
LONG = " ".join(
    f"Day {n}: the comfort SUV arrives with a quiet cabin and seats that feel like home."
    for n in range(1, 7)
)  # about 490 characters: two posts


@pytest.fixture
def publisher(fake: FakeNetwork, http: HttpClient, tmp_path: Path) -> XPublisher:
    pub = XPublisher(settings_for("x", fake.url, tmp_path), http, sleep=lambda _: None)
    pub.media_poll_interval = 0.0
    return pub


def credentials():  # type: ignore[no-untyped-def]
    return creds("x", HANDLE, access_token=TOKEN)


def numbered_tweets() -> list[str]:
    counter = iter(range(1000, 2000))

    def answer(request: Recorded) -> Reply:
        return Reply(201, json={"data": {"id": str(next(counter)), "text": request.json()["text"]}})

    return answer  # type: ignore[return-value]


# -- threads -------------------------------------------------------------------------------


def test_a_short_text_is_one_post() -> None:
    assert split_thread("Hello world.") == ["Hello world."]


def test_a_long_text_is_split_at_sentence_boundaries_under_280() -> None:
    parts = split_thread(LONG)
    assert len(parts) == 2
    assert all(networks.measure("x", p) <= 280 for p in parts)
    assert [p.rsplit(" ", 1)[1] for p in parts] == ["1/2", "2/2"]  # numbered
    assert all(p.rsplit(" ", 1)[0].endswith(".") for p in parts)
    assert " ".join(p.rsplit(" ", 1)[0] for p in parts) == LONG


def test_a_sentence_longer_than_a_post_is_split_between_words() -> None:
    words = " ".join(["word"] * 120)  # 599 characters, no sentence end
    parts = split_thread(words)
    assert all(networks.measure("x", p) <= 280 for p in parts)
    assert " ".join(p.rsplit(" ", 1)[0] for p in parts) == words


# -- publish -------------------------------------------------------------------------------


def test_publish_sends_the_documented_create_post_request(
    fake: FakeNetwork, publisher: XPublisher
) -> None:
    fake.route(
        "POST", "/2/tweets", Reply(201, json={"data": {"id": "1445880548472328192", "text": "Hi"}})
    )
    published = publisher.publish(make_post("x", HANDLE, text="Hi"), credentials())

    assert published.remote_id == "1445880548472328192"
    assert published.url == "https://x.com/HoldoutFR/status/1445880548472328192"
    (sent,) = fake.calls("POST", "/2/tweets")
    assert sent.header("authorization") == f"Bearer {TOKEN}"
    assert sent.header("content-type") == "application/json"
    assert sent.json() == {"text": "Hi"}


def test_a_long_post_becomes_a_thread_of_replies_each_checkpointed(
    fake: FakeNetwork, publisher: XPublisher, checkpoints: Checkpoints
) -> None:
    fake.route("POST", "/2/tweets", numbered_tweets())
    published = publisher.publish(make_post("x", HANDLE, text=LONG), credentials(), checkpoints)

    first, second = (c.json() for c in fake.calls("POST", "/2/tweets"))
    assert "reply" not in first
    assert second["reply"] == {"in_reply_to_tweet_id": "1000"}
    assert published.remote_id == "1000"
    assert [s["thread"] for s in checkpoints.steps] == [["1000"], ["1000", "1001"]]


def test_a_thread_interrupted_after_its_first_post_resumes_from_the_checkpoint(
    fake: FakeNetwork, publisher: XPublisher
) -> None:
    fake.route("POST", "/2/tweets", numbered_tweets())
    post = make_post("x", HANDLE, text=LONG, checkpoint={"thread": ["777"], "media_ids": []})

    published = publisher.publish(post, credentials())

    (only,) = fake.calls("POST", "/2/tweets")
    assert only.json()["text"] == split_thread(LONG)[1]
    assert only.json()["reply"] == {"in_reply_to_tweet_id": "777"}
    assert published.remote_id == "777"


def test_an_image_is_uploaded_and_attached_to_the_first_post(
    fake: FakeNetwork, publisher: XPublisher, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "suv.jpg").write_bytes(b"\xff\xd8jpeg")
    fake.route("POST", "/2/media/upload", Reply(json={"data": {"id": "555", "media_key": "3_555"}}))
    fake.route("POST", "/2/media/metadata", Reply(json={"data": {"id": "555"}}))
    fake.route("POST", "/2/tweets", numbered_tweets())
    post = make_post(
        "x", HANDLE, text="Hi", content_dir=content, media=(Media(file="suv.jpg", alt="SUV"),)
    )

    publisher.publish(post, credentials())

    (upload,) = fake.calls("POST", "/2/media/upload")
    assert upload.header("authorization") == f"Bearer {TOKEN}"
    parts = upload.parts()
    assert parts["media"].data == b"\xff\xd8jpeg"
    assert parts["media_category"].text == "tweet_image"
    (alt,) = fake.calls("POST", "/2/media/metadata")
    assert alt.json() == {"id": "555", "metadata": {"alt_text": {"text": "SUV"}}}
    assert fake.calls("POST", "/2/tweets")[0].json()["media"] == {"media_ids": ["555"]}


def test_a_video_goes_through_init_append_finalize_and_status(
    fake: FakeNetwork, publisher: XPublisher, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "clip.mp4").write_bytes(b"mp4-bytes")

    def upload(request: Recorded) -> Reply:
        command = request.parts()["command"].text
        if command == "INIT":
            return Reply(json={"data": {"id": "900", "media_key": "7_900"}})
        if command == "APPEND":
            return Reply(204)
        return Reply(
            json={
                "data": {
                    "id": "900",
                    "processing_info": {"state": "pending", "check_after_secs": 1},
                }
            }
        )

    fake.route("POST", "/2/media/upload", upload)
    fake.route(
        "GET",
        "/2/media/upload",
        Reply(json={"data": {"id": "900", "processing_info": {"state": "succeeded"}}}),
    )
    fake.route("POST", "/2/tweets", numbered_tweets())
    post = make_post(
        "x",
        HANDLE,
        text="Watch",
        content_dir=content,
        media=(Media(file="clip.mp4", alt="clip", kind="video"),),
    )

    publisher.publish(post, credentials())

    init, append, finalize = (c.parts() for c in fake.calls("POST", "/2/media/upload"))
    assert {k: v.text for k, v in init.items()} == {
        "command": "INIT",
        "media_type": "video/mp4",
        "total_bytes": "9",
        "media_category": "tweet_video",
    }
    assert append["command"].text == "APPEND" and append["media_id"].text == "900"
    assert append["segment_index"].text == "0" and append["media"].data == b"mp4-bytes"
    assert finalize["command"].text == "FINALIZE"
    (status,) = fake.calls("GET", "/2/media/upload")
    assert status.query == {"command": ["STATUS"], "media_id": ["900"]}
    assert fake.calls("POST", "/2/tweets")[0].json()["media"] == {"media_ids": ["900"]}


def test_an_expired_token_needs_auth(fake: FakeNetwork, publisher: XPublisher) -> None:
    fake.route(
        "POST",
        "/2/tweets",
        Reply(
            401,
            json={
                "title": "Unauthorized",
                "type": "about:blank",
                "status": 401,
                "detail": "Unauthorized",
            },
        ),
    )
    with pytest.raises(NeedsAuth) as caught:
        publisher.publish(make_post("x", HANDLE, text="Hi"), credentials())
    assert TOKEN not in str(caught.value)


def test_a_rate_limit_waits_until_x_rate_limit_reset(
    fake: FakeNetwork, publisher: XPublisher
) -> None:
    reset = int(time.time()) + 600
    fake.route(
        "POST",
        "/2/tweets",
        Reply(
            429,
            json={"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
            headers={
                "x-rate-limit-limit": "100",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(reset),
            },
        ),
    )
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("x", HANDLE, text="Hi"), credentials())
    assert caught.value.retry_after is not None and 590 <= caught.value.retry_after <= 601


def test_a_spent_window_is_not_tried_until_it_resets(
    fake: FakeNetwork, publisher: XPublisher
) -> None:
    reset = str(int(time.time()) + 300)
    fake.route(
        "POST",
        "/2/tweets",
        Reply(
            201,
            json={"data": {"id": "1", "text": "Hi"}},
            headers={
                "x-rate-limit-limit": "100",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": reset,
            },
        ),
    )
    publisher.publish(make_post("x", HANDLE, text="Hi"), credentials())
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("x", HANDLE, text="Other", market="be"), credentials())
    assert caught.value.retry_after is not None and caught.value.retry_after > 250
    assert len(fake.calls("POST", "/2/tweets")) == 1


def test_a_server_error_is_transient(fake: FakeNetwork, publisher: XPublisher) -> None:
    fake.route("POST", "/2/tweets", Reply(503, json={"title": "Service Unavailable"}))
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("x", HANDLE, text="Hi"), credentials())
    assert caught.value.sent is False


def test_no_answer_after_sending_is_unconfirmed(fake: FakeNetwork, publisher: XPublisher) -> None:
    fake.route("POST", "/2/tweets", Reply(201, json={"data": {"id": "1"}}, delay=3))
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("x", HANDLE, text="Hi"), credentials())
    assert caught.value.sent is True


def test_a_validation_error_is_permanent_with_xs_message(
    fake: FakeNetwork, publisher: XPublisher
) -> None:
    fake.route(
        "POST",
        "/2/tweets",
        Reply(
            400,
            json={
                "errors": [{"message": "$.text: text is too long"}],
                "title": "Invalid Request",
                "detail": "One or more parameters to your request was invalid.",
            },
        ),
    )
    with pytest.raises(Permanent, match="parameters to your request was invalid"):
        publisher.publish(make_post("x", HANDLE, text="Hi"), credentials())


def test_a_duplicate_refusal_is_evidence_the_post_is_already_there(
    fake: FakeNetwork, publisher: XPublisher
) -> None:
    fake.route(
        "POST",
        "/2/tweets",
        Reply(
            403,
            json={
                "detail": "You are not allowed to create a Tweet with duplicate content.",
                "status": 403,
                "title": "Forbidden",
            },
        ),
    )
    fake.route("GET", "/2/users/me", Reply(json={"data": {"id": "42", "username": HANDLE}}))
    fake.route(
        "GET",
        "/2/users/42/tweets",
        Reply(json={"data": [{"id": "31", "text": "Hi"}], "meta": {"result_count": 1}}),
    )

    published = publisher.publish(make_post("x", HANDLE, text="Hi"), credentials())

    assert published.remote_id == "31"


def test_a_duplicate_refusal_without_the_post_in_sight_is_permanent(
    fake: FakeNetwork, publisher: XPublisher
) -> None:
    fake.route(
        "POST",
        "/2/tweets",
        Reply(
            403, json={"detail": "You are not allowed to create a Tweet with duplicate content."}
        ),
    )
    fake.route("GET", "/2/users/me", Reply(json={"data": {"id": "42"}}))
    fake.route("GET", "/2/users/42/tweets", Reply(json={"meta": {"result_count": 0}}))
    with pytest.raises(Permanent, match="duplicate content"):
        publisher.publish(make_post("x", HANDLE, text="Hi"), credentials())


# -- find ----------------------------------------------------------------------------------


def test_find_matches_the_text_with_links_rewritten_to_t_co(
    fake: FakeNetwork, publisher: XPublisher
) -> None:
    fake.route("GET", "/2/users/me", Reply(json={"data": {"id": "42"}}))
    fake.route(
        "GET",
        "/2/users/42/tweets",
        Reply(
            json={
                "data": [{"id": "77", "text": "Arrives &amp; shines https://t.co/abc123 #SUV"}],
                "meta": {"result_count": 1},
            }
        ),
    )
    post = make_post("x", HANDLE, text="Arrives & shines https://brand.example/suv #SUV")

    found = publisher.find(post, credentials())

    assert found is not None and found.remote_id == "77"
    (timeline,) = fake.calls("GET", "/2/users/42/tweets")
    assert timeline.q("start_time") == "2026-12-01T07:55:00Z"
    assert timeline.header("authorization") == f"Bearer {TOKEN}"


def test_find_says_absent_when_nothing_matches_since_the_due_time(
    fake: FakeNetwork, publisher: XPublisher
) -> None:
    fake.route("GET", "/2/users/me", Reply(json={"data": {"id": "42"}}))
    fake.route(
        "GET",
        "/2/users/42/tweets",
        Reply(json={"data": [{"id": "1", "text": "Other"}], "meta": {}}),
    )
    assert publisher.find(make_post("x", HANDLE, text="Hi"), credentials()) is None


def test_find_of_a_thread_cut_exactly_at_its_checkpoint_lets_publishing_resume(
    fake: FakeNetwork, publisher: XPublisher
) -> None:
    first = split_thread(LONG)[0]
    fake.route("GET", "/2/users/me", Reply(json={"data": {"id": "42"}}))
    fake.route(
        "GET",
        "/2/users/42/tweets",
        Reply(json={"data": [{"id": "500", "text": first}], "meta": {}}),
    )
    post = make_post("x", HANDLE, text=LONG, checkpoint={"thread": ["500"]})
    assert publisher.find(post, credentials()) is None


def test_find_of_a_thread_partly_sent_beyond_its_checkpoint_cannot_tell(
    fake: FakeNetwork, publisher: XPublisher
) -> None:
    first = split_thread(LONG)[0]
    fake.route("GET", "/2/users/me", Reply(json={"data": {"id": "42"}}))
    fake.route(
        "GET",
        "/2/users/42/tweets",
        Reply(json={"data": [{"id": "500", "text": first}], "meta": {}}),
    )
    with pytest.raises(CannotCheck, match="partly"):
        publisher.find(make_post("x", HANDLE, text=LONG), credentials())


def test_find_cannot_check_when_the_api_fails(fake: FakeNetwork, publisher: XPublisher) -> None:
    fake.route("GET", "/2/users/me", Reply(503, json={"title": "Service Unavailable"}))
    with pytest.raises(CannotCheck):
        publisher.find(make_post("x", HANDLE, text="Hi"), credentials())


def test_describe_is_the_first_post_and_the_thread_that_follows(
    publisher: XPublisher, fake: FakeNetwork
) -> None:
    described = publisher.describe(make_post("x", HANDLE, text=LONG))
    assert described["url"] == f"{fake.url}/2/tweets"
    assert described["json"] == {"text": split_thread(LONG)[0]}
    assert described["thread"] == split_thread(LONG)[1:]


def test_accounts_check_asks_whose_token_it_is(fake: FakeNetwork, publisher: XPublisher) -> None:
    fake.route("GET", "/2/users/me", Reply(json={"data": {"id": "42", "username": "HoldoutFR"}}))
    status = publisher.check(credentials())
    assert status.valid is True and status.detail == "@HoldoutFR"


def test_accounts_check_of_an_expired_token_needs_auth(
    fake: FakeNetwork, publisher: XPublisher
) -> None:
    fake.route("GET", "/2/users/me", Reply(401, json={"title": "Unauthorized", "status": 401}))
    with pytest.raises(NeedsAuth):
        publisher.check(credentials())


def test_a_gif_goes_through_the_chunked_upload_as_tweet_gif(
    fake: FakeNetwork, publisher: XPublisher, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "spin.gif").write_bytes(b"GIF89a")

    def upload(request: Recorded) -> Reply:
        return Reply(json={"data": {"id": "901"}})

    fake.route("POST", "/2/media/upload", upload)
    fake.route("POST", "/2/tweets", numbered_tweets())
    post = make_post(
        "x", HANDLE, text="Spin", content_dir=content, media=(Media(file="spin.gif", alt=""),)
    )

    publisher.publish(post, credentials())

    init = fake.calls("POST", "/2/media/upload")[0].parts()
    assert init["command"].text == "INIT"
    assert init["media_category"].text == "tweet_gif"
