"""`storyline preview STORY`: what each market's account will post, when, and how long."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from click.testing import Result

Run = Callable[..., Result]
KEYS = {
    "post_id",
    "story",
    "beat",
    "network",
    "market",
    "account",
    "timezone",
    "due_local",
    "due_utc",
    "text",
    "title",
    "link",
    "media",
    "length",
    "limit",
    "findings",
}


def _posts(run: Run, *args: str) -> list[dict[str, object]]:
    result = run("preview", "aurora-launch", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert isinstance(data, list)
    return data


def test_json_lists_every_post_with_the_fixed_keys(run: Run) -> None:
    posts = _posts(run)
    assert len(posts) > 30
    for post in posts:
        assert set(post) >= KEYS
        assert post["story"] == "aurora-launch"
        assert isinstance(post["length"], int) and isinstance(post["limit"], int)


def test_json_times_are_iso_local_with_offset_and_utc_with_z(run: Run) -> None:
    post = next(p for p in _posts(run) if p["post_id"] == "aurora-launch/reveal/x/fr")
    assert post["due_local"] == "2026-12-15T09:00:00+01:00"
    assert post["due_utc"] == "2026-12-15T08:00:00Z"
    assert post["timezone"] == "Europe/Paris"
    assert datetime.fromisoformat(str(post["due_utc"]).replace("Z", "+00:00"))


def test_json_length_is_counted_the_network_way(run: Run) -> None:
    post = next(p for p in _posts(run, "-n", "weibo") if p["beat"] == "reveal")
    text = str(post["text"])
    assert post["limit"] == 2000
    assert isinstance(post["length"], int) and post["length"] < len(text)


def test_filters_by_network_market_and_beat_combine(run: Run) -> None:
    posts = _posts(run, "-n", "x", "-n", "facebook", "-m", "fr", "-b", "teaser")
    assert sorted(str(p["post_id"]) for p in posts) == [
        "aurora-launch/teaser/facebook/fr",
        "aurora-launch/teaser/x/fr",
    ]


def test_text_shows_account_local_and_utc_times_text_and_length(run: Run) -> None:
    result = run("preview", "aurora-launch", "-n", "x", "-m", "us", "-b", "reveal")
    assert result.exit_code == 0
    out = result.output
    assert "aurora-launch/reveal/x/us" in out
    assert "Holdout USA" in out or "@HoldoutUS" in out
    assert "2026-12-15 09:00 EST (America/New_York)" in out
    assert "2026-12-15 14:00 UTC" in out
    assert re.search(r"length \d+/280", out)
    assert "\x1b[" not in out, "no colour when the output is not a terminal"


def test_youtube_preview_shows_the_title(run: Run) -> None:
    result = run("preview", "aurora-launch", "-n", "youtube", "-m", "gb", "-b", "reveal")
    assert "title: Meet Aurora" in result.output


def test_an_unknown_story_is_a_clear_error_with_close_matches(run: Run) -> None:
    result = run("preview", "aurora-lunch")
    assert result.exit_code == 1
    assert "no story 'aurora-lunch'" in result.output
    assert "aurora-launch" in result.output
    assert "Traceback" not in result.output


def test_output_file_gets_the_preview_without_colour(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "preview.json"
    result = run("preview", "aurora-launch", "--format", "json", "-o", str(target))
    assert result.exit_code == 0
    assert len(json.loads(target.read_text(encoding="utf-8"))) > 30


def test_html_preview_is_a_self_contained_page(run: Run, tmp_path: Path) -> None:
    target = tmp_path / "preview.html"
    result = run(
        "preview", "aurora-launch", "-n", "instagram", "--format", "html", "-o", str(target)
    )
    assert result.exit_code == 0
    page = target.read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html")
    assert "aurora-launch/reveal/instagram/fr" in page or "Holdout France" in page


def test_an_unknown_network_filter_is_a_clear_error(run: Run) -> None:
    result = run("preview", "aurora-launch", "-n", "google+")
    assert result.exit_code == 1
    assert "no network 'google+'" in result.output


def test_a_misspelt_market_filter_suggests_the_right_one(run: Run) -> None:
    result = run("preview", "aurora-launch", "-m", "fra")
    assert result.exit_code == 1
    assert "no market 'fra'; did you mean: fr" in result.output


def test_a_story_that_fails_to_load_shows_its_findings_not_unknown(run: Run, brand: Path) -> None:
    story = brand / "content" / "stories" / "aurora-launch.yaml"
    story.write_text(
        story.read_text(encoding="utf-8").replace("audience: public", "audience: everyone"),
        encoding="utf-8",
    )
    result = run("preview", "aurora-launch", root=brand)
    assert result.exit_code == 1
    assert "aurora-launch.yaml:" in result.output
    assert "has errors" in result.output
    assert "no story" not in result.output


def test_text_ends_with_a_summary_of_posts_and_findings(run: Run) -> None:
    result = run("preview", "aurora-launch", "-n", "linkedin")
    last = result.output.rstrip().splitlines()[-1]
    assert re.fullmatch(r"aurora-launch: \d+ post\(s\), 0 error\(s\), \d+ warning\(s\)", last)
