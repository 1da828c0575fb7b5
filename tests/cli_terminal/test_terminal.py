"""Terminal conventions (issue 16, item 5): NO_COLOR and --color/--no-color, a progress bar only
on a terminal and only for long loads."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from scheduler.app.pipeline import load_plan
from scheduler.app.settings import Settings
from scheduler.interfaces.cli import cli
from scheduler.interfaces.cli.progress import DelayedProgress

ROOT = Path(__file__).resolve().parents[2]
ANSI = "\x1b["


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A content folder whose one story has an error: validate prints it in red."""
    content = tmp_path / "content"
    (content / "stories").mkdir(parents=True)
    shutil.copy(ROOT / "content" / "markets.yaml", content / "markets.yaml")
    (content / "stories" / "s.yaml").write_text("launch: [2027\n", encoding="utf-8")
    return content


def validate(content: Path, *flags: str, color: bool, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        cli,
        [*flags, "--content", str(content), "--lines", str(ROOT / "editorial_lines"), "validate"],
        color=color,  # CliRunner's stand-in for "stdout is a colour terminal"
        env={"NO_COLOR": None, **(env or {})},
    )


def test_a_colour_terminal_gets_colours(broken: Path) -> None:
    assert ANSI in validate(broken, color=True).output


def test_no_color_in_the_environment_turns_them_off(broken: Path) -> None:
    result = validate(broken, color=True, env={"NO_COLOR": "1"})
    assert result.exit_code == 1
    assert "error[yaml-syntax]" in result.output and ANSI not in result.output


def test_an_empty_no_color_changes_nothing(broken: Path) -> None:
    assert ANSI in validate(broken, color=True, env={"NO_COLOR": ""}).output


def test_no_color_flag_turns_them_off(broken: Path) -> None:
    assert ANSI not in validate(broken, "--no-color", color=True).output


def test_color_flag_forces_them_into_a_pipe_even_with_no_color_set(broken: Path) -> None:
    result = validate(broken, "--color", color=False, env={"NO_COLOR": "1"})
    assert ANSI in result.output


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_no_bar_while_the_work_takes_less_than_a_second() -> None:
    screen, clock = Terminal(), Clock()
    with DelayedProgress(screen, clock=clock) as progress:
        clock.now = 0.9
        progress("loading", 10, 100)
    assert screen.getvalue() == ""


def test_the_bar_appears_after_a_second_and_names_its_phase() -> None:
    screen, clock = Terminal(), Clock()
    with DelayedProgress(screen, clock=clock) as progress:
        clock.now = 1.1
        progress("loading", 40, 100)
        progress("checking", 100, 100)
    assert "loading stories" in screen.getvalue()
    assert "checking stories" in screen.getvalue()


def test_no_bar_when_stderr_is_not_a_terminal() -> None:
    pipe, clock = io.StringIO(), Clock()
    with DelayedProgress(pipe, clock=clock) as progress:
        clock.now = 30.0
        progress("loading", 1, 2)
    assert pipe.getvalue() == ""


def test_the_pipeline_reports_each_story_loaded_and_checked(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    settings = Settings.from_env({"STORYLINE_DATA_DIR": str(tmp_path)}).with_overrides(
        content_dir=ROOT / "content", lines_dir=ROOT / "editorial_lines"
    )
    load_plan(settings, Settings().now(), progress=lambda *a: seen.append(a))
    stories = len(list((ROOT / "content" / "stories").glob("*.yaml")))
    assert [s for s in seen if s[0] == "loading"][-1] == ("loading", stories, stories)
    assert [s for s in seen if s[0] == "checking"][-1] == ("checking", stories, stories)
