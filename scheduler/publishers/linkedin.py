"""LinkedIn: the versioned Posts API, ``POST /rest/posts``, as an organization page.

Flow (Microsoft Learn, LinkedIn Marketing: "Posts API", "Images API", "little text format"):

* every call carries ``LinkedIn-Version: YYYYMM`` and ``X-Restli-Protocol-Version: 2.0.0``;
* the author is the page, ``urn:li:organization:<id>`` (the account id from markets.yaml);
* ``commentary`` is in the "little" text format: its reserved characters are escaped with a
  backslash, or LinkedIn silently cuts the text at the first one (links and hashtags are
  left as they are so they still link);
* a link becomes an ``article`` card; images go through the Images API first
  (``initializeUpload`` -> ``PUT`` the bytes -> ``urn:li:image:...``, checkpointed);
* the answer is ``201`` with the new post's URN in the ``x-restli-id`` header;
* ``422 DUPLICATE_POST`` ("Content is a duplicate of urn:li:share:...") is evidence that the
  post exists: the URN it names is checked, else the page's posts are searched.

``find`` uses the ``author`` finder (``GET /rest/posts?q=author&author=...``) and compares the
commentary of the page's posts created since the due time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, ClassVar
from urllib.parse import quote

import httpx

from scheduler.core.errors import CannotCheck, NeedsAuth, Permanent, PublishError
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
from scheduler.publishers.media import media_file
from scheduler.publishers.metrics import (
    Counts,
    MetricsAnswer,
    NoPermission,
    not_found,
    number,
    one_by_one,
)

DEFAULT_BASE = "https://api.linkedin.com"
#: A version the docs list as current (Marketing docs default, 2026); ``STORYLINE_LINKEDIN_VERSION``
#: moves it without a release when LinkedIn sunsets it (versions live about a year).
DEFAULT_VERSION = "202608"
FIND_MARGIN = timedelta(minutes=5)
FIND_PAGE = 50
FIND_PAGES = 4

_RESERVED = set("\\|{}@[]()<>*_~")
_URL = re.compile(r"https?://\S+")
_HASHTAG_START = re.compile(r"#\w")
_DUPLICATE_OF = re.compile(r"urn:li:(?:share|ugcPost):\d+")


def escape_commentary(text: str) -> str:
    """Backslash-escape the little format's reserved characters outside links and hashtags."""
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        out.append(_escape_plain(text[last : match.start()]))
        out.append(match.group(0))
        last = match.end()
    out.append(_escape_plain(text[last:]))
    return "".join(out)


def _escape_plain(text: str) -> str:
    out: list[str] = []
    for i, char in enumerate(text):
        if char in _RESERVED or (char == "#" and not _HASHTAG_START.match(text, i)):
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def author_urn(account: str) -> str:
    """The page's URN: ``9001`` -> ``urn:li:organization:9001`` (a full URN is kept)."""
    account = account.strip()
    return account if account.startswith("urn:li:") else f"urn:li:organization:{account}"


class _Duplicate(Permanent):
    """LinkedIn refused the post as a duplicate of one already on the page."""


def _classify(response: httpx.Response) -> PublishError | None:
    status = response.status_code
    msg = f"linkedin answered HTTP {status}: {error_text(response)}"
    if status == 422 and "DUPLICATE_POST" in response.text:
        return _Duplicate(msg, http_status=status)
    if status == 403 and ("ACCESS_DENIED" in response.text or "permission" in response.text):
        # The member lost the page role or the token lacks w_organization_social:
        # re-authorising fixes it, so the page's posts wait instead of failing.
        return NeedsAuth(msg, http_status=status)
    return None


