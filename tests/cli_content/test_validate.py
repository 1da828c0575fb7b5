"""`storyline validate`: compiler-style findings, the fixed JSON shape, exit codes 0/1/2."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

Run = Callable[..., Result]
FINDING_LINE = re.compile(
    r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (error|warning)\[[a-z0-9-]+\]: .+"
)


def test_the_sample_brand_validates_clean(run: Run) -> None:
    result = run("validate")
    assert result.exit_code == 0, result.output
    assert "0 error(s)" in result.output


def test_json_output_has_the_fixed_shape(run: Run) -> None:
    result = run("validate", "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert set(data) == {"ok", "findings"}
    assert data["ok"] is True
    for finding in data["findings"]:
        assert set(finding) == {"file", "line", "column", "severity", "code", "message"}
        assert finding["severity"] in {"error", "warning"}


def test_a_banned_word_fails_validation_with_its_file_and_line(run: Run, brand: Path) -> None:
    story = brand / "content" / "stories" / "aurora-launch.yaml"
    story.write_text(
        story.read_text(encoding="utf-8").replace("Meet Aurora", "Meet Aurora, a real deal"),
        encoding="utf-8",
    )
    result = run("validate", root=brand)
    assert result.exit_code == 1
    lines = [ln for ln in result.output.splitlines() if "banned-word" in ln]
    assert lines, result.output
    match = FINDING_LINE.match(lines[0])
    assert match and match["file"].endswith("content/stories/aurora-launch.yaml")
    assert "'deal'" in lines[0]


def test_errors_in_json_set_ok_false_and_exit_1(run: Run, brand: Path) -> None:
    (brand / "editorial_lines" / "x" / "reveal.j2").write_text("{{ headline }\n", encoding="utf-8")
    result = run("validate", "--format", "json", root=brand)
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False
    syntax = [f for f in data["findings"] if f["code"] == "template-syntax"]
    assert syntax and syntax[0]["file"].endswith("editorial_lines/x/reveal.j2")
    assert syntax[0]["line"] == 1


def test_a_template_reaching_python_internals_fails_validation(run: Run, brand: Path) -> None:
    (brand / "editorial_lines" / "x" / "reveal.j2").write_text(
        "{{ headline }}\n{{ cycler.__init__.__globals__ }}\n", encoding="utf-8"
    )
    result = run("validate", root=brand)
    assert result.exit_code == 1
    unsafe = [ln for ln in result.output.splitlines() if "template-unsafe" in ln]
    assert len(unsafe) == 1, "one finding per template line, not one per post"
    assert re.search(r"editorial_lines/x/reveal\.j2:2:11: error\[template-unsafe\]", unsafe[0])


def test_every_error_line_is_compiler_style(run: Run, brand: Path) -> None:
    (brand / "editorial_lines" / "linkedin" / "followup.j2").write_text(
        "{{ nope }}", encoding="utf-8"
    )
    result = run("validate", root=brand)
    findings = [ln for ln in result.output.splitlines() if "[" in ln and "]:" in ln]
    assert findings and all(FINDING_LINE.match(ln) for ln in findings)
    assert result.output.rstrip().splitlines()[-1].startswith("1 error(s)")


def test_a_wrong_format_is_a_usage_error(run: Run) -> None:
    assert run("validate", "--format", "yaml").exit_code == 2


def test_no_traceback_when_the_content_folder_is_missing(run: Run, tmp_path: Path) -> None:
    result = run("validate", root=tmp_path)
    assert result.exit_code == 1
    assert "Traceback" not in result.output
