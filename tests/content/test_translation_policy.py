"""``translation: required | warn`` per market: an untranslated approved story is an error for
that market only — its posts are not planned — while the other markets are planned."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from scheduler.content.loader import load_content
from scheduler.interfaces.cli import cli
from scheduler.lines.loader import load_lines
from scheduler.planning.plan import Plan, plan

NOW = datetime(2026, 1, 1, tzinfo=UTC)

MARKETS = """\
markets:
  fr:
    name: France
    timezone: Europe/Paris
    locale: fr
    translation: required
    accounts: {x: {handle: BrandFR}}
  de:
    name: Deutschland
    timezone: Europe/Berlin
    locale: de
    translation: required
    accounts: {x: {handle: BrandDE}}
  hu:
    name: Magyarország
    timezone: Europe/Budapest
    locale: hu
    accounts: {x: {handle: BrandHU}}
  us:
    name: United States
    timezone: America/New_York
    locale: en
    accounts: {x: {handle: BrandUS}}
"""

STORY = """\
status: {status}
launch: 2027-03-01 09:00
networks: [x]
story:
  headline: Meet Aurora
  hook: Seven seats.
locales:
  de: {{headline: Das ist Aurora, hook: Sieben Sitze.}}
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "content" / "stories").mkdir(parents=True)
    (tmp_path / "content" / "markets.yaml").write_text(MARKETS, encoding="utf-8")
    x = tmp_path / "lines" / "x"
    x.mkdir(parents=True)
    (x / "line.yaml").write_text("voice: Plain.\n", encoding="utf-8")
    (x / "default.j2").write_text("{{ headline }} {{ hook }}", encoding="utf-8")
    return tmp_path


def write(root: Path, status: str = "approved", extra: str = "") -> Path:
    path = root / "content" / "stories" / "aurora.yaml"
    path.write_text(textwrap.dedent(STORY.format(status=status)) + extra, encoding="utf-8")
    return path


def planned(root: Path) -> Plan:
    lines = load_lines(root / "lines")
    content = load_content(root / "content", networks=lines.networks)
    result = plan(content, lines, NOW)
    return Plan(result.posts, (*content.findings, *result.findings))


def test_a_required_translation_missing_is_an_error_for_that_market_only(root: Path) -> None:
    path = write(root)
    result = planned(root)
    errors = [f for f in result.findings if f.is_error]
    assert [(f.code, f.file, f.line) for f in errors] == [("missing-translation", str(path), 7)]
    assert "fr" in errors[0].message and "translation: required" in errors[0].message
    assert {p.market for p in result.posts} == {"de", "hu", "us"}
    assert result.blocking == ()  # the other markets can be synced


def test_a_market_that_only_warns_still_gets_the_story_in_its_own_language(root: Path) -> None:
    write(root)
    result = planned(root)
    hu = [f for f in result.findings if f.code == "missing-translation" and "hu" in f.message]
    assert hu and all(not f.is_error for f in hu)
    assert any(p.market == "hu" and "Meet Aurora" in p.text for p in result.posts)


def test_a_partial_translation_is_an_error_where_required(root: Path) -> None:
    write(root, extra="  fr: {headline: Voici Aurora}\n")
    result = planned(root)
    errors = [f for f in result.findings if f.is_error]
    assert [f.code for f in errors] == ["partial-translation"]
    assert "hook" in errors[0].message
    assert "fr" not in {p.market for p in result.posts}


def test_a_draft_is_only_warned_about(root: Path) -> None:
    write(root, status="draft")
    result = planned(root)
    assert not [f for f in result.findings if f.is_error]
    assert "fr" in {p.market for p in result.posts}


def test_an_untranslated_beat_of_its_own_is_an_error_where_required(root: Path) -> None:
    write(
        root,
        extra="  fr: {headline: Voici Aurora, hook: Sept places.}\n"
        "beats:\n  teaser: {offset: -7d, story: {hook: Soon.}, locales: {fr: {hook: Bientôt.}}}\n"
        "  reveal: 0\n",
    )
    result = planned(root)
    errors = [(f.code, f.message) for f in result.findings if f.is_error]
    assert len(errors) == 1 and errors[0][0] == "untranslated-beat" and "de" in errors[0][1]
    assert "aurora/teaser/x/fr" in {p.post_id for p in result.posts}
    assert "aurora/teaser/x/de" not in {p.post_id for p in result.posts}
    assert "aurora/reveal/x/de" not in {p.post_id for p in result.posts}


def cli_run(root: Path, *args: str) -> Result:
    flags = ["--content", str(root / "content"), "--lines", str(root / "lines")]
    env = {"STORYLINE_DATA_DIR": str(root / "data"), "STORYLINE_NOW": "2026-11-28T12:00:00Z"}
    return CliRunner().invoke(cli, [*flags, *args], env=env, catch_exceptions=False)


def test_validate_fails_but_sync_plans_the_other_markets(root: Path, database_url: str) -> None:
    write(root)
    checked = cli_run(root, "validate")
    assert checked.exit_code == 1
    assert "error[missing-translation]" in checked.output
    url = database_url
    assert cli_run(root, "--database-url", url, "db", "upgrade").exit_code == 0
    synced = cli_run(root, "--database-url", url, "sync")
    assert synced.exit_code == 0, synced.output
    listed = cli_run(root, "--database-url", url, "calendar", "--format", "json")
    assert listed.exit_code == 0, listed.output
    markets = {row["market"] for row in json.loads(listed.output)}
    assert markets == {"de", "hu", "us"}
