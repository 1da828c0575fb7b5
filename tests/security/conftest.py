"""Fixtures for the security tests: a real editorial line holding one hostile template, a
complete post context, and a planted secret that must never be seen again."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import MappingProxyType

import pytest
import pytz

from scheduler.core.model import Media
from scheduler.lines.book import LineBook
from scheduler.lines.loader import load_lines
from scheduler.lines.model import Draft, PostContext

LINE_YAML = """\
voice: Plain and short.
rules:
  link: inline
phrases:
  en: {soon: Coming soon}
"""


def make_context(**changes: object) -> PostContext:
    """A complete PostContext (market fr on x); any field can be changed by keyword."""
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
        "hook": "Sept places.",
        "body": "Un habitacle calme.",
        "facts": ("7 places", "600 km"),
        "hashtags": ("ComfortSUV",),
        "link": "https://brand.example/suv",
        "claim": "Inspired By You",
        "media": (Media(file="media/suv.jpg", alt="The SUV"),),
        "due_local": pytz.timezone("Europe/Paris").localize(datetime(2027, 6, 1, 9, 0)),
        "phrases": MappingProxyType({"soon": "Bientôt"}),
    }
    values.update(changes)
    return PostContext(**values)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Rendered:
    """A hostile template rendered through the real loader: what came out, and where."""

    draft: Draft
    lines: LineBook
    template: Path  # the template file as written
    workdir: Path  # the current directory during the render (a payload's file would land here)


RenderTemplate = Callable[[str], Rendered]


@pytest.fixture
def render_template(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> RenderTemplate:
    """``render_template(source)``: write ``x/reveal.j2`` in a fresh lines folder, load it with
    :func:`scheduler.lines.load_lines` (eager compile) and render one post with it.

    The first line of every template is a comment, so the payload sits on line 2.
    """
    counter = iter(range(1_000_000))

    def render(source: str) -> Rendered:
        root = tmp_path / f"lines{next(counter)}"
        (root / "x").mkdir(parents=True)
        (root / "x" / "line.yaml").write_text(LINE_YAML, encoding="utf-8")
        (root / "x" / "default.j2").write_text("{{ headline }}\n", encoding="utf-8")
        template = root / "x" / "reveal.j2"
        template.write_text("{# hostile template #}\n" + source + "\n", encoding="utf-8")
        workdir = root / "cwd"
        workdir.mkdir()
        monkeypatch.chdir(workdir)
        lines = load_lines(root)
        return Rendered(lines.render(make_context()), lines, template, workdir)

    return render


@pytest.fixture
def planted() -> str:
    """A secret value nobody could print by accident: if it shows up anywhere, it leaked."""
    return f"sk-PLANTED-{uuid.uuid4().hex}"
