"""The pages in a real browser: Debian's headless Chromium, driven over the DevTools protocol.

Each page must load with no console error and no request leaving the file, show the expected
cards, and react to clicks; a screenshot of each is written to ``tests/screenshots/``.
"""

from __future__ import annotations

import json
from pathlib import Path

import preview_sample
import pytest
from preview_cdp import Browser

from scheduler.app.pipeline import load_plan
from scheduler.app.settings import Settings
from scheduler.core.post import PlannedPost
from scheduler.interfaces.preview import CalendarRow, render_calendar_html, render_preview_html
from scheduler.planning.plan import Plan

from .conftest import GENERATED_AT, SCREENSHOTS

pytestmark = pytest.mark.browser
REPO = Path(__file__).resolve().parent.parent.parent


def preview_file(tmp_path: Path, content_dir: Path, posts: list[PlannedPost] | None = None) -> Path:
    html = render_preview_html(
        preview_sample.planned_posts() if posts is None else posts,
        title="The comfort SUV arrives",
        generated_at=GENERATED_AT,
        content_dir=content_dir,
        market_names=preview_sample.MARKET_NAMES,
    )
    page = tmp_path / "preview.html"
    page.write_text(html, encoding="utf-8")
    return page


def calendar_file(tmp_path: Path) -> Path:
    html = render_calendar_html(
        preview_sample.calendar_rows(),
        title="Storyline calendar",
        generated_at=GENERATED_AT,
        market_names=preview_sample.MARKET_NAMES,
    )
    page = tmp_path / "calendar.html"
    page.write_text(html, encoding="utf-8")
    return page


def offsite(requests: list[str]) -> list[str]:
    return [u for u in requests if not u.startswith(("file:", "data:"))]


def count(browser: Browser, selector: str) -> int:
    return int(browser.evaluate(f"document.querySelectorAll({json.dumps(selector)}).length"))


def visible(browser: Browser, selector: str) -> int:
    return int(
        browser.evaluate(
            f"[...document.querySelectorAll({json.dumps(selector)})]"
            ".filter(e => e.offsetParent !== null).length"
        )
    )


# --- the preview page ----------------------------------------------------------------------


def test_preview_loads_without_console_errors(
    browser: Browser, tmp_path: Path, content_dir: Path
) -> None:
    browser.open(preview_file(tmp_path, content_dir).as_uri())
    assert browser.console_errors == []


def test_preview_makes_no_request_outside_the_file(
    browser: Browser, tmp_path: Path, content_dir: Path
) -> None:
    browser.open(preview_file(tmp_path, content_dir).as_uri())
    assert browser.requests, "the page itself should have been requested"
    assert offsite(browser.requests) == []


def test_preview_shows_one_card_per_post(
    browser: Browser, tmp_path: Path, content_dir: Path
) -> None:
    posts = preview_sample.planned_posts()
    browser.open(preview_file(tmp_path, content_dir).as_uri())
    assert count(browser, "article.card") == len(posts)
    assert count(browser, "article.card-instagram") == sum(p.network == "instagram" for p in posts)
    assert count(browser, "section.beat") == 3


def test_preview_cards_show_the_expected_text(
    browser: Browser, tmp_path: Path, content_dir: Path
) -> None:
    browser.open(preview_file(tmp_path, content_dir).as_uri())
    card = '[data-post-id="suv-comfort/reveal/x/gb"]'
    text = browser.evaluate(f"document.querySelector({json.dumps(card)}).innerText")
    assert "Meet the comfort SUV: quieter, roomier, calmer." in text
    assert "Holdout GB" in text
    assert "x-too-long" in text
    hashtag = browser.evaluate(
        f"document.querySelector({json.dumps(card + ' .hashtag')}).textContent"
    )
    assert hashtag == "#ComfortSUV"


def test_preview_images_are_painted_from_the_embedded_data(
    browser: Browser, tmp_path: Path, content_dir: Path
) -> None:
    browser.open(preview_file(tmp_path, content_dir).as_uri())
    background = browser.evaluate(
        "getComputedStyle(document.querySelector('.img-1')).backgroundImage"
    )
    assert background.startswith('url("data:image/png;base64,')


