"""Content built in code and a small lines folder, so each planning rule is tested alone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

import pytest

from scheduler.core.diagnostics import Position
from scheduler.core.model import (
    Account,
    Audience,
    Beat,
    Content,
    Launch,
    Market,
    Media,
    Offset,
    Story,
    StoryStatus,
)
from scheduler.lines.book import LineBook
from scheduler.lines.loader import load_lines

ROOT = Path(__file__).resolve().parents[2]

PLAIN_LINE = """\
voice: Plain.
rules:
  link: inline
"""

MARKETS = {
    "fr": ("France", "Europe/Paris", "fr"),
    "us": ("United States", "America/New_York", "en"),
    "cn": ("China", "Asia/Shanghai", "zh"),
}


def _market(code: str, networks: tuple[str, ...]) -> Market:
    name, zone, locale = MARKETS[code]
    accounts = {n: Account(network=n, id=f"{n}-{code}", name=f"Brand {code} {n}") for n in networks}
    return Market(code, name, zone, locale, claim="Inspired By You", accounts=accounts)


def _story(**changes: object) -> Story:
    values: dict[str, object] = {
        "id": "suv",
        "path": "content/stories/suv.yaml",
        "title": "The comfort SUV",
        "campaign": "suv-launch",
        "audience": Audience.PUBLIC,
        "status": StoryStatus.APPROVED,
        "launch": Launch(local=datetime(2026, 12, 1, 9, 0), pos=Position("suv.yaml", 7, 9)),
        "networks": ("x", "linkedin"),
        "markets": ("fr", "us", "cn"),
        "beats": (
            Beat("teaser", Offset(days=-7, text="-7d")),
            Beat("reveal", Offset()),
            Beat("followup", Offset(days=3, text="+3d"), networks=("linkedin",)),
        ),
        "text": {"headline": "The comfort SUV", "hook": "Seven seats.", "body": "Quiet."},
        "link": "https://brand.example/suv?ref=home",
        "hashtags": ("ComfortSUV",),
        "media": (Media("media/suv.jpg", "The SUV at dusk"),),
        "positions": MappingProxyType({(): Position("content/stories/suv.yaml", 1, 1)}),
    }
    values.update(changes)
    return Story(**values)  # type: ignore[arg-type]


def _content(*stories: Story, accounts: dict[str, tuple[str, ...]] | None = None) -> Content:
    wanted = accounts or {"fr": ("x", "linkedin"), "us": ("x", "linkedin"), "cn": ("linkedin",)}
    markets = {code: _market(code, nets) for code, nets in wanted.items()}
    return Content(markets=markets, stories={s.id: s for s in stories or (_story(),)})


@pytest.fixture
def story() -> Callable[..., Story]:
    """``story(**changes)``: the test story (x + linkedin, fr/us/cn, teaser/reveal/followup)."""
    return _story


@pytest.fixture
def content() -> Callable[..., Content]:
    """``content(*stories, accounts={market: networks})``: markets fr, us, cn with accounts."""
    return _content


@pytest.fixture
def make_lines(tmp_path: Path) -> Callable[..., LineBook]:
    """A lines folder with x and linkedin (``{{ headline }} {{ link }}``), templates replaceable."""

    def make(files: dict[str, str] | None = None) -> LineBook:
        root = tmp_path / "lines"
        written = {
            "x/line.yaml": PLAIN_LINE,
            "x/default.j2": "{{ headline }} {{ link }}",
            "linkedin/line.yaml": PLAIN_LINE,
            "linkedin/default.j2": "{{ headline }} {{ link }}",
            **(files or {}),
        }
        for rel, text in written.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return load_lines(root)

    return make


@pytest.fixture
def lines(make_lines: Callable[..., LineBook]) -> LineBook:
    return make_lines()
