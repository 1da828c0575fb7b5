"""``storyline serve``: a real server on a free port, re-rendering when a file changes."""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest
from markupsafe import escape

from scheduler.app.settings import Settings
from scheduler.interfaces.serve import Previews, content_version, make_server, url_of

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def server(brand: Path) -> Iterator[ThreadingHTTPServer]:
    for story in (brand / "content/stories").glob("*.yaml"):  # two stories keep it quick
        if story.stem not in {"aurora-launch", "fleet-economics"}:
            story.unlink()
    settings = Settings(
        content_dir=brand / "content",
        lines_dir=brand / "editorial_lines",
        data_dir=brand / ".storyline",
    )
    srv = make_server(settings, lambda: NOW, port=0)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(timeout=5)


def get(srv: ThreadingHTTPServer, path: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url_of(srv) + path.lstrip("/"), timeout=30) as response:
            body = response.read().decode("utf-8")
            return response.status, response.headers["Content-Type"], body
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.headers["Content-Type"], exc.read().decode("utf-8")


def previews(srv: ThreadingHTTPServer) -> Previews:
    found: Previews = srv.previews  # type: ignore[attr-defined]
    return found


def touch_later(path: Path) -> None:
    """Move the modification time on by a second: some file systems keep coarse mtimes."""
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_the_server_listens_on_localhost_only(server: ThreadingHTTPServer) -> None:
    assert server.server_address[0] == "127.0.0.1"
    assert url_of(server).startswith("http://127.0.0.1:")


def test_the_index_lists_every_story_with_a_link(server: ThreadingHTTPServer) -> None:
    status, content_type, html = get(server, "/")
    assert status == 200
    assert content_type == "text/html; charset=utf-8"
    assert '<a href="/story/aurora-launch">Aurora, the comfort SUV, arrives</a>' in html
    assert 'data-story="fleet-economics"' in html


def test_a_story_page_is_its_preview(server: ThreadingHTTPServer) -> None:
    status, _, html = get(server, "/story/aurora-launch")
    assert status == 200
    assert "<title>Aurora, the comfort SUV, arrives</title>" in html
    assert 'data-post-id="aurora-launch/reveal/x/fr"' in html
    assert "data:image/jpeg;base64," in html  # the sample's real photo, embedded


def test_served_pages_poll_the_version_to_reload(server: ThreadingHTTPServer) -> None:
    _, _, html = get(server, "/story/aurora-launch")
    _, content_type, version = get(server, "/version")
    assert content_type == "text/plain; charset=utf-8"
    assert f'storylineWatch("{version}");' in html
    assert "connect-src &#39;self&#39;" in html


def test_an_unknown_story_is_a_404_page(server: ThreadingHTTPServer) -> None:
    status, _, html = get(server, "/story/<nope>")
    assert status == 404
    assert "Nothing at /story/&lt;nope&gt;." in html


def break_story(brand: Path) -> Path:
    """Give aurora-launch an unknown audience: the file stops loading, as a typo would."""
    story = brand / "content/stories/aurora-launch.yaml"
    story.write_text(
        story.read_text().replace("audience: public", "audience: publik"), encoding="utf-8"
    )
    touch_later(story)
    return story


def validate_lines(brand: Path) -> list[str]:
    """What ``storyline validate`` prints for the brand: one ``file:line:col`` line a finding."""
    from click.testing import CliRunner

    from scheduler.interfaces.cli import cli

    args = ["--content", str(brand / "content"), "--lines", str(brand / "editorial_lines")]
    result = CliRunner().invoke(cli, [*args, "validate"], env={"NO_COLOR": "1"})
    assert result.exit_code == 1, result.output
    return [line for line in result.output.splitlines() if ": error[" in line]


def test_a_story_with_errors_shows_them_on_its_own_page(
    server: ThreadingHTTPServer, brand: Path
) -> None:
    get(server, "/story/aurora-launch")  # the page being edited
    break_story(brand)
    status, _, html = get(server, "/story/aurora-launch")
    assert status == 200
    assert "Not found" not in html
    assert "aurora-launch does not load" in html
    expected = [line for line in validate_lines(brand) if "aurora-launch.yaml" in line]
    assert expected, "the broken story should have an error in validate"
    assert "aurora-launch.yaml:4:11: error[bad-value]: audience is 'publik'" in expected[0]
    for line in expected:
        assert escape(line) in html


def test_a_broken_story_page_keeps_polling_and_becomes_the_preview_once_fixed(
    server: ThreadingHTTPServer, brand: Path
) -> None:
    story = break_story(brand)
    _, _, broken = get(server, "/story/aurora-launch")
    version = get(server, "/version")[2]
    assert f'storylineWatch("{version}");' in broken
    story.write_text(
        story.read_text().replace("audience: publik", "audience: public"), encoding="utf-8"
    )
    touch_later(story)
    assert get(server, "/version")[2] != version
    status, _, fixed = get(server, "/story/aurora-launch")
    assert status == 200
    assert 'data-post-id="aurora-launch/reveal/x/fr"' in fixed


