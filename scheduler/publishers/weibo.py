"""Weibo: ``POST https://api.weibo.com/2/statuses/share.json``, the Open API's sharing call.

Flow (open.weibo.com/wiki: ``2/statuses/share``, ``2/statuses/user_timeline``, ``Error_code``;
the docs corpus only holds copies of these pages, see docs/publishers.md):

* form fields ``access_token`` and ``status``; ``status`` must contain a link to the app's
  registered safe domain (Weibo answers ``10017`` otherwise), so a post whose text has no link
  gets the story's link appended, and a post with no link at all is refused before sending;
* one picture at most, as the multipart field ``pic`` (JPEG, GIF or PNG, under 5 MB);
* errors come as ``{"error", "error_code", "request"}``: token codes (``21327`` expired,
  ``21332`` invalid, ``213xx``) need re-authorisation; ``10022``-``10024`` are the hourly rate
  limits (retry at the next hour); ``20016`` ("posting too fast") waits a few minutes;
  ``20017``/``20019``/``20111`` say the same text was just posted: evidence, looked up with
  ``find``.

``find`` reads ``GET /2/statuses/user_timeline.json`` (the statuses this app posted for the
account) since the due time, comparing texts with links neutralised (Weibo shortens them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
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
from scheduler.publishers.http import HttpClient
from scheduler.publishers.media import media_file
from scheduler.publishers.metrics import Counts, MetricsAnswer, NoPermission, number

DEFAULT_BASE = "https://api.weibo.com"
FIND_MARGIN = timedelta(minutes=5)
FIND_COUNT = 100
TOO_FAST_WAIT = 300.0

_TOKEN_ERRORS = {21301, 21314, 21315, 21316, 21317, 21319, 21327, 21332}
_RATE_LIMITS = {10022, 10023, 10024}
_REPEATED = {20017, 20019, 20111}
_SERVER_BUSY = {10001, 10002, 10003, 10009, 10010, 10011}
_URL = re.compile(r"https?://\S+")
_SPACES = re.compile(r"\s+")


def seconds_to_next_hour(now: datetime) -> float:
    """Weibo's request limits are counted per clock hour."""
    next_hour = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    return (next_hour - now).total_seconds()


def _error_of(response: httpx.Response) -> tuple[int, str] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict) or "error_code" not in body:
        return None
    try:
        code = int(body["error_code"])
    except (TypeError, ValueError):
        return None
    return code, str(body.get("error", ""))


class _Repeated(Permanent):
    """Weibo refused the text as one just posted: the earlier status is ours."""


def _error(code: int, message: str, status: int) -> PublishError:
    text = f"weibo answered error {code}: {message}"
    if code in _TOKEN_ERRORS:
        return NeedsAuth(text, http_status=status)
    if code in _RATE_LIMITS:
        return Transient(
            text, retry_after=seconds_to_next_hour(datetime.now(UTC)), http_status=status
        )
    if code == 20016:
        return Transient(text, retry_after=TOO_FAST_WAIT, http_status=status)
    if code in _REPEATED:
        return _Repeated(text, http_status=status)
    if code in _SERVER_BUSY:
        return Transient(text, http_status=status)
    return Permanent(text, http_status=status)


def _classify(response: httpx.Response) -> PublishError | None:
    found = _error_of(response)
    if found is None:
        return None
    return _error(found[0], found[1], response.status_code)


def _normalised(text: str) -> str:
    return _SPACES.sub(" ", _URL.sub("<link>", text)).strip()


def _created(value: str) -> datetime | None:
    try:
        return datetime.strptime(value, "%a %b %d %H:%M:%S %z %Y")
    except (TypeError, ValueError):
        return None


