"""YouTube: a video upload through the Data API v3 resumable upload protocol.

Flow (developers.google.com/youtube/v3: "Resumable uploads", "Videos: insert", "Errors"):

1. ``POST /upload/youtube/v3/videos?uploadType=resumable&part=snippet,status`` with the video
   resource (title, description, tags, category; privacy and publish time) and the headers
   ``X-Upload-Content-Length`` / ``X-Upload-Content-Type`` -> the session URI in ``Location``.
   The URI is checkpointed **before** a byte is sent: from then on the upload can only be
   resumed, never started twice.
2. ``PUT`` the bytes to the session URI -> ``200``/``201`` with the video resource (its id).
3. After an interruption: ``PUT`` with ``Content-Range: bytes */<size>`` asks how far it got;
   ``308`` with ``Range: bytes=0-<n>`` -> send from ``n+1``; ``200``/``201`` -> it is done.

A video due more than a minute ahead is uploaded ``private`` with ``publishAt`` at the due
time, so YouTube itself releases it on the minute; at or after the due time it goes ``public``.
Quota errors (``quotaExceeded``, ``uploadLimitExceeded``) wait until midnight Pacific time, when
the daily quota resets. ``find`` asks the checkpointed session, which knows exactly whether the
video was created; without a session nothing was ever sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import httpx

from scheduler.core.errors import CannotCheck, NeedsAuth, Permanent, PublishError, Transient
from scheduler.publishers.base import (
    AccountStatus,
    Checkpoint,
    Credentials,
    OutgoingPost,
    Published,
    PublisherSettings,
    _no_checkpoint,
)
from scheduler.publishers.http import HttpClient, error_text
from scheduler.publishers.media import MediaFile, media_file
from scheduler.publishers.metrics import Counts, MetricsAnswer, NoPermission, number
from scheduler.text import extract

DEFAULT_BASE = "https://www.googleapis.com"
UPLOAD_PATH = "/upload/youtube/v3/videos"
CATEGORY_PEOPLE_AND_BLOGS = "22"
TITLE_MAX = 100
SCHEDULE_LEAD = timedelta(minutes=1)
PACIFIC = ZoneInfo("America/Los_Angeles")
STREAM_CHUNK = 1024 * 1024

_QUOTA_REASONS = {"quotaExceeded", "dailyLimitExceeded", "uploadLimitExceeded"}


def seconds_until_pacific_midnight(now: datetime) -> float:
    """The YouTube Data API's daily quota resets at midnight Pacific time."""
    local = now.astimezone(PACIFIC)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), PACIFIC)
    return (midnight - local).total_seconds()


def _reasons(response: httpx.Response) -> set[str]:
    try:
        body = response.json()
    except ValueError:
        return set()
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        return set()
    return {str(e.get("reason")) for e in error.get("errors", []) if isinstance(e, dict)}


def _classify(response: httpx.Response) -> PublishError | None:
    if _reasons(response) & _QUOTA_REASONS:
        return Transient(
            f"youtube answered HTTP {response.status_code}: {error_text(response)}",
            retry_after=seconds_until_pacific_midnight(datetime.now(UTC)),
            http_status=response.status_code,
        )
    return None


def title_of(post: OutgoingPost) -> str:
    """The post's title, else its first line; at most 100 characters, no ``<`` or ``>``
    (YouTube refuses both)."""
    lines = post.text.strip().splitlines()
    title = post.title or (lines[0] if lines else "")
    return title.replace("<", "").replace(">", "").strip()[:TITLE_MAX]


