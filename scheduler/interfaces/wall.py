"""The social wall: a live, full-screen page of what the brand published (docs/wall.md).

Routes, served by ``storyline wall`` and by ``storyline serve`` under the same paths:

* ``/wall`` — the page (``?campaign=`` keeps one campaign); large type, no controls;
* ``/wall/feed`` — JSON: the newest published posts, newest first; ``?since=CURSOR`` asks
  only for what was published or counted after the cursor a previous answer gave;
* ``/wall/media/<file>`` — a post's image or video, from the content's ``media/`` folder.

The page polls the feed. When the database blinks, the feed answers 503 with the last posts
it read (``"stale": true``) and the page keeps what it shows, retrying with a growing delay;
when the database is back, the next poll catches up from its cursor.

SQLAlchemy is imported on the first feed request only: ``storyline serve`` starts as fast as
before and needs no database until someone opens ``/wall``.
"""

from __future__ import annotations

import mimetypes
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from scheduler.app.settings import Settings
from scheduler.core.errors import StorylineError
from scheduler.interfaces.preview import SERVED_CSP
from scheduler.interfaces.preview.feeds import feed_style
from scheduler.interfaces.preview.render import render

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from scheduler.calendar.wall import WallPost

HOST = "127.0.0.1"
DEFAULT_PORT = 8322
#: The page may show the posts' images and videos, from this server only.
WALL_CSP = SERVED_CSP.replace("img-src data:;", "img-src 'self' data:; media-src 'self';")
#: How far before its cursor a feed request looks again: a post committed late (its
#: ``published_at`` is the worker's clock at publication, its commit a moment later) is still
#: seen; the page drops what it already shows.
OVERLAP = timedelta(seconds=30)
MEDIA_PREFIX = "media/"
_CURSOR_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


@dataclass(frozen=True, slots=True)
class WallOptions:
    """How the wall behaves: the default campaign, how often the page polls, how many posts
    it keeps (the page's memory is bounded by this), and its longest wait between retries."""

    campaign: str | None = None
    poll_seconds: float = 2.0
    max_posts: int = 12
    max_backoff_seconds: float = 30.0


class BadCursor(StorylineError):
    """A ``since`` the feed did not write."""


def format_cursor(at: datetime) -> str:
    return at.astimezone(UTC).strftime(_CURSOR_FORMAT)


def parse_cursor(text: str) -> datetime:
    try:
        at = datetime.strptime(text, _CURSOR_FORMAT)
    except ValueError:
        raise BadCursor(
            f"since={text!r} is not a wall cursor (expected the 'cursor' of a previous "
            "answer, like 2026-12-07T09:00:00.000000Z)"
        ) from None
    return at.replace(tzinfo=UTC)


def media_url(file: str) -> str | None:
    """The wall's URL of a post's media file (``media/x.jpg``), None if outside ``media/``."""
    if not file.startswith(MEDIA_PREFIX) or ".." in file.split("/"):
        return None
    return "/wall/media/" + quote(file.removeprefix(MEDIA_PREFIX))


def post_json(post: WallPost) -> dict[str, Any]:
    """One post as the page draws it: times already in its market's zone."""
    local = post.published_at.astimezone(ZoneInfo(post.timezone))
    style = feed_style(post.network)
    # The outbox answers with the file's own URL: a post that never left this machine (and a
    # path of it the screen has no business showing).
    outbox_file = (post.url or "").startswith("file:")
    media = []
    for m in post.media:
        src = media_url(str(m.get("file", "")))
        if src is not None:
            media.append({"src": src, "alt": str(m.get("alt", "")), "kind": str(m.get("kind", ""))})
    return {
        "id": post.post_id,
        "story": post.story,
        "network": post.network,
        "network_label": style.label,
        "color": style.color,
        "market": post.market,
        "campaign": post.campaign,
        "account": post.account_name,
        "text": post.text,
        "title": post.title,
        "url": None if outbox_file else post.url,
        "outbox": post.destination == "outbox" or (post.destination is None and outbox_file),
        "media": media,
        "published_at": format_cursor(post.published_at),
        "local_time": local.strftime("%H:%M"),
        "local_day": local.strftime("%a %d %b"),
        "zone": post.timezone,
        "counts": post.counts,
    }