def test_see_more_reveals_the_folded_text_on_click(
    browser: Browser, tmp_path: Path, content_dir: Path
) -> None:
    browser.open(preview_file(tmp_path, content_dir).as_uri())
    card = '[data-post-id="suv-comfort/reveal/linkedin/fr"]'
    hidden = f"document.querySelector({json.dumps(card + ' .hidden-part')}).hidden"
    assert browser.evaluate(hidden) is True
    browser.click(f"{card} .see-more")
    assert browser.evaluate(hidden) is False
    assert visible(browser, f"{card} .see-more") == 0


def test_preview_filters_hide_cards_by_network_and_market(
    browser: Browser, tmp_path: Path, content_dir: Path
) -> None:
    posts = preview_sample.planned_posts()
    browser.open(preview_file(tmp_path, content_dir).as_uri())
    browser.click("input[data-filter='network'][value='linkedin']")
    linkedin = sum(p.network == "linkedin" for p in posts)
    assert visible(browser, "article.card") == len(posts) - linkedin
    assert visible(browser, "section.beat[data-beat='followup']") == 0  # LinkedIn only
    browser.click("input[data-filter='market'][value='cn']")
    cn = sum(p.market == "cn" and p.network != "linkedin" for p in posts)
    assert visible(browser, "article.card") == len(posts) - linkedin - cn
    shown = browser.evaluate("document.getElementById('shown-count').textContent")
    assert shown == str(len(posts) - linkedin - cn)


def test_preview_can_show_only_posts_with_findings(
    browser: Browser, tmp_path: Path, content_dir: Path
) -> None:
    posts = preview_sample.planned_posts()
    browser.open(preview_file(tmp_path, content_dir).as_uri())
    browser.click("#only-findings")
    assert visible(browser, "article.card") == sum(bool(p.findings) for p in posts)
    assert visible(browser, "article.card.worst-ok") == 0


def test_hostile_text_is_shown_as_text_and_never_runs(
    browser: Browser, tmp_path: Path, content_dir: Path
) -> None:
    page = preview_file(tmp_path, content_dir, [preview_sample.hostile_post()])
    browser.open(page.as_uri())
    assert browser.console_errors == []
    assert offsite(browser.requests) == []
    assert count(browser, "script") == 1  # the page's own
    assert count(browser, "img") == 0
    text = browser.evaluate("document.querySelector('.card .shown').textContent")
    assert text.startswith('<script>alert("pwned")</script>')


def test_preview_screenshot(browser: Browser, tmp_path: Path, content_dir: Path) -> None:
    posts = [p for p in preview_sample.planned_posts() if p.beat == "reveal" and p.market == "fr"]
    browser.open(preview_file(tmp_path, content_dir, posts).as_uri())
    shot = browser.screenshot(SCREENSHOTS / "preview-made-up-posts.png", max_height=1500)
    assert shot.stat().st_size > 10_000


# --- the calendar page ---------------------------------------------------------------------


def test_calendar_loads_without_errors_or_requests(browser: Browser, tmp_path: Path) -> None:
    browser.open(calendar_file(tmp_path).as_uri())
    assert browser.console_errors == []
    assert offsite(browser.requests) == []


def test_calendar_shows_every_post(browser: Browser, tmp_path: Path) -> None:
    rows = preview_sample.calendar_rows()
    browser.open(calendar_file(tmp_path).as_uri())
    assert count(browser, ".entry[data-post-id]") == len(rows)
    assert visible(browser, ".entry[data-post-id]") == len(rows)
    assert browser.evaluate("document.getElementById('shown-count').textContent") == str(len(rows))


def test_unchecking_a_network_hides_its_posts(browser: Browser, tmp_path: Path) -> None:
    rows = preview_sample.calendar_rows()
    browser.open(calendar_file(tmp_path).as_uri())
    browser.click("input[data-filter='network'][value='instagram']")
    instagram = sum(r.network == "instagram" for r in rows)
    assert visible(browser, ".entry[data-network='instagram']") == 0
    assert visible(browser, ".entry[data-post-id]") == len(rows) - instagram
    shown = browser.evaluate("document.getElementById('shown-count').textContent")
    assert shown == str(len(rows) - instagram)
    browser.click("input[data-filter='network'][value='instagram']")
    assert visible(browser, ".entry[data-network='instagram']") == instagram