class YouTubePublisher:
    """Uploads the post's video to the channel, resumably."""

    network: ClassVar[str] = "youtube"
    requires: ClassVar[tuple[str, ...]] = ("access_token",)

    def __init__(
        self,
        settings: PublisherSettings,
        http: HttpClient,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.settings = settings
        self.http = http
        self._clock = clock

    @property
    def base(self) -> str:
        return self.settings.api_base(self.network, DEFAULT_BASE)

    def _call(
        self, method: str, url: str, credentials: Credentials, **kwargs: Any
    ) -> httpx.Response:
        return self.http.for_account(
            method, url, network=self.network, credentials=credentials, classify=_classify, **kwargs
        )

    # -- the video resource --------------------------------------------------------------

    def video_resource(self, post: OutgoingPost, now: datetime) -> dict[str, Any]:
        status: dict[str, Any] = {"selfDeclaredMadeForKids": False}
        if post.due_utc - now > SCHEDULE_LEAD:
            status["privacyStatus"] = "private"
            status["publishAt"] = post.due_utc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        else:
            status["privacyStatus"] = "public"
        return {
            "snippet": {
                "title": title_of(post),
                "description": post.text,
                "tags": extract.hashtags_in(post.text),
                "categoryId": CATEGORY_PEOPLE_AND_BLOGS,
            },
            "status": status,
        }

    def _video(self, post: OutgoingPost) -> MediaFile:
        for media in post.media:
            found = media_file(post.content_dir, media)
            if found.is_video:
                return found
        raise Permanent("youtube: the post has no video in its media; YouTube needs one")

    def describe(self, post: OutgoingPost) -> dict[str, Any]:
        """The session-opening request, as scheduled ahead of the due time."""
        video = next((m for m in post.media if m.kind == "video"), None)
        return {
            "method": "POST",
            "url": f"{self.base}{UPLOAD_PATH}?uploadType=resumable&part=snippet,status",
            "json": self.video_resource(post, post.due_utc - 2 * SCHEDULE_LEAD),
            "media": [{"file": video.file}] if video else [],
        }

    # -- publish -------------------------------------------------------------------------

    def publish(
        self, post: OutgoingPost, credentials: Credentials, checkpoint: Checkpoint = _no_checkpoint
    ) -> Published:
        video = self._video(post)
        session = str(post.checkpoint.get("upload_url") or "")
        offset = 0
        if session:
            state = self._uploaded_so_far(session, video.size, credentials)
            if isinstance(state, Published):
                return state
            if state is None:  # the session expired: unless the video is there, start over
                try:
                    existing = self._find_in_uploads(post, credentials)
                except CannotCheck as exc:
                    raise Transient(str(exc)) from None
                if existing is not None:
                    return existing
                session = ""
            else:
                offset = state
        if not session:
            session = self._open_session(post, video, credentials)
            checkpoint({"upload_url": session, "size": video.size})
        return self._send(session, video, offset, credentials)

    def _open_session(self, post: OutgoingPost, video: MediaFile, credentials: Credentials) -> str:
        response = self._call(
            "POST",
            f"{self.base}{UPLOAD_PATH}",
            credentials,
            params={"uploadType": "resumable", "part": "snippet,status"},
            json=self.video_resource(post, self._clock()),
            headers={
                "Content-Type": "application/json; charset=UTF-8",
                "X-Upload-Content-Length": str(video.size),
                "X-Upload-Content-Type": video.mime_type,
            },
        )
        location = str(response.headers.get("location") or "")
        if not location:
            raise Permanent("youtube: no upload session URI (Location) in the answer")
        return location

    def _send(
        self, session: str, video: MediaFile, offset: int, credentials: Credentials
    ) -> Published:
        headers = {"Content-Type": video.mime_type, "Content-Length": str(video.size - offset)}
        if offset:
            headers["Content-Range"] = f"bytes {offset}-{video.size - 1}/{video.size}"
        response = self._call(
            "PUT",
            session,
            credentials,
            content=self._bytes_from(video, offset),
            headers=headers,
            ok=(200, 201, 308),
        )
        if response.status_code == 308:
            raise Transient("youtube: the upload stopped short; it resumes on the next attempt")
        return self._published(response.json())

    @staticmethod
    def _bytes_from(video: MediaFile, offset: int) -> Iterator[bytes]:
        with video.open() as fh:
            fh.seek(offset)
            while chunk := fh.read(STREAM_CHUNK):
                yield chunk

    @staticmethod
    def _published(resource: Mapping[str, Any]) -> Published:
        video_id = str(resource["id"])
        return Published(remote_id=video_id, url=f"https://www.youtube.com/watch?v={video_id}")

    def _uploaded_so_far(
        self, session: str, size: int, credentials: Credentials
    ) -> Published | int | None:
        """Ask the session: the finished video, the next byte to send, or None if expired."""
        try:
            response = self._call(
                "PUT",
                session,
                credentials,
                content=b"",
                headers={"Content-Range": f"bytes */{size}", "Content-Length": "0"},
                ok=(200, 201, 308),
            )
        except Permanent as exc:
            if exc.http_status in (404, 410):
                return None
            raise
        if response.status_code in (200, 201):
            return self._published(response.json())
        received = response.headers.get("range", "")
        if received.startswith("bytes=") and "-" in received:
            return int(received.rsplit("-", 1)[1]) + 1
        return 0

    # -- metrics -------------------------------------------------------------------------

    #: ``videos.list`` takes up to 50 comma-separated ids (one quota unit per request).
    metrics_batch: ClassVar[int] = 50

    def metrics(self, remote_ids: Sequence[str], credentials: Credentials) -> MetricsAnswer:
        """``GET /youtube/v3/videos?part=statistics&id=…``: views, likes and comments. A video
        the list leaves out is gone (deleted, or no longer visible to the channel)."""
        try:
            response = self._call(
                "GET",
                f"{self.base}/youtube/v3/videos",
                credentials,
                params={"part": "statistics", "id": ",".join(remote_ids)},
            )
        except (Permanent, NeedsAuth) as exc:  # 403: a scope is missing
            if exc.http_status == 403:
                raise NoPermission(str(exc), http_status=403) from None
            raise
        answer = MetricsAnswer()
        for item in response.json().get("items") or []:
            stats = item.get("statistics") or {}
            answer.counts[str(item["id"])] = Counts(
                views=number(stats.get("viewCount")),
                likes=number(stats.get("likeCount")),
                comments=number(stats.get("commentCount")),
                raw=stats,
            )
        answer.deleted = {i for i in remote_ids if i not in answer.counts}
        return answer

    # -- accounts check --------------------------------------------------------------------

    def check(self, credentials: Credentials) -> AccountStatus:
        """Google's ``tokeninfo`` gives the token's expiry; ``channels?mine=true`` whose it is."""
        try:
            info = self._call(
                "GET",
                f"{self.base}/oauth2/v3/tokeninfo",
                credentials,
                params={"access_token": credentials.get("access_token", "")},
            ).json()
        except Permanent as exc:  # 400 invalid_token: the token is dead
            raise NeedsAuth(str(exc), http_status=exc.http_status) from None
        expires_at = None
        if str(info.get("exp", "")).isdigit():
            expires_at = datetime.fromtimestamp(int(info["exp"]), UTC)
        channels = self._call(
            "GET",
            f"{self.base}/youtube/v3/channels",
            credentials,
            params={"part": "id", "mine": "true"},
        ).json()
        ids = [str(item.get("id")) for item in channels.get("items", [])]
        detail = f"channel {', '.join(ids) or 'none'}"
        if ids and credentials.account not in ids:
            detail += f" (markets.yaml says {credentials.account})"
        return AccountStatus(present=True, valid=True, expires_at=expires_at, detail=detail)

    # -- find ----------------------------------------------------------------------------

    def find(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        """Exact through the checkpointed session; no session means no byte was ever sent."""
        session = str(post.checkpoint.get("upload_url") or "")
        if not session:
            return None
        size = int(post.checkpoint.get("size") or 0)
        try:
            state = self._uploaded_so_far(session, size, credentials)
        except PublishError as exc:
            raise CannotCheck(f"youtube: cannot ask the upload session: {exc}") from None
        if isinstance(state, Published):
            return state
        if state is None:
            return self._find_in_uploads(post, credentials)
        return None  # incomplete: no video exists yet; publishing resumes the session

    def _find_in_uploads(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        """The session expired: look through the channel's uploads for our title and text."""
        try:
            channels = self._call(
                "GET",
                f"{self.base}/youtube/v3/channels",
                credentials,
                params={"part": "contentDetails", "mine": "true"},
            ).json()
            uploads = channels["items"][0]["contentDetails"]["relatedPlaylists"]["uploads"]
            items = self._call(
                "GET",
                f"{self.base}/youtube/v3/playlistItems",
                credentials,
                params={"part": "snippet", "playlistId": uploads, "maxResults": "50"},
            ).json()
        except (PublishError, KeyError, IndexError, TypeError) as exc:
            raise CannotCheck(f"youtube: cannot list the channel's uploads: {exc}") from None
        for item in items.get("items", []):
            snippet = item.get("snippet", {})
            if snippet.get("title") == title_of(post) and (
                snippet.get("description", "").strip() == post.text.strip()
            ):
                return self._published({"id": snippet["resourceId"]["videoId"]})
        if items.get("nextPageToken"):
            raise CannotCheck("youtube: the channel has too many uploads to be sure")
        return None
