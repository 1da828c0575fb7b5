"""Fixtures of the preview tests: the sample posts, rendered pages, and a headless Chromium."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the helpers next to this file: preview_sample, preview_cdp

import preview_cdp  # noqa: E402
import preview_sample  # noqa: E402

SCREENSHOTS = HERE.parent / "screenshots"
GENERATED_AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def content_dir(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    preview_sample.write_media(content)
    return content


@pytest.fixture(scope="session")
def browser() -> Iterator[preview_cdp.Browser]:
    """One Chromium for the whole session; a missing browser FAILS the tests, it never skips."""
    try:
        with preview_cdp.Browser() as b:
            yield b
    except preview_cdp.BrowserMissing as exc:
        pytest.fail(str(exc), pytrace=False)


REPO = HERE.parent.parent


@pytest.fixture
def brand(tmp_path: Path) -> Path:
    """A private copy of the sample brand (content + editorial lines) that a test may edit."""
    import shutil

    root = tmp_path / "brand"
    shutil.copytree(REPO / "content", root / "content")
    shutil.copytree(REPO / "editorial_lines", root / "editorial_lines")
    return root
