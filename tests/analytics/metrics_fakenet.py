"""Local fakes of the nine networks' metrics endpoints: one real HTTP server on 127.0.0.1 each.

Each fake answers the documented request with the documented answer shape (the pages cited
in docs/publishers.md, "Metrics"), and keeps every request. A request that breaks the
documented shape (too many ids in one batch, a missing field list, no token) is answered with
the network's error *and* kept in :attr:`MetricsNet.violations`, so a test can say which.

Knobs a test turns: :attr:`counts` (what each post shows), :attr:`deleted`,
:attr:`no_permission` (the token lacks the insights scope), :attr:`fail` (statuses to answer
next, e.g. 503 or 429 with ``Retry-After``) and :attr:`remaining` (the rate-limit budget the
network announces).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

Answer = tuple[int, dict[str, str], Any]


@dataclass
class Req:
    method: str
    path: str
    raw_query: str
    query: dict[str, list[str]]
    headers: dict[str, str]

    def one(self, name: str) -> str:
        return (self.query.get(name) or [""])[-1]


class Refused(Exception):
    def __init__(self, status: int, body: Any) -> None:
        self.status, self.body = status, body


@dataclass
class MetricsNet:
    """The state and the wire of one fake network; subclasses speak its dialect."""

    name: str = ""
    batch: int = 1
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)
    no_permission: bool = False
    fail: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    remaining: int | None = None
    reset_in: float = 900.0
    #: The body of the next :attr:`fail` answer (default: a generic error).
    fail_body: Any = None
    requests: list[Req] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    url: str = ""

    # -- what the tests see ------------------------------------------------------------------

    def metric_requests(self) -> list[Req]:
        return [r for r in self.requests if self.is_metrics(r)]

    def is_metrics(self, req: Req) -> bool:
        return True

    # -- the wire ------------------------------------------------------------------------

    def handle(self, req: Req) -> Answer:
        self.requests.append(req)
        try:
            if self.is_metrics(req):
                if self.fail:
                    status, headers = self.fail.pop(0)
                    body, self.fail_body = self.fail_body, None
                    return status, headers, body or {"error": f"fake {status}"}
                if self.no_permission:
                    return self.permission_error()
            status, headers, body = self.answer(req)
        except Refused as exc:
            return exc.status, {}, exc.body
        return status, {**headers, **self.rate_headers()}, body

    def violation(self, text: str) -> Refused:
        self.violations.append(text)
        return Refused(400, {"error": text})

    def rate_headers(self) -> dict[str, str]:
        if self.remaining is None:
            return {}
        self.remaining = max(0, self.remaining - 1)
        reset = str(int(time.time() + self.reset_in))
        return {"x-rate-limit-limit": "300", "x-rate-limit-remaining": str(self.remaining)} | {
            "x-rate-limit-reset": reset
        }

    def answer(self, req: Req) -> Answer:
        raise self.violation(f"{self.name}: this fake answers nothing at {req.path}")

    def permission_error(self) -> Answer:
        return 403, {}, {"error": "insufficient scope"}

    def ids(self, req: Req, name: str) -> list[str]:
        ids = [i for i in req.one(name).split(",") if i]
        if not ids:
            raise self.violation(f"{self.name}: no {name}")
        if len(ids) > self.batch:
            raise self.violation(f"{self.name}: {len(ids)} ids in one request (max {self.batch})")
        return ids

    def bearer(self, req: Req) -> None:
        if not req.headers.get("authorization", "").startswith("Bearer "):
            raise self.violation(f"{self.name}: no bearer token")


# --- the nine networks -----------------------------------------------------------------------


class XNet(MetricsNet):
    def __init__(self) -> None:
        super().__init__(name="x", batch=100)

    #: What a post published through this fake shows when its metrics are read.
    fresh: ClassVar[dict[str, int]] = {"likes": 9, "impressions": 321}

    def is_metrics(self, req: Req) -> bool:
        return req.method == "GET"

    def answer(self, req: Req) -> Answer:
        self.bearer(req)
        if (req.method, req.path) == ("POST", "/2/tweets"):  # publishing, as docs.x.com shows
            tweet_id = str(1_900_000 + len(self.counts))
            self.counts[tweet_id] = dict(self.fresh)
            return 201, {}, {"data": {"id": tweet_id, "text": "t"}}
        if req.path != "/2/tweets":
            raise self.violation(f"x: unexpected {req.path}")
        if "public_metrics" not in req.one("tweet.fields").split(","):
            raise self.violation("x: tweet.fields lacks public_metrics")
        ids = self.ids(req, "ids")
        data = [
            {"id": i, "text": "t", "public_metrics": self.x_metrics(i)}
            for i in ids
            if i in self.counts and i not in self.deleted
        ]
        errors = [
            {
                "value": i,
                "detail": f"Could not find tweet with ids: [{i}].",
                "title": "Not Found Error",
                "resource_type": "tweet",
                "parameter": "ids",
                "resource_id": i,
                "type": "https://api.twitter.com/2/problems/resource-not-found",
            }
            for i in ids
            if i in self.deleted
        ]
        body: dict[str, Any] = {"data": data}
        if errors:
            body["errors"] = errors
        return 200, {}, body

    def x_metrics(self, i: str) -> dict[str, int]:
        c = self.counts[i]
        return {
            "retweet_count": c.get("retweets", 0),
            "reply_count": c.get("comments", 0),
            "like_count": c.get("likes", 0),
            "quote_count": c.get("quotes", 0),
            "bookmark_count": c.get("saves", 0),
            "impression_count": c.get("impressions", 0),
        }

    def permission_error(self) -> Answer:
        return (
            403,
            {},
            {
                "title": "Forbidden",
                "detail": "Your client app is not permitted to read these fields",
                "type": "https://api.twitter.com/2/problems/oauth1-permissions",
            },
        )


class YouTubeNet(MetricsNet):
    def __init__(self) -> None:
        super().__init__(name="youtube", batch=50)

    def answer(self, req: Req) -> Answer:
        self.bearer(req)
        if req.path != "/youtube/v3/videos" or req.one("part") != "statistics":
            raise self.violation(f"youtube: unexpected {req.path}?part={req.one('part')}")
        items = [
            {
                "kind": "youtube#video",
                "id": i,
                "statistics": {
                    "viewCount": str(self.counts[i].get("views", 0)),
                    "likeCount": str(self.counts[i].get("likes", 0)),
                    "favoriteCount": "0",
                    "commentCount": str(self.counts[i].get("comments", 0)),
                },
            }
            for i in self.ids(req, "id")
            if i in self.counts and i not in self.deleted
        ]
        return 200, {}, {"kind": "youtube#videoListResponse", "items": items}

    def permission_error(self) -> Answer:
        reason = {"reason": "insufficientPermissions", "message": "Insufficient Permission"}
        return (
            403,
            {},
            {"error": {"code": 403, "message": "Insufficient Permission", "errors": [reason]}},
        )


class BlueskyNet(MetricsNet):
    def __init__(self) -> None:
        super().__init__(name="bluesky", batch=25)

    def is_metrics(self, req: Req) -> bool:
        return req.path.endswith("app.bsky.feed.getPosts")

    def answer(self, req: Req) -> Answer:
        if req.path == "/xrpc/com.atproto.server.createSession":
            session = {"accessJwt": "jwt-a", "refreshJwt": "jwt-r", "did": "did:plc:fake"}
            return 200, {}, session | {"handle": "brand.bsky.social"}
        if req.path != "/xrpc/app.bsky.feed.getPosts":
            raise self.violation(f"bluesky: unexpected {req.path}")
        self.bearer(req)
        uris = req.query.get("uris") or []
        if not uris or len(uris) > self.batch:
            raise self.violation(f"bluesky: {len(uris)} uris in one request (max {self.batch})")
        posts = [
            {
                "uri": u,
                "cid": "bafy",
                "author": {"did": "did:plc:fake", "handle": "brand.bsky.social"},
                "record": {},
                "indexedAt": "2026-11-28T12:00:00Z",
                "likeCount": self.counts[u].get("likes", 0),
                "replyCount": self.counts[u].get("comments", 0),
                "repostCount": self.counts[u].get("retweets", 0),
                "quoteCount": self.counts[u].get("quotes", 0),
            }
            for u in uris
            if u in self.counts and u not in self.deleted
        ]
        return 200, {}, {"posts": posts}

    def rate_headers(self) -> dict[str, str]:
        if self.remaining is None:
            return {}
        self.remaining = max(0, self.remaining - 1)
        return {
            "ratelimit-limit": "3000",
            "ratelimit-remaining": str(self.remaining),
            "ratelimit-reset": str(int(time.time() + self.reset_in)),
        }

    def permission_error(self) -> Answer:
        return 403, {}, {"error": "Forbidden", "message": "insufficient scope"}


class WeiboNet(MetricsNet):
    def __init__(self) -> None:
        super().__init__(name="weibo", batch=100)

    def answer(self, req: Req) -> Answer:
        if req.path != "/2/statuses/count.json":
            raise self.violation(f"weibo: unexpected {req.path}")
        if not req.one("access_token"):
            raise self.violation("weibo: no access_token")
        return (
            200,
            {},
            [
                {
                    "id": int(i),
                    "comments": self.counts[i].get("comments", 0),
                    "reposts": self.counts[i].get("retweets", 0),
                    "attitudes": self.counts[i].get("likes", 0),
                }
                for i in self.ids(req, "ids")
                if i in self.counts and i not in self.deleted
            ],
        )

    def permission_error(self) -> Answer:
        body = {"error": "Insufficient app permissions!", "error_code": 10014}
        return 403, {}, body | {"request": "/2/statuses/count.json"}


class MastodonNet(MetricsNet):
    def __init__(self) -> None:
        super().__init__(name="mastodon", batch=1)

    def answer(self, req: Req) -> Answer:
        self.bearer(req)
        prefix = "/api/v1/statuses/"
        if not req.path.startswith(prefix):
            raise self.violation(f"mastodon: unexpected {req.path}")
        status_id = req.path[len(prefix) :]
        if status_id in self.deleted or status_id not in self.counts:
            return 404, {}, {"error": "Record not found"}
        c = self.counts[status_id]
        return (
            200,
            {},
            {
                "id": status_id,
                "replies_count": c.get("comments", 0),
                "reblogs_count": c.get("retweets", 0),
                "favourites_count": c.get("likes", 0),
                "quotes_count": c.get("quotes", 0),
            },
        )

    def rate_headers(self) -> dict[str, str]:
        if self.remaining is None:
            return {}
        self.remaining = max(0, self.remaining - 1)
        reset = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(time.time() + self.reset_in))
        return {
            "x-ratelimit-limit": "300",
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": reset,
        }

    def permission_error(self) -> Answer:
        return 403, {}, {"error": "This action is outside the authorized scopes"}


class LinkedInNet(MetricsNet):
    def __init__(self) -> None:
        super().__init__(name="linkedin", batch=20)

    def answer(self, req: Req) -> Answer:
        self.bearer(req)
        if req.path.startswith("/rest/socialActions/"):
            return self.social_actions(req)
        if req.path != "/rest/organizationalEntityShareStatistics":
            raise self.violation(f"linkedin: unexpected {req.path}")
        if (
            not req.headers.get("linkedin-version")
            or req.headers.get("x-restli-protocol-version") != "2.0.0"
        ):
            raise self.violation("linkedin: no LinkedIn-Version / X-Restli-Protocol-Version")
        params = dict(p.split("=", 1) for p in req.raw_query.split("&") if "=" in p)
        if params.get("q") != "organizationalEntity" or not unquote(
            params.get("organizationalEntity", "")
        ).startswith("urn:li:organization:"):
            raise self.violation("linkedin: q=organizationalEntity&organizationalEntity=<urn>")
        listed = params.get("shares") or params.get("ugcPosts") or ""
        if not (listed.startswith("List(") and listed.endswith(")")):
            raise self.violation(f"linkedin: shares must be a List(...), not {listed!r}")
        urns = [unquote(u) for u in listed[5:-1].split(",") if u]
        if ":" in listed[5:-1].replace("%3A", ""):
            raise self.violation("linkedin: URNs inside List() must be URL-encoded")
        if not urns or len(urns) > self.batch:
            raise self.violation(f"linkedin: {len(urns)} posts in one request (max {self.batch})")
        elements = [
            {
                "organizationalEntity": unquote(params["organizationalEntity"]),
                "share": u,
                "totalShareStatistics": {
                    "uniqueImpressionsCount": self.counts[u].get("reach", 0),
                    "shareCount": self.counts[u].get("retweets", 0),
                    "engagement": 0.05,
                    "clickCount": self.counts[u].get("clicks", 0),
                    "likeCount": self.counts[u].get("likes", 0),
                    "impressionCount": self.counts[u].get("impressions", 0),
                    "commentCount": self.counts[u].get("comments", 0),
                },
            }
            for u in urns
            if u in self.counts and u not in self.deleted
        ]
        return 200, {}, {"paging": {"count": 10, "start": 0}, "elements": elements}

    def permission_error(self) -> Answer:
        return (
            403,
            {},
            {"status": 403, "serviceErrorCode": 100, "message": "Not enough permissions"},
        )

    def social_actions(self, req: Req) -> Answer:
        """A member's post: ``GET /rest/socialActions/{encoded urn}``, one post per request."""
        encoded = req.path.removeprefix("/rest/socialActions/")
        urn = unquote(encoded)
        if ":" in encoded or not urn.startswith("urn:li:"):
            raise self.violation(f"linkedin: the URN in the path must be URL-encoded: {encoded}")
        if urn in self.deleted or urn not in self.counts:
            return 404, {}, {"status": 404, "message": f"{urn} not found"}
        c = self.counts[urn]
        return (
            200,
            {},
            {
                "target": urn,
                "likesSummary": {"totalLikes": c.get("likes", 0), "likedByCurrentUser": False},
                "commentsSummary": {"aggregatedTotalComments": c.get("comments", 0)},
            },
        )


