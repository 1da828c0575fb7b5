"""``storyline serve``: live previews while writing, on 127.0.0.1 only.

A small standard-library HTTP server. Each request checks the modification times of every
file under the content and editorial-lines folders; when one changed, the plan is loaded again
(once, for every page), otherwise the cached pages are served. Each page polls ``/version`` and
reloads itself when the version changes, so saving a story in the editor refreshes its preview.

Routes: ``/`` the stories, ``/story/<id>`` a story's preview, ``/calendar`` the planned
calendar, ``/version`` the content version (text), ``/wall`` the live social wall of what was
published (:mod:`scheduler.interfaces.wall`, which reads the calendar database).

A story whose file does not load keeps its page: ``/story/<id>`` then lists its findings,
exactly as ``storyline validate`` prints them, and reloads into the preview once it is fixed.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

from scheduler.app.pipeline import load_plan
from scheduler.app.settings import Settings
from scheduler.content.files import STORIES_DIR_NAME
from scheduler.content.loader import load_content
from scheduler.core.diagnostics import Finding, Severity
from scheduler.core.errors import StorylineError
from scheduler.core.model import Content
from scheduler.core.post import PlannedPost
from scheduler.interfaces.preview import (
    SERVED_CSP,
    CalendarRow,
    render_calendar_html,
    render_preview_html,
)
from scheduler.interfaces.preview.render import render
from scheduler.interfaces.wall import WallFeed, is_wall_path, respond
from scheduler.lines.loader import load_lines
from scheduler.planning.plan import Plan

HOST = "127.0.0.1"
DEFAULT_PORT = 8321

Clock = Callable[[], datetime]


def content_version(*folders: Path) -> str:
    """A short fingerprint of every file's path, size and modification time in ``folders``."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(_files(folder)):
            try:
                stat = path.stat()
            except OSError:  # deleted between listing and stat: the next poll sees it
                continue
            digest.update(f"{path}\0{stat.st_mtime_ns}\0{stat.st_size}\n".encode())
    return digest.hexdigest()[:16]


def _files(folder: Path) -> Iterator[Path]:
    if not folder.is_dir():
        return
    for root, dirs, files in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if not name.startswith("."):
                yield Path(root) / name


@dataclass(frozen=True, slots=True)
class StorySummary:
    id: str
    title: str
    status: str
    posts: int
    errors: int
    warnings: int
    networks: int
    markets: int


@dataclass
class Snapshot:
    """The content as of one version: the plan, and the pages already rendered from it."""

    version: str
    plan: Plan | None
    content: Content | None
    error: str | None
    loaded_at: datetime
    pages: dict[str, str] = field(default_factory=dict)

    def posts_of(self, story: str) -> list[PlannedPost]:
        return [p for p in self.plan.posts if p.story == story] if self.plan else []


