"""Instagram through the Instagram API with Facebook Login (graph.facebook.com, Graph API v26.0).

Why Facebook Login rather than Instagram Login: the brand's Instagram professional accounts
are linked to the Facebook Pages Storyline already publishes to, so one Meta app, one token
family and one API version serve both; the account key in ``markets.yaml`` is the IG user id
that ``GET /{page-id}?fields=instagram_business_account`` returns.

The documented flow is a *container*, then a publish:

1. quota: ``GET /{ig-user-id}/content_publishing_limit?fields=quota_usage,config`` — a full
   rolling-24-hour quota is a Transient, never a refused publish;
2. container: ``POST /{ig-user-id}/media`` with ``image_url`` (+ ``alt_text``) or
   ``media_type=REELS`` + ``video_url``, and ``caption``; a carousel first creates one child
   per item (``is_carousel_item=true``), then the parent (``media_type=CAROUSEL``,
   ``children=<ids>``);
3. wait: ``GET /{container-id}?fields=status_code,status`` while ``IN_PROGRESS`` (bounded);
4. publish: ``POST /{ig-user-id}/media_publish`` with ``creation_id`` -> the media id.

Every step is checkpointed (``children``, ``container_id``, ``media_id``, ``comment_id`` of
the optional first comment ``POST /{media-id}/comments``): a crash or a retry
resumes from the container already made instead of creating a second one. Meta downloads the
media itself, so each file needs a public URL (``STORYLINE_MEDIA_BASE_URL``).
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
    GRAPH_BASE,
    ContainerPublisher,
    GraphApi,
    MissingObject,
    check_quota,
    find_by_text,
    token_status,
    wait_for_container,
)
from scheduler.publishers.meta_insights import gone, read_insights
from scheduler.publishers.metrics import Counts, MetricsAnswer, number, one_by_one

log = logging.getLogger(__name__)

MAX_CAROUSEL_ITEMS = 10


class InstagramPublisher(ContainerPublisher):
    """Publishes images, reels and carousels to an Instagram professional account."""

    network: ClassVar[str] = "instagram"
    default_base: ClassVar[str] = GRAPH_BASE

    # --- what would be sent -------------------------------------------------------------

    def _container_fields(
        self, post: OutgoingPost, media: Media, *, child: bool, strict: bool = True
    ) -> dict[str, Any]:
        url = self._url(media, strict=strict)
        fields: dict[str, Any]
        if media.kind == "video":
            fields = {"media_type": "VIDEO" if child else "REELS", "video_url": url}
        else:
            fields = {"image_url": url}
            if media.alt:
                fields["alt_text"] = media.alt
        if child:
            fields["is_carousel_item"] = "true"
        else:
            fields["caption"] = post.text
        return fields

    def _check_media(self, post: OutgoingPost) -> None:
        if not post.media:
            raise Permanent(
                f"instagram: {post.post_id} has no image or video; Instagram posts need one"
            )
        if len(post.media) > MAX_CAROUSEL_ITEMS:
            raise Permanent(
                f"instagram: a carousel holds at most {MAX_CAROUSEL_ITEMS} items, "
                f"{post.post_id} has {len(post.media)}"
            )

    def describe(self, post: OutgoingPost) -> dict[str, Any]:
        """The first request :meth:`publish` sends (the first container), without the token.

        Without ``STORYLINE_MEDIA_BASE_URL`` the media URL is shown as a
        ``${STORYLINE_MEDIA_BASE_URL}/...`` template: the outbox records intent, and the real
        publisher would refuse with a clear message.
        """
        self._check_media(post)
        carousel = len(post.media) > 1
        return {
            "method": "POST",
            "url": f"{self.base}/{post.account}/media",
            "data": self._container_fields(post, post.media[0], child=carousel, strict=False),
        }

    # --- publishing -----------------------------------------------------------------------

    def publish(
        self, post: OutgoingPost, credentials: Credentials, checkpoint: Checkpoint = _no_checkpoint
    ) -> Published:
        api = GraphApi(self.http, self.base, self.network, credentials)
        state: dict[str, Any] = dict(post.checkpoint)
        if state.get("media_id"):
            return self._finish(api, post, state, checkpoint)
        self._check_media(post)
        for media in post.media:  # a missing media URL fails before anything is created
            self._url(media)
        ig = post.account
        check_quota(api, f"{ig}/content_publishing_limit", what="Instagram publishing")
        if not state.get("container_id"):
            state["container_id"] = self._create_container(api, post, state, checkpoint)
            checkpoint(dict(state))
        container = str(state["container_id"])
        status = wait_for_container(
            api,
            container,
            status_field="status_code",
            error_field="status",
            polling=self.polling,
            sleep=self.sleep,
        )
        if status == "EXPIRED":
            state.pop("container_id", None)
            state.pop("children", None)
            checkpoint(dict(state))
            raise Transient(
                f"instagram: container {container} expired unpublished; a new one is made "
                "on the next attempt",
                retry_after=0,
            )
        if status == "PUBLISHED":
            # An earlier attempt published it but died before recording the media id.
            found = self.find(post, credentials)
            if found is None:
                raise CannotCheck(
                    f"instagram: container {container} is published but its media was not found"
                )
            state["media_id"] = found.remote_id
            checkpoint(dict(state))
            return found
        body = api.post(f"{ig}/media_publish", {"creation_id": container})
        media_id = str(body.get("id") or "")
        if not media_id:
            raise Transient("instagram: media_publish answered without an id", sent=True)
        state["media_id"] = media_id
        checkpoint(dict(state))
        return self._finish(api, post, state, checkpoint)

    def _finish(
        self, api: GraphApi, post: OutgoingPost, state: dict[str, Any], checkpoint: Checkpoint
    ) -> Published:
        """After the media exists: the first comment (once), then the permalink."""
        media_id = str(state["media_id"])
        if post.first_comment and not state.get("comment_id"):
            self._comment(api, media_id, post.first_comment, state, checkpoint)
        return Published(media_id, self._permalink(api, media_id))

    def _create_container(
        self, api: GraphApi, post: OutgoingPost, state: dict[str, Any], checkpoint: Checkpoint
    ) -> str:
        ig = post.account
        if len(post.media) == 1:
            body = api.post(f"{ig}/media", self._container_fields(post, post.media[0], child=False))
            return self._id(body)
        children: list[str] = list(state.get("children") or [])
        for media in post.media[len(children) :]:
            body = api.post(f"{ig}/media", self._container_fields(post, media, child=True))
            children.append(self._id(body))
            state["children"] = list(children)
            checkpoint(dict(state))
        for child in children:  # a video child must finish processing before the parent
            status = wait_for_container(
                api,
                child,
                status_field="status_code",
                error_field="status",
                polling=self.polling,
                sleep=self.sleep,
            )
            if status == "EXPIRED":
                state.pop("children", None)
                checkpoint(dict(state))
                raise Transient(f"instagram: carousel item {child} expired", retry_after=0)
        body = api.post(
            f"{ig}/media",
            {"media_type": "CAROUSEL", "children": ",".join(children), "caption": post.text},
        )
        return self._id(body)

    def _comment(
        self,
        api: GraphApi,
        media_id: str,
        message: str,
        state: dict[str, Any],
        checkpoint: Checkpoint,
    ) -> None:
        """The first comment under the media. A transient error retries the comment alone
        (the media id is checkpointed); a refusal is logged and the post stays published."""
        try:
            body = api.post(f"{media_id}/comments", {"message": message})
        except (Transient, NeedsAuth):
            raise
        except PublishError as exc:
            log.warning("instagram: first comment on %s refused: %s", media_id, exc)
            state["comment_id"] = "refused"
        else:
            state["comment_id"] = str(body.get("id") or "posted")
        checkpoint(dict(state))

    # --- metrics -------------------------------------------------------------------------

    metrics_batch: ClassVar[int] = 1
    #: Media insights read for each post (docs/publishers.md, "Metrics").
    insights: ClassVar[tuple[str, ...]] = ("reach", "likes", "comments", "saved", "shares")

    def metrics(self, remote_ids: Sequence[str], credentials: Credentials) -> MetricsAnswer:
        """``GET /{ig-media-id}/insights``: reach, likes, comments, saves and shares."""
        api = GraphApi(self.http, self.base, self.network, credentials)

        def read(media_id: str) -> Counts | None:
            found = read_insights(api, media_id, self.insights)
            if found is None:
                return None
            return Counts(
                reach=number(found.get("reach")),
                likes=number(found.get("likes")),
                comments=number(found.get("comments")),
                saves=number(found.get("saved")),
                shares=number(found.get("shares")),
                raw=found,
            )

        return one_by_one(remote_ids, read, gone=gone)

    # --- accounts check ------------------------------------------------------------------

    def check(self, credentials: Credentials) -> AccountStatus:
        """Token validity and expiry (``debug_token``) and that it reaches this account."""
        api = GraphApi(self.http, self.base, self.network, credentials)
        return token_status(
            api,
            credentials,
            identity=credentials.account,
            fields="id,username",
            expected_id=credentials.account,
        )

    # --- reconciliation -------------------------------------------------------------------

    def find(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        """Did an earlier attempt publish? The checkpoint's container answers first: not yet
        published (``FINISHED``/``IN_PROGRESS``/``EXPIRED``/``ERROR``) means certainly not;
        otherwise recent media are searched for our caption."""
        api = GraphApi(self.http, self.base, self.network, credentials)
        state = post.checkpoint
        if state.get("media_id"):
            media_id = str(state["media_id"])
            return Published(media_id, self._permalink(api, media_id))
        try:
            container = state.get("container_id")
            if container:
                try:
                    body = api.get(str(container), fields="status_code")
                except MissingObject:
                    body = {}
                status = str(body.get("status_code") or "").upper()
                if status in {"FINISHED", "IN_PROGRESS", "EXPIRED", "ERROR"}:
                    return None
            since = post.due_utc - FIND_MARGIN
            walk = api.paged(
                f"{post.account}/media", fields="id,caption,timestamp,permalink", limit=25
            )
            return find_by_text(
                walk, text=post.text, text_field="caption", time_field="timestamp", since=since
            )
        except (Transient, NeedsAuth, CannotCheck):
            raise
        except Permanent as exc:
            raise CannotCheck(f"instagram: cannot list the account's media: {exc}") from None
