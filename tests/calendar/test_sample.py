"""The repository's sample brand, through the real pipeline: plan, sync, plan again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from scheduler.interfaces.cli import cli

ROOT = Path(__file__).resolve().parents[2]


def storyline(url: str, *args: str) -> str:
    result = CliRunner().invoke(
        cli,
        [
            "--content",
            str(ROOT / "content"),
            "--lines",
            str(ROOT / "editorial_lines"),
            "--database-url",
            url,
            *args,
        ],
        env={"STORYLINE_NOW": "2026-11-28T12:00:00Z"},
    )
    assert result.exit_code == 0, result.output
    return result.output


def test_plan_sync_plan_on_the_sample_shows_no_change(database_url: str) -> None:
    storyline(database_url, "db", "upgrade")
    first = storyline(database_url, "plan")
    assert " to add" in first
    storyline(database_url, "sync")
    assert storyline(database_url, "plan").splitlines()[-1].startswith("no change (")


def test_the_sample_calendar_exports_one_event_per_post(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sample.db'}"
    storyline(url, "sync")
    rows = storyline(url, "calendar", "--format", "json")
    ics = Calendar.from_ical(storyline(url, "calendar", "--format", "ics"))
    assert len(ics.walk("VEVENT")) == rows.count('"post_id"')


@pytest.mark.slow
def test_two_sync_processes_at_once_add_each_post_once(database_url: str) -> None:
    storyline(database_url, "db", "upgrade")
    command = [
        sys.executable,
        "-m",
        "scheduler.interfaces.cli",
        "--content",
        str(ROOT / "content"),
        "--lines",
        str(ROOT / "editorial_lines"),
        "--database-url",
        database_url,
        "sync",
        "--format",
        "json",
    ]
    env = {**os.environ, "STORYLINE_NOW": "2026-11-28T12:00:00Z"}
    procs = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err for _, err in outputs]
    added = sorted(json.loads(out)["counts"]["add"] for out, _ in outputs)
    assert added[0] == 0 and added[1] > 0
    calendar = json.loads(storyline(database_url, "calendar", "--format", "json"))
    assert len(calendar) == added[1]


def test_an_ics_event_is_titled_as_docs_calendar_md_says(tmp_path: Path) -> None:
    """`[network/market]` then the post's title (YouTube), else the first line of its text."""
    url = f"sqlite:///{tmp_path / 'sample.db'}"
    storyline(url, "sync")
    ics = Calendar.from_ical(storyline(url, "calendar", "--format", "ics"))
    titles = {str(e["UID"]): str(e["SUMMARY"]) for e in ics.walk("VEVENT")}
    assert titles["aurora-launch/reveal/youtube/fr@storyline"] == (
        "[youtube/fr] Voici Aurora, le SUV du confort | Film officiel"
    )
    assert titles["aurora-launch/reveal/x/fr@storyline"] == (
        "[x/fr] Voici Aurora, le SUV du confort"
    )
    doc = (ROOT / "docs" / "calendar.md").read_text(encoding="utf-8")
    assert "`[youtube/fr] Voici Aurora, le SUV du confort | Film officiel`" in doc
