"""Every editorial line x beat renders exactly its golden file (``python -m tests.golden``)."""

from __future__ import annotations

import difflib
import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

HERE = Path(__file__).resolve().parent


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location("storyline_golden_build", HERE / "_build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BUILD = _builder()
NETWORKS = (
    "facebook",
    "instagram",
    "x",
    "linkedin",
    "youtube",
    "weibo",
    "mastodon",
    "bluesky",
    "threads",
    "webhook",  # line-defined: its limits are in its line.yaml
)


@pytest.fixture(scope="module")
def fresh() -> dict[str, str]:
    return BUILD.build()


def test_every_line_has_a_golden_file_for_each_of_its_template_beats(
    fresh: dict[str, str],
) -> None:
    for network in NETWORKS:
        for beat in ("teaser", "reveal", "followup", "default"):
            assert f"{network}/{beat}.txt" in fresh


def test_golden_files_on_disk_are_exactly_the_rendered_set(fresh: dict[str, str]) -> None:
    assert sorted(BUILD.existing()) == sorted(fresh), "run: python -m tests.golden"


@pytest.mark.parametrize("rel", sorted(BUILD.existing()))
def test_rendered_text_matches_golden(rel: str, fresh: dict[str, str]) -> None:
    expected = (HERE / rel).read_text(encoding="utf-8")
    actual = fresh.get(rel, "")
    if actual != expected:
        diff = "\n".join(
            difflib.unified_diff(
                expected.splitlines(), actual.splitlines(), f"golden/{rel}", "rendered", lineterm=""
            )
        )
        pytest.fail(f"{rel} changed (run `python -m tests.golden` if intended):\n{diff}")
