"""Run the real CLI in-process (Click's CliRunner) against the sample brand or a copy of it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from scheduler.interfaces.cli import cli

ROOT = Path(__file__).resolve().parents[2]

Run = Callable[..., Result]


@pytest.fixture
def run(tmp_path: Path) -> Run:
    """``run(*args, root=ROOT)``: ``storyline --content root/content --lines ... args``."""

    def invoke(*args: str, root: Path = ROOT) -> Result:
        flags = ["--content", str(root / "content"), "--lines", str(root / "editorial_lines")]
        env = {"STORYLINE_DATA_DIR": str(tmp_path / "data")}
        return CliRunner().invoke(cli, [*flags, *args], env=env, catch_exceptions=False)

    return invoke