class Previews:
    """Loads the content when it changed, and renders (and caches) the pages of one version."""

    def __init__(self, settings: Settings, clock: Clock) -> None:
        self.settings = settings
        self.clock = clock
        self._lock = threading.Lock()
        self._snapshot: Snapshot | None = None
        # Story id -> its file, from every load: a story that stops loading keeps its page.
        self._files: dict[str, str] = {}
        self.loads = 0  # how many times the content was loaded: tests check re-rendering

    def version(self) -> str:
        return content_version(self.settings.content_dir, self.settings.lines_dir)

    def snapshot(self) -> Snapshot:
        version = self.version()
        with self._lock:
            if self._snapshot is None or self._snapshot.version != version:
                self._snapshot = self._load(version)
            return self._snapshot

    def _load(self, version: str) -> Snapshot:
        self.loads += 1
        now = self.clock()
        try:
            planned = load_plan(self.settings, now)
            # The plan holds posts, not stories: titles and market names come from the content.
            lines = load_lines(self.settings.lines_dir)
            content = load_content(self.settings.content_dir, networks=lines.networks)
        except StorylineError as exc:
            return Snapshot(version, None, None, str(exc), now)
        # Called under the lock (``snapshot``).
        self._files.update({s.id: s.path for s in content.stories.values()})
        return Snapshot(version, planned, content, None, now)

    def page(self, path: str) -> tuple[HTTPStatus, str]:
        """The page at ``path`` and its status: 200, or 404 for what does not exist."""
        snap = self.snapshot()
        with self._lock:
            cached = snap.pages.get(path)
        if cached is not None:
            return HTTPStatus.OK, cached
        status, html = self._render(snap, path)
        if status is HTTPStatus.OK:
            with self._lock:
                snap.pages[path] = html
        return status, html

    def _render(self, snap: Snapshot, path: str) -> tuple[HTTPStatus, str]:
        if path == "/":
            return HTTPStatus.OK, self._index(snap)
        if path == "/calendar":
            return HTTPStatus.OK, self._calendar(snap)
        if path.startswith("/story/"):
            story = unquote(path.removeprefix("/story/"))
            if snap.content is not None and story in snap.content.stories:
                return HTTPStatus.OK, self._story(snap, story)
            if snap.plan is None:
                return HTTPStatus.OK, self._message(
                    snap, "The content cannot be loaded", snap.error or ""
                )
            broken = self._broken(snap).get(story)
            if broken is not None:
                return HTTPStatus.OK, self._story_errors(snap, story, broken)
        return HTTPStatus.NOT_FOUND, self._message(snap, "Not found", f"Nothing at {path}.")

    def _broken(self, snap: Snapshot) -> dict[str, tuple[str, list[Finding]]]:
        """Stories whose file has errors and did not load: id -> (file, its findings).

        The id is the one the file had when it last loaded, else the file's name.
        """
        if snap.plan is None or snap.content is None:
            return {}
        loaded = {s.path for s in snap.content.stories.values()}
        stories_dir = self.settings.content_dir / STORIES_DIR_NAME
        by_file: dict[str, list[Finding]] = {}
        for f in snap.plan.findings:
            if f.file not in loaded and Path(f.file).parent == stories_dir:
                by_file.setdefault(f.file, []).append(f)
        with self._lock:
            ids = {file: story for story, file in self._files.items()}
        return {
            ids.get(file, Path(file).stem): (file, findings)
            for file, findings in by_file.items()
            if any(f.is_error for f in findings)
        }

    def _story_errors(self, snap: Snapshot, story: str, broken: tuple[str, list[Finding]]) -> str:
        file, findings = broken
        stories_dir = self.settings.content_dir / STORIES_DIR_NAME
        # An unknown market may be markets.yaml's fault: its errors are shown too.
        elsewhere = [
            f
            for f in (snap.plan.findings if snap.plan else ())
            if f.is_error and Path(f.file).parent != stories_dir
        ]
        return render(
            "serve_story_errors.html.j2",
            title=f"{story}: errors",
            story=story,
            file=file,
            findings=findings,
            elsewhere=elsewhere,
            csp=SERVED_CSP,
            reload_version=snap.version,
        )

    def _market_names(self, snap: Snapshot) -> Mapping[str, str]:
        if snap.plan is not None and snap.plan.market_names:
            return snap.plan.market_names
        return {c: m.name for c, m in snap.content.markets.items()} if snap.content else {}

    def _story(self, snap: Snapshot, story_id: str) -> str:
        assert snap.content is not None
        story = snap.content.stories[story_id]
        posts = snap.posts_of(story_id)
        on_posts = {f for p in posts for f in p.findings}
        stories_dir = self.settings.content_dir / STORIES_DIR_NAME
        # The story's own findings on no post, and errors elsewhere (markets.yaml, a line):
        # a market that does not load silently leaves the story's posts there out.
        outside = [
            f
            for f in (snap.plan.findings if snap.plan else ())
            if f not in on_posts
            and f.severity is not Severity.INFO
            and (f.file == story.path or (f.is_error and Path(f.file).parent != stories_dir))
        ]
        return render_preview_html(
            posts,
            outside=outside,
            title=story.title,
            generated_at=snap.loaded_at,
            content_dir=self.settings.content_dir,
            market_names=self._market_names(snap),
            limit_overrides=snap.plan.limit_overrides if snap.plan else None,
            csp=SERVED_CSP,
            reload_version=snap.version,
        )

    def _calendar(self, snap: Snapshot) -> str:
        titles = {s.id: s.title for s in snap.content.stories.values()} if snap.content else {}
        rows = [
            CalendarRow.of_planned(
                p,
                status="planned" if str(p.story_status) == "approved" else "held",
                story_title=titles.get(p.story, p.story),
            )
            for p in (snap.plan.posts if snap.plan else ())
        ]
        return render_calendar_html(
            rows,
            title="Planned calendar (from the content, not the database)",
            generated_at=snap.loaded_at,
            market_names=self._market_names(snap),
            csp=SERVED_CSP,
            reload_version=snap.version,
        )

    def _index(self, snap: Snapshot) -> str:
        if snap.plan is None or snap.content is None:
            return self._message(snap, "The content cannot be loaded", snap.error or "")
        summaries = []
        for story in sorted(snap.content.stories.values(), key=lambda s: s.id):
            posts = snap.posts_of(story.id)
            findings = [f for p in posts for f in p.findings]
            summaries.append(
                StorySummary(
                    id=story.id,
                    title=story.title,
                    status=str(story.status),
                    posts=len(posts),
                    errors=sum(f.severity is Severity.ERROR for f in findings),
                    warnings=sum(f.severity is Severity.WARNING for f in findings),
                    networks=len({p.network for p in posts}),
                    markets=len({p.market for p in posts}),
                )
            )
        for story_id, (file, own) in sorted(self._broken(snap).items()):
            summaries.append(
                StorySummary(
                    id=story_id,
                    title=Path(file).name,
                    status="broken",
                    posts=0,
                    errors=sum(f.is_error for f in own),
                    warnings=sum(f.severity is Severity.WARNING for f in own),
                    networks=0,
                    markets=0,
                )
            )
        on_posts = {f for p in snap.plan.posts for f in p.findings}
        broken_files = {file for file, _ in self._broken(snap).values()}
        general: list[Finding] = [
            f
            for f in snap.plan.findings
            if f not in on_posts and f.severity is not Severity.INFO and f.file not in broken_files
        ]
        return render(
            "serve_index.html.j2",
            title="Storyline — stories",
            stories=summaries,
            findings=general,
            content_dir=str(self.settings.content_dir),
            lines_dir=str(self.settings.lines_dir),
            generated=snap.loaded_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC"),
            csp=SERVED_CSP,
            reload_version=snap.version,
        )

    def _message(self, snap: Snapshot, heading: str, detail: str) -> str:
        return render(
            "serve_message.html.j2",
            title=heading,
            detail=detail,
            csp=SERVED_CSP,
            reload_version=snap.version,
        )


