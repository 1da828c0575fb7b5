"""Path traversal: nothing the content says can read or write outside the folders it belongs to.

Vectors: story files that are symlinks out of ``content/``, story ``id:`` fields, media paths
(``..``, absolute, home, drive letters, symlinks) in the loader and in the publishers' media
helper, and outbox files whose names are built from post ids.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.app.settings import Settings
from scheduler.content.loader import load_content
from scheduler.core.errors import Permanent
from scheduler.core.model import Media
from scheduler.publishers.base import Credentials, OutgoingPost
from scheduler.publishers.http import HttpClient
from scheduler.publishers.media import media_file, media_path, public_url
from scheduler.publishers.outbox import OutboxPublisher, outbox_path

MARKETS = """\
markets:
  fr:
    name: France
    timezone: Europe/Paris
    locale: fr
    accounts:
      x: {handle: BrandFR}
"""
STORY = """\
title: A story
status: approved
launch: 2027-06-01 09:00
story: {headline: Hello}
"""


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """A valid content folder with one real media file, and a secret file beside it."""
    root = tmp_path / "content"
    (root / "stories").mkdir(parents=True)
    (root / "media").mkdir()
    (root / "media" / "ok.jpg").write_bytes(b"\xff\xd8\xff")
    (root / "markets.yaml").write_text(MARKETS, encoding="utf-8")
    (tmp_path / "secret.jpg").write_bytes(b"not for publishing")
    (tmp_path / "outside-story.yaml").write_text(STORY, encoding="utf-8")
    return root


def _codes(root: Path) -> list[str]:
    return [f.code for f in load_content(root, networks=("x",)).findings]


# --- story files and ids --------------------------------------------------------------------


def test_a_story_symlinked_from_outside_the_content_folder_is_refused(content: Path) -> None:
    link = content / "stories" / "evil.yaml"
    link.symlink_to(content.parent / "outside-story.yaml")
    loaded = load_content(content, networks=("x",))
    assert loaded.stories == {}
    (finding,) = loaded.findings
    assert (finding.code, Path(finding.file), finding.line) == ("path-escape", link, 1)


def test_a_story_symlinked_to_a_system_file_is_refused_unread(content: Path) -> None:
    (content / "stories" / "passwd.yaml").symlink_to("/etc/passwd")
    assert _codes(content) == ["path-escape"]


def test_a_story_symlinked_inside_the_content_folder_still_loads(content: Path) -> None:
    (content / "drafts").mkdir()
    (content / "drafts" / "a.yaml").write_text(STORY, encoding="utf-8")
    (content / "stories" / "a.yaml").symlink_to(content / "drafts" / "a.yaml")
    assert list(load_content(content, networks=("x",)).stories) == ["a"]


@pytest.mark.parametrize(
    "story_id",
    ["../../etc/passwd", "a/b", "..", "...", "~root", "/etc/passwd", "a\\\\b", "x/../y"],
)
def test_a_story_id_that_would_leave_the_stories_folder_is_refused(
    content: Path, story_id: str
) -> None:
    (content / "stories" / "s.yaml").write_text(f'id: "{story_id}"\n{STORY}', encoding="utf-8")
    loaded = load_content(content, networks=("x",))
    assert loaded.stories == {}
    assert {f.code for f in loaded.findings} <= {"path-escape", "bad-id"}
    assert all(f.line == 1 for f in loaded.findings)


# --- media paths in content -------------------------------------------------------------------

ESCAPING_MEDIA = [
    "../secret.jpg",
    "media/../../secret.jpg",
    "/etc/passwd",
    "~/secret.jpg",
    "C:\\\\secret.jpg",
    "..\\\\secret.jpg",
    "media/link.jpg",  # a symlink to ../secret.jpg
    "media/dirlink/secret.jpg",  # through a symlinked folder
]


@pytest.mark.parametrize("file", ESCAPING_MEDIA)
@pytest.mark.parametrize("where", ["story", "locale", "network override", "market override"])
def test_a_media_path_escaping_the_content_folder_is_a_finding(
    content: Path, file: str, where: str
) -> None:
    (content / "media" / "link.jpg").symlink_to(content.parent / "secret.jpg")
    (content / "media" / "dirlink").symlink_to(content.parent)
    media = f'[{{file: "{file}", alt: a picture}}]'
    block = {
        "story": f"media: {media}\n",
        "locale": f"locales: {{fr: {{media: {media}}}}}\n",
        "network override": f"overrides: {{network: {{x: {{media: {media}}}}}}}\n",
        "market override": f"overrides: {{market: {{fr: {{media: {media}}}}}}}\n",
    }[where]
    (content / "stories" / "s.yaml").write_text(STORY + block, encoding="utf-8")
    loaded = load_content(content, networks=("x",))
    assert "path-escape" in [f.code for f in loaded.findings]
    assert loaded.stories == {}


# --- the publishers' media helper -----------------------------------------------------------


@pytest.mark.parametrize("file", [*ESCAPING_MEDIA, "", "   "])
def test_the_media_helper_refuses_a_path_out_of_the_content_folder(
    content: Path, file: str
) -> None:
    (content / "media" / "link.jpg").symlink_to(content.parent / "secret.jpg")
    (content / "media" / "dirlink").symlink_to(content.parent)
    with pytest.raises(Permanent):
        media_path(content, Media(file=file, alt="a"))
    with pytest.raises(Permanent):
        media_file(content, Media(file=file, alt="a"))


def test_the_media_helper_gives_a_file_inside_the_content_folder(content: Path) -> None:
    found = media_file(content, Media(file="media/ok.jpg", alt="a"))
    assert found.path == (content / "media" / "ok.jpg").resolve()
    assert found.read_bytes() == b"\xff\xd8\xff"


@pytest.mark.parametrize("file", ["../secret.jpg", "/etc/passwd", "media/../../x.jpg"])
def test_a_public_media_url_never_climbs_out_of_the_base(file: str) -> None:
    settings = Settings(media_base_url="https://cdn.example/content")
    with pytest.raises(Permanent):
        public_url(settings, Media(file=file, alt="a"))


def test_a_public_media_url_percent_encodes_each_segment() -> None:
    settings = Settings(media_base_url="https://cdn.example/content")
    url = public_url(settings, Media(file="media/a b?#.jpg", alt="a"))
    assert url == "https://cdn.example/content/media/a%20b%3F%23.jpg"


# --- outbox files built from post ids ---------------------------------------------------------


def _post(story: str, beat: str, network: str, market: str) -> OutgoingPost:
    return OutgoingPost(
        post_id=f"{story}/{beat}/{network}/{market}",
        story=story,
        beat=beat,
        network=network,
        market=market,
        account="acct",
        account_name="Brand",
        due_utc=datetime(2027, 6, 1, 7, 0, tzinfo=UTC),
        text="hello",
    )


@pytest.mark.parametrize(
    ("story", "beat", "network", "market"),
    [
        ("..", "reveal", "x", "fr"),
        ("suv", "..", "x", "fr"),
        ("suv", "reveal", "..", "fr"),
        ("suv", "reveal", "x", ".."),
        ("../../../tmp/evil", "reveal", "x", "fr"),
        ("suv", "reveal/../../..", "x", "fr"),
        ("suv", "reveal", "x", "fr/../../.."),
        ("suv", "reveal", "/etc", "fr"),
        ("suv", "reveal", "x", "..\\\\..\\\\"),
        ("", "reveal", "x", "fr"),
        (".", "reveal", ".", "."),
    ],
)
def test_an_outbox_name_that_would_leave_the_outbox_is_refused(
    tmp_path: Path, story: str, beat: str, network: str, market: str
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    publisher = OutboxPublisher(settings, HttpClient())
    try:
        with pytest.raises(Permanent):
            publisher.publish(_post(story, beat, network, market), Credentials("x", "a", {}))
    finally:
        publisher.http.close()
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


names = st.one_of(
    st.text(st.characters(exclude_categories=["Cs"]), min_size=0, max_size=12),
    st.sampled_from(["..", ".", "/", "\\", "../..", "a/..", "~", "%2e%2e", "..\u2215..", "\x00"]),
)


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(story=names, beat=names, network=names, market=names)
def test_any_outbox_path_is_refused_or_stays_inside_the_outbox(
    tmp_path: Path, story: str, beat: str, network: str, market: str
) -> None:
    outbox = tmp_path / "data" / "outbox"
    try:
        path = outbox_path(outbox, _post(story, beat, network, market))
    except Permanent:
        return
    assert os.path.normpath(path).startswith(str(outbox) + os.sep)
    assert path.parent.parent.parent == outbox  # <network>/<market>/<file>


def test_a_markets_file_symlinked_from_outside_the_content_folder_is_refused(
    content: Path,
) -> None:
    outside = content.parent / "markets-elsewhere.yaml"
    outside.write_text(MARKETS, encoding="utf-8")
    (content / "markets.yaml").unlink()
    (content / "markets.yaml").symlink_to(outside)
    loaded = load_content(content, networks=("x",))
    assert loaded.markets == {}
    assert [f.code for f in loaded.findings] == ["path-escape"]
