"""Whatever a person types into a content file, loading reports findings and never raises."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scheduler.content.loader import load_content
from scheduler.content.yamlpos import parse_yaml
from scheduler.core.resolve import resolve

from .conftest import NETWORKS, SAMPLE

SAMPLE_STORY = (SAMPLE / "stories" / "aurora-launch.yaml").read_text(encoding="utf-8")
SAMPLE_MARKETS = (SAMPLE / "markets.yaml").read_text(encoding="utf-8")
YAMLISH = st.sampled_from(
    [
        ":",
        "- ",
        " ",
        "\n",
        "\t",
        "[",
        "]",
        "{",
        "}",
        "&a ",
        "*a",
        "!!str ",
        "'",
        '"',
        "0",
        "-7d",
        "yes",
        "null",
        "~",
        "2027-02-30 09:00",
        "../",
        "/",
        "#",
        "<<: *a",
        "fr",
        "x",
        "|\n",
        ">\n",
        "? ",
        "@",
        "%",
        "google+",
        "Europe/Pairs",
        "1e9999",
        "\ufeff",
        "\x00",
    ]
)


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    chars = list(text)
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(chars)))
        if draw(st.booleans()):
            chars.insert(at, draw(YAMLISH | st.text(max_size=3)))
        else:
            del chars[at : at + draw(st.integers(1, 12))]
    return "".join(chars)


@given(st.text(max_size=300))
def test_parsing_any_text_never_raises(text: str) -> None:
    for finding in parse_yaml(text, "s.yaml").findings:
        assert finding.file == "s.yaml" and finding.line >= 1 and finding.code


def copy_sample(tmp: Path) -> Path:
    root = tmp / "content"
    if not root.exists():
        shutil.copytree(SAMPLE, root)
    return root


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(story=mutated(SAMPLE_STORY), markets=mutated(SAMPLE_MARKETS) | st.just(SAMPLE_MARKETS))
def test_loading_a_mutated_sample_never_raises(tmp_path: Path, story: str, markets: str) -> None:
    root = copy_sample(tmp_path)
    (root / "stories" / "aurora-launch.yaml").write_text(story, encoding="utf-8", errors="replace")
    (root / "markets.yaml").write_text(markets, encoding="utf-8", errors="replace")
    content = load_content(root, networks=NETWORKS)
    for f in content.findings:
        assert f.file and f.code and f.message
    for s in content.stories.values():
        for code in s.markets:
            for network in s.networks:
                resolve(s, network, content.markets[code])
