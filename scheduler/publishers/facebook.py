"""Facebook Pages through the Graph API (Pages API): feed posts with a link, photo and video posts.

Flows (docs/publishers.md#facebook-pages has the pages consulted):

* text + link: ``POST /{page-id}/feed`` with ``message`` and ``link``
  -> ``{"id": "<page>_<post>"}``;
* one photo: ``POST /{page-id}/photos`` (multipart ``source`` read from the content folder,
  ``message``) -> ``{"id": <photo>, "post_id": "<page>_<post>"}``;
* several photos: each uploaded with ``published=false``, then ``POST /{page-id}/feed`` with
  ``attached_media[i]={"media_fbid": ...}``; each upload is checkpointed so a retry reuses them;
* one video: ``POST /{page-id}/videos`` (multipart ``source``, ``description``) on the video host;
* the line's ``link: first_comment`` policy: ``POST /{post-id}/comments`` with ``message`` once
  the post exists — checkpointed first, so a retry never posts twice.

The token is the Page access token (secrets: ``facebook: {<page id>: {access_token: ...}}``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from scheduler.core.errors import CannotCheck, Permanent, Transient
from scheduler.publishers.base import (
    AccountStatus,
    Checkpoint,
    Credentials,
    OutgoingPost,
    Published,
    PublisherSettings,
    _no_checkpoint,
)
from scheduler.publishers.http import HttpClient
from scheduler.publishers.media import MediaFile, media_file
from scheduler.publishers.meta import (
    FIND_MARGIN,
    GRAPH_BASE,
    GRAPH_VERSION,
    DuplicatePost,
    GraphApi,
    find_by_text,
    token_status,
)
from scheduler.publishers.meta_insights import gone, read_insights
from scheduler.publishers.metrics import Counts, MetricsAnswer, number, one_by_one, total

log = logging.getLogger(__name__)

#: Page post insights read for each post (docs/publishers.md, "Metrics").
INSIGHTS = ("post_impressions", "post_clicks", "post_reactions_by_type_total")

VIDEO_BASE = f"https://graph-video.facebook.com/{GRAPH_VERSION}"


class FacebookPublisher:
    """Publishes to a Facebook Page as the Page (Page access token)."""

    network: ClassVar[str] = "facebook"
    requires: ClassVar[tuple[str, ...]] = ("access_token",)

    def __init__(self, settings: PublisherSettings, http: HttpClient) -> None:
        self.settings = settings
        self.http = http
        self.base = settings.api_base("facebook", GRAPH_BASE)
        # An override points every call at one place (tests, proxies); otherwise videos go to
        # the documented upload host.
        overridden = self.base != GRAPH_BASE
        self.video_base = self.base if overridden else VIDEO_BASE

    # --- what would be sent -------------------------------------------------------------

    def message_of(self, post: OutgoingPost) -> str:
        """The post's text; photo and video posts carry no link card, so the link goes in it."""
        if post.media and post.link and post.link not in post.text:
            return f"{post.text}\n\n{post.link}"
        return post.text

    def _files(self, post: OutgoingPost) -> list[MediaFile]:
        files = [media_file(post.content_dir, m) for m in post.media]
        videos = [f for f in files if f.is_video]
        if videos and len(files) > 1:
            raise Permanent(
                "facebook: a Page post carries photos or one video, not both "
                f"({len(files)} media files given)"
            )
        return files

    def describe(self, post: OutgoingPost) -> dict[str, Any]:
        """The first request :meth:`publish` sends, without the token (for the outbox)."""
        page = post.account
        if not post.media:
            data = {"message": post.text}
            if post.link:
                data["link"] = post.link
            return {"method": "POST", "url": f"{self.base}/{page}/feed", "data": data}
        first = post.media[0]
        if first.kind == "video":
            return {
                "method": "POST",
                "url": f"{self.video_base}/{page}/videos",
                "data": {"description": self.message_of(post)},
                "files": {"source": first.file},
            }
        data = {"message": self.message_of(post)}
        if len(post.media) > 1:
            data = {"published": "false"}
        return {
            "method": "POST",
            "url": f"{self.base}/{page}/photos",
            "data": data,
            "files": {"source": first.file},
        }

    # --- publishing -----------------------------------------------------------------------

    def publish(
        self, post: OutgoingPost, credentials: Credentials, checkpoint: Checkpoint = _no_checkpoint
    ) -> Published:
        api = GraphApi(self.http, self.base, self.network, credentials)
        state: dict[str, Any] = dict(post.checkpoint)
        if not state.get("post_id"):
            try:
                post_id = self._create(api, post, state, checkpoint)
            except DuplicatePost as exc:
                # Meta says an identical post was just published: look before failing.
                found = self.find(post, credentials)
                if found is None:
                    raise Permanent(str(exc), http_status=exc.http_status) from None
                post_id = found.remote_id
            state["post_id"] = post_id
            checkpoint(dict(state))
        post_id = str(state["post_id"])
        if post.first_comment and not state.get("comment_id"):
            self._comment(api, post_id, post.first_comment, state, checkpoint)
        return Published(post_id, self.url_of(post_id))

    @staticmethod
    def url_of(post_id: str) -> str:
        return f"https://www.facebook.com/{post_id}"

    def _create(
        self,
        api: GraphApi,
        post: OutgoingPost,
        state: dict[str, Any],
        checkpoint: Checkpoint,
    ) -> str:
        page = post.account
        files = self._files(post)
        if not files:
            body = api.post(f"{page}/feed", {"message": post.text, "link": post.link})
            return _id(body, "id")
        message = self.message_of(post)
        if files[0].is_video:
            body = api.at(self.video_base).post(
                f"{page}/videos", {"description": message}, files={"source": _upload(files[0])}
            )
            return _id(body, "id")
        if len(files) == 1:
            body = api.post(
                f"{page}/photos", {"message": message}, files={"source": _upload(files[0])}
            )
            return _id(body, "post_id", "id")
        photos: list[str] = list(state.get("photo_ids") or [])
        for file in files[len(photos) :]:
            body = api.post(
                f"{page}/photos", {"published": "false"}, files={"source": _upload(file)}
            )
            photos.append(_id(body, "id"))
            state["photo_ids"] = list(photos)
            checkpoint(dict(state))
        attached = {
            f"attached_media[{i}]": json.dumps({"media_fbid": fbid})
            for i, fbid in enumerate(photos)
        }
        body = api.post(f"{page}/feed", {"message": message, **attached})
        return _id(body, "id")

    def _comment(
        self,
        api: GraphApi,
        post_id: str,
        message: str,
        state: dict[str, Any],
        checkpoint: Checkpoint,
    ) -> None:
        """Add the first comment. The post is already out: a refused comment is logged, not
        turned into a failed post; a transient error retries the comment alone."""
        try:
            body = api.post(f"{post_id}/comments", {"message": message})
        except Transient:
            raise
        except Permanent as exc:
            log.warning("facebook: first comment on %s refused: %s", post_id, exc)
            state["comment_id"] = "refused"
            checkpoint(dict(state))
            return
        state["comment_id"] = _id(body, "id")
        checkpoint(dict(state))

    # --- accounts check ------------------------------------------------------------------

    def check(self, credentials: Credentials) -> AccountStatus:
        """Token validity and expiry (``debug_token``) and that it reaches this account."""
        api = GraphApi(self.http, self.base, self.network, credentials)
        return token_status(
            api, credentials, identity="me", fields="id,name", expected_id=credentials.account
        )

    # --- metrics -------------------------------------------------------------------------

    metrics_batch: ClassVar[int] = 1

    def metrics(self, remote_ids: Sequence[str], credentials: Credentials) -> MetricsAnswer:
        """``GET /{post-id}/insights``: impressions, clicks and reactions (summed by type)."""
        api = GraphApi(self.http, self.base, self.network, credentials)

        def read(post_id: str) -> Counts | None:
            found = read_insights(api, post_id, INSIGHTS)
            if found is None:
                return None
            reactions = found.get("post_reactions_by_type_total")
            return Counts(
                impressions=number(found.get("post_impressions")),
                clicks=number(found.get("post_clicks")),
                likes=total(*reactions.values()) if isinstance(reactions, dict) else None,
                raw=found,
            )

        return one_by_one(remote_ids, read, gone=gone)

    # --- reconciliation -------------------------------------------------------------------

    def find(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        """Was the post created? The checkpoint knows if Meta answered; otherwise the Page's
        recent published posts are searched for our exact message."""
        post_id = post.checkpoint.get("post_id")
        if post_id:
            return Published(str(post_id), self.url_of(str(post_id)))
        api = GraphApi(self.http, self.base, self.network, credentials)
        since = post.due_utc - FIND_MARGIN
        walk = api.paged(
            f"{post.account}/published_posts",
            fields="id,message,created_time,permalink_url",
            since=int(since.timestamp()),
            limit=25,
        )
        try:
            return find_by_text(
                walk,
                text=post.text if not post.media else self.message_of(post),
                text_field="message",
                time_field="created_time",
                url_field="permalink_url",
                since=since,
            )
        except Permanent as exc:
            raise CannotCheck(f"facebook: cannot list the Page's posts: {exc}") from None


def _id(body: Mapping[str, Any], *keys: str) -> str:
    for key in keys:
        if body.get(key):
            return str(body[key])
    raise Transient(f"facebook: answer without {' or '.join(keys)}", sent=True)


def _upload(file: MediaFile) -> tuple[str, bytes, str]:
    return (file.name, file.read_bytes(), file.mime_type)
