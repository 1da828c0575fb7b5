"""Weibo publisher against a local server speaking the Open API's share and timeline calls."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from social_fakenet import FakeNetwork, Reply, creds, make_post, settings_for

from scheduler.core.errors import CannotCheck, NeedsAuth, Permanent, Transient
from scheduler.core.model import Media
from scheduler.publishers.http import HttpClient
from scheduler.publishers.weibo import WeiboPublisher, seconds_to_next_hour

UID = "5000000001"
TOKEN = "2.00weibo-token"
SHARE = "/2/statuses/share.json"
TIMELINE = "/2/statuses/user_timeline.json"
TEXT = "舒适SUV来了 https://brand.example/suv #舒适SUV#"
STATUS = {
    "created_at": "Tue Dec 01 16:00:05 +0800 2026",
    "id": 4969000000000001,
    "idstr": "4969000000000001",
    "mid": "4969000000000001",
    "text": "舒适SUV来了 http://t.cn/A6abcd #舒适SUV#",
    "user": {"id": 5000000001},
}


@pytest.fixture
def publisher(fake: FakeNetwork, http: HttpClient, tmp_path: Path) -> WeiboPublisher:
    return WeiboPublisher(settings_for("weibo", fake.url, tmp_path), http)


def credentials():  # type: ignore[no-untyped-def]
    return creds("weibo", UID, access_token=TOKEN)


def error(code: int, message: str, status: int = 400) -> Reply:
    return Reply(status, json={"error": message, "error_code": code, "request": SHARE})


def test_publish_shares_the_status_as_a_form_with_the_token(
    fake: FakeNetwork, publisher: WeiboPublisher
) -> None:
    fake.route("POST", SHARE, Reply(json=STATUS))

    published = publisher.publish(make_post("weibo", UID, text=TEXT, market="cn"), credentials())

    assert published.remote_id == "4969000000000001"
    assert published.url == "https://m.weibo.cn/status/4969000000000001"
    (sent,) = fake.calls("POST", SHARE)
    assert sent.header("content-type") == "application/x-www-form-urlencoded"
    assert sent.form() == {"access_token": [TOKEN], "status": [TEXT]}


def test_a_text_without_a_link_gets_the_storys_link(
    fake: FakeNetwork, publisher: WeiboPublisher
) -> None:
    fake.route("POST", SHARE, Reply(json=STATUS))
    publisher.publish(make_post("weibo", UID, text="舒适SUV来了"), credentials())
    assert fake.calls("POST", SHARE)[0].form()["status"] == [
        "舒适SUV来了 https://brand.example/suv"
    ]


def test_a_post_with_no_link_at_all_is_refused_before_sending(
    fake: FakeNetwork, publisher: WeiboPublisher
) -> None:
    with pytest.raises(Permanent, match="safe domain"):
        publisher.publish(make_post("weibo", UID, text="舒适SUV来了", link=None), credentials())
    assert fake.requests == []


def test_one_picture_goes_as_the_multipart_pic_field(
    fake: FakeNetwork, publisher: WeiboPublisher, tmp_path: Path
) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / "suv.png").write_bytes(b"\x89PNG")
    fake.route("POST", SHARE, Reply(json=STATUS))
    post = make_post(
        "weibo", UID, text=TEXT, content_dir=content, media=(Media(file="suv.png", alt="SUV"),)
    )

    publisher.publish(post, credentials())

    parts = fake.calls("POST", SHARE)[0].parts()
    assert parts["pic"].data == b"\x89PNG"
    assert parts["pic"].content_type == "image/png"
    assert parts["status"].text == TEXT
    assert parts["access_token"].text == TOKEN


def test_an_expired_token_needs_auth(fake: FakeNetwork, publisher: WeiboPublisher) -> None:
    fake.route("POST", SHARE, error(21327, "expired_token", 401))
    with pytest.raises(NeedsAuth, match="21327") as caught:
        publisher.publish(make_post("weibo", UID, text=TEXT), credentials())
    assert TOKEN not in str(caught.value)


def test_an_invalid_token_needs_auth_even_on_http_200(
    fake: FakeNetwork, publisher: WeiboPublisher
) -> None:
    fake.route("POST", SHARE, error(21332, "invalid_access_token", 200))
    with pytest.raises(NeedsAuth):
        publisher.publish(make_post("weibo", UID, text=TEXT), credentials())


def test_the_hourly_rate_limit_waits_until_the_next_hour(
    fake: FakeNetwork, publisher: WeiboPublisher
) -> None:
    fake.route("POST", SHARE, error(10023, "User requests out of rate limit!", 403))
    with pytest.raises(Transient, match="10023") as caught:
        publisher.publish(make_post("weibo", UID, text=TEXT), credentials())
    expected = seconds_to_next_hour(datetime.now(UTC))
    assert caught.value.retry_after is not None and abs(caught.value.retry_after - expected) < 5


def test_the_next_hour_is_counted_from_the_clock() -> None:
    assert seconds_to_next_hour(datetime(2026, 12, 1, 8, 45, tzinfo=UTC)) == 15 * 60


def test_a_server_error_is_transient(fake: FakeNetwork, publisher: WeiboPublisher) -> None:
    fake.route("POST", SHARE, Reply(502, body=b"Bad Gateway"))
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("weibo", UID, text=TEXT), credentials())
    assert caught.value.sent is False


def test_no_answer_after_sending_is_unconfirmed(
    fake: FakeNetwork, publisher: WeiboPublisher
) -> None:
    fake.route("POST", SHARE, Reply(json=STATUS, delay=3))
    with pytest.raises(Transient) as caught:
        publisher.publish(make_post("weibo", UID, text=TEXT), credentials())
    assert caught.value.sent is True


def test_a_text_too_long_is_permanent_with_weibos_message(
    fake: FakeNetwork, publisher: WeiboPublisher
) -> None:
    fake.route(
        "POST", SHARE, error(20012, "Text too long, please input text less than 140 characters!")
    )
    with pytest.raises(Permanent, match="Text too long"):
        publisher.publish(make_post("weibo", UID, text=TEXT), credentials())


def test_repeated_content_is_evidence_the_status_is_already_there(
    fake: FakeNetwork, publisher: WeiboPublisher
) -> None:
    fake.route("POST", SHARE, error(20019, "Repeat content!"))
    fake.route("GET", TIMELINE, Reply(json={"statuses": [STATUS], "total_number": 1}))
    published = publisher.publish(make_post("weibo", UID, text=TEXT), credentials())
    assert published.remote_id == "4969000000000001"


def test_find_matches_the_text_with_links_shortened(
    fake: FakeNetwork, publisher: WeiboPublisher
) -> None:
    fake.route("GET", TIMELINE, Reply(json={"statuses": [STATUS], "total_number": 1}))
    found = publisher.find(make_post("weibo", UID, text=TEXT), credentials())
    assert found is not None and found.remote_id == "4969000000000001"
    (read,) = fake.calls("GET", TIMELINE)
    assert read.q("access_token") == TOKEN
    assert read.q("count") == "100"


def test_find_says_absent_when_the_timeline_has_no_such_status(
    fake: FakeNetwork, publisher: WeiboPublisher
) -> None:
    fake.route("GET", TIMELINE, Reply(json={"statuses": [], "total_number": 0}))
    assert publisher.find(make_post("weibo", UID, text=TEXT), credentials()) is None


def test_find_cannot_check_when_the_timeline_cannot_be_read(
    fake: FakeNetwork, publisher: WeiboPublisher
) -> None:
    fake.route("GET", TIMELINE, error(10014, "Insufficient app permissions!", 403))
    with pytest.raises(CannotCheck):
        publisher.find(make_post("weibo", UID, text=TEXT), credentials())


def test_describe_leaves_the_token_out(publisher: WeiboPublisher, fake: FakeNetwork) -> None:
    described = publisher.describe(make_post("weibo", UID, text=TEXT))
    assert described["url"] == f"{fake.url}/2/statuses/share.json"
    assert described["data"] == {"status": TEXT}


def test_accounts_check_reads_the_tokens_remaining_life(
    fake: FakeNetwork, publisher: WeiboPublisher
) -> None:
    fake.route(
        "POST",
        "/oauth2/get_token_info",
        Reply(
            json={
                "uid": 5000000001,
                "appkey": "123",
                "scope": None,
                "create_at": 1352267591,
                "expire_in": 86400,
            }
        ),
    )
    status = publisher.check(credentials())
    assert status.valid is True and status.detail == f"uid {UID}"
    assert status.expires_at is not None
    left = (status.expires_at - datetime.now(UTC)).total_seconds()
    assert 86000 < left <= 86400
    assert fake.calls("POST", "/oauth2/get_token_info")[0].form() == {"access_token": [TOKEN]}


def test_accounts_check_of_an_expired_token_needs_auth(
    fake: FakeNetwork, publisher: WeiboPublisher
) -> None:
    fake.route("POST", "/oauth2/get_token_info", error(21327, "expired_token", 401))
    with pytest.raises(NeedsAuth):
        publisher.check(credentials())


def test_describe_of_a_post_without_link_still_shows_its_text(publisher: WeiboPublisher) -> None:
    described = publisher.describe(make_post("weibo", UID, text="舒适SUV来了", link=None))
    assert described["data"] == {"status": "舒适SUV来了"}
