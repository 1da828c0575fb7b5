"""The JSON Schemas of `storyline schema`: generated from the loaders' tables, valid draft
2020-12, accepting every sample file and rejecting what the loaders reject."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from scheduler.content.files import LINE_SHAPE, RULES_SHAPE, STORY_SHAPE
from scheduler.content.schema import KINDS, json_schema
from scheduler.interfaces.cli import cli
from scheduler.lines.loader import LINE_KEYS
from scheduler.text.voice import RULES

from .conftest import ROOT, SAMPLE


@cache
def validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = json_schema(kind)
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(kind: str, document: Any) -> list[str]:
    return [e.message for e in validator(kind).iter_errors(document)]


def read(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("kind", KINDS)
def test_each_schema_is_valid_draft_2020_12(kind: str) -> None:
    schema = json_schema(kind)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", sorted((SAMPLE / "stories").glob("*.yaml")), ids=lambda p: p.name)
def test_every_sample_story_matches_the_story_schema(path: Path) -> None:
    assert errors("story", read(path)) == []


def test_sample_markets_match_the_markets_schema() -> None:
    assert errors("markets", read(SAMPLE / "markets.yaml")) == []


@pytest.mark.parametrize(
    "path", sorted((ROOT / "editorial_lines").glob("*/line.yaml")), ids=lambda p: p.parent.name
)
def test_every_sample_line_matches_the_line_schema(path: Path) -> None:
    assert errors("line", read(path)) == []


STORY = {"launch": "2027-01-12 09:00", "story": {"headline": "Hello"}}


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"netwroks": ["x"]}, "unknown field"),
        ({"networks": "x"}, "wrong type"),
        ({"status": "aproved"}, "bad enum value"),
        ({"launch": "2027-01-12"}, "date without time"),
        ({"launch": None}, "missing launch"),
        ({"beats": {"teaser": {"offset": "-7x"}}}, "bad offset"),
        ({"beats": {"teaser": {"ofset": "-7d"}}}, "unknown beat field"),
        ({"beats": {"Teaser!": 0}}, "bad beat name"),
        ({"media": [{"file": "media/a.jpg"}]}, "missing alt"),
        ({"media": [{"file": "media/a.jpg", "alt": ""}]}, "empty alt"),
        ({"media": [{"file": "media/a.jpg", "alt": "A", "kind": "gif"}]}, "bad media kind"),
        ({"locales": {"French": {"headline": "Salut"}}}, "bad locale code"),
        ({"overrides": {"market": {"fr": {"title": "x"}}}}, "field that cannot be overridden"),
        ({"link": "ftp://holdout.example"}, "not an http link"),
        ({"hashtags": ["two words"]}, "hashtag with a space"),
    ],
)
def test_story_schema_rejects_bad_cases(change: dict[str, Any], why: str) -> None:
    story = {**STORY, **change}
    if change.get("launch", "") is None:
        del story["launch"]
    assert errors("story", story), why


def test_story_schema_accepts_offset_zero_and_shorthand_beats() -> None:
    story = {**STORY, "beats": {"teaser": "-7d", "reveal": 0, "followup": {"offset": "+1d2h"}}}
    assert errors("story", story) == []


def test_story_schema_accepts_a_world_premiere() -> None:
    assert errors("story", {**STORY, "launch": "2027-02-10T18:00 Europe/Paris"}) == []


def test_markets_schema_needs_an_id_or_a_handle() -> None:
    markets = {
        "markets": {
            "fr": {
                "name": "France",
                "timezone": "Europe/Paris",
                "locale": "fr",
                "accounts": {"x": {"name": "Holdout"}},
            }
        }
    }
    assert errors("markets", markets)


def test_line_schema_rejects_a_bad_link_policy_and_unknown_rule() -> None:
    assert errors("line", {"voice": "v", "rules": {"link": "sometimes"}})
    assert errors("line", {"voice": "v", "rules": {"max_hashtag": 3}})
    assert errors("line", {"voice": "v", "rules": {"emoji": {"max": -1}}})


def test_schema_tables_are_the_loaders_tables() -> None:
    assert tuple(RULES_SHAPE.fields) == tuple(RULES)
    assert tuple(LINE_SHAPE.fields) == tuple(LINE_KEYS)
    assert set(json_schema("story")["properties"]) == set(STORY_SHAPE.fields)


def test_cli_prints_the_story_schema_by_default() -> None:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.output) == json_schema("story")


@pytest.mark.parametrize("kind", KINDS)
def test_cli_prints_each_schema(kind: str) -> None:
    result = CliRunner().invoke(cli, ["schema", kind])
    assert result.exit_code == 0
    assert json.loads(result.output)["$id"].endswith(f"/{kind}.json")


def test_cli_refuses_an_unknown_kind_with_exit_2() -> None:
    result = CliRunner().invoke(cli, ["schema", "bogus"])
    assert result.exit_code == 2