class LinkedInPublisher:
    """Organization page posts through LinkedIn's versioned REST Posts API."""

    network: ClassVar[str] = "linkedin"
    requires: ClassVar[tuple[str, ...]] = ("access_token",)

    def __init__(self, settings: PublisherSettings, http: HttpClient) -> None:
        self.settings = settings
        self.http = http

    @property
    def base(self) -> str:
        return self.settings.api_base(self.network, DEFAULT_BASE)

    @property
    def version(self) -> str:
        return self.settings.linkedin_version or DEFAULT_VERSION

    def headers(self, credentials: Credentials) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {credentials.get('access_token', '')}",
            "LinkedIn-Version": self.version,
            "X-Restli-Protocol-Version": "2.0.0",
        }

    def _call(
        self, method: str, url: str, credentials: Credentials, **kwargs: Any
    ) -> httpx.Response:
        headers = self.headers(credentials)
        headers.update(kwargs.pop("headers", {}))
        return self.http.for_account(
            method,
            url,
            network=self.network,
            credentials=credentials,
            classify=_classify,
            headers=headers,
            **kwargs,
        )

    # -- the request ---------------------------------------------------------------------

    def post_body(self, post: OutgoingPost, images: list[tuple[str, str]]) -> dict[str, Any]:
        body: dict[str, Any] = {
            "author": author_urn(post.account),
            "commentary": escape_commentary(post.text),
            "visibility": "PUBLIC",
            "distribution": {
                "feedDistribution": "MAIN_FEED",
                "targetEntities": [],
                "thirdPartyDistributionChannels": [],
            },
            "lifecycleState": "PUBLISHED",
            "isReshareDisabledByAuthor": False,
        }
        if len(images) == 1:
            urn, alt = images[0]
            body["content"] = {"media": {"id": urn, "altText": alt}}
        elif images:
            body["content"] = {
                "multiImage": {"images": [{"id": urn, "altText": alt} for urn, alt in images]}
            }
        elif post.link:
            article: dict[str, Any] = {"source": post.link}
            if post.title:
                article["title"] = post.title
            body["content"] = {"article": article}
        return body

    def describe(self, post: OutgoingPost) -> dict[str, Any]:
        return {
            "method": "POST",
            "url": f"{self.base}/rest/posts",
            "headers": {"LinkedIn-Version": self.version, "X-Restli-Protocol-Version": "2.0.0"},
            "json": self.post_body(post, []),
            "media": [{"file": m.file, "altText": m.alt} for m in post.media],
        }

    @staticmethod
    def url_of(urn: str) -> str:
        return f"https://www.linkedin.com/feed/update/{urn}/"

    # -- publish -------------------------------------------------------------------------

    def publish(
        self, post: OutgoingPost, credentials: Credentials, checkpoint: Checkpoint = _no_checkpoint
    ) -> Published:
        images = self._upload_images(post, credentials, checkpoint)
        try:
            response = self._call(
                "POST", f"{self.base}/rest/posts", credentials, json=self.post_body(post, images)
            )
        except _Duplicate as duplicate:
            found = self._duplicate_of(str(duplicate), credentials)
            if found is None:
                try:
                    found = self.find(post, credentials)
                except CannotCheck:
                    found = None
            if found is None:
                raise Permanent(
                    f"{duplicate} (LinkedIn calls it a duplicate, but the earlier post "
                    "cannot be found on the page: check it by hand)",
                    http_status=duplicate.http_status,
                ) from None
            return found
        urn = response.headers.get("x-restli-id") or response.headers.get("x-linkedin-id")
        if not urn:
            raise Permanent("linkedin: post created but no x-restli-id header in the answer")
        return Published(remote_id=urn, url=self.url_of(urn))

    def _duplicate_of(self, message: str, credentials: Credentials) -> Published | None:
        """The post LinkedIn says ours duplicates, if it still exists (deleted ones linger)."""
        match = _DUPLICATE_OF.search(message)
        if not match:
            return None
        urn = match.group(0)
        try:
            self._call("GET", f"{self.base}/rest/posts/{quote(urn, safe='')}", credentials)
        except PublishError:
            return None
        return Published(remote_id=urn, url=self.url_of(urn))

    def _upload_images(
        self, post: OutgoingPost, credentials: Credentials, checkpoint: Checkpoint
    ) -> list[tuple[str, str]]:
        done: list[str] = [str(u) for u in post.checkpoint.get("images", [])]
        for media in post.media[len(done) :]:
            found = media_file(post.content_dir, media)
            if found.is_video:
                raise Permanent(f"linkedin: {media.file}: video posts are not supported yet")
            init = self._call(
                "POST",
                f"{self.base}/rest/images?action=initializeUpload",
                credentials,
                json={"initializeUploadRequest": {"owner": author_urn(post.account)}},
            )
            value = init.json()["value"]
            self.http.request(
                "PUT",
                str(value["uploadUrl"]),
                network=self.network,
                secrets=credentials.secret_values(),
                headers={
                    "Authorization": f"Bearer {credentials.get('access_token', '')}",
                    "Content-Type": found.mime_type,
                },
                content=found.read_bytes(),
            )
            done.append(str(value["image"]))
            checkpoint({"images": list(done)})
        return [(urn, media.alt) for urn, media in zip(done, post.media, strict=False)]

    # -- metrics -------------------------------------------------------------------------

    #: Posts named in one ``organizationalEntityShareStatistics`` request (``shares=List(…)``);
    #: LinkedIn gives no maximum, twenty keeps the URL short.
    metrics_batch: ClassVar[int] = 20

    def metrics(self, remote_ids: Sequence[str], credentials: Credentials) -> MetricsAnswer:
        """A page's posts: organization share statistics, lifetime (no ``timeIntervals``);
        a member's posts: ``socialActions`` (likes and comments), one post per request."""
        author = author_urn(credentials.account)
        try:
            if author.startswith("urn:li:organization:"):
                return self._share_statistics(author, remote_ids, credentials)
            return one_by_one(
                remote_ids, lambda urn: self._social_actions(urn, credentials), gone=not_found
            )
        except (Permanent, NeedsAuth) as exc:  # 403: a scope is missing
            if exc.http_status == 403:
                raise NoPermission(str(exc), http_status=403) from None
            raise

    def _share_statistics(
        self, author: str, urns: Sequence[str], credentials: Credentials
    ) -> MetricsAnswer:
        answer = MetricsAnswer()
        kinds = {"shares": [u for u in urns if ":share:" in u]}
        kinds["ugcPosts"] = [u for u in urns if u not in kinds["shares"]]
        for param, chosen in kinds.items():
            if not chosen:
                continue
            listed = ",".join(quote(u, safe="") for u in chosen)
            query = (
                f"q=organizationalEntity&organizationalEntity={quote(author, safe='')}"
                f"&{param}=List({listed})"
            )
            url = f"{self.base}/rest/organizationalEntityShareStatistics?{query}"
            body = self._call("GET", url, credentials).json()
            for element in body.get("elements") or []:
                urn = element.get("share") or element.get("ugcPost")
                stats = element.get("totalShareStatistics") or {}
                if not urn:
                    continue
                answer.counts[str(urn)] = Counts(
                    impressions=number(stats.get("impressionCount")),
                    reach=number(stats.get("uniqueImpressionsCount")),
                    likes=number(stats.get("likeCount")),
                    comments=number(stats.get("commentCount")),
                    shares=number(stats.get("shareCount")),
                    clicks=number(stats.get("clickCount")),
                    raw=stats,
                )
        return answer

    def _social_actions(self, urn: str, credentials: Credentials) -> Counts:
        url = f"{self.base}/rest/socialActions/{quote(urn, safe='')}"
        body = self._call("GET", url, credentials).json()
        likes = body.get("likesSummary") or {}
        comments = body.get("commentsSummary") or {}
        return Counts(
            likes=number(likes.get("totalLikes")),
            comments=number(comments.get("aggregatedTotalComments", comments.get("count"))),
            raw=body,
        )

    # -- accounts check --------------------------------------------------------------------

    def check(self, credentials: Credentials) -> AccountStatus:
        """Reading one of the page's posts proves the token and the page role."""
        author = quote(author_urn(credentials.account), safe="")
        self._call(
            "GET",
            f"{self.base}/rest/posts?q=author&author={author}&count=1",
            credentials,
            headers={"X-RestLi-Method": "FINDER"},
        )
        return AccountStatus(
            present=True, valid=True, detail=f"reads {author_urn(credentials.account)}"
        )

    # -- find ----------------------------------------------------------------------------

    def find(self, post: OutgoingPost, credentials: Credentials) -> Published | None:
        """The page's posts since the due time, compared by commentary."""
        wanted = _unescape(escape_commentary(post.text)).strip()
        since_ms = int((post.due_utc - FIND_MARGIN).timestamp() * 1000)
        author = quote(author_urn(post.account), safe="")
        try:
            for page in range(FIND_PAGES):
                url = (
                    f"{self.base}/rest/posts?q=author&author={author}"
                    f"&count={FIND_PAGE}&start={page * FIND_PAGE}&sortBy=CREATED"
                )
                response = self._call(
                    "GET", url, credentials, headers={"X-RestLi-Method": "FINDER"}
                )
                elements: list[Mapping[str, Any]] = response.json().get("elements", [])
                for element in elements:
                    if _unescape(str(element.get("commentary", ""))).strip() == wanted:
                        urn = str(element["id"])
                        return Published(remote_id=urn, url=self.url_of(urn))
                if len(elements) < FIND_PAGE:
                    return None
                created = elements[-1].get("createdAt")
                if isinstance(created, int) and created < since_ms:
                    return None
        except CannotCheck:
            raise
        except PublishError as exc:
            raise CannotCheck(f"linkedin: cannot read the page's posts: {exc}") from None
        raise CannotCheck("linkedin: too many posts since the due time to be sure")
