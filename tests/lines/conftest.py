"""Fixtures for editorial-line tests: a lines folder written file by file, and a context."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

import pytest
import pytz

from scheduler.core.model import Media
from scheduler.lines.book import LineBook
from scheduler.lines.loader import load_lines
from scheduler.lines.model import PostContext

LINE_YAML = """\
voice: Short and plain.
rules:
  max_hashtags: 3
  link: inline
phrases:
  en: {soon: Coming soon, ask: Questions?}
  fr: {soon: Bientôt}
"""

MakeLines = Callable[..., LineBook]


@pytest.fixture
def make_lines(tmp_path: Path) -> MakeLines:
    """Write ``files`` (path -> text) under a fresh lines folder and load it.

    ``x/line.yaml`` is written with a plain default unless ``files`` gives one.
    """

    def make(files: dict[str, str], *, eager: bool = True, line: str = "x") -> LineBook:
        root = tmp_path / "editorial_lines"
        written = {f"{line}/line.yaml": LINE_YAML, **files}
        for rel, text in written.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        return load_lines(root, eager=eager)

    return make


def _make_context(**changes: object) -> PostContext:
    """A complete PostContext for market fr on x; override any field by keyword."""
    values: dict[str, object] = {
        "story": "suv",
        "title": "The comfort SUV",
        "campaign": "suv-launch",
        "audience": "public",
        "beat": "reveal",
        "network": "x",
        "market": "fr",
        "market_name": "France",
        "locale": "fr",
        "timezone": "Europe/Paris",
        "account_name": "Brand France",
        "account_handle": "BrandFR",
        "headline": "Voici le SUV du confort",
        "hook": "Sept places, zéro bruit.",
        "body": "Un habitacle calme comme une bibliothèque.",
        "facts": ("7 places", "600 km"),
        "hashtags": ("ComfortSUV", "Brand"),
        "link": "https://brand.example/suv?utm_source=x",
        "claim": "Inspired By You",
        "media": (Media(file="media/suv.jpg", alt="The SUV at dusk"),),
        "due_local": pytz.timezone("Europe/Paris").localize(datetime(2026, 12, 1, 9, 0)),
        "phrases": MappingProxyType({"soon": "Bientôt", "ask": "Questions?"}),
    }
    values.update(changes)
    return PostContext(**values)  # type: ignore[arg-type]


@pytest.fixture
def context() -> Callable[..., PostContext]:
    """``context(**changes)``: a complete PostContext (fr on x) with some fields changed."""
    return _make_context


@pytest.fixture
def ctx() -> PostContext:
    return _make_context()
