"""The webhook is a network like the others once its editorial line exists: stories name it,
its limits come from its line.yaml `limits:`; an account may be relayed through it
(`via: webhook:<account>` in markets.yaml). Mistakes name the file, line and field."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from scheduler.interfaces.cli import cli

from .conftest import ROOT

MARKETS = """\
markets:
  fr:
    name: France
    timezone: Europe/Paris
    locale: en
    accounts:
      webhook: {id: agency, name: The agency}
      x: {handle: HoldoutFR, via: "webhook:agency"}
"""
STORY = """\
launch: 2027-01-12 09:00
status: approved
networks: [webhook, x]
story:
  headline: {headline}
  body: Vela is here.
"""


@pytest.fixture
def brand(tmp_path: Path) -> Path:
    content = tmp_path / "content"
    (content / "stories").mkdir(parents=True)
    (content / "markets.yaml").write_text(MARKETS, encoding="utf-8")
    (content / "stories" / "vela.yaml").write_text(
        STORY.format(headline="Meet Vela"), encoding="utf-8"
    )
    shutil.copytree(ROOT / "editorial_lines", tmp_path / "lines")
    return tmp_path


def storyline(home: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli,
        ["--content", str(home / "content"), "--lines", str(home / "lines"), *args],
        env={"STORYLINE_DATA_DIR": str(home / "data")},
        catch_exceptions=False,
    )
    return result.exit_code, result.output


def test_a_story_naming_the_webhook_validates_and_plans_a_webhook_post(brand: Path) -> None:
    code, out = storyline(brand, "validate")
    assert code == 0, out
    code, out = storyline(brand, "preview", "vela", "--format", "json")
    posts = {p["post_id"]: p for p in json.loads(out)}
    webhook = posts["vela/reveal/webhook/fr"]
    assert webhook["limit"] == 5000  # from editorial_lines/webhook/line.yaml
    assert webhook["length"] == len(webhook["text"])  # counted in code points
    assert posts["vela/reveal/x/fr"]["network"] == "x"  # a relayed account keeps its network


def test_the_webhook_lines_limits_are_enforced(brand: Path) -> None:
    line = brand / "lines" / "webhook" / "line.yaml"
    line.write_text(
        line.read_text(encoding="utf-8").replace("text_limit: 5000", "text_limit: 20"),
        encoding="utf-8",
    )
    code, out = storyline(brand, "validate")
    assert code == 1
    assert "error[webhook-too-long]" in out and "over its limit of 20" in out


def test_a_webhook_line_without_limits_is_an_error_naming_its_file(brand: Path) -> None:
    line = brand / "lines" / "webhook" / "line.yaml"
    text = line.read_text(encoding="utf-8")
    line.write_text(text.split("limits:")[0] + "phrases:" + text.split("phrases:")[1])
    code, out = storyline(brand, "validate")
    assert code == 1
    assert "webhook/line.yaml:1:1: error[line-limits-missing]" in out


def test_limits_on_a_platform_line_are_refused(brand: Path) -> None:
    line = brand / "lines" / "x" / "line.yaml"
    line.write_text(line.read_text(encoding="utf-8") + "limits: {text_limit: 5000}\n")
    code, out = storyline(brand, "validate")
    assert code == 1
    assert "x/line.yaml:" in out and "error[line-limits-fixed]" in out


def test_a_misspelled_limit_is_named_with_a_suggestion(brand: Path) -> None:
    line = brand / "lines" / "webhook" / "line.yaml"
    line.write_text(line.read_text(encoding="utf-8").replace("title_limit:", "title_limt:"))
    code, out = storyline(brand, "validate")
    assert code == 1
    assert "webhook/line.yaml:" in out and "title_limt" in out and "title_limit" in out


def test_a_bad_via_names_the_file_line_and_field(brand: Path) -> None:
    markets = brand / "content" / "markets.yaml"
    markets.write_text(MARKETS.replace('via: "webhook:agency"', 'via: "agency"'))
    code, out = storyline(brand, "validate")
    assert code == 1
    assert "markets.yaml:8:" in out and "via" in out and "webhook:<account>" in out


def test_a_webhook_account_cannot_itself_be_relayed(brand: Path) -> None:
    markets = brand / "content" / "markets.yaml"
    markets.write_text(
        MARKETS.replace("{id: agency, name: The agency}", '{id: agency, via: "webhook:other"}')
    )
    code, out = storyline(brand, "validate")
    assert code == 1
    assert "markets.yaml:7:" in out and "is a relay itself" in out


def test_without_a_webhook_line_a_story_naming_it_is_an_unknown_network(brand: Path) -> None:
    shutil.rmtree(brand / "lines" / "webhook")
    markets = brand / "content" / "markets.yaml"
    markets.write_text(MARKETS.replace("      webhook: {id: agency, name: The agency}\n", ""))
    code, out = storyline(brand, "validate")
    assert code == 1
    assert "unknown network 'webhook'" in out
