"""X: API v2 ``POST /2/tweets`` with an OAuth 2.0 user token; long posts become a thread.

Flow (docs.x.com: "Create Post", "Upload" media, "Chunked media upload", "Rate limits"):

* text over 280 weighted characters (twitter-text v3, via :func:`scheduler.text.networks.measure`)
  — which only a story that opted in to threads passes validation with — is sent as a
  numbered thread (:mod:`scheduler.text.thread`: sentence boundaries, ``1/3``, the link in the
  first part): the first post, then each next one as a reply (``reply.in_reply_to_tweet_id``).
  Each post id is checkpointed, so a crash resumes the thread where it stopped instead of
  starting it again: parts already sent are never sent again;
* images: one ``POST /2/media/upload`` each (multipart ``media`` + ``media_category``), their
  alt text through ``POST /2/media/metadata``; videos and GIFs:
  the chunked ``INIT`` / ``APPEND`` / ``FINALIZE`` commands on the same endpoint, then
  ``STATUS`` until processed. The ids go in ``media.media_ids`` of the first post;
* ``x-rate-limit-*`` headers are recorded by the HTTP layer; a post is not even tried while
  the last answer said the window is spent. 429 waits until ``x-rate-limit-reset``;
* 403 "duplicate content" means the same text is already on the account: evidence, so it is
  looked up (``find``) rather than failed.

``find`` reads the account's posts since the due time (``GET /2/users/:id/tweets`` with
``start_time``; the id from ``GET /2/users/me``) and compares texts with links neutralised (X
rewrites them to t.co).
"""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, timedelta
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
from scheduler.publishers.http import HttpClient, error_text
from scheduler.publishers.media import MediaFile, media_file
from scheduler.publishers.metrics import (
    Counts,
    MetricsAnswer,
    NoPermission,
    number,
    rate_key,
    total,
)
from scheduler.text import networks, thread

DEFAULT_BASE = "https://api.x.com"
LIMIT = 280
ALT_TEXT_MAX = 1000  # media metadata: alt text of at most 1,000 characters
CHUNK = 4 * 1024 * 1024  # APPEND segments (the docs cap a segment at 5 MB)
FIND_MARGIN = timedelta(minutes=5)
FIND_PAGES = 5

_URL = re.compile(r"https?://\S+")
_SPACES = re.compile(r"\s+")


def weighted_length(text: str) -> int:
    return networks.measure("x", text)


def split_thread(text: str, link: str | None = None) -> list[str]:
    """The posts of a thread (:func:`scheduler.text.thread.split`): the text itself when it fits,
    else numbered parts cut at sentence boundaries, the link at the end of the first."""
    return list(thread.split(text, link=link).parts)


def _normalised(text: str) -> str:
    """Comparable text: entities decoded, links neutralised (t.co), whitespace collapsed."""
    return _SPACES.sub(" ", _URL.sub("<link>", html.unescape(text))).strip()


def _fields(**fields: str) -> dict[str, tuple[None, str]]:
    """Plain fields sent as multipart/form-data parts, as the chunked-upload docs show."""
    return {name: (None, value) for name, value in fields.items()}


class _Duplicate(Permanent):
    """X refused the text as a duplicate of a post already on the account."""


def _classify(response: httpx.Response) -> PublishError | None:
    if response.status_code == 403 and "duplicate content" in response.text.lower():
        return _Duplicate(
            f"x answered HTTP 403: {error_text(response)}", http_status=response.status_code
        )
    return None