class GraphNet(MetricsNet):
    """Facebook Pages, Instagram and Threads: ``GET /{id}/insights?metric=…``."""

    values: ClassVar[dict[str, Callable[[dict[str, int]], Any]]] = {}

    def answer(self, req: Req) -> Answer:
        parts = req.path.strip("/").split("/")
        if len(parts) != 2 or parts[1] != "insights":
            raise self.violation(f"{self.name}: unexpected {req.path}")
        if not req.one("access_token"):
            raise self.violation(f"{self.name}: no access_token")
        asked = req.one("metric").split(",")
        unknown = [m for m in asked if m not in self.values]
        if unknown:
            return (
                400,
                {},
                {
                    "error": {
                        "message": f"(#100) Invalid metric {unknown}",
                        "type": "OAuthException",
                        "code": 100,
                    }
                },
            )
        object_id = parts[0]
        if object_id in self.deleted or object_id not in self.counts:
            return (
                400,
                {},
                {
                    "error": {
                        "message": f"Unsupported get request. Object '{object_id}' does not exist",
                        "type": "GraphMethodException",
                        "code": 100,
                        "error_subcode": 33,
                    }
                },
            )
        data = [
            {
                "name": m,
                "period": "lifetime",
                "values": [{"value": self.values[m](self.counts[object_id])}],
                "id": f"{object_id}/insights/{m}/lifetime",
            }
            for m in asked
        ]
        return 200, {}, {"data": data}

    def permission_error(self) -> Answer:
        return (
            403,
            {},
            {
                "error": {
                    "message": "(#10) Application does not have permission for this action",
                    "type": "OAuthException",
                    "code": 10,
                }
            },
        )


