"""``storyline explain POST_ID [FIELD]``: where each value of a post came from, like git blame."""

from __future__ import annotations

import json
from pathlib import Path

from .conftest import ROOT, Run

STORY = ROOT / "content" / "stories" / "aurora-launch.yaml"
MARKETS = ROOT / "content" / "markets.yaml"


def line_of(path: Path, text: str) -> int:
    hits = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(hits) == 1, hits
    return hits[0]


def rows(output: str) -> dict[str, str]:
    """field -> its whole row."""
    out = {}
    for row in output.splitlines():
        parts = row.split()
        out[parts[1]] = row
    return out


def test_each_field_names_the_file_and_line_it_came_from(run: Run) -> None:
    result = run("explain", "aurora-launch/teaser/linkedin/fr")
    assert result.exit_code == 0, result.output
    got = rows(result.output)
    hook = line_of(STORY, "hook: Quelque chose de silencieux")
    assert (
        got["hook"].startswith(f"{STORY}:{hook} ") or f"aurora-launch.yaml:{hook} " in got["hook"]
    )
    assert "beats.teaser.locales.fr.hook" in got["hook"]
    assert "Quelque chose de silencieux arrive." in got["hook"]
    assert "beats.teaser.story.facts" in got["facts"] and "(empty)" in got["facts"]
    assert "beats.teaser.link" in got["link"] and "https://holdout.example/soon" in got["link"]
    assert "media/suv-teaser.jpg" in got["media"]
    assert f"markets.yaml:{line_of(MARKETS, 'claim: Inspired By You   ')} " in got["claim"]
    assert "linkedin/teaser.j2" in got["template"]


def test_one_network_in_one_market_is_named_as_such(run: Run) -> None:
    result = run("explain", "aurora-launch/reveal/linkedin/fr", "facts")
    assert result.exit_code == 0, result.output
    assert "overrides.market.fr.network.linkedin.facts" in result.output
    assert "Avantage en nature" in result.output
    key = line_of(STORY, "Avantage en nature") - 1  # the facts key above the list
    assert f"aurora-launch.yaml:{key} " in result.output


def test_one_field_only(run: Run) -> None:
    result = run("explain", "aurora-launch/reveal/x/fr", "headline")
    assert result.exit_code == 0, result.output
    assert len(result.output.splitlines()) == 1
    assert "locales.fr.headline" in result.output and "Voici Aurora" in result.output


def test_json_gives_file_line_and_path_per_field(run: Run) -> None:
    result = run("explain", "aurora-launch/reveal/youtube/us", "media", "--format", "json")
    assert result.exit_code == 0, result.output
    [media] = json.loads(result.output)
    assert media["path"] == "overrides.network.youtube.media"
    assert media["file"].endswith("aurora-launch.yaml")
    assert media["line"] == line_of(STORY, "youtube:") + 1  # its media key


def test_an_unknown_post_or_field_is_refused_with_suggestions(run: Run) -> None:
    typo = run("explain", "aurora-launch/teasr/x/fr")
    assert typo.exit_code != 0 and "did you mean: teaser" in typo.output
    field = run("explain", "aurora-launch/teaser/x/fr", "hok")
    assert field.exit_code != 0 and "hook" in field.output
    shape = run("explain", "aurora-launch")
    assert shape.exit_code != 0 and "<story>/<beat>/<network>/<market>" in shape.output


def test_text_blames_each_rendered_line_on_its_field_or_the_template(run: Run) -> None:
    result = run("explain", "aurora-launch/reveal/linkedin/fr", "text")
    assert result.exit_code == 0, result.output
    blamed = {row.split("  ")[-1].strip(): row for row in result.output.splitlines()}
    facts = next(r for line, r in blamed.items() if "Avantage en nature" in line)
    assert "overrides.market.fr.network.linkedin.facts" in facts
    headline = next(r for line, r in blamed.items() if line.startswith("Voici Aurora"))
    assert f"aurora-launch.yaml:{line_of(STORY, 'headline: Voici Aurora')} " in headline
    assert "linkedin/line.yaml:" in blamed["Les chiffres clés :"]  # a phrase of the line
    assert "phrases.fr.figures" in blamed["Les chiffres clés :"]
    dots = run("explain", "aurora-launch/teaser/instagram/de", "text").output.splitlines()
    assert any("instagram/teaser.j2:1" in row and row.endswith(" .") for row in dots)
