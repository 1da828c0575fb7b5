"""Media files for publishers: read them safely from the content folder, or give their public URL.

Two ways a network takes media, and one helper for each:

* upload (Facebook photos, X, LinkedIn, YouTube, Mastodon, Bluesky...): :func:`media_file`
  resolves ``media.file`` under ``post.content_dir`` — refusing any path that would escape it
  (``../``, absolute paths, symlinks pointing out), because the path comes from content written
  by many people — and tells its MIME type, size and bytes;
* fetch by URL (Instagram, Threads: Meta's servers download the file themselves):
  :func:`public_url` joins ``STORYLINE_MEDIA_BASE_URL`` and the file's path. Without that
  setting the post cannot go out, so it raises :class:`~scheduler.core.errors.Permanent` with a
  message that says which variable to set.

Both raise ``Permanent``: a missing or unsafe file does not fix itself on retry.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.parse import quote, urlsplit

from scheduler.core.diagnostics import Finding
from scheduler.core.errors import Permanent
from scheduler.core.model import Media
from scheduler.publishers.base import PublisherSettings

MEDIA_BASE_URL_VARIABLE = "STORYLINE_MEDIA_BASE_URL"

#: The types the networks accept, fixed here so the answer does not depend on the host's
#: ``/etc/mime.types``; anything else falls back to :mod:`mimetypes`.
KNOWN_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".heic": "image/heic",
    ".mp4": "video/mp4",
    ".m4v": "video/x-m4v",
    ".mov": "video/quicktime",
    ".webm": "video/webm",
}


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A media file found under the content folder, ready to upload."""

    media: Media
    path: Path  # absolute, resolved, inside the content folder
    mime_type: str
    size: int

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def is_video(self) -> bool:
        return self.media.kind == "video" or self.mime_type.startswith("video/")

    def read_bytes(self) -> bytes:
        return self.path.read_bytes()

    def open(self) -> BinaryIO:
        """The file opened for reading (the caller closes it), for streamed or chunked uploads."""
        return self.path.open("rb")

    def chunks(self, size: int) -> Iterator[bytes]:
        """The file in pieces of ``size`` bytes (resumable and chunked upload APIs)."""
        with self.open() as fh:
            while chunk := fh.read(size):
                yield chunk


def mime_type_of(name: str, kind: str = "image") -> str:
    """The MIME type networks expect for a file name; a generic one by ``kind`` if unknown."""
    suffix = PurePosixPath(name).suffix.lower()
    if suffix in KNOWN_TYPES:
        return KNOWN_TYPES[suffix]
    guessed, _ = mimetypes.guess_type(name, strict=False)
    if guessed:
        return guessed
    return "video/mp4" if kind == "video" else "application/octet-stream"


def _relative_parts(media: Media) -> tuple[str, ...]:
    """The file's path as safe relative parts, or Permanent if it could leave the folder."""
    raw = media.file.strip().replace("\\", "/")
    where = f"{media.pos.file}:{media.pos.line}: " if media.pos.file else ""
    if not raw:
        raise Permanent(f"{where}media file name is empty")
    path = PurePosixPath(raw)
    if path.is_absolute() or ":" in path.parts[0] or ".." in path.parts:
        raise Permanent(
            f"{where}media file {media.file!r} must be a path inside the content folder "
            "(no absolute path, no '..')"
        )
    return tuple(part for part in path.parts if part not in ("", "."))


def media_path(content_dir: Path, media: Media) -> Path:
    """Where ``media.file`` lives under ``content_dir``; refuses escapes, symlinks included."""
    parts = _relative_parts(media)
    root = content_dir.resolve()
    candidate = root.joinpath(*parts).resolve()
    if not candidate.is_relative_to(root):
        raise Permanent(
            f"media file {media.file!r} resolves outside the content folder {content_dir}"
        )
    if not candidate.is_file():
        raise Permanent(
            f"media file {media.file!r} not found under the content folder {content_dir}"
        )
    return candidate


def media_file(content_dir: Path, media: Media) -> MediaFile:
    """The file behind ``media``, checked and typed, for publishers that upload bytes."""
    path = media_path(content_dir, media)
    return MediaFile(
        media=media,
        path=path,
        mime_type=mime_type_of(path.name, media.kind),
        size=path.stat().st_size,
    )


def public_url(settings: PublisherSettings, media: Media) -> str:
    """The URL from which a network (Instagram, Threads) downloads ``media`` by itself.

    ``STORYLINE_MEDIA_BASE_URL`` is where the content folder is served from (a CDN, a bucket);
    the file's path below the content folder is appended, each segment percent-encoded.
    """
    base = (settings.media_base_url or "").strip()
    if not base:
        raise Permanent(
            f"media {media.file!r} must be fetched by the network from a public URL: set "
            f"{MEDIA_BASE_URL_VARIABLE} to the public address of the content folder "
            "(e.g. https://cdn.example.com/content)"
        )
    scheme = urlsplit(base).scheme
    if scheme not in ("http", "https"):
        raise Permanent(f"{MEDIA_BASE_URL_VARIABLE} must be an http(s) URL, not {base!r}")
    path = "/".join(quote(part, safe="") for part in _relative_parts(media))
    return f"{base.rstrip('/')}/{path}"


#: Networks whose servers download the media themselves from a public URL (no upload API).
FETCHED_BY_URL = frozenset({"instagram", "threads"})


def public_url_findings(
    settings: PublisherSettings, network: str, media: Iterable[Media]
) -> list[Finding]:
    """For ``storyline validate``: a warning on each media item a URL-fetching network will
    need a public address for, when ``STORYLINE_MEDIA_BASE_URL`` is not set.

    A warning, not an error: in outbox mode the outbox publishes, and it needs no URL.
    """
    if network not in FETCHED_BY_URL or (settings.media_base_url or "").strip():
        return []
    return [
        Finding.warning(
            m.pos,
            "media-url-missing",
            f"{network} downloads {m.file!r} from a public URL: set {MEDIA_BASE_URL_VARIABLE} "
            "to the public address of the content folder before publishing for real",
        )
        for m in media
    ]
