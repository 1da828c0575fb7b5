"""The shared media helper: files stay inside the content folder; public URLs need a base."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.app.settings import Settings
from scheduler.core.errors import Permanent
from scheduler.core.model import Media
from scheduler.publishers.media import media_file, mime_type_of, public_url


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    (root / "media").mkdir(parents=True)
    (root / "media" / "suv front.jpg").write_bytes(b"\xff\xd8jpeg-bytes")
    (root / "media" / "clip.mp4").write_bytes(b"mp4-bytes")
    (tmp_path / "secret.txt").write_text("outside")
    return root


def test_a_media_file_under_the_content_folder_is_read_with_its_type_and_size(
    content_dir: Path,
) -> None:
    found = media_file(content_dir, Media(file="media/suv front.jpg", alt="front"))
    assert found.mime_type == "image/jpeg"
    assert found.size == len(b"\xff\xd8jpeg-bytes")
    assert found.read_bytes() == b"\xff\xd8jpeg-bytes"
    assert found.path == (content_dir / "media" / "suv front.jpg").resolve()


def test_a_video_is_typed_as_video(content_dir: Path) -> None:
    found = media_file(content_dir, Media(file="media/clip.mp4", alt="", kind="video"))
    assert found.mime_type == "video/mp4"
    assert found.is_video


def test_chunks_cover_the_whole_file(content_dir: Path) -> None:
    found = media_file(content_dir, Media(file="media/clip.mp4", alt=""))
    assert b"".join(found.chunks(4)) == b"mp4-bytes"


@pytest.mark.parametrize("escape", ["../secret.txt", "media/../../secret.txt", "/etc/passwd"])
def test_a_path_leaving_the_content_folder_is_refused(content_dir: Path, escape: str) -> None:
    with pytest.raises(Permanent, match="inside the content folder"):
        media_file(content_dir, Media(file=escape, alt=""))


def test_a_symlink_pointing_outside_the_content_folder_is_refused(content_dir: Path) -> None:
    (content_dir / "media" / "link.jpg").symlink_to(content_dir.parent / "secret.txt")
    with pytest.raises(Permanent, match="outside the content folder"):
        media_file(content_dir, Media(file="media/link.jpg", alt=""))


def test_a_missing_file_is_a_permanent_error_naming_it(content_dir: Path) -> None:
    with pytest.raises(Permanent, match=r"'media/gone.jpg' not found"):
        media_file(content_dir, Media(file="media/gone.jpg", alt=""))


def test_unknown_extensions_fall_back_by_kind() -> None:
    assert mime_type_of("x.unknownext", "video") == "video/mp4"
    assert mime_type_of("x.unknownext", "image") == "application/octet-stream"


def test_public_url_joins_the_base_and_the_encoded_path() -> None:
    settings = Settings(media_base_url="https://cdn.example.com/brand/")
    url = public_url(settings, Media(file="media/suv front.jpg", alt=""))
    assert url == "https://cdn.example.com/brand/media/suv%20front.jpg"


def test_public_url_without_a_base_says_which_variable_to_set() -> None:
    with pytest.raises(Permanent, match="STORYLINE_MEDIA_BASE_URL"):
        public_url(Settings(), Media(file="media/a.jpg", alt=""))


def test_public_url_refuses_a_base_that_is_not_http() -> None:
    with pytest.raises(Permanent, match="http"):
        public_url(Settings(media_base_url="ftp://cdn"), Media(file="a.jpg", alt=""))


def test_public_url_refuses_escaping_paths() -> None:
    with pytest.raises(Permanent, match="inside the content folder"):
        public_url(Settings(media_base_url="https://cdn"), Media(file="../x.jpg", alt=""))


def test_validation_warns_when_instagram_media_have_no_public_base() -> None:
    from scheduler.core.diagnostics import Position
    from scheduler.publishers.media import public_url_findings

    media = Media(file="media/a.jpg", alt="", pos=Position("content/stories/suv.yaml", 14, 5))
    [finding] = public_url_findings(Settings(), "instagram", [media])
    assert (finding.file, finding.line, finding.code) == (
        "content/stories/suv.yaml",
        14,
        "media-url-missing",
    )
    assert "STORYLINE_MEDIA_BASE_URL" in finding.message
    assert not finding.is_error


def test_validation_is_silent_with_a_base_or_for_uploading_networks() -> None:
    from scheduler.publishers.media import public_url_findings

    media = [Media(file="media/a.jpg", alt="")]
    assert public_url_findings(Settings(media_base_url="https://cdn"), "threads", media) == []
    assert public_url_findings(Settings(), "facebook", media) == []
