"""Mastodon: ``POST /api/v1/statuses`` on the account's own instance, with an Idempotency-Key.

Flow (docs.joinmastodon.org, methods/statuses, methods/media, methods/instance):

1. ``GET /api/v2/instance`` -> ``configuration.statuses.max_characters``, cached per instance:
   each server sets its own limit, and a post too long for it is refused here, before sending.
2. each media file: ``POST /api/v2/media`` (multipart ``file`` + ``description`` = alt text);
   ``202`` means still processing, so ``GET /api/v1/media/:id`` is polled until it answers
   ``200`` (``206`` while processing). The ids are checkpointed, so a retry reuses them.
3. ``POST /api/v1/statuses`` (``status``, ``media_ids``, ``visibility``) with
   ``Idempotency-Key`` derived from the post id: the server answers a repeat within an hour
   with the status it already created instead of a second one.

``find`` reads ``GET /api/v1/accounts/verify_credentials`` then the account's statuses since
the due time, and compares their text (HTML in the API, turned back into plain text) with ours.
"""

from __future__ import annotations

import hashlib
import html
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, ClassVar

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
from scheduler.publishers.http import HttpClient, default_classify
from scheduler.publishers.media import media_file
from scheduler.publishers.metrics import (
    Counts,
    MetricsAnswer,
    NoPermission,
    not_found,
    number,
    one_by_one,
    total,
)
from scheduler.text import networks

#: Mastodon's own default when a server does not say (``GET /api/v2/instance`` missing).
DEFAULT_MAX_CHARACTERS = 500
#: How far before the due time ``find`` looks (clock skew between us and the server).
FIND_MARGIN = timedelta(minutes=5)
FIND_PAGES = 5


def instance_of(account: str) -> str:
    """``brand@social.example`` (or ``@brand@social.example``) -> ``https://social.example``."""
    handle = account.strip().lstrip("@")
    _, _, domain = handle.partition("@")
    if not domain:
        raise Permanent(
            f"mastodon account {account!r} must be written user@instance "
            "(the instance is where the API lives)"
        )
    return f"https://{domain}"


def idempotency_key(post_id: str) -> str:
    """Stable per post: a retry of the same post sends the same key, another post never does."""
    return "storyline-" + hashlib.sha256(post_id.encode("utf-8")).hexdigest()[:40]


_BREAKS = re.compile(r"<br\s*/?>|</p>\s*<p[^>]*>", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"\s+")


def plain_text(content: str) -> str:
    """A status's HTML ``content`` back as text, whitespace collapsed, for comparison."""
    text = _TAGS.sub("", _BREAKS.sub(" ", content))
    return _SPACES.sub(" ", html.unescape(text)).strip()


def _same_text(ours: str, theirs_html: str) -> bool:
    return _SPACES.sub(" ", ours).strip() == plain_text(theirs_html)


