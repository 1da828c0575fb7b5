"""One broken story blocks nothing else (issue 16, item 2; docs/calendar.md).

The real pipeline on a copy of the sample: a typo in one story leaves that story's posts in the
calendar exactly as they are, syncs every other story, reports the typo and exits 1; ``run``
starts anyway, so an urgent recall still goes out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from scheduler.interfaces.cli import cli

NOW = {"STORYLINE_NOW": "2026-11-28T12:00:00Z"}


def storyline(brand: Path, *args: str) -> Result:
    return CliRunner().invoke(
        cli,
        [
            "--content",
            str(brand / "content"),
            "--lines",
            str(brand / "editorial_lines"),
            "--database-url",
            f"sqlite:///{brand / 'calendar.db'}",
            *args,
        ],
        env={**NOW, "STORYLINE_DATA_DIR": str(brand / "data")},
    )


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def rows(brand: Path, story: str) -> list[dict[str, Any]]:
    out = json.loads(storyline(brand, "calendar", "--format", "json").stdout)
    return [r for r in out if r["post_id"].startswith(f"{story}/")]


def test_a_typo_in_a_draft_does_not_stop_the_sync_of_the_other_stories(brand: Path) -> None:
    assert storyline(brand, "sync").exit_code == 0
    stories = brand / "content" / "stories"
    edit(stories / "hydrogen-concept.yaml", "status: draft", "status: drfat")
    edit(stories / "recall-airbag-notice.yaml", "status: approved", "status: approved\nid: recall")
    result = storyline(brand, "sync")
    assert result.exit_code == 1
    assert "hydrogen-concept.yaml:5:9: error[" in result.stderr
    assert (
        "error: 1 story(ies) with errors not synced: hydrogen-concept (the posts already in the "
        "calendar for them are left as they are); fix the errors above and sync again"
    ) in result.stderr
    # the other stories were synced: the recall's new id took its posts over
    assert rows(brand, "recall") and {r["status"] for r in rows(brand, "recall")} == {"planned"}
    assert {r["status"] for r in rows(brand, "recall-airbag-notice")} == {"cancelled"}


def test_the_planned_posts_of_a_broken_story_are_left_as_they_are(brand: Path) -> None:
    assert storyline(brand, "sync").exit_code == 0
    before = rows(brand, "aurora-launch")
    assert before and {r["status"] for r in before} == {"planned"}
    # a YAML syntax error: the file does not even parse, so its posts are not planned at all
    edit(brand / "content/stories/aurora-launch.yaml", "title: Aurora", 'title: "Aurora')
    result = storyline(brand, "sync", "--format", "json")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["not_synced"] == ["aurora-launch"]
    assert report["counts"]["cancel"] == 0
    assert rows(brand, "aurora-launch") == before


def test_plan_shows_what_sync_would_do_with_the_valid_stories_and_exits_1(brand: Path) -> None:
    edit(brand / "content/stories/aurora-launch.yaml", "title: Aurora", 'title: "Aurora')
    result = storyline(brand, "plan")
    assert result.exit_code == 1
    assert " to add" in result.stdout
    assert "aurora-launch/" not in result.stdout
    assert "not planned: aurora-launch" in result.stderr


class _Worker:
    """Stands in for the Celery worker process `run` starts: it exits at once."""

    def __init__(self, *_args: object, **_kwargs: object) -> None:
        self.pid = 0
        self.returncode = 0

    def poll(self) -> int:
        return 0


def test_run_starts_the_worker_even_when_a_story_has_errors(
    brand: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[object] = []

    def popen(*args: object, **kwargs: object) -> _Worker:
        started.append(args)
        return _Worker()

    monkeypatch.setattr("subprocess.Popen", popen)
    monkeypatch.setattr("signal.signal", lambda *_: None)  # CliRunner runs in this process
    edit(brand / "content/stories/hydrogen-concept.yaml", "status: draft", "status: drfat")
    result = storyline(brand, "run")
    assert started, result.output
    assert "warning: 1 story(ies) with errors not synced: hydrogen-concept" in result.stderr
    assert "starting anyway: the worker publishes what the calendar holds" in result.stderr
    assert "worker and dispatcher running" in result.stdout
    assert rows(brand, "recall-airbag-notice")  # the valid stories were synced first


def test_a_market_with_an_error_keeps_its_planned_posts(brand: Path) -> None:
    """A bad zone leaves the market out of the content: its posts must not look removed."""
    assert storyline(brand, "sync").exit_code == 0
    before = [r for r in rows(brand, "aurora-launch") if r["market"] == "us"]
    assert before
    edit(brand / "content/markets.yaml", "timezone: America/New_York", "timezone: EST")
    result = storyline(brand, "sync")
    assert result.exit_code == 1
    markets = (brand / "content/markets.yaml").read_text(encoding="utf-8").splitlines()
    line = next(i for i, text in enumerate(markets, 1) if "timezone: EST" in text)
    assert f"content/markets.yaml:{line}:15: error[bad-timezone]: 'EST' is an abbreviation" in (
        result.stderr
    )
    assert (
        "error: errors outside the stories: no post of a story, market or network that did not "
        "load was cancelled; fix the errors above and sync again"
    ) in result.stderr
    assert [r for r in rows(brand, "aurora-launch") if r["market"] == "us"] == before