class XPublisher:
    """Posts and threads on X with an OAuth 2.0 user access token."""

    network: ClassVar[str] = "x"
    requires: ClassVar[tuple[str, ...]] = ("access_token",)

    media_poll_interval: float = 1.0
    media_wait: float = 120.0

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
        self._user_ids: dict[str, str] = {}

    @property
    def base(self) -> str:
        return self.settings.api_base(self.network, DEFAULT_BASE)

    def _rate_key(self, credentials: Credentials) -> str:
        return f"{self.network}:{credentials.account}"

    def _call(
        self,
        method: str,
        path: str,
        credentials: Credentials,
        *,
        rate_key: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        return self.http.request(
            method,
            f"{self.base}{path}",
            network=self.network,
            secrets=credentials.secret_values(),
            classify=_classify,
            rate_key=rate_key or f"{self._rate_key(credentials)}:{path.split('/')[2]}",
            headers={"Authorization": f"Bearer {credentials.get('access_token', '')}"},
            **kwargs,
        )

    def _check_budget(self, credentials: Credentials) -> None:
        """Do not spend a request the last ``x-rate-limit-*`` headers said we do not have."""
        limit = self.http.last_rate_limit.get(self._rate_key(credentials))
        if limit is None or limit.remaining is None or limit.remaining > 0:
            return
        if limit.reset_at is not None and limit.reset_at > time.time():
            raise Transient(
                "x: the posting window is spent (x-rate-limit-remaining: 0)",
                retry_after=limit.reset_at - time.time(),
            )

    # -- requests ------------------------------------------------------------------------

    def tweet_body(
        self, text: str, *, reply_to: str | None = None, media_ids: list[str] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"text": text}
        if reply_to:
            body["reply"] = {"in_reply_to_tweet_id": reply_to}
        if media_ids:
            body["media"] = {"media_ids": media_ids}
        return body

    def describe(self, post: OutgoingPost) -> dict[str, Any]:
        """The first post's request; the rest of a thread follows as replies."""
        parts = split_thread(post.text, post.link)
        return {
            "method": "POST",
            "url": f"{self.base}/2/tweets",
            "json": self.tweet_body(parts[0]),
            "thread": parts[1:],
            "media": [{"file": m.file, "alt": m.alt} for m in post.media],
        }

    def _url(self, post: OutgoingPost, tweet_id: str) -> str:
        return f"https://x.com/{post.account.lstrip('@')}/status/{tweet_id}"

    # -- publish -------------------------------------------------------------------------

    def publish(
        self, post: OutgoingPost, credentials: Credentials, checkpoint: Checkpoint = _no_checkpoint
    ) -> Published:
        parts = split_thread(post.text, post.link)
        thread: list[str] = [str(i) for i in post.checkpoint.get("thread", [])]
        media_ids: list[str] = [str(i) for i in post.checkpoint.get("media_ids", [])]
        if not thread and len(media_ids) < len(post.media):
            for media in post.media[len(media_ids) :]:
                media_ids.append(self._upload(media_file(post.content_dir, media), credentials))
                checkpoint({"thread": [], "media_ids": list(media_ids)})
        for index in range(len(thread), len(parts)):
            self._check_budget(credentials)
            body = self.tweet_body(
                parts[index],
                reply_to=thread[-1] if thread else None,
                media_ids=media_ids if index == 0 else None,
            )
            try:
                response = self._call(
                    "POST",
                    "/2/tweets",
                    credentials,
                    json=body,
                    rate_key=self._rate_key(credentials),
                )
                tweet_id = str(response.json()["data"]["id"])
            except _Duplicate as duplicate:
                found = self._find_text(post, credentials, parts[index])
                if found is None:
                    raise Permanent(str(duplicate), http_status=duplicate.http_status) from None
                tweet_id = found
            thread.append(tweet_id)
            checkpoint({"thread": list(thread), "media_ids": list(media_ids)})
        return Published(remote_id=thread[0], url=self._url(post, thread[0]))

    def _upload(self, found: MediaFile, credentials: Credentials) -> str:
        animated = found.mime_type == "image/gif"
        if not found.is_video and not animated:
            with found.open() as fh:
                response = self._call(
                    "POST",
                    "/2/media/upload",
                    credentials,
                    files={"media": (found.name, fh, found.mime_type)},
                    data={"media_category": "tweet_image", "media_type": found.mime_type},
                )
            media_id = str(response.json()["data"]["id"])
            if found.media.alt:
                self._call(
                    "POST",
                    "/2/media/metadata",
                    credentials,
                    json={
                        "id": media_id,
                        "metadata": {"alt_text": {"text": found.media.alt[:ALT_TEXT_MAX]}},
                    },
                )
            return media_id
        init = self._call(
            "POST",
            "/2/media/upload",
            credentials,
            files=_fields(
                command="INIT",
                media_type=found.mime_type,
                total_bytes=str(found.size),
                media_category="tweet_gif" if animated else "tweet_video",
            ),
        )
        media_id = str(init.json()["data"]["id"])
        for index, chunk in enumerate(found.chunks(CHUNK)):
            self._call(
                "POST",
                "/2/media/upload",
                credentials,
                data={"command": "APPEND", "media_id": media_id, "segment_index": str(index)},
                files={"media": ("chunk", chunk, "application/octet-stream")},
            )
        final = self._call(
            "POST",
            "/2/media/upload",
            credentials,
            files=_fields(command="FINALIZE", media_id=media_id),
        )
        info = final.json().get("data", {}).get("processing_info")
        waited = 0.0
        while info and info.get("state") in ("pending", "in_progress"):
            if waited >= self.media_wait:
                raise Transient(f"x: media {media_id} is still being processed")
            delay = float(info.get("check_after_secs") or self.media_poll_interval)
            self._sleep(delay)
            waited += max(delay, 0.001)
            status = self._call(
                "GET",
                "/2/media/upload",
                credentials,
                params={"command": "STATUS", "media_id": media_id},
            )
            info = status.json().get("data", {}).get("processing_info")
        if info and info.get("state") == "failed":
            raise Permanent(f"x: media processing failed: {info.get('error', info)}")
        return media_id

    # -- metrics -------------------------------------------------------------------------

    #: ``GET /2/tweets`` takes up to 100 comma-separated ids.
    metrics_batch: ClassVar[int] = 100

    def metrics(self, remote_ids: Sequence[str], credentials: Credentials) -> MetricsAnswer:
        """``GET /2/tweets?ids=…&tweet.fields=public_metrics``: one request per 100 posts.
        A post the lookup answers "Not Found" for (``errors[].resource_id``) was deleted."""
        try:
            response = self._call(
                "GET",
                "/2/tweets",
                credentials,
                rate_key=rate_key(self.network, credentials.account),
                params={"ids": ",".join(remote_ids), "tweet.fields": "public_metrics"},
            )
        except (Permanent, NeedsAuth) as exc:  # 403: a scope is missing
            if exc.http_status == 403:
                raise NoPermission(str(exc), http_status=403) from None
            raise
        body = response.json()
        answer = MetricsAnswer()
        for tweet in body.get("data") or []:
            m = tweet.get("public_metrics") or {}
            answer.counts[str(tweet["id"])] = Counts(
                impressions=number(m.get("impression_count")),
                likes=number(m.get("like_count")),
                comments=number(m.get("reply_count")),
                shares=total(m.get("retweet_count"), m.get("quote_count")),
                saves=number(m.get("bookmark_count")),
                raw=m,
            )
        for error in body.get("errors") or []:
            if "not-found" in str(error.get("type", "")) or error.get("title") == "Not Found Error":
                answer.deleted.add(str(error.get("resource_id") or error.get("value")))
        return answer

    # -- accounts check --------------------------------------------------------------------

    def check(self, credentials: Credentials) -> AccountStatus:
        """``GET /2/users/me`` answers for a live user token, and says whose it is."""
        me = self._call("GET", "/2/users/me", credentials).json().get("data", {})
        self._user_ids[credentials.account] = str(me.get("id", ""))
        username = str(me.get("username", ""))
        detail = f"@{username}"
        if username and username.lower() != credentials.account.lstrip("@").lower():
            detail += f" (markets.yaml says {credentials.account})"
        return AccountStatus(present=True, valid=True, detail=detail)

    # -- find ----------------------------------------------------------------------------

    def _user_id(self, credentials: Credentials) -> str:
        if credentials.get("user_id"):
            return credentials["user_id"]
        if credentials.account not in self._user_ids:
            me = self._call("GET", "/2/users/me", credentials)
            self._user_ids[credentials.account] = str(me.json()["data"]["id"])
        return self._user_ids[credentials.account]

    def _timeline(
        self, post: OutgoingPost, credentials: Credentials
    ) -> tuple[list[Mapping[str, Any]], bool]:
        """The account's posts since just before the due time, and whether that is all."""
        user_id = self._user_id(credentials)
        since = (post.due_utc - FIND_MARGIN).astimezone(UTC)
        params: dict[str, str] = {
            "start_time": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "max_results": "100",
            "tweet.fields": "created_at,text",
        }
        tweets: list[Mapping[str, Any]] = []
        for _ in range(FIND_PAGES):
            body = self._call("GET", f"/2/users/{user_id}/tweets", credentials, params=params)
            page = body.json()
            tweets.extend(page.get("data") or [])
            token = (page.get("meta") or {}).get("next_token")
            if not token:
                return tweets, True
            params["pagination_token"] = str(token)
        return tweets, False

    def _find_text(self, post: OutgoingPost, credentials: Credentials, text: str) -> str | None:
        tweets, _ = self._timeline(post, credentials)
        wanted = _normalised(text)
        for tweet in tweets:
            if _normalised(str(tweet.get("text", ""))) == wanted:
                return str(tweet["id"])
        return None

    def find(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        """Every post of the thread found -> published; exactly the checkpointed ones found
        -> absent (publishing resumes after them); anything else cannot be told safely."""
        parts = split_thread(post.text, post.link)
        try:
            tweets, complete = self._timeline(post, credentials)
        except PublishError as exc:
            raise CannotCheck(f"x: cannot read the account's posts: {exc}") from None
        by_text: dict[str, str] = {}
        for tweet in reversed(tweets):  # oldest first: the earliest copy wins
            by_text.setdefault(_normalised(str(tweet.get("text", ""))), str(tweet["id"]))
        found = [by_text.get(_normalised(part)) for part in parts]
        if all(found):
            return Published(remote_id=str(found[0]), url=self._url(post, str(found[0])))
        checkpointed = [str(i) for i in post.checkpoint.get("thread", [])]
        prefix = found[: len(checkpointed)]
        rest = found[len(checkpointed) :]
        if prefix == checkpointed and not any(rest):
            if complete:
                return None
            raise CannotCheck("x: too many posts since the due time to be sure")
        raise CannotCheck(
            f"x: the thread is partly on the account ({sum(1 for f in found if f)} of "
            f"{len(parts)} posts found), not as recorded"
        )
