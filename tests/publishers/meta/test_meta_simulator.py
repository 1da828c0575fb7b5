"""The three Meta publishers against a *behaving* Graph API: what publish creates, find finds,
and a retry never creates twice."""

from __future__ import annotations

from pathlib import Path

import pytest
from meta_fakeapi import Checkpoints, FakeApi, MetaSimulator, credentials, make_post

from scheduler.app.settings import Settings
from scheduler.core.errors import Transient
from scheduler.core.model import Media
from scheduler.publishers.base import Published
from scheduler.publishers.facebook import FacebookPublisher
from scheduler.publishers.http import HttpClient
from scheduler.publishers.instagram import InstagramPublisher
from scheduler.publishers.meta import Polling
from scheduler.publishers.threads import ThreadsPublisher

CDN = "https://cdn.brand.example/content"
FAST = Polling(interval=0.0, max_wait=0.0, retry_after=1)
FRONT = Media(file="media/suv-front.jpg", alt="")
CLIP = Media(file="media/teaser.mp4", alt="", kind="video")


@pytest.fixture
def sim(fake_api: FakeApi) -> MetaSimulator:
    simulator = MetaSimulator(video_polls=2)
    fake_api.fallback = simulator.answer
    return simulator


def settings(fake_api: FakeApi) -> Settings:
    env = {
        f"STORYLINE_API_BASE_{n}": fake_api.base_url + v
        for n, v in (("FACEBOOK", "/v26.0"), ("INSTAGRAM", "/v26.0"), ("THREADS", "/v1.0"))
    }
    return Settings.from_env(env).with_overrides(media_base_url=CDN)


def test_facebook_publish_then_find_agree(
    sim: MetaSimulator, fake_api: FakeApi, http: HttpClient, content_dir: Path
) -> None:
    fb = FacebookPublisher(settings(fake_api), http)
    post = make_post("facebook", "100", content_dir, media=(FRONT,))
    published = fb.publish(post, credentials("facebook", "100"))
    found = fb.find(post, credentials("facebook", "100"))
    assert found == Published(
        published.remote_id, f"https://social.example/fb/{published.remote_id}"
    )
    assert sim.count(fb.message_of(post)) == 1


@pytest.mark.parametrize("cls", [InstagramPublisher, ThreadsPublisher])
def test_a_processing_video_is_resumed_from_its_container_and_created_once(
    sim: MetaSimulator,
    fake_api: FakeApi,
    http: HttpClient,
    content_dir: Path,
    cls: type[InstagramPublisher] | type[ThreadsPublisher],
) -> None:
    publisher = cls(settings(fake_api), http, polling=FAST, sleep=lambda _s: None)
    network = publisher.network
    saved = Checkpoints()
    post = make_post(network, "1784", content_dir, media=(CLIP,), link=None)
    with pytest.raises(Transient, match="still processing"):
        publisher.publish(post, credentials(network, "1784"), saved)
    assert (
        publisher.find(
            make_post(
                network, "1784", content_dir, media=(CLIP,), link=None, checkpoint=saved.state
            ),
            credentials(network, "1784"),
        )
        is None
    )
    attempts = 0
    while True:
        attempts += 1
        retry = make_post(
            network, "1784", content_dir, media=(CLIP,), link=None, checkpoint=saved.state
        )
        try:
            published = publisher.publish(retry, credentials(network, "1784"), saved)
            break
        except Transient:
            assert attempts < 5
    assert len(sim.containers) == 1
    assert sim.count(post.text) == 1
    fresh = make_post(network, "1784", content_dir, media=(CLIP,), link=None)
    found = publisher.find(fresh, credentials(network, "1784"))
    assert found is not None
    assert found.remote_id == published.remote_id
