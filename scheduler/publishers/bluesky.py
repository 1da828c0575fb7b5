"""Bluesky: an ``app.bsky.feed.post`` record created in the account's repository over XRPC.

Flow (docs.bsky.app "Creating a post", "Links, mentions, and rich text"; atproto.com specs
"Record Key" and "TID"):

1. ``com.atproto.server.createSession`` (``identifier`` + app password) -> ``accessJwt``,
   ``refreshJwt``, ``did``; cached per account, renewed with ``refreshSession`` when a call
   answers ``ExpiredToken``.
2. images: ``com.atproto.repo.uploadBlob`` (raw bytes, their MIME type) -> a blob, embedded as
   ``app.bsky.embed.images`` with its alt text; without images, a link gets an
   ``app.bsky.embed.external`` card.
3. ``com.atproto.repo.createRecord`` with link and hashtag facets at UTF-8 **byte** offsets,
   under a record key derived from the post id. The key is a valid TID (the key type the
   post lexicon asks for), so the same post always lands on the same key: a repeat cannot
   create a second record, and ``find`` is an exact ``getRecord``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from datetime import UTC, datetime
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
from scheduler.publishers.http import HttpClient, default_classify, error_text
from scheduler.publishers.media import media_file
from scheduler.publishers.metrics import Counts, MetricsAnswer, NoPermission, number, total
from scheduler.text.extract import Kind, entities

DEFAULT_PDS = "https://bsky.social"
COLLECTION = "app.bsky.feed.post"
MAX_IMAGES = 4

_TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"  # base32-sortable, atproto TID spec


def record_key(post_id: str, due: datetime) -> str:
    """A TID for this post: 53 bits of microseconds, 10 bits of clock id, 13 base32 chars.

    The seconds are the due time's (so keys sort like the calendar); the microseconds and
    the clock id come from a hash of the post id, so two posts due in the same second get
    different keys while the same post always gets the same one.
    """
    digest = int.from_bytes(hashlib.sha256(post_id.encode("utf-8")).digest()[:8], "big")
    micros = int(due.timestamp()) * 1_000_000 + digest % 1_000_000
    clock_id = (digest >> 20) & 0x3FF
    value = (micros << 10) | clock_id
    chars = []
    for _ in range(13):
        chars.append(_TID_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


#: Bluesky refuses a tag facet of more than 64 characters (``app.bsky.richtext.facet#tag``).
MAX_TAG_LENGTH = 64


def _byte_index(text: str, char_index: int) -> int:
    return len(text[:char_index].encode("utf-8"))


def facets_of(text: str) -> list[dict[str, Any]]:
    """Link and hashtag facets, their ranges in UTF-8 bytes (start inclusive, end exclusive).

    The links and hashtags are the ones validation and the preview see
    (:func:`scheduler.text.extract.entities`): links written with their scheme, whole
    (``https://en.example/wiki/Foo_(bar)``), and hashtags outside them.
    """
    facets: list[dict[str, Any]] = []
    for entity in entities(text):
        if entity.kind is Kind.LINK:
            feature = {"$type": "app.bsky.richtext.facet#link", "uri": entity.value}
        elif entity.kind is Kind.HASHTAG and len(entity.value) <= MAX_TAG_LENGTH:
            feature = {"$type": "app.bsky.richtext.facet#tag", "tag": entity.value}
        else:
            continue
        facets.append(
            {
                "index": {
                    "byteStart": _byte_index(text, entity.start),
                    "byteEnd": _byte_index(text, entity.end),
                },
                "features": [feature],
            }
        )
    return facets


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _xrpc_error(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    return str(body.get("error", "")) if isinstance(body, dict) else ""


def _classify(response: httpx.Response) -> PublishError | None:
    """XRPC error names, and the PDS's ``ratelimit-reset`` header (epoch seconds)."""
    status = response.status_code
    name = _xrpc_error(response)
    named = f"{name}: " if name else ""
    msg = f"bluesky answered HTTP {status}: {named}{error_text(response)}"
    if status == 401 or name in ("ExpiredToken", "InvalidToken", "AccountTakedown"):
        return NeedsAuth(msg, http_status=status)
    if status == 429:
        error = default_classify(response, "bluesky")
        if not isinstance(error, Transient):
            return error
        reset = response.headers.get("ratelimit-reset")
        if error.retry_after is None and reset and reset.isdigit():
            error.retry_after = max(0.0, float(reset) - time.time())
        return error
    if 400 <= status < 500:
        return Permanent(msg, http_status=status)
    return None


class _ExpiredToken(NeedsAuth):
    """The access JWT expired: refresh the session and try once more."""


class BlueskyPublisher:
    """Posts on Bluesky (any atproto PDS) with an app password."""

    network: ClassVar[str] = "bluesky"
    requires: ClassVar[tuple[str, ...]] = ("identifier", "app_password")

    def __init__(self, settings: PublisherSettings, http: HttpClient) -> None:
        self.settings = settings
        self.http = http
        self._sessions: dict[str, dict[str, str]] = {}

    @property
    def base(self) -> str:
        return self.settings.api_base(self.network, DEFAULT_PDS)

    def _xrpc(
        self,
        method: str,
        nsid: str,
        credentials: Credentials,
        *,
        token: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        headers: dict[str, str] = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        secrets = [*credentials.secret_values(), *(v for v in [token] if v)]
        try:
            return self.http.request(
                method,
                f"{self.base}/xrpc/{nsid}",
                network=self.network,
                secrets=secrets,
                classify=_classify,
                rate_key=f"{self.network}:{credentials.account}",
                headers=headers,
                **kwargs,
            )
        except NeedsAuth as exc:
            if "ExpiredToken" in str(exc):
                raise _ExpiredToken(str(exc), http_status=exc.http_status) from None
            raise

    # -- session -------------------------------------------------------------------------

    def session(self, credentials: Credentials, *, renew: bool = False) -> dict[str, str]:
        """The cached session, created from the app password, refreshed when it expired."""
        cached = self._sessions.get(credentials.account)
        if cached and not renew:
            return cached
        if cached and renew:
            try:
                response = self._xrpc(
                    "POST",
                    "com.atproto.server.refreshSession",
                    credentials,
                    token=cached["refreshJwt"],
                )
                self._sessions[credentials.account] = self._keep(response)
                return self._sessions[credentials.account]
            except NeedsAuth:
                self._sessions.pop(credentials.account, None)
        response = self._xrpc(
            "POST",
            "com.atproto.server.createSession",
            credentials,
            json={
                "identifier": credentials.get("identifier", credentials.account),
                "password": credentials.get("app_password", ""),
            },
        )
        self._sessions[credentials.account] = self._keep(response)
        return self._sessions[credentials.account]

    @staticmethod
    def _keep(response: httpx.Response) -> dict[str, str]:
        body = response.json()
        return {
            "accessJwt": str(body["accessJwt"]),
            "refreshJwt": str(body["refreshJwt"]),
            "did": str(body["did"]),
            "handle": str(body.get("handle", "")),
        }

    def _authed(self, credentials: Credentials, method: str, nsid: str, **kwargs: Any) -> Any:
        """One authenticated call; on ``ExpiredToken``, refresh the session once and retry."""
        session = self.session(credentials)
        try:
            return self._xrpc(method, nsid, credentials, token=session["accessJwt"], **kwargs)
        except _ExpiredToken:
            session = self.session(credentials, renew=True)
            return self._xrpc(method, nsid, credentials, token=session["accessJwt"], **kwargs)

    # -- the record ----------------------------------------------------------------------

    def record(
        self, post: OutgoingPost, created_at: datetime, images: list[dict[str, Any]]
    ) -> dict[str, Any]:
        record: dict[str, Any] = {
            "$type": COLLECTION,
            "text": post.text,
            "createdAt": _iso(created_at),
        }
        facets = facets_of(post.text)
        if facets:
            record["facets"] = facets
        if images:
            record["embed"] = {"$type": "app.bsky.embed.images", "images": images}
        elif post.link:
            record["embed"] = {
                "$type": "app.bsky.embed.external",
                "external": {"uri": post.link, "title": post.title or post.link, "description": ""},
            }
        return record

    def describe(self, post: OutgoingPost) -> dict[str, Any]:
        """The createRecord call (repo shown as the handle: the DID comes from the session)."""
        return {
            "method": "POST",
            "url": f"{self.base}/xrpc/com.atproto.repo.createRecord",
            "json": {
                "repo": post.account.lstrip("@"),
                "collection": COLLECTION,
                "rkey": record_key(post.post_id, post.due_utc),
                "record": self.record(post, post.due_utc, []),
            },
            "media": [{"file": m.file, "alt": m.alt} for m in post.media],
        }

    def _upload_images(self, post: OutgoingPost, credentials: Credentials) -> list[dict[str, Any]]:
        images: list[dict[str, Any]] = []
        for media in post.media:
            found = media_file(post.content_dir, media)
            if found.is_video:
                raise Permanent(f"bluesky: {media.file}: only images are uploaded to Bluesky")
            if len(images) == MAX_IMAGES:
                raise Permanent(f"bluesky: at most {MAX_IMAGES} images per post")
            response = self._authed(
                credentials,
                "POST",
                "com.atproto.repo.uploadBlob",
                content=found.read_bytes(),
                headers={"Content-Type": found.mime_type},
            )
            images.append({"alt": media.alt, "image": response.json()["blob"]})
        return images

    def publish(
        self, post: OutgoingPost, credentials: Credentials, checkpoint: Checkpoint = _no_checkpoint
    ) -> Published:
        session = self.session(credentials)
        rkey = self._rkey(post)
        # The key is kept before the record is sent: a retry after `publish --now` moved the
        # due time must look for (and refuse to duplicate) the record under the same key.
        checkpoint({**post.checkpoint, "rkey": rkey})
        images = self._upload_images(post, credentials)
        body = {
            "repo": session["did"],
            "collection": COLLECTION,
            "rkey": rkey,
            "record": self.record(post, datetime.now(UTC), images),
        }
        try:
            response = self._authed(credentials, "POST", "com.atproto.repo.createRecord", json=body)
        except (Permanent, Transient) as refused:
            if isinstance(refused, Transient) and (refused.sent or refused.http_status == 429):
                raise  # unconfirmed or throttled: the dispatcher reconciles or waits
            # The key is ours alone: if a record sits there, an earlier attempt created it
            # (a repeated createRecord on an existing key is refused).
            try:
                existing = self._get_record(post, credentials)
            except PublishError:
                raise refused from None
            if existing is not None:
                return existing
            raise
        created = response.json()
        return Published(remote_id=str(created["uri"]), url=self._url(session, rkey))

    def _url(self, session: dict[str, str], rkey: str) -> str:
        return f"https://bsky.app/profile/{session.get('handle') or session['did']}/post/{rkey}"

    @staticmethod
    def _rkey(post: OutgoingPost) -> str:
        """The record key of an earlier attempt, else the one derived from id and due time."""
        kept = post.checkpoint.get("rkey")
        return str(kept) if kept else record_key(post.post_id, post.due_utc)

    def _get_record(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        session = self.session(credentials)
        rkey = self._rkey(post)
        try:
            response = self._xrpc(
                "GET",
                "com.atproto.repo.getRecord",
                credentials,
                params={"repo": session["did"], "collection": COLLECTION, "rkey": rkey},
            )
        except Permanent as exc:
            if "RecordNotFound" in str(exc):
                return None
            raise
        return Published(remote_id=str(response.json()["uri"]), url=self._url(session, rkey))

    # -- metrics -------------------------------------------------------------------------

    #: ``app.bsky.feed.getPosts`` takes up to 25 ``uris``.
    metrics_batch: ClassVar[int] = 25

    def metrics(self, remote_ids: Sequence[str], credentials: Credentials) -> MetricsAnswer:
        """``app.bsky.feed.getPosts?uris=…``: likes, replies, reposts and quotes of up to 25
        posts. A post the view leaves out was deleted (the lexicon: "not found" posts are
        omitted)."""
        try:
            response = self._authed(
                credentials, "GET", "app.bsky.feed.getPosts", params={"uris": list(remote_ids)}
            )
        except (Permanent, NeedsAuth) as exc:  # 403: a scope is missing
            if exc.http_status == 403:
                raise NoPermission(str(exc), http_status=403) from None
            raise
        answer = MetricsAnswer()
        for view in response.json().get("posts") or []:
            keys = ("likeCount", "replyCount", "repostCount", "quoteCount")
            answer.counts[str(view["uri"])] = Counts(
                likes=number(view.get("likeCount")),
                comments=number(view.get("replyCount")),
                shares=total(view.get("repostCount"), view.get("quoteCount")),
                raw={k: view[k] for k in keys if k in view},
            )
        answer.deleted = {u for u in remote_ids if u not in answer.counts}
        return answer

    def check(self, credentials: Credentials) -> AccountStatus:
        """A new session proves the app password (app passwords do not expire)."""
        self._sessions.pop(credentials.account, None)
        session = self.session(credentials)
        return AccountStatus(
            present=True, valid=True, detail=f"{session.get('handle') or '?'} ({session['did']})"
        )

    def find(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        """Exact: ``getRecord`` at the post's own record key."""
        try:
            return self._get_record(post, credentials)
        except PublishError as exc:
            raise CannotCheck(f"bluesky: cannot read the record: {exc}") from None
