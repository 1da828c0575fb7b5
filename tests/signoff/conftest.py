"""A small copy of the sample brand whose French posts need a sign-off, and the CLI to run on it."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from scheduler.interfaces.cli import cli

ROOT = Path(__file__).resolve().parents[2]

#: Before the sample's launch week: every post is due in the future.
NOW = "2026-11-20T09:00:00Z"
CLAIRE = "claire@brand.example"

Run = Callable[..., Result]


@pytest.fixture
def brand(tmp_path: Path) -> Path:
    """The sample brand cut down to one story on X and LinkedIn in France (sign-off required)
    and Germany (none), with no approval yet."""
    root = tmp_path / "brand"
    shutil.copytree(ROOT / "content", root / "content", ignore=shutil.ignore_patterns("approvals"))
    shutil.copytree(ROOT / "editorial_lines", root / "editorial_lines")
    stories = root / "content" / "stories"
    for story in stories.iterdir():
        if story.name != "aurora-launch.yaml":
            story.unlink()
    replace_in(
        stories / "aurora-launch.yaml",
        (
            "networks: [facebook, instagram, x, linkedin, youtube, weibo, threads, bluesky, "
            "mastodon]",
            "networks: [x, linkedin]",
        ),
        ("markets: [fr, de, gb, it, hu, br, cn, us]", "markets: [fr, de]"),
        (
            "networks: [facebook, instagram, x, linkedin, weibo, threads, bluesky, mastodon]",
            "networks: [x, linkedin]",
        ),
    )
    return root


@pytest.fixture
def edit() -> Callable[..., None]:
    return replace_in


def replace_in(path: Path, *replacements: tuple[str, str]) -> None:
    """Replace text in a file; each ``old`` must be there (a test edits what it means to)."""
    text = path.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, f"{old!r} not in {path}"
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


@pytest.fixture
def run(tmp_path: Path, brand: Path) -> Run:
    """``run(*args, db=URL)``: the CLI on the brand, the clock pinned to :data:`NOW`."""

    def invoke(*args: str, db: str | None = None, now: str = NOW) -> Result:
        flags = ["--content", str(brand / "content"), "--lines", str(brand / "editorial_lines")]
        if db is not None:
            flags += ["--database-url", db]
        env = {"STORYLINE_DATA_DIR": str(tmp_path / "data"), "STORYLINE_NOW": now}
        return CliRunner().invoke(cli, [*flags, *args], env=env, catch_exceptions=False)

    return invoke