def _get(key: str) -> Callable[[dict[str, int]], int]:
    return lambda c: c.get(key, 0)


class FacebookNet(GraphNet):
    values: ClassVar[dict[str, Callable[[dict[str, int]], Any]]] = {
        "post_impressions": _get("impressions"),
        "post_clicks": _get("clicks"),
        "post_reactions_by_type_total": lambda c: {
            "like": c.get("likes", 0),
            "love": c.get("loves", 0),
        },
    }

    def __init__(self) -> None:
        super().__init__(name="facebook", batch=1)


class InstagramNet(GraphNet):
    values: ClassVar[dict[str, Callable[[dict[str, int]], Any]]] = {
        "reach": _get("reach"),
        "likes": _get("likes"),
        "comments": _get("comments"),
        "saved": _get("saves"),
        "shares": _get("retweets"),
    }

    def __init__(self) -> None:
        super().__init__(name="instagram", batch=1)


class ThreadsNet(GraphNet):
    values: ClassVar[dict[str, Callable[[dict[str, int]], Any]]] = {
        "views": _get("views"),
        "likes": _get("likes"),
        "replies": _get("comments"),
        "reposts": _get("retweets"),
        "quotes": _get("quotes"),
        "shares": _get("sends"),
    }

    def __init__(self) -> None:
        super().__init__(name="threads", batch=1)


NETS: dict[str, type[MetricsNet]] = {
    "x": XNet,
    "youtube": YouTubeNet,
    "bluesky": BlueskyNet,
    "weibo": WeiboNet,
    "mastodon": MastodonNet,
    "linkedin": LinkedInNet,
    "facebook": FacebookNet,
    "instagram": InstagramNet,
    "threads": ThreadsNet,
}


# --- serving ---------------------------------------------------------------------------------


def serve(net: MetricsNet) -> tuple[ThreadingHTTPServer, str]:
    """Start ``net`` on a free loopback port; its base URL is also kept in ``net.url``."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:
            return None

        def _do(self) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            req = Req(
                self.command,
                split.path,
                split.query,
                parse_qs(split.query, keep_blank_values=True),
                {k.lower(): v for k, v in self.headers.items()},
            )
            status, headers, body = net.handle(req)
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        do_GET = _do
        do_POST = _do

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    net.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server, net.url