def _parse_time(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        return None


def _classify(response: httpx.Response) -> PublishError | None:
    """Mastodon's ``X-RateLimit-Reset`` is an ISO 8601 instant, not seconds."""
    if response.status_code != 429:
        return None
    error = default_classify(response, "mastodon")
    if not isinstance(error, Transient):
        return error
    reset = _parse_time(response.headers.get("x-ratelimit-reset", ""))
    if error.retry_after is None and reset is not None:
        error.retry_after = max(0.0, reset.timestamp() - time.time())
    return error


class MastodonPublisher:
    """Statuses on any Mastodon server, deduplicated by the server through Idempotency-Key."""

    network: ClassVar[str] = "mastodon"
    requires: ClassVar[tuple[str, ...]] = ("access_token",)

    #: Seconds between two looks at a media attachment still being processed, and how long
    #: to wait in total before giving up for this attempt (the ids are checkpointed).
    media_poll_interval: float = 1.0
    media_wait: float = 60.0

    def __init__(
        self,
        settings: PublisherSettings,
        http: HttpClient,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.settings = settings
        self.http = http
        self._sleep = sleep
        self._max_characters: dict[str, int] = {}

    # -- helpers -------------------------------------------------------------------------

    def base_url(self, account: str) -> str:
        """The override if set (the handle's instance is then not needed), else the instance."""
        override = self.settings.api_base_override(self.network)
        return override or instance_of(account).rstrip("/")

    def _call(
        self, method: str, url: str, credentials: Credentials, **kwargs: Any
    ) -> httpx.Response:
        return self.http.for_account(
            method, url, network=self.network, credentials=credentials, classify=_classify, **kwargs
        )

    def max_characters(self, base: str, credentials: Credentials) -> int:
        """The server's own limit, read once per instance (``configuration.statuses``)."""
        if base not in self._max_characters:
            try:
                body = self._call("GET", f"{base}/api/v2/instance", credentials).json()
                value = body["configuration"]["statuses"]["max_characters"]
                self._max_characters[base] = int(value)
            except (Permanent, KeyError, TypeError, ValueError):
                self._max_characters[base] = DEFAULT_MAX_CHARACTERS
        return self._max_characters[base]

    def status_body(self, post: OutgoingPost, media_ids: list[str]) -> dict[str, Any]:
        body: dict[str, Any] = {"status": post.text, "visibility": "public"}
        if media_ids:
            body["media_ids"] = media_ids
        return body

    def _base_or_placeholder(self, account: str) -> str:
        try:
            return self.base_url(account)
        except Permanent:  # a handle without instance: the real publisher refuses it
            return self.settings.api_base(self.network, "https://<instance>")

    def describe(self, post: OutgoingPost) -> dict[str, Any]:
        """The status request this publisher would send (media ids come from the uploads)."""
        return {
            "method": "POST",
            "url": f"{self._base_or_placeholder(post.account)}/api/v1/statuses",
            "headers": {"Idempotency-Key": idempotency_key(post.post_id)},
            "json": self.status_body(post, []),
            "media": [{"file": m.file, "description": m.alt} for m in post.media],
        }

    # -- publish -------------------------------------------------------------------------

    def publish(
        self, post: OutgoingPost, credentials: Credentials, checkpoint: Checkpoint = _no_checkpoint
    ) -> Published:
        base = self.base_url(post.account)
        limit = networks.limit(self.network, self.max_characters(base, credentials))
        length = networks.measure(self.network, post.text)
        if length > limit:
            raise Permanent(
                f"mastodon: the post is {length} characters, over {base}'s limit of {limit}"
            )
        media_ids = self._upload_media(post, credentials, base, checkpoint)
        response = self._call(
            "POST",
            f"{base}/api/v1/statuses",
            credentials,
            json=self.status_body(post, media_ids),
            headers={"Idempotency-Key": idempotency_key(post.post_id)},
        )
        status = response.json()
        return Published(remote_id=str(status["id"]), url=status.get("url") or status.get("uri"))

    def _upload_media(
        self, post: OutgoingPost, credentials: Credentials, base: str, checkpoint: Checkpoint
    ) -> list[str]:
        done: list[str] = [str(i) for i in post.checkpoint.get("media_ids", [])]
        for media in post.media[len(done) :]:
            found = media_file(post.content_dir, media)
            with found.open() as fh:
                response = self._call(
                    "POST",
                    f"{base}/api/v2/media",
                    credentials,
                    files={"file": (found.name, fh, found.mime_type)},
                    data={"description": media.alt} if media.alt else None,
                )
            attachment = response.json()
            media_id = str(attachment["id"])
            if response.status_code == 202 or not attachment.get("url"):
                self._wait_processed(base, media_id, credentials)
            done.append(media_id)
            checkpoint({"media_ids": list(done)})
        return done

    def _wait_processed(self, base: str, media_id: str, credentials: Credentials) -> None:
        waited = 0.0
        while True:
            response = self._call(
                "GET", f"{base}/api/v1/media/{media_id}", credentials, ok=(200, 206)
            )
            if response.status_code == 200 and response.json().get("url"):
                return
            if waited >= self.media_wait:
                raise Transient(f"mastodon: media {media_id} is still being processed")
            self._sleep(self.media_poll_interval)
            waited += max(self.media_poll_interval, 0.001)

    # -- metrics -------------------------------------------------------------------------

    metrics_batch: ClassVar[int] = 1

    def metrics(self, remote_ids: Sequence[str], credentials: Credentials) -> MetricsAnswer:
        """``GET /api/v1/statuses/:id``: favourites, replies, boosts (and quotes) as counted
        by the account's own server; 404 means the status was deleted."""
        base = self.base_url(credentials.account)

        def read(status_id: str) -> Counts:
            try:
                status = self._call("GET", f"{base}/api/v1/statuses/{status_id}", credentials)
            except (Permanent, NeedsAuth) as exc:  # 403: a scope is missing
                if exc.http_status == 403:
                    raise NoPermission(str(exc), http_status=403) from None
                raise
            body = status.json()
            keys = ("replies_count", "reblogs_count", "favourites_count", "quotes_count")
            return Counts(
                likes=number(body.get("favourites_count")),
                comments=number(body.get("replies_count")),
                shares=total(body.get("reblogs_count"), body.get("quotes_count")),
                raw={k: body[k] for k in keys if k in body},
            )

        return one_by_one(remote_ids, read, gone=not_found)

    # -- accounts check --------------------------------------------------------------------

    def check(self, credentials: Credentials) -> AccountStatus:
        """The token works if the instance says whose it is (Mastodon tokens do not expire)."""
        base = self.base_url(credentials.account)
        me = self._call("GET", f"{base}/api/v1/accounts/verify_credentials", credentials).json()
        return AccountStatus(present=True, valid=True, detail=f"@{me.get('acct', '?')} on {base}")

    # -- find ----------------------------------------------------------------------------

    def find(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        """Our text among the account's statuses since the due time; absent only if the
        pages read reach back before it."""
        base = self.base_url(post.account)
        try:
            me = self._call("GET", f"{base}/api/v1/accounts/verify_credentials", credentials)
            account_id = str(me.json()["id"])
            since = post.due_utc - FIND_MARGIN
            params: dict[str, str] = {"limit": "40", "exclude_reblogs": "true"}
            for _ in range(FIND_PAGES):
                response = self._call(
                    "GET",
                    f"{base}/api/v1/accounts/{account_id}/statuses",
                    credentials,
                    params=params,
                )
                statuses: list[Mapping[str, Any]] = response.json()
                for status in statuses:
                    if _same_text(post.text, str(status.get("content", ""))):
                        return Published(str(status["id"]), status.get("url") or status.get("uri"))
                if len(statuses) < int(params["limit"]):
                    return None
                oldest = _parse_time(str(statuses[-1].get("created_at", "")))
                if oldest is not None and oldest < since:
                    return None
                params["max_id"] = str(statuses[-1]["id"])
        except CannotCheck:
            raise
        except PublishError as exc:
            raise CannotCheck(f"mastodon: cannot read the account's statuses: {exc}") from None
        raise CannotCheck("mastodon: too many statuses since the due time to be sure")
