"""The HTML report of ``storyline report --format html`` in headless Chromium: one file that
loads with no request and no error, and draws its charts as inline SVG."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from preview_cdp import Browser

from scheduler.calendar.report import Filters, PostFigures, roll_up
from scheduler.interfaces.formats.report_views import report_html

from .conftest import GENERATED_AT, SCREENSHOTS

pytestmark = pytest.mark.browser
LAUNCH = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
BEATS = (("teaser", -3), ("reveal", 0), ("follow-up", 2))


def posts() -> list[PostFigures]:
    out: list[PostFigures] = []
    for i, (beat, days) in enumerate(BEATS):
        for network, market in (("x", "fr"), ("instagram", "de"), ("linkedin", "it")):
            due = LAUNCH + timedelta(days=days)
            out.append(
                PostFigures(
                    post_id=f"gt/{beat}/{network}/{market}",
                    story="gt",
                    beat=beat,
                    network=network,
                    market=market,
                    campaign="gt-launch",
                    due_utc=due,
                    published_at=due,
                    reach=None if beat == "follow-up" and network == "x" else 1000 * (i + 1),
                    engagement=50 * (i + 1),
                    clicks=10,
                    sessions=20 * (i + 1),
                    conversions=i * 2,
                    revenue=99.5 * i,
                )
            )
    return out


def report_file(tmp_path: Path) -> Path:
    page = tmp_path / "report.html"
    page.write_text(report_html(roll_up(Filters(), posts()), GENERATED_AT), encoding="utf-8")
    return page


def test_the_report_is_one_file_with_nothing_to_fetch(tmp_path: Path) -> None:
    html = report_file(tmp_path).read_text(encoding="utf-8")
    assert "<script" not in html
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "@import" not in html and "url(" not in html


def test_the_report_loads_offline_with_no_error(browser: Browser, tmp_path: Path) -> None:
    browser.open(report_file(tmp_path).as_uri())
    assert browser.console_errors == []
    assert [u for u in browser.requests if not u.startswith(("file:", "data:"))] == []
    shot = browser.screenshot(SCREENSHOTS / "report.png", max_height=2500)
    assert shot.stat().st_size > 10_000


def test_the_charts_draw_one_bar_per_beat_sized_by_its_figure(
    browser: Browser, tmp_path: Path
) -> None:
    browser.open(report_file(tmp_path).as_uri())
    widths = browser.evaluate(
        "[...document.querySelectorAll('#chart-arc-reach rect.bar')]"
        ".map(r => r.getBoundingClientRect().width)"
    )
    # teaser 3 x 1000, reveal 3 x 2000, follow-up 2 x 3000 (X's reach is missing)
    assert len(widths) == 3
    assert widths[1] == pytest.approx(widths[2], abs=0.5)
    assert widths[0] == pytest.approx(widths[1] / 2, abs=0.5)
    assert widths[1] > 200
    labels = browser.evaluate(
        "[...document.querySelectorAll('#chart-arc-reach text')].map(t => t.textContent)"
    )
    assert labels[:3] == ["Reach per beat", "gt · teaser", "3,000"]


def test_the_tables_show_the_arc_in_order_and_the_cross_channel_cells(
    browser: Browser, tmp_path: Path
) -> None:
    browser.open(report_file(tmp_path).as_uri())
    beats = browser.evaluate(
        "[...document.querySelectorAll('#arc tbody tr')].map(r => r.cells[1].textContent)"
    )
    assert beats == [b for b, _ in BEATS]
    cells = browser.evaluate(
        "[...document.querySelectorAll('#cross tbody tr')]"
        ".map(r => r.cells[0].textContent + '/' + r.cells[1].textContent)"
    )
    assert cells == ["instagram/de", "linkedin/it", "x/fr"]
    total = browser.evaluate("document.querySelector('#total').textContent")
    assert "15,000reach" in total  # 3 x 1000 + 3 x 2000 + 2 x 3000, and one missing
