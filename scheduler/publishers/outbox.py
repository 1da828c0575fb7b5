"""The outbox: the embedded default publisher, and the in-package fake (the httpx habit).

A network whose account has no credentials publishes here: one JSON file per post under
``<data dir>/outbox/<network>/<market>/<story>__<beat>.json`` (docs/publishers.md) holding the exact
request the real publisher would send. The write is atomic (temp file, fsync, ``os.replace``) so
a reader or a reconciliation never sees half a file, and ``find`` reads the file back, so a post
interrupted mid-publish reconciles to ``published`` or certainly-absent, never "cannot tell".
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

from scheduler.core.errors import Permanent
from scheduler.publishers.base import (
    Checkpoint,
    Credentials,
    OutgoingPost,
    Published,
    PublisherSettings,
)
from scheduler.publishers.http import HttpClient

#: Documented endpoints, for the generic description used when a network's publisher offers
#: no ``describe(post)``: (method, path relative to the API base, default base URL).
_ENDPOINTS: dict[str, tuple[str, str, str]] = {
    "facebook": ("POST", "/v21.0/{account}/feed", "https://graph.facebook.com"),
    "instagram": ("POST", "/v21.0/{account}/media", "https://graph.facebook.com"),
    "threads": ("POST", "/v1.0/{account}/threads", "https://graph.threads.net"),
    "x": ("POST", "/2/tweets", "https://api.x.com"),
    "linkedin": ("POST", "/rest/posts", "https://api.linkedin.com"),
    "youtube": ("POST", "/upload/youtube/v3/videos", "https://www.googleapis.com"),
    "weibo": ("POST", "/2/statuses/share.json", "https://api.weibo.com"),
    "mastodon": ("POST", "/api/v1/statuses", "https://mastodon.social"),
    "bluesky": ("POST", "/xrpc/com.atproto.repo.createRecord", "https://bsky.social"),
}

Describer = Callable[[OutgoingPost], Mapping[str, Any]]


def iso_z(dt: datetime) -> str:
    """ISO 8601 in UTC with a ``Z``, the form every file and JSON shape of Storyline uses."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def outbox_path(outbox_dir: Path, post: OutgoingPost) -> Path:
    """Where ``post`` lands; refuses path parts that would escape the outbox folder."""
    parts = [post.network, post.market, post.story, post.beat]
    for part in parts:
        if not part or "/" in part or "\\" in part or part in {".", ".."}:
            raise Permanent(f"outbox: {post.post_id!r} cannot be written as a file name")
    return outbox_dir / post.network / post.market / f"{post.story}__{post.beat}.json"


def generic_request(post: OutgoingPost, settings: PublisherSettings) -> dict[str, Any]:
    """What a post would look like on the wire when its publisher cannot describe itself."""
    method, path, base = _ENDPOINTS.get(
        post.network, ("POST", "/posts", f"https://api.{post.network}.invalid")
    )
    body: dict[str, Any] = {"text": post.text}
    if post.title:
        body["title"] = post.title
    if post.link:
        body["link"] = post.link
    if post.media:
        body["media"] = [{"file": m.file, "alt": m.alt, "kind": m.kind} for m in post.media]
    if post.first_comment:
        body["first_comment"] = post.first_comment
    url = settings.api_base(post.network, base) + path.format(account=post.account)
    return {"method": method, "url": url, "json": body}


def atomic_write_json(path: Path, data: Mapping[str, Any]) -> None:
    """Write ``data`` so that ``path`` holds either the old file or the whole new one.

    The file's data is fsync'd before the rename: the calendar records the post as published
    right after this returns, so without it a power cut could leave a published post whose
    outbox file is empty — the one record other tools read. The temporary name is unique to
    this process and thread (``O_EXCL`` still refuses a leftover), and the folder is made only
    when the first write into it fails: in a burst every system call here is paid per post.
    """
    body = (json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(tmp, flags, 0o600)
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, flags, 0o600)
    except FileExistsError:  # left by a process killed mid-write that had this pid and thread
        tmp.unlink()
        fd = os.open(tmp, flags, 0o600)
    try:
        try:
            view = memoryview(body)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    # No fsync of the folder: should a power cut undo the rename, ``find`` reports the post
    # absent and it is written again, the same file, which is harmless for an outbox.


class OutboxPublisher:
    """Writes the request a network's real publisher would send, instead of sending it."""

    network: ClassVar[str] = "outbox"
    requires: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        settings: PublisherSettings,
        http: HttpClient,
        *,
        describe: Describer | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.http = http
        self._describe = describe
        self._clock = clock or (lambda: datetime.now(UTC))

    def request_of(self, post: OutgoingPost) -> dict[str, Any]:
        if self._describe is not None:
            described = dict(self._describe(post))
            if "method" in described and "url" in described:
                return described
        return generic_request(post, self.settings)

    def publish(
        self,
        post: OutgoingPost,
        credentials: Credentials,
        checkpoint: Checkpoint | None = None,
    ) -> Published:
        path = outbox_path(self.settings.outbox_dir, post)
        record = {
            "post_id": post.post_id,
            "network": post.network,
            "market": post.market,
            "account": post.account,
            "account_name": post.account_name,
            "story": post.story,
            "beat": post.beat,
            "due_utc": iso_z(post.due_utc),
            "published_at": iso_z(self._clock()),
            "marker": post.marker,
            "request": self.request_of(post),
        }
        try:
            atomic_write_json(path, record)
        except OSError as exc:
            raise Permanent(f"outbox: cannot write {path}: {exc.strerror}") from None
        return self._published(path)

    def find(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        path = outbox_path(self.settings.outbox_dir, post)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            # The write is atomic, so a file that exists but does not parse was not ours.
            return None
        if not isinstance(data, dict) or data.get("post_id") != post.post_id:
            return None
        return self._published(path)

    def read(self, post: OutgoingPost) -> dict[str, Any] | None:
        """The outbox record of ``post``, if it was published here."""
        path = outbox_path(self.settings.outbox_dir, post)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def _published(self, path: Path) -> Published:
        relative = path.relative_to(self.settings.data_dir).as_posix()
        return Published(remote_id=relative, url=path.absolute().as_uri())