class WeiboPublisher:
    """Statuses on Weibo through the share API (text with a link, optionally one picture)."""

    network: ClassVar[str] = "weibo"
    requires: ClassVar[tuple[str, ...]] = ("access_token",)

    def __init__(self, settings: PublisherSettings, http: HttpClient) -> None:
        self.settings = settings
        self.http = http

    @property
    def base(self) -> str:
        return self.settings.api_base(self.network, DEFAULT_BASE)

    def status_text(self, post: OutgoingPost) -> str:
        """The text to share: it must carry a link (the app's safe domain)."""
        if _URL.search(post.text):
            return post.text
        if post.link:
            return f"{post.text.rstrip()} {post.link}"
        raise Permanent(
            "weibo: the share API only takes a text with a link to the app's safe domain, "
            "and this post has none"
        )

    def _status_or_text(self, post: OutgoingPost) -> str:
        try:
            return self.status_text(post)
        except Permanent:
            return post.text  # the real publisher refuses it; the outbox still shows the text

    def describe(self, post: OutgoingPost) -> dict[str, Any]:
        """The share request (``access_token`` left out: the outbox never holds secrets)."""
        return {
            "method": "POST",
            "url": f"{self.base}/2/statuses/share.json",
            "data": {"status": self._status_or_text(post)},
            "media": [{"file": m.file, "field": "pic"} for m in post.media[:1]],
        }

    def _call(
        self, method: str, path: str, credentials: Credentials, **kwargs: Any
    ) -> dict[str, Any]:
        response = self.http.request(
            method,
            f"{self.base}{path}",
            network=self.network,
            secrets=credentials.secret_values(),
            classify=_classify,
            rate_key=f"{self.network}:{credentials.account}",
            **kwargs,
        )
        error = _classify(response)  # Weibo sometimes says no with HTTP 200
        if error is not None:
            raise error
        body = response.json()
        if not isinstance(body, dict):
            raise Permanent(f"weibo: unexpected answer {str(body)[:200]}")
        return body

    def publish(
        self, post: OutgoingPost, credentials: Credentials, checkpoint: Checkpoint = _no_checkpoint
    ) -> Published:
        fields = {
            "access_token": credentials.get("access_token", ""),
            "status": self.status_text(post),
        }
        images = [m for m in post.media if m.kind == "image"]
        try:
            if images:
                found = media_file(post.content_dir, images[0])
                with found.open() as fh:
                    status = self._call(
                        "POST",
                        "/2/statuses/share.json",
                        credentials,
                        data=fields,
                        files={"pic": (found.name, fh, found.mime_type)},
                    )
            else:
                status = self._call("POST", "/2/statuses/share.json", credentials, data=fields)
        except _Repeated as repeated:
            try:
                earlier = self.find(post, credentials)
            except CannotCheck:
                earlier = None
            if earlier is None:
                raise Permanent(str(repeated), http_status=repeated.http_status) from None
            return earlier
        return self._published(status)

    @staticmethod
    def _published(status: Mapping[str, Any]) -> Published:
        status_id = str(status.get("idstr") or status["id"])
        return Published(remote_id=status_id, url=f"https://m.weibo.cn/status/{status_id}")

    # -- metrics -------------------------------------------------------------------------

    #: ``statuses/count`` takes up to 100 comma-separated ids.
    metrics_batch: ClassVar[int] = 100

    def metrics(self, remote_ids: Sequence[str], credentials: Credentials) -> MetricsAnswer:
        """``GET /2/statuses/count.json?ids=…``: comments, reposts and attitudes (likes) of up
        to 100 statuses; a status the answer leaves out was deleted."""
        try:
            response = self.http.request(
                "GET",
                f"{self.base}/2/statuses/count.json",
                network=self.network,
                secrets=credentials.secret_values(),
                classify=_classify,
                rate_key=f"{self.network}:{credentials.account}",
                params={
                    "ids": ",".join(remote_ids),
                    "access_token": credentials.get("access_token", ""),
                },
            )
        except (Permanent, NeedsAuth) as exc:  # 403: a scope is missing
            if exc.http_status == 403 or "error 10014" in str(exc):
                raise NoPermission(str(exc), http_status=exc.http_status) from None
            raise
        error = _classify(response)  # Weibo sometimes says no with HTTP 200
        if error is not None:
            raise error
        answer = MetricsAnswer()
        body = response.json()
        for item in body if isinstance(body, list) else []:
            answer.counts[str(item.get("id"))] = Counts(
                likes=number(item.get("attitudes")),
                comments=number(item.get("comments")),
                shares=number(item.get("reposts")),
                raw=item,
            )
        answer.deleted = {i for i in remote_ids if i not in answer.counts}
        return answer

    def check(self, credentials: Credentials) -> AccountStatus:
        """``oauth2/get_token_info``: whose token it is and how long it has left."""
        info = self._call(
            "POST",
            "/oauth2/get_token_info",
            credentials,
            data={"access_token": credentials.get("access_token", "")},
        )
        expires_at = None
        if isinstance(info.get("expire_in"), int):
            expires_at = datetime.now(UTC) + timedelta(seconds=info["expire_in"])
        uid = str(info.get("uid", "?"))
        detail = f"uid {uid}"
        if uid != credentials.account:
            detail += f" (markets.yaml says {credentials.account})"
        return AccountStatus(present=True, valid=True, expires_at=expires_at, detail=detail)

    def find(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        """Our text among the statuses this app posted for the account since the due time."""
        try:
            wanted = _normalised(self.status_text(post))
            body = self._call(
                "GET",
                "/2/statuses/user_timeline.json",
                credentials,
                params={
                    "access_token": credentials.get("access_token", ""),
                    "count": str(FIND_COUNT),
                },
            )
        except PublishError as exc:
            raise CannotCheck(f"weibo: cannot read the account's statuses: {exc}") from None
        statuses: list[Mapping[str, Any]] = body.get("statuses") or []
        for status in statuses:
            if _normalised(str(status.get("text", ""))) == wanted:
                return self._published(status)
        if len(statuses) < FIND_COUNT:
            return None
        oldest = _created(str(statuses[-1].get("created_at", "")))
        if oldest is not None and oldest < post.due_utc - FIND_MARGIN:
            return None
        raise CannotCheck("weibo: too many statuses since the due time to be sure")
