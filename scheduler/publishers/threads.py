"""Threads through the Threads API (graph.threads.net/v1.0): a media container, then a publish.

The documented flow:

1. quota: ``GET /{threads-user-id}/threads_publishing_limit?fields=quota_usage,config``
   (250 posts per rolling 24 hours; a full quota is a Transient, never a refused post);
2. container: ``POST /{threads-user-id}/threads`` with ``media_type`` (``TEXT``, ``IMAGE``,
   ``VIDEO``), ``text``, ``image_url``/``video_url`` (+ ``alt_text``), and for a text post the
   story's link as ``link_attachment`` (the link preview card); a carousel first makes one
   child per item (``is_carousel_item=true``), then ``media_type=CAROUSEL`` with ``children``;
3. wait: ``GET /{container-id}?fields=status,error_message`` while ``IN_PROGRESS`` (bounded);
4. publish: ``POST /{threads-user-id}/threads_publish`` with ``creation_id`` -> the media id;
5. a first comment, when the line asks for one, is a reply: a ``TEXT`` container with
   ``reply_to_id`` = the new media id, then its own publish.

Each step is checkpointed (``children``, ``container_id``, ``media_id``, ``reply_id``), so a
retry resumes where the last attempt stopped. Media are fetched by Threads from their public
URL (``STORYLINE_MEDIA_BASE_URL``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, ClassVar

from scheduler.core.errors import CannotCheck, NeedsAuth, Permanent, PublishError, Transient
from scheduler.core.model import Media
from scheduler.publishers.base import (
    AccountStatus,
    Checkpoint,
    Credentials,
    OutgoingPost,
    Published,
    _no_checkpoint,
)
from scheduler.publishers.meta import (
    FIND_MARGIN,
    THREADS_BASE,
    ContainerPublisher,
    GraphApi,
    MissingObject,
    check_quota,
    find_by_text,
    token_status,
    wait_for_container,
)
from scheduler.publishers.meta_insights import gone, read_insights
from scheduler.publishers.metrics import Counts, MetricsAnswer, number, one_by_one, total

log = logging.getLogger(__name__)

MAX_CAROUSEL_ITEMS = 20


class ThreadsPublisher(ContainerPublisher):
    """Publishes text, image, video and carousel posts to a Threads profile."""

    network: ClassVar[str] = "threads"
    default_base: ClassVar[str] = THREADS_BASE

    # --- what would be sent -------------------------------------------------------------

    def text_of(self, post: OutgoingPost) -> str:
        """A media post has no link card: its link goes in the text (where Threads links it)."""
        if post.media and post.link and post.link not in post.text:
            return f"{post.text}\n\n{post.link}"
        return post.text

    def _media_fields(self, media: Media, *, strict: bool = True) -> dict[str, Any]:
        url = self._url(media, strict=strict)
        if media.kind == "video":
            fields: dict[str, Any] = {"media_type": "VIDEO", "video_url": url}
        else:
            fields = {"media_type": "IMAGE", "image_url": url}
        if media.alt:
            fields["alt_text"] = media.alt
        return fields

    def _container_fields(self, post: OutgoingPost, *, strict: bool = True) -> dict[str, Any]:
        """The single container of a text, image or video post."""
        if not post.media:
            return {"media_type": "TEXT", "text": post.text, "link_attachment": post.link}
        return {**self._media_fields(post.media[0], strict=strict), "text": self.text_of(post)}

    def describe(self, post: OutgoingPost) -> dict[str, Any]:
        """The first request :meth:`publish` sends (the first container), without the token."""
        if len(post.media) > 1:
            data = {**self._media_fields(post.media[0], strict=False), "is_carousel_item": "true"}
        else:
            data = self._container_fields(post, strict=False)
        return {
            "method": "POST",
            "url": f"{self.base}/{post.account}/threads",
            "data": {k: v for k, v in data.items() if v is not None},
        }

    # --- publishing -----------------------------------------------------------------------

    def publish(
        self, post: OutgoingPost, credentials: Credentials, checkpoint: Checkpoint = _no_checkpoint
    ) -> Published:
        api = GraphApi(self.http, self.base, self.network, credentials)
        state: dict[str, Any] = dict(post.checkpoint)
        user = post.account
        if not state.get("media_id"):
            if len(post.media) > MAX_CAROUSEL_ITEMS:
                raise Permanent(
                    f"threads: a carousel holds at most {MAX_CAROUSEL_ITEMS} items, "
                    f"{post.post_id} has {len(post.media)}"
                )
            for media in post.media:  # a missing media URL fails before anything is created
                self._url(media)
            check_quota(api, f"{user}/threads_publishing_limit", what="Threads publishing")
            if not state.get("container_id"):
                state["container_id"] = self._create_container(api, post, state, checkpoint)
                checkpoint(dict(state))
            found = self._publish_container(api, post, state, credentials, checkpoint)
            if found is not None:
                state["media_id"] = found.remote_id
                checkpoint(dict(state))
                return found
            checkpoint(dict(state))
        media_id = str(state["media_id"])
        if post.first_comment and not state.get("reply_id"):
            self._reply(api, post, media_id, state, checkpoint)
        return Published(media_id, self._permalink(api, media_id))

    def _publish_container(
        self,
        api: GraphApi,
        post: OutgoingPost,
        state: dict[str, Any],
        credentials: Credentials,
        checkpoint: Checkpoint,
    ) -> Published | None:
        """Wait for the container, then publish it; store the media id in ``state``.

        Returns the earlier publication when the container turns out to be published already.
        """
        container = str(state["container_id"])
        status = self._wait(api, container)
        if status == "EXPIRED":
            state.pop("container_id", None)
            state.pop("children", None)
            checkpoint(dict(state))
            raise Transient(
                f"threads: container {container} expired unpublished; a new one is made on "
                "the next attempt",
                retry_after=0,
            )
        if status == "PUBLISHED":
            found = self.find(post, credentials)
            if found is None:
                raise CannotCheck(
                    f"threads: container {container} is published but its post was not found"
                )
            return found
        body = api.post(f"{post.account}/threads_publish", {"creation_id": container})
        state["media_id"] = self._id(body)
        return None

    def _wait(self, api: GraphApi, container: str) -> str:
        return wait_for_container(
            api,
            container,
            status_field="status",
            error_field="error_message",
            polling=self.polling,
            sleep=self.sleep,
        )

    def _create_container(
        self, api: GraphApi, post: OutgoingPost, state: dict[str, Any], checkpoint: Checkpoint
    ) -> str:
        user = post.account
        if len(post.media) <= 1:
            return self._id(api.post(f"{user}/threads", self._container_fields(post)))
        children: list[str] = list(state.get("children") or [])
        for media in post.media[len(children) :]:
            fields = {**self._media_fields(media), "is_carousel_item": "true"}
            children.append(self._id(api.post(f"{user}/threads", fields)))
            state["children"] = list(children)
            checkpoint(dict(state))
        for child in children:
            if self._wait(api, child) == "EXPIRED":
                state.pop("children", None)
                checkpoint(dict(state))
                raise Transient(f"threads: carousel item {child} expired", retry_after=0)
        body = api.post(
            f"{user}/threads",
            {"media_type": "CAROUSEL", "children": ",".join(children), "text": self.text_of(post)},
        )
        return self._id(body)

    def _reply(
        self,
        api: GraphApi,
        post: OutgoingPost,
        media_id: str,
        state: dict[str, Any],
        checkpoint: Checkpoint,
    ) -> None:
        """The first comment as a reply to the new post; a refused reply is logged only."""
        try:
            if not state.get("reply_container_id"):
                body = api.post(
                    f"{post.account}/threads",
                    {"media_type": "TEXT", "text": post.first_comment, "reply_to_id": media_id},
                )
                state["reply_container_id"] = self._id(body)
                checkpoint(dict(state))
            self._wait(api, str(state["reply_container_id"]))
            body = api.post(
                f"{post.account}/threads_publish", {"creation_id": state["reply_container_id"]}
            )
            state["reply_id"] = self._id(body)
        except (Transient, NeedsAuth):
            raise
        except PublishError as exc:
            log.warning("threads: first comment on %s not posted: %s", media_id, exc)
            state["reply_id"] = "refused"
        checkpoint(dict(state))

    # --- accounts check ------------------------------------------------------------------

    # -- metrics -------------------------------------------------------------------------

    metrics_batch: ClassVar[int] = 1
    #: Media insights read for each post (docs/publishers.md, "Metrics").
    insights: ClassVar[tuple[str, ...]] = (
        "views",
        "likes",
        "replies",
        "reposts",
        "quotes",
        "shares",
    )

    def metrics(self, remote_ids: Sequence[str], credentials: Credentials) -> MetricsAnswer:
        """``GET /{threads-media-id}/insights``: views, likes, replies; reposts, quotes and
        shares counted together as shares."""
        api = GraphApi(self.http, self.base, self.network, credentials)

        def read(media_id: str) -> Counts | None:
            found = read_insights(api, media_id, self.insights)
            if found is None:
                return None
            return Counts(
                views=number(found.get("views")),
                likes=number(found.get("likes")),
                comments=number(found.get("replies")),
                shares=total(found.get("reposts"), found.get("quotes"), found.get("shares")),
                raw=found,
            )

        return one_by_one(remote_ids, read, gone=gone)

    def check(self, credentials: Credentials) -> AccountStatus:
        """Token validity and expiry (``debug_token``) and that it reaches this account."""
        api = GraphApi(self.http, self.base, self.network, credentials)
        return token_status(
            api, credentials, identity="me", fields="id,username", expected_id=credentials.account
        )

    # --- reconciliation -------------------------------------------------------------------

    def find(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        """Did an earlier attempt publish? An unpublished checkpointed container says no;
        otherwise the profile's recent threads are searched for our text."""
        api = GraphApi(self.http, self.base, self.network, credentials)
        state = post.checkpoint
        if state.get("media_id"):
            media_id = str(state["media_id"])
            return Published(media_id, self._permalink(api, media_id))
        try:
            container = state.get("container_id")
            if container:
                try:
                    body = api.get(str(container), fields="status")
                except MissingObject:
                    body = {}
                if str(body.get("status") or "").upper() in {
                    "FINISHED",
                    "IN_PROGRESS",
                    "EXPIRED",
                    "ERROR",
                }:
                    return None
            since = post.due_utc - FIND_MARGIN
            walk = api.paged(
                f"{post.account}/threads",
                fields="id,text,timestamp,permalink",
                since=int(since.timestamp()),
                limit=25,
            )
            return find_by_text(
                walk,
                text=self.text_of(post),
                text_field="text",
                time_field="timestamp",
                since=since,
            )
        except (Transient, NeedsAuth, CannotCheck):
            raise
        except Permanent as exc:
            raise CannotCheck(f"threads: cannot list the profile's threads: {exc}") from None