def _newest_first(posts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(posts, key=lambda p: (p["published_at"], p["id"]), reverse=True)


class WallFeed:
    """Answers the feed: reads the calendar, remembers the last posts it read per campaign, and
    answers from them (503, ``stale``) while the database cannot be read."""

    def __init__(
        self,
        settings: Settings,
        options: WallOptions | None = None,
        engine_factory: Callable[[str], Engine] | None = None,
    ) -> None:
        self.settings = settings
        self.options = options or WallOptions()
        self._engine_factory = engine_factory
        self._engine: Engine | None = None
        self._lock = threading.Lock()
        self._last: dict[str, dict[str, dict[str, Any]]] = {}

    def _read(self, campaign: str | None, since: datetime | None) -> list[WallPost]:
        from scheduler.calendar.wall import wall_posts

        with self._lock:
            if self._engine is None:
                if self._engine_factory is not None:
                    self._engine = self._engine_factory(self.settings.database_url)
                else:
                    from scheduler.calendar.database import make_engine

                    self._engine = make_engine(self.settings.database_url)
            engine = self._engine
        with engine.connect() as conn:
            return wall_posts(conn, campaign=campaign, since=since, limit=self.options.max_posts)

    def answer(
        self, campaign: str | None, since: str | None
    ) -> tuple[HTTPStatus, dict[str, Any], dict[str, str]]:
        """(status, JSON body, extra headers) of one feed request."""
        from sqlalchemy.exc import SQLAlchemyError

        try:
            cursor = parse_cursor(since) if since else None
        except BadCursor as exc:
            return HTTPStatus.BAD_REQUEST, {"error": str(exc)}, {}
        key = campaign or ""
        try:
            posts = self._read(campaign, cursor - OVERLAP if cursor else None)
        except (SQLAlchemyError, StorylineError) as exc:
            with self._lock:
                known = _newest_first(list(self._last.get(key, {}).values()))
            retry = max(1, round(self.options.poll_seconds * 2))
            body = {
                "posts": known,
                "cursor": since or "",
                "stale": True,
                "error": f"the calendar cannot be read: {_reason(exc)}",
            }
            return HTTPStatus.SERVICE_UNAVAILABLE, body, {"Retry-After": str(retry)}
        marks = [p.published_at for p in posts] + [p.counted_at for p in posts if p.counted_at]
        high = max([*marks, cursor] if cursor else marks, default=None)
        shown = [post_json(p) for p in posts]
        self._remember(key, shown)
        body = {
            "posts": shown,
            "cursor": format_cursor(high) if high else "",
            "stale": False,
        }
        return HTTPStatus.OK, body, {}

    def _remember(self, key: str, posts: list[dict[str, Any]]) -> None:
        with self._lock:
            known = self._last.setdefault(key, {})
            known.update({p["id"]: p for p in posts})
            if len(known) > self.options.max_posts:
                keep = _newest_first(list(known.values()))[: self.options.max_posts]
                self._last[key] = {p["id"]: p for p in keep}

    def page(self, campaign: str | None) -> str:
        feed = "/wall/feed" + (f"?{urlencode({'campaign': campaign})}" if campaign else "")
        return render(
            "wall.html.j2",
            title=f"Live: {campaign}" if campaign else "Live",
            campaign=campaign or "",
            feed=feed,
            poll_ms=int(self.options.poll_seconds * 1000),
            max_posts=self.options.max_posts,
            max_backoff_ms=int(self.options.max_backoff_seconds * 1000),
            csp=WALL_CSP,
            reload_version=None,
        )

    def media_file(self, rest: str) -> Path | None:
        """The file under the content's ``media/`` folder at ``rest``; None when there is no
        such image or video there (or ``rest`` tries to leave the folder)."""
        folder = (self.settings.content_dir / "media").resolve()
        path = (folder / unquote(rest)).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            return None
        kind = mimetypes.guess_type(path.name)[0] or ""
        return path if kind.startswith(("image/", "video/")) else None


def _reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def is_wall_path(path: str) -> bool:
    return path == "/wall" or path.startswith("/wall/")


def respond(handler: BaseHTTPRequestHandler, feed: WallFeed) -> None:
    """Answer a GET under ``/wall`` on ``handler`` (any of the routes in the module's doc)."""
    import json

    parts = urlsplit(handler.path)
    query = parse_qs(parts.query)
    campaign = query.get("campaign", [""])[0] or feed.options.campaign
    path = parts.path.rstrip("/")
    if path == "/wall":
        _send(handler, HTTPStatus.OK, feed.page(campaign).encode(), "text/html; charset=utf-8")
    elif path == "/wall/feed":
        status, body, headers = feed.answer(campaign, query.get("since", [""])[0] or None)
        data = json.dumps(body, ensure_ascii=False).encode()
        _send(handler, status, data, "application/json; charset=utf-8", headers)
    elif path.startswith("/wall/media/") and (
        file := feed.media_file(path.removeprefix("/wall/media/"))
    ):
        kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
        handler.send_response(HTTPStatus.OK)
        handler.send_header("Content-Type", kind)
        handler.send_header("Content-Length", str(file.stat().st_size))
        handler.send_header("Cache-Control", "max-age=3600")
        handler.send_header("X-Content-Type-Options", "nosniff")
        handler.end_headers()
        with file.open("rb") as f:
            shutil.copyfileobj(f, handler.wfile)
    else:
        _send(handler, HTTPStatus.NOT_FOUND, b"not found", "text/plain; charset=utf-8")


def _send(
    handler: BaseHTTPRequestHandler,
    status: HTTPStatus,
    data: bytes,
    content_type: str,
    headers: dict[str, str] | None = None,
) -> None:
    handler.send_response(status)
    handler.send_header("Content-Type", content_type)
    handler.send_header("Content-Length", str(len(data)))
    handler.send_header("Cache-Control", "max-age=3600")
    handler.send_header("X-Content-Type-Options", "nosniff")
    for name, value in (headers or {}).items():
        handler.send_header(name, value)
    handler.end_headers()
    handler.wfile.write(data)


def make_server(
    settings: Settings, options: WallOptions, port: int = DEFAULT_PORT, host: str = HOST
) -> ThreadingHTTPServer:
    """The wall on its own (``storyline wall``): ``/`` leads to ``/wall``; ``port`` 0 picks
    a free port. Call :func:`scheduler.interfaces.serve.run` to serve."""
    feed = WallFeed(settings, options)

    class Handler(BaseHTTPRequestHandler):
        server_version = "storyline-wall"

        def do_GET(self) -> None:
            if is_wall_path(urlsplit(self.path).path):
                respond(self, feed)
            elif urlsplit(self.path).path == "/":
                self.send_response(HTTPStatus.FOUND)
                self.send_header("Location", "/wall")
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif urlsplit(self.path).path == "/favicon.ico":
                _send(self, HTTPStatus.NO_CONTENT, b"", "text/plain")
            else:
                _send(self, HTTPStatus.NOT_FOUND, b"not found", "text/plain; charset=utf-8")

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: a screen polls all day."""

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    server.wall = feed  # type: ignore[attr-defined]
    return server


def wall_url(server: ThreadingHTTPServer, campaign: str | None = None) -> str:
    host, port = server.server_address[:2]
    query = f"?{urlencode({'campaign': campaign})}" if campaign else ""
    return f"http://{host!s}:{port}/wall{query}"