def test_unchecking_a_market_hides_its_calendar(browser: Browser, tmp_path: Path) -> None:
    browser.open(calendar_file(tmp_path).as_uri())
    browser.click("input[data-filter='market'][value='de']")
    assert visible(browser, "section.market-cal[data-market='de']") == 0
    assert visible(browser, "section.market-cal[data-market='fr']") == 1
    assert visible(browser, ".entry[data-market='de']") == 0


def test_unchecking_a_state_hides_posts_in_that_state(browser: Browser, tmp_path: Path) -> None:
    rows = preview_sample.calendar_rows()
    browser.open(calendar_file(tmp_path).as_uri())
    browser.click("input[data-filter='status'][value='planned']")
    planned = sum(r.status == "planned" for r in rows)
    assert visible(browser, ".entry[data-post-id]") == len(rows) - planned


def test_the_week_view_hides_weeks_without_posts(browser: Browser, tmp_path: Path) -> None:
    browser.open(calendar_file(tmp_path).as_uri())
    all_weeks = visible(browser, "tr.week")
    browser.click("input[name='view'][value='week']")
    assert 0 < visible(browser, "tr.week") < all_weeks
    assert visible(browser, "tr.week.no-posts") == 0


def test_calendar_screenshot(browser: Browser, tmp_path: Path) -> None:
    browser.open(calendar_file(tmp_path).as_uri())
    for market in ("cn", "de", "gb"):
        browser.click(f"input[data-filter='market'][value='{market}']")
    browser.evaluate("window.scrollTo(0, 0)")
    shot = browser.screenshot(SCREENSHOTS / "calendar-made-up-rows.png", max_height=1500)
    assert shot.stat().st_size > 10_000


# --- the sample brand, through the real pipeline -------------------------------------------


@pytest.fixture(scope="module")
def brand_plan() -> Plan:
    settings = Settings(content_dir=REPO / "content", lines_dir=REPO / "editorial_lines")
    return load_plan(settings, GENERATED_AT)


def brand_preview(tmp_path: Path, brand_plan: Plan, markets: set[str] | None = None) -> Path:
    posts = [
        p
        for p in brand_plan.posts
        if p.story == "aurora-launch" and (markets is None or p.market in markets)
    ]
    html = render_preview_html(
        posts,
        title="Aurora, the comfort SUV, arrives",
        generated_at=GENERATED_AT,
        content_dir=REPO / "content",
        market_names=brand_plan.market_names,
        limit_overrides=brand_plan.limit_overrides,
    )
    page = tmp_path / "aurora.html"
    page.write_text(html, encoding="utf-8")
    return page


def brand_calendar(tmp_path: Path, brand_plan: Plan) -> Path:
    rows = [
        CalendarRow.of_planned(
            p, status="planned", story_title=p.story.replace("-", " ").capitalize()
        )
        for p in brand_plan.posts
    ]
    html = render_calendar_html(
        rows, generated_at=GENERATED_AT, market_names=brand_plan.market_names
    )
    page = tmp_path / "brand-calendar.html"
    page.write_text(html, encoding="utf-8")
    return page


def test_sample_brand_preview_loads_cleanly_and_offline(
    browser: Browser, tmp_path: Path, brand_plan: Plan
) -> None:
    story_posts = [p for p in brand_plan.posts if p.story == "aurora-launch"]
    browser.open(brand_preview(tmp_path, brand_plan).as_uri())
    assert browser.console_errors == []
    assert offsite(browser.requests) == []
    assert count(browser, "article.card") == len(story_posts)


def test_sample_brand_calendar_loads_cleanly_and_offline(
    browser: Browser, tmp_path: Path, brand_plan: Plan
) -> None:
    browser.open(brand_calendar(tmp_path, brand_plan).as_uri())
    assert browser.console_errors == []
    assert offsite(browser.requests) == []
    assert count(browser, ".entry[data-post-id]") == len(brand_plan.posts)


