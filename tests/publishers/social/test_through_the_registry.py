"""The six social publishers as the rest of Storyline drives them: chosen by the
registry because the account has credentials in the environment, pointed at a local server by
``STORYLINE_API_BASE_<NETWORK>``, and never letting a secret through an error message."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from social_fakenet import FakeNetwork, Recorded, Reply, make_post, settings_for

from scheduler.app.secrets import load_secrets
from scheduler.core.errors import PublishError
from scheduler.core.model import Media
from scheduler.publishers.base import Credentials
from scheduler.publishers.http import HttpClient
from scheduler.publishers.registry import Registry

SECRET = "planted-secret-9f8e7d6c5b4a"


@dataclass
class Case:
    network: str
    account: str
    env_account: str  # the account as STORYLINE_SECRET_<NETWORK>_<ACCOUNT>_<FIELD> spells it
    fields: tuple[str, ...]
    publish_path: str  # the call that creates the post
    routes: list[tuple[str, str, Any]] = field(default_factory=list)
    video: bool = False


def _bluesky_session(_: Recorded) -> Reply:
    return Reply(
        json={"accessJwt": "jwt-a", "refreshJwt": "jwt-r", "did": "did:plc:x", "handle": "h"}
    )


CASES = [
    Case(
        "x",
        "HoldoutFR",
        "HOLDOUTFR",
        ("access_token",),
        "/2/tweets",
        [("POST", "/2/tweets", Reply(201, json={"data": {"id": "1", "text": "t"}}))],
    ),
    Case(
        "linkedin",
        "9001",
        "9001",
        ("access_token",),
        "/rest/posts",
        [("POST", "/rest/posts", Reply(201, headers={"x-restli-id": "urn:li:share:1"}))],
    ),
    Case(
        "youtube",
        "UCholdoutFR00000000000001",
        "UCHOLDOUTFR00000000000001",
        ("access_token",),
        "/upload/youtube/v3/videos",
        [],
        video=True,
    ),
    Case(
        "weibo",
        "5000000001",
        "5000000001",
        ("access_token",),
        "/2/statuses/share.json",
        [("POST", "/2/statuses/share.json", Reply(json={"id": 1, "idstr": "1", "text": "t"}))],
    ),
    Case(
        "mastodon",
        "holdout@social.example",
        "HOLDOUT_SOCIAL_EXAMPLE",
        ("access_token",),
        "/api/v1/statuses",
        [
            (
                "GET",
                "/api/v2/instance",
                Reply(json={"configuration": {"statuses": {"max_characters": 500}}}),
            ),
            ("POST", "/api/v1/statuses", Reply(json={"id": "1", "url": "u"})),
        ],
    ),
    Case(
        "bluesky",
        "holdout-fr.bsky.social",
        "HOLDOUT_FR_BSKY_SOCIAL",
        ("identifier", "app_password"),
        "/xrpc/com.atproto.repo.createRecord",
        [
            ("POST", "/xrpc/com.atproto.server.createSession", _bluesky_session),
            (
                "POST",
                "/xrpc/com.atproto.repo.createRecord",
                Reply(json={"uri": "at://did:plc:x/app.bsky.feed.post/k", "cid": "c"}),
            ),
        ],
    ),
]


def _setup(case: Case, fake: FakeNetwork, tmp_path: Path) -> tuple[Registry, Any]:
    env = {
        f"STORYLINE_SECRET_{case.network.upper()}_{case.env_account}_{name.upper()}": (
            "holdout-fr.bsky.social" if name == "identifier" else SECRET
        )
        for name in case.fields
    }
    settings = settings_for(case.network, fake.url, tmp_path, **env)
    for method, path, reply in case.routes:
        fake.route(method, path, reply)
    media: tuple[Media, ...] = ()
    content = tmp_path / "content"
    content.mkdir(exist_ok=True)
    if case.video:
        (content / "clip.mp4").write_bytes(b"mp4")
        media = (Media(file="clip.mp4", alt="clip", kind="video"),)
        fake.route(
            "POST", "/upload/youtube/v3/videos", Reply(headers={"Location": f"{fake.url}/session"})
        )
        fake.route("PUT", "/session", Reply(json={"id": "vid"}))
    post = make_post(case.network, case.account, content_dir=content, media=media)
    return Registry(settings, http=HttpClient(), secrets=load_secrets(settings)), post


@pytest.mark.parametrize("case", CASES, ids=[c.network for c in CASES])
def test_an_account_with_credentials_publishes_through_its_real_publisher(
    case: Case, fake: FakeNetwork, tmp_path: Path
) -> None:
    registry, post = _setup(case, fake, tmp_path)
    try:
        route = registry.route(case.network, case.account)
        assert route.kind == case.network
        published = route.publisher.publish(post, route.credentials)
    finally:
        registry.close()
    assert published.remote_id
    assert fake.calls("POST", case.publish_path), "the post never reached the local network"


@pytest.mark.parametrize("case", CASES, ids=[c.network for c in CASES])
def test_a_secret_echoed_by_the_network_never_reaches_the_error(
    case: Case, fake: FakeNetwork, tmp_path: Path
) -> None:
    registry, post = _setup(case, fake, tmp_path)
    echo = Reply(
        400,
        json={
            "error": f"bad request for {SECRET}",
            "error_code": 10008,
            "message": f"token {SECRET} rejected",
            "detail": f"token {SECRET} rejected",
        },
    )
    fake.route("POST", case.publish_path, echo)
    if case.video:
        fake.route("POST", "/upload/youtube/v3/videos", echo)
    try:
        route = registry.route(case.network, case.account)
        with pytest.raises(PublishError) as caught:
            route.publisher.publish(post, route.credentials)
    finally:
        registry.close()
    assert SECRET not in str(caught.value)
    assert SECRET not in repr(caught.value.args)


@pytest.mark.parametrize("case", CASES, ids=[c.network for c in CASES])
def test_the_outbox_records_the_request_the_real_publisher_would_send(
    case: Case, fake: FakeNetwork, tmp_path: Path
) -> None:
    registry, post = _setup(case, fake, tmp_path)
    try:
        outbox = registry.outbox_for(case.network)
        outbox.publish(post, route_credentials(case))
        record = outbox.read(post)
    finally:
        registry.close()
    assert record is not None
    request = record["request"]
    assert request["method"] == "POST"
    assert request["url"].startswith(f"{fake.url}/")
    assert SECRET not in str(record)
    assert fake.requests == []


def route_credentials(case: Case) -> Credentials:
    return Credentials(case.network, case.account, {})
