"""A throw-away content folder per test: markets.yaml, stories/, media/ written from strings."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

from scheduler.content.loader import load_content
from scheduler.core.diagnostics import Finding
from scheduler.core.model import Content

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "content"
NETWORKS = (
    "facebook",
    "instagram",
    "x",
    "linkedin",
    "youtube",
    "weibo",
    "mastodon",
    "bluesky",
    "threads",
)

MARKETS = """\
markets:
  fr:
    name: France
    timezone: Europe/Paris
    locale: fr
    claim: Inspired By You
    claim_pro: Built Around Your Business
    accounts:
      x: {handle: HoldoutFR}
      facebook: {id: "100200300", name: Holdout France}
  hu:
    name: Magyarország
    timezone: Europe/Budapest
    locale: hu
    claim: Önök inspirálnak minket
    accounts:
      facebook: {id: "100200700"}
  us:
    name: United States
    timezone: America/New_York
    locale: en
    claim: Inspired By You
    accounts:
      x: {handle: HoldoutUSA}
      facebook: {id: "100200900"}
"""

STORY = """\
launch: 2027-01-12 09:00
status: approved
networks: [x, facebook]
story:
  headline: Hello
"""


@dataclass
class ContentDir:
    """Writes content files and loads them the way the CLI does."""

    root: Path

    def markets(self, text: str) -> Path:
        path = self.root / "markets.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def story(self, name: str, text: str) -> Path:
        path = self.root / "stories" / f"{name}.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def media(self, name: str, data: bytes = b"\xff\xd8\xff\xe0 tiny jpeg") -> Path:
        path = self.root / "media" / name
        path.write_bytes(data)
        return path

    def load(self) -> Content:
        return load_content(self.root, networks=NETWORKS)

    def file(self, name: str) -> str:
        """The file name findings carry for a story."""
        return str(self.root / "stories" / f"{name}.yaml")


@pytest.fixture
def content(tmp_path: Path) -> ContentDir:
    root = tmp_path / "content"
    (root / "stories").mkdir(parents=True)
    (root / "media").mkdir()
    c = ContentDir(root)
    c.markets(MARKETS)
    return c


def only(findings: tuple[Finding, ...] | list[Finding], code: str) -> Finding:
    """The single finding with ``code`` (fails loudly when there are none or several)."""
    matching = [f for f in findings if f.code == code]
    assert len(matching) == 1, f"expected one {code!r}, got {findings!r}"
    return matching[0]


def where(finding: Finding) -> tuple[int, int]:
    return finding.line, finding.column