def test_sample_brand_screenshots(browser: Browser, tmp_path: Path, brand_plan: Plan) -> None:
    browser.open(brand_preview(tmp_path, brand_plan, {"fr"}).as_uri())
    browser.evaluate("document.getElementById('beat-reveal').scrollIntoView()")
    preview = browser.screenshot(SCREENSHOTS / "preview.png", max_height=1600)
    browser.open(brand_calendar(tmp_path, brand_plan).as_uri())
    for market in brand_plan.market_names:
        if market != "fr":
            browser.click(f"input[data-filter='market'][value='{market}']")
    browser.evaluate("window.scrollTo(0, 0)")
    calendar = browser.screenshot(SCREENSHOTS / "calendar.png", max_height=1600)
    assert preview.stat().st_size > 10_000
    assert calendar.stat().st_size > 10_000


# --- the commands themselves ---------------------------------------------------------------


def test_the_html_the_commands_write_loads_cleanly(
    browser: Browser, tmp_path: Path, brand: Path
) -> None:
    from click.testing import CliRunner

    from scheduler.interfaces.cli import cli

    env = {"STORYLINE_NOW": "2026-11-28T12:00:00Z", "STORYLINE_DATA_DIR": str(tmp_path / "d")}
    base = ["--content", str(brand / "content"), "--lines", str(brand / "editorial_lines")]
    preview, calendar = tmp_path / "preview.html", tmp_path / "calendar.html"
    runner = CliRunner()
    for args in (
        ["preview", "aurora-launch", "--format", "html", "-o", str(preview)],
        ["sync"],
        ["calendar", "--format", "html", "-o", str(calendar)],
    ):
        result = runner.invoke(cli, [*base, *args], env=env)
        assert result.exit_code == 0, result.output
    browser.open(preview.as_uri())
    assert browser.console_errors == []
    assert offsite(browser.requests) == []
    assert count(browser, "article.card[data-post-id^='aurora-launch/']") > 50
    browser.open(calendar.as_uri())
    assert browser.console_errors == []
    assert offsite(browser.requests) == []
    assert count(browser, ".entry[data-post-id]") > 100


