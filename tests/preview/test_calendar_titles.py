"""``storyline calendar --format html`` names each story by its title, from the content.

The database keeps each post's own title (a YouTube video's), not its story's; the chips once
showed "Teaser | Meet Aurora, the comfort SUV" for the whole story.
"""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from scheduler.interfaces.cli import cli

NOW_ENV = {"STORYLINE_NOW": "2026-11-28T12:00:00Z"}
TITLE = "Aurora, the comfort SUV, arrives"


def synced_calendar(brand: Path, *, keep_content: bool = True) -> str:
    for story in (brand / "content/stories").glob("*.yaml"):
        if story.stem != "aurora-launch":
            story.unlink()
    url = f"sqlite:///{brand / 'calendar.db'}"
    args = ["--content", str(brand / "content"), "--lines", str(brand / "editorial_lines")]
    runner = CliRunner()
    synced = runner.invoke(cli, [*args, "--database-url", url, "sync"], env=NOW_ENV)
    assert synced.exit_code == 0, synced.output
    if not keep_content:
        args = ["--content", str(brand / "elsewhere"), "--lines", str(brand / "editorial_lines")]
    page = brand / "calendar.html"
    shown = runner.invoke(
        cli,
        [*args, "--database-url", url, "calendar", "--format", "html", "-o", str(page)],
        env=NOW_ENV,
    )
    assert shown.exit_code == 0, shown.output
    return page.read_text(encoding="utf-8")


def chip_stories(html: str) -> set[str]:
    """The story part of every chip's ``beat n/m · story`` line."""
    grid = html.split("<main>", 1)[1]  # not the legend's sample chip
    return {s.split(" · ", 1)[1] for s in re.findall(r'<span class="s">([^<]*)</span>', grid)}


def test_calendar_chips_show_the_story_title_not_a_video_title(brand: Path) -> None:
    html = synced_calendar(brand)
    assert chip_stories(html) == {TITLE}
    assert "Official film" not in html.split("<main>")[0]  # legend and filters
    assert f'<span class="arc-name">{TITLE}</span>' in html


def test_without_the_content_the_chips_show_the_story_id(brand: Path) -> None:
    html = synced_calendar(brand, keep_content=False)
    assert chip_stories(html) == {"aurora-launch"}
