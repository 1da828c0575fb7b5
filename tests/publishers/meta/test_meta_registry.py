"""The Meta publishers are found through the ``storyline.publishers`` entry points, built as
``cls(settings, http)``, and describe their first request to the outbox."""

from __future__ import annotations

from pathlib import Path

import pytest
from meta_fakeapi import TOKEN, make_post

from scheduler.app.secrets import Secrets
from scheduler.app.settings import Settings
from scheduler.core.model import Media
from scheduler.publishers.facebook import FacebookPublisher
from scheduler.publishers.http import HttpClient
from scheduler.publishers.instagram import InstagramPublisher
from scheduler.publishers.registry import Registry
from scheduler.publishers.threads import ThreadsPublisher


@pytest.mark.parametrize(
    ("network", "cls"),
    [
        ("facebook", FacebookPublisher),
        ("instagram", InstagramPublisher),
        ("threads", ThreadsPublisher),
    ],
)
def test_an_account_with_a_token_routes_to_the_real_publisher(
    network: str, cls: type, http: HttpClient
) -> None:
    secrets = Secrets(file_fields={network: {"42": {"access_token": TOKEN}}})
    route = Registry(Settings(), http=http, secrets=secrets).route(network, "42")
    assert isinstance(route.publisher, cls)
    assert route.kind == network


def test_without_a_token_the_outbox_records_the_facebook_feed_request(
    http: HttpClient, content_dir: Path
) -> None:
    route = Registry(Settings(), http=http, secrets=Secrets(), forced_outbox=True).route(
        "facebook", "100200300"
    )
    assert route.kind == "outbox"
    request = route.publisher.request_of(make_post("facebook", "100200300", content_dir))  # type: ignore[attr-defined]
    assert request["url"] == "https://graph.facebook.com/v26.0/100200300/feed"
    assert request["data"]["link"] == "https://brand.example/suv"


def test_the_outbox_shows_where_instagram_media_url_would_come_from(
    http: HttpClient, content_dir: Path
) -> None:
    route = Registry(Settings(), http=http, secrets=Secrets(), forced_outbox=True).route(
        "instagram", "1784"
    )
    post = make_post(
        "instagram", "1784", content_dir, media=(Media(file="media/suv-front.jpg", alt=""),)
    )
    request = route.publisher.request_of(post)  # type: ignore[attr-defined]
    assert request["data"]["image_url"] == "${STORYLINE_MEDIA_BASE_URL}/media/suv-front.jpg"
