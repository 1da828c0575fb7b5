"""The calendar page, read as HTML: a grid per market in local time, arcs, filters, legend."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import preview_sample

from scheduler.interfaces.preview import CalendarRow, render_calendar_html, story_color
from scheduler.interfaces.preview.calendar import market_calendars

from .conftest import GENERATED_AT


def row(**changes: object) -> CalendarRow:
    values: dict[str, object] = {
        "post_id": "s/reveal/x/fr",
        "story": "s",
        "beat": "reveal",
        "network": "x",
        "market": "fr",
        "account_name": "Holdout FR",
        "timezone": "Europe/Paris",
        "due_utc": datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
        "status": "planned",
        "text": "hello",
    }
    values.update(changes)
    return CalendarRow(**values)  # type: ignore[arg-type]


def render(rows: list[CalendarRow]) -> str:
    return render_calendar_html(
        rows, generated_at=GENERATED_AT, market_names=preview_sample.MARKET_NAMES
    )


def entries(html: str) -> list[str]:
    return re.findall(r'<div class="entry st-[^"]*" data-post-id=.*?\n        </div>', html, re.S)


def test_every_row_is_one_entry_on_the_grid() -> None:
    rows = preview_sample.calendar_rows()
    assert len(entries(render(rows))) == len(rows)


def test_one_calendar_per_market() -> None:
    html = render(preview_sample.calendar_rows())
    assert re.findall(r'<section class="market-cal" data-market="(\w+)">', html) == [
        "cn",
        "de",
        "fr",
        "gb",
    ]


def test_a_post_sits_on_its_local_day_at_its_local_time() -> None:
    # 23:30 UTC on 30 November is already 1 December, 07:30 in Shanghai.
    due = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    (cal,) = market_calendars([row(market="cn", timezone="Asia/Shanghai", due_utc=due)])
    day = next(d for m in cal.months for w in m.weeks for d in w if d.entries)
    assert day.day.isoformat() == "2026-12-01"
    assert day.entries[0].local.strftime("%H:%M") == "07:30"


def test_the_grid_covers_every_month_with_posts() -> None:
    rows = [row(), row(post_id="s/followup/x/fr", due_utc=datetime(2027, 1, 5, 9, tzinfo=UTC))]
    (cal,) = market_calendars(rows)
    assert [m.name for m in cal.months] == ["December 2026", "January 2027"]


def test_weeks_start_on_monday() -> None:
    html = render([row()])
    assert '<th scope="col">Mon</th><th scope="col">Tue</th>' in html


def test_entries_carry_network_market_state_and_story_for_the_filters() -> None:
    (entry,) = entries(render([row(status="failed", last_error="HTTP 400")]))
    assert 'data-network="x" data-market="fr" data-status="failed" data-story="s"' in entry
    assert "st-failed" in entry
    assert "HTTP 400" in entry


def test_entries_are_coloured_by_network_state_and_story() -> None:
    (entry,) = entries(render([row(network="facebook", status="published")]))
    assert f"--net: #1877f2; --state: #1a7f37; --story: {story_color('s')}" in entry
    assert '<span class="mark">✓</span>' in entry


def test_each_story_has_its_own_colour() -> None:
    assert story_color("suv-comfort") != story_color("winter-tyres")
    assert story_color("suv-comfort") == story_color("suv-comfort")


def test_the_arc_of_a_story_joins_its_beats_in_order() -> None:
    cals = market_calendars(preview_sample.calendar_rows())
    fr = next(c for c in cals if c.market == "fr")
    arc = next(a for a in fr.arcs if a.story == "suv-comfort")
    assert [p.beat for p in arc.points] == ["teaser", "reveal", "followup"]
    lefts = [p.left for p in arc.points]
    assert lefts == sorted(lefts)
    assert lefts[0] >= 0 and lefts[-1] <= 100
    assert arc.width == lefts[-1] - lefts[0]


def test_entries_show_their_step_in_the_arc() -> None:
    html = render(preview_sample.calendar_rows())
    assert "teaser 1/3 · The comfort SUV arrives" in html
    assert "followup 3/3 · The comfort SUV arrives" in html


def test_filters_list_each_network_market_and_state_present() -> None:
    html = render(preview_sample.calendar_rows())
    networks = re.findall(r'data-filter="network" value="(\w+)"', html)
    assert networks == [
        "facebook",
        "instagram",
        "x",
        "linkedin",
        "youtube",
        "weibo",
        "mastodon",
        "bluesky",
        "threads",
    ]
    assert re.findall(r'data-filter="market" value="(\w+)"', html) == ["cn", "de", "fr", "gb"]
    assert "failed" in re.findall(r'data-filter="status" value="(\w+)"', html)


def test_the_legend_names_every_story() -> None:
    html = render(preview_sample.calendar_rows())
    legend = html.split('class="legend"')[1].split("</section>")[0]
    assert "The comfort SUV arrives" in legend
    assert "Winter tyres check" in legend


def test_excerpts_are_escaped() -> None:
    html = render([row(text="<script>alert(1)</script>", account_name="<b>x</b>")])
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_an_empty_calendar_says_how_to_fill_it() -> None:
    assert "storyline sync" in render([])


def test_an_unknown_zone_falls_back_to_utc_instead_of_failing() -> None:
    (cal,) = market_calendars([row(timezone="Mars/Olympus")])
    entry = cal.months[0].weeks[0][0].entries or next(
        d.entries for w in cal.months[0].weeks for d in w if d.entries
    )
    assert entry[0].local.utcoffset() is not None
    assert entry[0].local.utcoffset().total_seconds() == 0  # type: ignore[union-attr]


def test_a_story_keeps_one_title_when_its_rows_disagree() -> None:
    rows = [
        row(post_id="s/reveal/x/fr", story_title="The story"),
        row(post_id="s/reveal/facebook/fr", network="facebook", story_title="The story"),
        row(post_id="s/reveal/youtube/fr", network="youtube", story_title="A video title"),
    ]
    html = render(rows)
    legend = html.split('class="legend"')[1].split("</section>")[0]
    assert legend.count('class="story-key"') == 1
    assert "The story" in legend
    assert "A video title" not in html