def test_a_served_page_reloads_itself_when_its_story_changes(browser: Browser, brand: Path) -> None:
    import os
    import threading
    import time
    from datetime import UTC, datetime

    from scheduler.interfaces.serve import make_server, url_of

    for story in (brand / "content/stories").glob("*.yaml"):
        if story.stem != "aurora-launch":
            story.unlink()
    settings = Settings(content_dir=brand / "content", lines_dir=brand / "editorial_lines")
    server = make_server(settings, lambda: datetime(2026, 11, 28, 12, tzinfo=UTC), port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        browser.open(url_of(server) + "story/aurora-launch")
        assert browser.console_errors == []
        assert "now in blue" not in browser.evaluate("document.body.innerText")
        path = brand / "content/stories/aurora-launch.yaml"
        path.write_text(
            path.read_text().replace("Seven seats, one quiet cabin", "Seven seats, now in blue")
        )
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        text = "document.body ? document.body.innerText : ''"  # null while reloading
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            browser.settle(0.5)
            if "now in blue" in browser.evaluate(text):
                break
        browser.settle(0.5)
        assert "now in blue" in browser.evaluate(text)
        assert browser.console_errors == []
        here = url_of(server)
        assert [u for u in browser.requests if not u.startswith((here, "data:"))] == []
    finally:
        browser.open("about:blank")  # stop the page's polling before the server goes
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_broken_story_shows_its_errors_then_its_preview_once_fixed(
    browser: Browser, brand: Path
) -> None:
    import os
    import threading
    import time
    from datetime import UTC, datetime

    from scheduler.interfaces.serve import make_server, url_of

    for story in (brand / "content/stories").glob("*.yaml"):
        if story.stem != "aurora-launch":
            story.unlink()
    path = brand / "content/stories/aurora-launch.yaml"
    good = path.read_text()
    path.write_text(good.replace("audience: public", "audience: publik"))
    settings = Settings(content_dir=brand / "content", lines_dir=brand / "editorial_lines")
    server = make_server(settings, lambda: datetime(2026, 11, 28, 12, tzinfo=UTC), port=0)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    text = "document.body ? document.body.innerText : ''"  # null while reloading
    try:
        browser.open(url_of(server) + "story/aurora-launch")
        assert browser.console_errors == []
        shown = browser.evaluate(text)
        assert "Not found" not in shown
        assert f"{path}:4:11: error[bad-value]: audience is 'publik'" in shown
        assert count(browser, ".story-findings .finding-error") == 1
        path.write_text(good)
        stat = path.stat()
        os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            browser.settle(0.5)
            if count(browser, "article.card[data-post-id^='aurora-launch/']") > 0:
                break
        browser.settle(0.5)
        assert count(browser, "article.card[data-post-id^='aurora-launch/']") > 50
        assert "does not load" not in browser.evaluate(text)
        assert browser.console_errors == []
    finally:
        browser.open("about:blank")  # stop the page's polling before the server goes
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_arc_labels_on_the_same_day_do_not_overlap(browser: Browser, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    base = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)
    beats = ["teaser", "reveal", "followup", "recap"]  # four beats in one day, then the next
    rows = [
        CalendarRow(
            post_id=f"s/{beat}/x/fr",
            story="s",
            beat=beat,
            network="x",
            market="fr",
            account_name="Holdout FR",
            timezone="Europe/Paris",
            due_utc=base + timedelta(hours=2 * i) + timedelta(days=i // 4),
            status="planned",
            text="hello",
            story_title="One busy day",
        )
        for i, beat in enumerate([*beats, "extra"])
    ]
    page = tmp_path / "busy.html"
    page.write_text(
        render_calendar_html(rows, generated_at=GENERATED_AT, market_names={"fr": "France"}),
        encoding="utf-8",
    )
    browser.open(page.as_uri())
    assert browser.console_errors == []
    boxes = browser.evaluate(
        "JSON.stringify([...document.querySelectorAll('.arc-label')].map(l => {"
        " const r = l.getBoundingClientRect();"
        " return [l.textContent, r.left, r.top, r.right, r.bottom]; }))"
    )
    labels = json.loads(boxes)
    assert len(labels) == 5
    for i, (name, left, top, right, bottom) in enumerate(labels):
        assert right > left and bottom > top
        for other, l2, t2, r2, b2 in labels[i + 1 :]:
            overlap = left < r2 and l2 < right and top < b2 and t2 < bottom
            assert not overlap, f"{name!r} overlaps {other!r}"
    track = browser.evaluate(
        "JSON.stringify((() => {"
        " const t = document.querySelector('.arc-track').getBoundingClientRect();"
        " return [t.top, t.bottom]; })())"
    )
    top, bottom = json.loads(track)
    assert all(top <= t and b <= bottom for _, _, t, _, b in labels), "labels stay in their row"


def test_an_x_thread_is_drawn_as_its_posts_each_with_its_length(
    browser: Browser, tmp_path: Path, content_dir: Path
) -> None:
    from dataclasses import replace

    from scheduler.text.thread import split

    text = " ".join(
        f"Day {n}: the comfort SUV arrives with a quiet cabin and seats that feel like home."
        for n in range(1, 8)
    )
    posts = [
        replace(p, text=text, thread=split(text).parts) if p.post_id.endswith("/x/gb") else p
        for p in preview_sample.planned_posts()
    ]
    browser.open(preview_file(tmp_path, content_dir, posts).as_uri())
    assert browser.console_errors == []
    card = '[data-post-id="suv-comfort/reveal/x/gb"]'
    assert visible(browser, f"{card} .thread-part") == 3
    badges = browser.evaluate(
        f"[...document.querySelectorAll({json.dumps(card + ' .thread-part .badge')})]"
        ".map(b => b.textContent).join('|')"
    )
    sizes = [int(b.split(" / ")[0]) for b in badges.split("|")]
    assert len(sizes) == 3 and all(0 < s <= 280 for s in sizes)
    first = browser.evaluate(
        f"document.querySelector({json.dumps(card + ' .thread-part .text')}).innerText"
    )
    assert first.endswith("1/3")
