"""`storyline validate` on each bad input: compiler-style `file:line:col`, exit 1, no traceback,
and the rest of the content still checked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from scheduler.interfaces.cli import cli

from .conftest import ROOT, SAMPLE

GOOD = (
    "launch: 2027-01-12 09:00\nstatus: approved\nnetworks: [x, facebook]\nstory:\n  headline: Hi\n"
)
BOMB = "\n".join(
    [f"a0: &a0 [{','.join(['lol'] * 10)}]"]
    + [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 12)]
)

BAD_STORIES = {
    "yaml-syntax": ("launch: [2027\n", 1, 9),
    "yaml-tab": ("story:\n\theadline: Hi\n", 2, 1),
    "duplicate-key": (GOOD + "status: draft\n", 6, 1),
    "unknown-field": (GOOD + "hashtag: [A]\n", 6, 1),
    "wrong-type": (GOOD.replace("[x, facebook]", "x"), 3, 11),
    "unknown-market": (GOOD + "markets: [fx]\n", 6, 11),
    "unknown-network": (GOOD.replace("[x, facebook]", "[x, myspace]"), 3, 15),
    "retired-network": (GOOD.replace("[x, facebook]", "[x, google+]"), 3, 15),
    "bad-timezone": (GOOD.replace("09:00", "09:00 Europe/Pairs"), 1, 9),
    "bad-date": (GOOD.replace("2027-01-12", "2027-13-12"), 1, 9),
    "bad-offset": (GOOD + "beats: {teaser: -7x}\n", 6, 17),
    "path-escape": (GOOD + "media: [{file: ../../etc/passwd, alt: x}]\n", 6, 16),
    "missing-alt": (GOOD + "media: [{file: media/suv-front.jpg}]\n", 6, 9),
    "yaml-alias-bomb": (BOMB + "\n", None, None),
}


@pytest.fixture
def content(tmp_path: Path) -> Path:
    """The sample's markets and media with one small good story (fast to render)."""
    root = tmp_path / "content"
    (root / "stories").mkdir(parents=True)
    shutil.copy(SAMPLE / "markets.yaml", root / "markets.yaml")
    shutil.copytree(SAMPLE / "media", root / "media")
    (root / "stories" / "good.yaml").write_text(GOOD, encoding="utf-8")
    return root


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    root = tmp_path / "sample"
    shutil.copytree(SAMPLE, root)
    return root


def validate(content: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["--content", str(content), "--lines", str(ROOT / "editorial_lines"), "validate", *args],
    )
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_the_sample_validates_clean(sample: Path) -> None:
    code, out = validate(sample)
    assert code == 0, out
    assert "0 error(s), 0 warning(s)" in out


@pytest.mark.parametrize("code", sorted(BAD_STORIES))
def test_each_bad_input_is_reported_compiler_style_with_exit_1(content: Path, code: str) -> None:
    text, line, column = BAD_STORIES[code]
    path = content / "stories" / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    exit_code, out = validate(content)
    assert exit_code == 1
    assert "Traceback" not in out
    prefix = f"{path}:{line}:{column}: error[{code}]:" if line else f"{path}:"
    assert any(ln.startswith(prefix) and f"error[{code}]" in ln for ln in out.splitlines()), out
    assert "good.yaml" not in out  # the good story is still loaded, and clean


def test_a_huge_file_is_refused(content: Path) -> None:
    path = content / "stories" / "huge.yaml"
    path.write_text(GOOD + "#" * (2 * 1024 * 1024), encoding="utf-8")
    exit_code, out = validate(content)
    assert exit_code == 1
    assert f"{path}:1:1: error[file-too-large]" in out


def test_a_missing_translation_is_a_warning_only(sample: Path) -> None:
    path = sample / "stories" / "roadster-heritage.yaml"
    text = path.read_text(encoding="utf-8")
    start, end = text.index("  hu:"), text.index("  pt:")
    path.write_text(text[:start] + text[end:], encoding="utf-8")
    exit_code, out = validate(sample)
    assert exit_code == 0
    assert "warning[missing-translation]" in out and "market hu" in out


def test_json_format_carries_file_line_column(content: Path) -> None:
    (content / "stories" / "bad.yaml").write_text(GOOD + "hashtag: [A]\n", encoding="utf-8")
    exit_code, out = validate(content, "--format", "json")
    assert exit_code == 1
    report = json.loads(out)
    assert report["ok"] is False
    (finding,) = [f for f in report["findings"] if f["code"] == "unknown-field"]
    assert (finding["line"], finding["column"], finding["severity"]) == (6, 1, "error")
    assert "did you mean 'hashtags'?" in finding["message"]


EXIT_CODES = "0 clean (warnings allowed), 1 errors, 2 usage error"


def test_validate_help_and_the_readme_state_the_three_exit_codes() -> None:
    help_text = " ".join(CliRunner().invoke(cli, ["validate", "--help"]).output.split())
    assert f"Exit status: {EXIT_CODES}" in help_text
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"exit {EXIT_CODES}" in readme


def test_a_usage_error_exits_2_and_checks_nothing(content: Path) -> None:
    code, output = validate(content, "--format", "xml")
    assert code == 2
    assert "Invalid value for '--format'" in output


def test_errors_exit_1_and_a_clean_content_exits_0(content: Path) -> None:
    assert validate(content)[0] == 0
    (content / "stories" / "bad.yaml").write_text("launch: [2027\n", encoding="utf-8")
    assert validate(content)[0] == 1