def test_a_story_broken_before_the_server_started_is_found_by_its_file_name(
    server: ThreadingHTTPServer, brand: Path
) -> None:
    break_story(brand)  # no page was loaded yet: the id comes from the file name
    status, _, html = get(server, "/story/aurora-launch")
    assert status == 200
    assert "audience" in html


def break_markets(brand: Path) -> None:
    """A typo in gb's zone: the market does not load, and stories lose their gb posts."""
    markets = brand / "content/markets.yaml"
    markets.write_text(
        markets.read_text().replace("Europe/London", "Europe/Londn"), encoding="utf-8"
    )
    touch_later(markets)


def test_a_story_page_shows_the_markets_error_that_leaves_posts_out(
    server: ThreadingHTTPServer, brand: Path
) -> None:
    break_markets(brand)
    status, _, html = get(server, "/story/aurora-launch")
    assert status == 200
    assert "Findings outside these posts, which may leave some out" in html
    assert "unknown time zone &#39;Europe/Londn&#39;" in html
    assert "markets.yaml:40" in html
    assert 'data-post-id="aurora-launch/reveal/x/gb"' not in html


def test_a_broken_story_page_shows_errors_of_other_files_too(
    server: ThreadingHTTPServer, brand: Path
) -> None:
    break_story(brand)
    break_markets(brand)
    _, _, html = get(server, "/story/aurora-launch")
    assert "Errors in other files, which may be the cause" in html
    assert "markets.yaml:40:15: error[bad-timezone]" in html


def test_a_healthy_story_page_has_no_outside_findings(server: ThreadingHTTPServer) -> None:
    _, _, html = get(server, "/story/aurora-launch")
    assert "Findings outside these posts" not in html


def test_the_index_lists_a_broken_story_with_a_link_to_its_errors(
    server: ThreadingHTTPServer, brand: Path
) -> None:
    break_story(brand)
    _, _, html = get(server, "/")
    assert '<a href="/story/aurora-launch">aurora-launch.yaml</a>' in html
    assert 'class="story status-broken" data-story="aurora-launch"' in html
    assert "publik" not in html  # its findings are on its own page, not the index


def test_the_planned_calendar_is_served(server: ThreadingHTTPServer) -> None:
    status, _, html = get(server, "/calendar")
    assert status == 200
    assert 'data-post-id="aurora-launch/teaser/facebook/fr"' in html


def test_pages_are_not_reloaded_when_nothing_changed(server: ThreadingHTTPServer) -> None:
    get(server, "/story/aurora-launch")
    loads = previews(server).loads
    get(server, "/story/aurora-launch")
    get(server, "/")
    assert previews(server).loads == loads


def test_a_changed_story_is_rendered_again(server: ThreadingHTTPServer, brand: Path) -> None:
    _, _, before = get(server, "/story/aurora-launch")
    version_before = get(server, "/version")[2]
    story = brand / "content/stories/aurora-launch.yaml"
    story.write_text(
        story.read_text().replace("Meet Aurora, the comfort SUV", "Meet Aurora, now in blue"),
        encoding="utf-8",
    )
    touch_later(story)
    version_after = get(server, "/version")[2]
    _, _, after = get(server, "/story/aurora-launch")
    assert version_after != version_before
    assert "now in blue" not in before
    assert "now in blue" in after


def test_a_changed_template_is_rendered_again(server: ThreadingHTTPServer, brand: Path) -> None:
    get(server, "/story/aurora-launch")
    loads = previews(server).loads
    template = next((brand / "editorial_lines/x").glob("*.j2"))
    touch_later(template)
    get(server, "/story/aurora-launch")
    assert previews(server).loads == loads + 1


def test_content_version_changes_with_a_file_and_ignores_hidden_ones(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text("a: 1")
    first = content_version(tmp_path)
    (tmp_path / ".swp").write_text("editor noise")
    assert content_version(tmp_path) == first
    (tmp_path / "b.yaml").write_text("b: 1")
    assert content_version(tmp_path) != first


def test_a_missing_folder_has_a_version_too(tmp_path: Path) -> None:
    assert content_version(tmp_path / "missing") == content_version(tmp_path / "missing")


def test_ctrl_c_stops_the_command_cleanly(brand: Path) -> None:
    import signal
    import subprocess
    import sys

    env = {**os.environ, "STORYLINE_NOW": "2026-11-28T12:00:00Z"}
    process = subprocess.Popen(
        [sys.executable, "-m", "scheduler.interfaces.cli", "serve", "--port", "0"],
        cwd=brand,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    with process.stderr:
        banner = process.stderr.readline()
        assert banner.startswith("serving previews on http://127.0.0.1:")
        url = banner.split()[3]
        with urllib.request.urlopen(url + "version", timeout=30) as response:
            assert response.status == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
        rest = process.stderr.read()
    assert "stopped" in rest
    assert "Traceback" not in rest
