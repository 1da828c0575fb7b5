"""Previews are HTML built from content: markup written in a story or a market never runs.

A community manager opens ``storyline preview --format html`` (and ``storyline serve``) in a
browser; content text, names, claims and links are data there, escaped, never markup.
"""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from scheduler.interfaces.cli import cli

ROOT = Path(__file__).resolve().parents[2]
MARKETS = """\
markets:
  fr:
    name: "<b>France</b>"
    timezone: Europe/Paris
    locale: fr
    claim: "<img src=x onerror=alert(2)>"
    accounts:
      x: {handle: BrandFR, name: "<script>alert(3)</script>"}
      facebook: {id: "1", name: "<iframe src=javascript:alert(7)>"}
"""
STORY = """\
title: "<script>alert(4)</script>"
status: approved
launch: 2027-06-01 09:00
networks: [x, facebook]
story:
  headline: "<script>alert(1)</script> </textarea></style>"
  hook: "<svg onload=alert(5)>"
link: "https://brand.example/x?a=\\"><script>alert(6)</script>"
"""
#: Any of these in the page means content became markup.
ACTIVE = re.compile(
    r"<script>alert|<img src=x onerror|<svg onload|<iframe src=javascript|<b>France</b>"
)


def test_markup_in_content_is_escaped_in_the_html_preview(tmp_path: Path) -> None:
    content = tmp_path / "content"
    (content / "stories").mkdir(parents=True)
    (content / "markets.yaml").write_text(MARKETS, encoding="utf-8")
    (content / "stories" / "xss.yaml").write_text(STORY, encoding="utf-8")
    page = tmp_path / "preview.html"
    folders = ["--content", str(content), "--lines", str(ROOT / "editorial_lines")]
    result = CliRunner().invoke(
        cli, [*folders, "preview", "xss", "--format", "html", "-o", str(page)]
    )
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)" in html  # the headline is there, as text
    assert not ACTIVE.search(html), ACTIVE.search(html)
