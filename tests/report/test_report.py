"""``storyline report``: posts published, snapshots pulled, an export imported, and the figures
checked to the unit, per post, per beat of the arc, network x market and in total."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from .conftest import LAUNCH, Calendar, post_row

WriteFile = Callable[[str, str], Path]
EXPORT = (
    "date,utm_source,utm_medium,utm_campaign,utm_content,sessions,conversions,revenue\n"
    "2026-11-28,x,social,gt-launch,gt/teaser/x/fr,40,0,\n"
    "2026-12-01,x,social,gt-launch,gt/reveal/x/fr,120,4,399.50\n"
    "2026-12-02,x,social,gt-launch,gt/reveal/x/fr,30,1,100\n"
    "2026-12-01,instagram,social,gt-launch,gt/reveal/instagram/de,75,2,150.25\n"
    "2026-12-01,x,social,gt-launch,nobody/reveal/x/fr,9,9,9\n"
)


@pytest.fixture
def earned(calendar: Calendar, write: WriteFile) -> Calendar:
    """A story's teaser, reveal and follow-up on X (fr) and Instagram (de), with snapshots."""
    teaser, reveal, follow = LAUNCH - timedelta(days=3), LAUNCH, LAUNCH + timedelta(days=2)
    calendar.posts(
        post_row("gt", "follow-up", "x", "fr", due_utc=follow),
        post_row("gt", "reveal", "x", "fr", due_utc=reveal),
        post_row("gt", "teaser", "x", "fr", due_utc=teaser),
        post_row("gt", "reveal", "instagram", "de", due_utc=reveal + timedelta(hours=1)),
        post_row("gt", "teaser", "instagram", "de", due_utc=teaser, status="failed"),
        post_row("other", "reveal", "x", "fr", due_utc=reveal, campaign="other-launch"),
    )
    # X gives impressions, not reach; the 24h snapshot is older than the 7d one.
    calendar.snapshot("gt/teaser/x/fr", "24h", teaser + timedelta(days=1), impressions=1000,
                      likes=10, comments=2, shares=3, clicks=7)  # fmt: skip
    calendar.snapshot("gt/reveal/x/fr", "1h", reveal + timedelta(hours=1), impressions=500,
                      likes=5, comments=0, shares=1, clicks=2)  # fmt: skip
    calendar.snapshot("gt/reveal/x/fr", "7d", reveal + timedelta(days=7), impressions=8000,
                      likes=300, comments=40, shares=60, clicks=90)  # fmt: skip
    calendar.snapshot("gt/reveal/instagram/de", "24h", reveal + timedelta(days=1), reach=5000,
                      impressions=9000, likes=400, comments=30, saves=20, shares=None)  # fmt: skip
    # gt/follow-up/x/fr: no snapshot yet (missing, not zero).
    imported = calendar.run("analytics", "import", str(write("ga4.csv", EXPORT)))
    assert imported.exit_code == 0, imported.output
    return calendar