def _handler(previews: Previews, wall: WallFeed) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "storyline-serve"

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/version":
                self._send(HTTPStatus.OK, previews.version(), "text/plain; charset=utf-8")
                return
            if is_wall_path(path):
                respond(self, wall)
                return
            if path == "/favicon.ico":
                self._send(HTTPStatus.NO_CONTENT, "", "text/plain")
                return
            status, html = previews.page(path)
            self._send(status, html, "text/html; charset=utf-8")

        def _send(self, status: HTTPStatus, body: str, content_type: str) -> None:
            data = body.encode("utf-8")
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.send_header("X-Content-Type-Options", "nosniff")
            self.end_headers()
            if data:
                self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the terminal is for the address and errors, not every poll."""

    return Handler


def make_server(
    settings: Settings, clock: Clock, port: int = DEFAULT_PORT, host: str = HOST
) -> ThreadingHTTPServer:
    """A server bound to 127.0.0.1 unless told (a container binds 0.0.0.0; ``port`` 0 picks a
    free port); call ``serve_forever``."""
    previews = Previews(settings, clock)
    wall = WallFeed(settings)
    server = ThreadingHTTPServer((host, port), _handler(previews, wall))
    server.daemon_threads = True
    server.previews = previews  # type: ignore[attr-defined]
    server.wall = wall  # type: ignore[attr-defined]
    return server


def url_of(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}/"


def run(server: ThreadingHTTPServer) -> None:
    """Serve until Ctrl-C, then close the socket: no traceback, nothing left listening."""
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
