"""Fuzzing the content loader and ``storyline validate``: whatever a content folder holds, the
answer is a list of findings that point at a file and a line — never an exception.

Run the long version with ``HYPOTHESIS_PROFILE=nightly`` (see docs/security.md).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from fuzz_strategies import content_folders, write_folder
from hypothesis import given, settings

from scheduler.content.files import ID_PATTERN
from scheduler.content.loader import load_content
from scheduler.core.diagnostics import Finding, Severity
from scheduler.core.model import Content
from scheduler.interfaces.cli import cli
from scheduler.lines.book import LineBook
from scheduler.lines.loader import load_lines
from scheduler.planning.plan import plan

ROOT = Path(__file__).resolve().parents[2]
#: The networks the fuzz content is told on: a small slice of the sample brand's lines.
LINES_USED = ("facebook", "instagram", "linkedin", "x", "_shared")
NOW = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def lines_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of four real editorial lines (and the shared macros): real templates, fast load."""
    root = tmp_path_factory.mktemp("lines")
    for name in LINES_USED:
        shutil.copytree(ROOT / "editorial_lines" / name, root / name)
    return root


@pytest.fixture(scope="module")
def lines(lines_dir: Path) -> LineBook:
    loaded = load_lines(lines_dir)
    assert not loaded.findings, loaded.findings
    return loaded


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A file outside every generated content folder (symlinks in the content point here)."""
    target = tmp_path_factory.mktemp("outside") / "secret.jpg"
    target.write_bytes(b"not content")
    return target


@contextmanager
def fresh_folder(files: dict[str, bytes], outside: Path) -> Iterator[Path]:
    """A content folder of its own for one generated example, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="sl-fuzz-") as name:
        root = Path(name) / "content"
        write_folder(root, files, outside)
        yield root


def _written_lines(path: Path) -> int:
    """LineBook in a file the way YAML counts them (every break YAML knows is in splitlines)."""
    return len(path.read_bytes().decode("utf-8", errors="replace").splitlines()) + 1


def assert_precise(findings: Iterable[Finding], root: Path) -> None:
    """Every finding names a file of the content folder, and a line ≥ 1 when that file exists."""
    root = root.resolve()
    for f in findings:
        assert isinstance(f, Finding)
        assert isinstance(f.severity, Severity)
        assert f.code and re.fullmatch(r"[a-z0-9-]+", f.code), f
        assert isinstance(f.message, str) and f.message.strip(), f
        assert f.file, f"finding without a file: {f}"
        path = Path(f.file)
        if not path.resolve().is_relative_to(root):
            continue  # a template of the lines folder (checked by the lines tests)
        if path.is_file():
            assert 1 <= f.line <= _written_lines(path), f
            assert f.column >= 1, f


def assert_loaded_values_safe(content: Content, root: Path) -> None:
    """What the loader lets through stays inside the folder: ids are file-safe, media inside."""
    real = root.resolve()
    for story_id, story in content.stories.items():
        assert re.fullmatch(ID_PATTERN, story_id) and ".." not in story_id
        layers = [story.media]
        layers += [layer.get("media", ()) for layer in story.locales.values()]
        layers += [layer.get("media", ()) for layer in story.network_overrides.values()]
        layers += [layer.get("media", ()) for layer in story.market_overrides.values()]
        for media in (m for layer in layers for m in layer):
            assert (root / media.file).resolve().is_relative_to(real), media


@given(files=content_folders())
def test_load_content_never_raises_and_every_finding_points_into_a_file(
    files: dict[str, bytes], outside: Path
) -> None:
    with fresh_folder(files, outside) as folder:
        content = load_content(folder, networks=("facebook", "instagram", "linkedin", "x"))
        assert_precise(content.findings, folder)
        assert_loaded_values_safe(content, folder)


@given(files=content_folders())
def test_validating_a_fuzzed_folder_never_raises(
    files: dict[str, bytes], outside: Path, lines: LineBook
) -> None:
    """The validate path (content -> lines -> planning) over real templates."""
    with fresh_folder(files, outside) as folder:
        content = load_content(folder, networks=lines.networks)
        planned = plan(content, lines, NOW)
        assert_precise([*content.findings, *planned.findings], folder)
        for post in planned.posts:
            assert_precise(post.findings, folder)
            assert isinstance(post.text, str)


@settings(max_examples=max(5, settings().max_examples // 10))
@given(files=content_folders())
def test_storyline_validate_answers_json_findings_and_an_exit_code(
    files: dict[str, bytes], outside: Path, lines_dir: Path
) -> None:
    """The CLI end to end: exit 0 or 1, the fixed JSON shape, never a traceback."""
    with fresh_folder(files, outside) as folder:
        result = CliRunner().invoke(
            cli,
            ["--content", str(folder), "--lines", str(lines_dir), "validate", "--format", "json"],
        )
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert result.exit_code in (0, 1), result.output
        body = json.loads(result.stdout)
        assert body["ok"] is (result.exit_code == 0)
        findings = [Finding(**{**f, "severity": Severity(f["severity"])}) for f in body["findings"]]
        assert_precise(findings, folder)
        assert "Traceback" not in result.output