def report(calendar: Calendar, *args: str) -> dict[str, Any]:
    result = calendar.run("report", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def by_post(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["post_id"]: p for p in data["posts"]}


def test_each_post_shows_its_latest_snapshot_and_its_web_outcomes(earned: Calendar) -> None:
    posts = by_post(report(earned, "--story", "gt"))
    assert posts["gt/reveal/x/fr"] | {"published_at": None} == {
        "post_id": "gt/reveal/x/fr",
        "story": "gt",
        "beat": "reveal",
        "network": "x",
        "market": "fr",
        "campaign": "gt-launch",
        "published_at": None,
        "posts": 1,
        "reach": 8000,
        "engagement": 400,
        "engagement_rate": 0.05,
        "clicks": 90,
        "sessions": 150,
        "conversions": 5,
        "revenue": 499.5,
    }
    instagram = posts["gt/reveal/instagram/de"]
    assert (instagram["reach"], instagram["engagement"], instagram["clicks"]) == (5000, 450, None)
    assert instagram["engagement_rate"] == 0.09
    outcomes = (instagram["sessions"], instagram["conversions"], instagram["revenue"])
    assert outcomes == (75, 2, 150.25)


def test_a_post_without_snapshot_or_export_row_has_missing_metrics_not_zero(
    earned: Calendar,
) -> None:
    follow = by_post(report(earned, "--story", "gt"))["gt/follow-up/x/fr"]
    assert (follow["reach"], follow["engagement"], follow["engagement_rate"]) == (None, None, None)
    assert (follow["sessions"], follow["conversions"], follow["revenue"]) == (0, 0, None)


def test_only_published_posts_count_and_the_total_adds_them_up(earned: Calendar) -> None:
    data = report(earned, "--story", "gt")
    assert len(data["posts"]) == 4  # the failed teaser on Instagram is not in
    assert data["total"] == {
        "posts": 4,
        "reach": 1000 + 8000 + 5000,
        "engagement": 15 + 400 + 450,
        "engagement_rate": round(865 / 14000, 6),
        "clicks": 7 + 90,
        "sessions": 40 + 150 + 75,
        "conversions": 5 + 2,
        "revenue": 649.75,
    }


def test_the_arc_lists_the_beats_in_the_order_they_went_out(earned: Calendar) -> None:
    arc = report(earned, "--story", "gt")["arc"]
    assert [(a["beat"], a["posts"], a["reach"], a["sessions"]) for a in arc] == [
        ("teaser", 1, 1000, 40),
        ("reveal", 2, 13000, 225),
        ("follow-up", 1, None, 0),
    ]


def test_the_cross_channel_table_is_network_by_market_for_one_campaign(earned: Calendar) -> None:
    cross = report(earned, "--campaign", "gt-launch")["cross_channel"]
    assert cross["campaign"] == "gt-launch"
    cells = {(c["network"], c["market"]): c for c in cross["cells"]}
    assert set(cells) == {("instagram", "de"), ("x", "fr")}
    assert (cells["x", "fr"]["posts"], cells["x", "fr"]["conversions"]) == (3, 5)
    assert cells["x", "fr"]["revenue"] == 499.5


@pytest.mark.parametrize(
    ("args", "count"),
    [
        (("--market", "de"), 1),
        (("--network", "x"), 4),
        (("--from", "2026-12-01", "--to", "2026-12-01"), 3),
        (("--from", "2026-12-02"), 1),
    ],
)
def test_filters_narrow_the_posts(earned: Calendar, args: tuple[str, ...], count: int) -> None:
    assert len(report(earned, *args)["posts"]) == count


@pytest.mark.parametrize(
    ("flag", "typo", "suggestion"),
    [
        ("--story", "gtt", "gt"),
        ("--campaign", "gt-lanch", "gt-launch"),
        ("--market", "FR", "fr"),
        ("--network", "instagarm", "instagram"),
    ],
)
def test_an_unknown_name_gets_a_did_you_mean(
    earned: Calendar, flag: str, typo: str, suggestion: str
) -> None:
    result = earned.run("report", flag, typo)
    assert result.exit_code == 1
    assert f"did you mean: {suggestion}" in result.stderr
    assert "Traceback" not in result.output


def test_csv_has_one_row_per_post_and_roll_up(earned: Calendar) -> None:
    result = earned.run("report", "--story", "gt", "--format", "csv")
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    levels = [r["level"] for r in rows]
    assert levels.count("post") == 4 and levels.count("beat") == 3 and levels[-1] == "total"
    total = rows[-1]
    assert (total["reach"], total["sessions"], total["revenue"]) == ("14000", "265", "649.75")
    follow = next(r for r in rows if r["post_id"] == "gt/follow-up/x/fr")
    assert follow["reach"] == ""


def test_text_shows_the_sections_and_missing_figures_as_a_dash(earned: Calendar) -> None:
    result = earned.run("report", "--story", "gt")
    assert result.exit_code == 0, result.output
    out = result.stdout
    for heading in ("total", "arc (beats", "cross-channel, campaign gt-launch", "posts"):
        assert heading in out
    follow = next(line for line in out.splitlines() if line.startswith("gt/follow-up/x/fr"))
    assert "–" in follow
    assert "14,000" in out


def test_an_empty_calendar_reports_nothing_to_show(calendar: Calendar) -> None:
    result = calendar.run("report")
    assert result.exit_code == 0, result.output
    assert "no published post" in result.stdout


def test_a_post_whose_reach_is_missing_does_not_count_in_the_rate_of_a_group() -> None:
    from scheduler.calendar.report import Filters, PostFigures, roll_up

    def post(network: str, reach: int | None, engagement: int) -> PostFigures:
        return PostFigures(
            f"s/b/{network}/fr", "s", "b", network, "fr", "c", LAUNCH, LAUNCH,
            reach, engagement, None, 0, 0, None,
        )  # fmt: skip

    total = roll_up(Filters(), [post("x", 1000, 50), post("threads", None, 500)]).total
    assert (total.reach, total.engagement, total.engagement_rate) == (1000, 550, 0.05)


def test_html_is_written_to_one_file_with_its_charts_inline(
    earned: Calendar, tmp_path: Path
) -> None:
    out = tmp_path / "out" / "gt.html"
    result = earned.run("report", "--story", "gt", "--format", "html", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert f"wrote {out} (4 post(s))" in result.stderr
    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") == 3 and "<script" not in html
    assert "gt/follow-up/x/fr" in html


def test_json_keeps_one_post_per_line(earned: Calendar) -> None:
    result = earned.run("report", "--story", "gt", "--format", "json")
    post_lines = [ln for ln in result.stdout.splitlines() if ln.startswith('    {"post_id"')]
    assert len(post_lines) == 4
    assert json.loads(result.stdout)["total"]["posts"] == 4


def test_a_post_says_when_it_was_published_in_utc(earned: Calendar) -> None:
    posts = by_post(report(earned, "--story", "gt"))
    assert posts["gt/reveal/x/fr"]["published_at"] == "2026-12-01T09:00:00Z"
    assert posts["gt/reveal/instagram/de"]["published_at"] == "2026-12-01T10:00:00Z"
