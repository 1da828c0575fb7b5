"""``storyline new story NAME`` and the pre-commit hook definition."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from scheduler.app.scaffold import StoryExists, check_name, plan_scaffold, schema_reference
from scheduler.app.settings import Settings
from scheduler.core.errors import ConfigError
from scheduler.interfaces.cli import cli

REPO = Path(__file__).resolve().parent.parent.parent
NOW = "2026-11-28T12:00:00Z"


def run(brand: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["--content", str(brand / "content"), "--lines", str(brand / "editorial_lines"), *args],
        env={"STORYLINE_NOW": NOW, "STORYLINE_DATA_DIR": str(brand / ".storyline")},
    )
    return result.exit_code, result.output


def settings_for(brand: Path) -> Settings:
    return Settings(
        content_dir=brand / "content",
        lines_dir=brand / "editorial_lines",
        data_dir=brand / ".storyline",
    )


def test_new_story_writes_a_draft_named_after_the_story(brand: Path) -> None:
    code, output = run(brand, "new", "story", "winter-tyres")
    assert code == 0, output
    path = brand / "content" / "stories" / "winter-tyres.yaml"
    story = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert story["status"] == "draft"
    assert story["campaign"] == "winter-tyres"
    assert story["story"]["headline"] == "Winter tyres"
    assert "wrote" in output


def test_the_scaffold_uses_the_markets_and_lines_that_exist(brand: Path) -> None:
    run(brand, "new", "story", "winter-tyres")
    story = yaml.safe_load((brand / "content/stories/winter-tyres.yaml").read_text())
    markets = yaml.safe_load((brand / "content/markets.yaml").read_text())["markets"]
    lines = sorted(p.parent.name for p in (brand / "editorial_lines").glob("*/line.yaml"))
    assert story["markets"] == list(markets)
    assert story["networks"] == lines


def test_the_scaffold_launches_two_weeks_ahead_with_an_arc(brand: Path) -> None:
    run(brand, "new", "story", "winter-tyres")
    story = yaml.safe_load((brand / "content/stories/winter-tyres.yaml").read_text())
    assert story["launch"] == "2026-12-12 09:00"
    assert list(story["beats"]) == ["teaser", "reveal", "followup"]


def test_the_scaffold_validates_without_errors(brand: Path) -> None:
    run(brand, "new", "story", "winter-tyres")
    code, output = run(brand, "validate", "--format", "json")
    report = json.loads(output)
    ours = [f for f in report["findings"] if "winter-tyres" in f["file"]]
    assert [f for f in ours if f["severity"] == "error"] == []
    assert code == 0


def test_the_scaffold_points_the_yaml_language_server_at_the_schema(brand: Path) -> None:
    run(brand, "new", "story", "winter-tyres")
    first = (brand / "content/stories/winter-tyres.yaml").read_text().splitlines()[0]
    assert first == "# yaml-language-server: $schema=../schema/story.schema.json"


def test_the_schema_the_scaffold_points_at_is_committed_not_git_ignored(brand: Path) -> None:
    """The data dir (.storyline/) is git-ignored: a modeline pointing there works only on the
    machine that ran `new story`. The schema lives in the content folder instead."""
    import subprocess

    run(brand, "new", "story", "winter-tyres")
    written = brand / "content" / "schema" / "story.schema.json"
    assert written.is_file()
    ignored = subprocess.run(
        ["git", "-C", str(REPO), "check-ignore", "-q", "content/schema/story.schema.json"],
        check=False,
    )
    assert ignored.returncode == 1  # 1: not ignored


def test_schema_reference_is_relative_to_the_story_folder(tmp_path: Path) -> None:
    story = tmp_path / "content" / "stories" / "a.yaml"
    story.parent.mkdir(parents=True)
    schema = tmp_path / "content" / "schema" / "story.schema.json"
    assert schema_reference(story, schema) == "../schema/story.schema.json"


def test_new_story_refuses_to_overwrite(brand: Path) -> None:
    path = brand / "content/stories/aurora-launch.yaml"
    before = path.read_text()
    code, output = run(brand, "new", "story", "aurora-launch")
    assert code == 1
    assert "already exists" in output
    assert path.read_text() == before


def test_planning_a_scaffold_over_an_existing_story_raises(brand: Path) -> None:
    with pytest.raises(StoryExists):
        plan_scaffold(settings_for(brand), "aurora-launch", date(2026, 11, 28))


@pytest.mark.parametrize("name", ["../evil", "a/b", ".hidden", "-dash", "x.yaml", "", "sp ace"])
def test_names_that_cannot_be_story_ids_are_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="cannot be a story id"):
        check_name(name)


def test_a_refused_name_is_a_clear_error_not_a_traceback(brand: Path) -> None:
    code, output = run(brand, "new", "story", "../evil")
    assert code == 1
    assert output.startswith("error: '../evil' cannot be a story id")
    assert not (brand / "evil.yaml").exists()


def test_new_story_without_markets_says_what_is_missing(brand: Path) -> None:
    (brand / "content/markets.yaml").write_text("markets: {}\n")
    code, output = run(brand, "new", "story", "winter-tyres")
    assert code == 1
    assert "no markets" in output


def test_the_pre_commit_hook_runs_storyline_validate_on_content_changes() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    (hook,) = hooks
    assert hook["id"] == "storyline-validate"
    assert hook["entry"] == "storyline validate"
    assert hook["language"] == "python"
    assert hook["files"] == "^(content|editorial_lines)/"
    assert hook["pass_filenames"] is False


def test_new_story_writes_the_schema_its_modeline_points_at(brand: Path) -> None:
    run(brand, "new", "story", "winter-tyres")
    schema = json.loads((brand / "content" / "schema" / "story.schema.json").read_text())
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_the_scaffold_is_valid_against_the_story_schema(brand: Path) -> None:
    import jsonschema

    run(brand, "new", "story", "winter-tyres")
    schema = json.loads((brand / "content" / "schema" / "story.schema.json").read_text())
    story = yaml.safe_load((brand / "content/stories/winter-tyres.yaml").read_text())
    jsonschema.Draft202012Validator(schema).validate(story)


def test_a_scaffold_prints_one_warning_per_cause_not_one_per_market(brand: Path) -> None:
    """Issue 16: the scaffold used to print 24 warnings, one per post without media."""
    run(brand, "new", "story", "winter-tyres")
    code, output = run(brand, "validate")
    ours = [line for line in output.splitlines() if "winter-tyres" in line]
    assert code == 0
    assert ours == [
        f"{brand}/content/stories/winter-tyres.yaml:21:1: warning[instagram-media-required]: "
        "winter-tyres/{reveal,teaser}/instagram/{br,de,fr,gb,hu,it,us} (14 posts): Instagram "
        "cannot publish a post without media: add an image or a video (templates "
        f"{brand}/editorial_lines/instagram/reveal.j2, {brand}/editorial_lines/instagram/"
        "teaser.j2) [draft: an error once approved]",
        f"{brand}/content/stories/winter-tyres.yaml:21:1: warning[youtube-media-required]: "
        "winter-tyres/{reveal,teaser}/youtube/{br,de,fr,gb,us} (10 posts): YouTube cannot "
        "publish a post without media: add a video (templates "
        f"{brand}/editorial_lines/youtube/reveal.j2, {brand}/editorial_lines/youtube/"
        "teaser.j2) [draft: an error once approved]",
    ]
    assert re.search(r"\n0 error\(s\), 2 warning\(s\), \d+ post\(s\)$", output.rstrip())


def test_json_keeps_one_finding_per_post(brand: Path) -> None:
    run(brand, "new", "story", "winter-tyres")
    _, output = run(brand, "validate", "--format", "json")
    ours = [f for f in json.loads(output)["findings"] if "winter-tyres" in f["file"]]
    assert len(ours) == 24
