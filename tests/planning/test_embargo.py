"""Embargo: nothing of the reveal — its words, its media — before its earliest instant anywhere.

Each test writes a real story file, so findings are checked at the very line that produced
the leak (the translation, the beat's hook, the story's media item).
"""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scheduler.content.loader import load_content
from scheduler.core.diagnostics import Finding
from scheduler.lines.loader import load_lines
from scheduler.planning.plan import Plan, plan

NOW = datetime(2026, 1, 1, tzinfo=UTC)

MARKETS = """\
markets:
  fr:
    name: France
    timezone: Europe/Paris
    locale: fr
    accounts: {x: {handle: BrandFR}}
  jp:
    name: Japan
    timezone: Asia/Tokyo
    locale: ja
    accounts: {x: {handle: BrandJP}}
  us:
    name: United States
    timezone: America/New_York
    locale: en
    accounts: {x: {handle: BrandUS}}
"""


class Folder:
    def __init__(self, root: Path) -> None:
        self.root = root
        content = root / "content"
        (content / "stories").mkdir(parents=True)
        (content / "media").mkdir()
        for name in ("reveal.jpg", "teaser.jpg"):
            (content / "media" / name).write_bytes(b"\xff\xd8\xff\xe0 tiny jpeg")
        (content / "markets.yaml").write_text(MARKETS, encoding="utf-8")
        x = root / "lines" / "x"
        x.mkdir(parents=True)
        (x / "line.yaml").write_text("voice: Plain.\nrules: {link: inline}\n", encoding="utf-8")
        (x / "default.j2").write_text("{{ headline }}\n{{ hook }}\n{{ link }}\n", encoding="utf-8")
        (x / "teaser.j2").write_text("{{ hook }}\n{{ link }}\n", encoding="utf-8")

    def story(self, text: str, name: str = "aurora") -> Path:
        path = self.root / "content" / "stories" / f"{name}.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    def plan(self) -> Plan:
        lines = load_lines(self.root / "lines")
        content = load_content(self.root / "content", networks=lines.networks)
        result = plan(content, lines, NOW)
        return Plan(result.posts, (*content.findings, *result.findings))


@pytest.fixture
def folder(tmp_path: Path) -> Folder:
    return Folder(tmp_path)


def leaks(result: Plan) -> list[Finding]:
    return [f for f in result.findings if f.code == "embargo-leak"]


def line_of(path: Path, text: str) -> int:
    """The 1-based line of ``path`` holding ``text`` (exactly one)."""
    found = [i for i, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(found) == 1, found
    return found[0]


STORY = """\
status: approved
launch: 2027-03-01 09:00
networks: [x]
markets: [fr, us]
embargo: {terms: [Aurora, "7 seats"]}
story:
  headline: Meet Aurora
  hook: 7 seats, one quiet cabin.
link: https://brand.example/soon
media:
  - {file: media/reveal.jpg, alt: The car from the front.}
locales:
  fr: {headline: Voici Aurora, hook: "7 places, un habitacle calme."}
"""


def test_a_teaser_leaking_a_term_in_one_locale_only_is_an_error_at_that_translation(
    folder: Folder,
) -> None:
    path = folder.story(
        STORY
        + """\
beats:
  teaser:
    offset: -7d
    story: {hook: Something is coming.}
    media: [{file: media/teaser.jpg, alt: A covered car.}]
    locales:
      fr: {hook: "Aurora arrive bientôt."}
  reveal: 0
"""
    )
    found = leaks(folder.plan())
    assert len(found) == 1, found
    leak = found[0]
    assert leak.is_error
    assert (leak.file, leak.line) == (str(path), line_of(path, "Aurora arrive"))
    assert "aurora/teaser/x/fr" in leak.message and "'Aurora'" in leak.message
    assert "beats.teaser.locales.fr.hook" in leak.message
    assert "/us" not in leak.message


def test_a_teaser_due_in_tokyo_before_the_paris_reveal_leaks(folder: Folder) -> None:
    # 11:00 in Tokyo is 02:00 UTC: six hours before 09:00 in Paris, though its offset is +2h.
    path = folder.story(
        STORY.replace("markets: [fr, us]", "markets: [fr, jp]")
        + """\
beats:
  reveal: {offset: 0, markets: [fr]}
  teaser:
    offset: +2h
    markets: [jp]
    story: {hook: The Aurora is almost here.}
    media: [{file: media/teaser.jpg, alt: A covered car.}]
"""
    )
    found = leaks(folder.plan())
    assert len(found) == 1, found
    assert found[0].line == line_of(path, "The Aurora is almost here")
    assert "aurora/teaser/x/jp" in found[0].message
    assert "2027-03-01 08:00 UTC in fr" in found[0].message


def test_a_post_due_after_the_earliest_reveal_anywhere_may_name_the_product(
    folder: Folder,
) -> None:
    # Tokyo reveals at 00:00 UTC; the Paris teaser two hours before its own reveal is at
    # 06:00 UTC: the world already knows.
    folder.story(
        STORY.replace("markets: [fr, us]", "markets: [fr, jp]")
        + """\
beats:
  reveal: 0
  teaser:
    offset: -2h
    markets: [fr]
    story: {hook: Aurora in two hours.}
    media: [{file: media/teaser.jpg, alt: A covered car.}]
"""
    )
    assert leaks(folder.plan()) == []


def test_a_reveal_image_reused_in_a_teaser_leaks_at_the_media_item(folder: Folder) -> None:
    path = folder.story(
        STORY
        + """\
beats:
  teaser: {offset: -7d, story: {hook: Something is coming.}}
  reveal: 0
"""
    )
    found = leaks(folder.plan())
    assert len(found) == 1, found
    assert found[0].line == line_of(path, "media/reveal.jpg")
    assert "media/reveal.jpg" in found[0].message
    assert "and 1 other post(s)" in found[0].message  # fr and us, one finding


def test_a_link_address_leaks_but_its_tracking_query_does_not(folder: Folder) -> None:
    # The tracked link's utm_content names the post, hence the story id "aurora": not a leak.
    path = folder.story(
        STORY.replace("https://brand.example/soon", "https://brand.example/aurora")
        + """\
beats:
  teaser:
    offset: -7d
    story: {hook: Something is coming.}
    media: [{file: media/teaser.jpg, alt: A covered car.}]
  reveal: 0
"""
    )
    found = leaks(folder.plan())
    assert len(found) == 1, found
    assert found[0].line == line_of(path, "https://brand.example/aurora")
    clean = folder.story(
        STORY
        + """\
beats:
  teaser:
    offset: -7d
    story: {hook: Something is coming.}
    media: [{file: media/teaser.jpg, alt: A covered car.}]
  reveal: 0
"""
    )
    assert clean == path
    assert leaks(folder.plan()) == []


def test_terms_match_whole_words_in_any_case(folder: Folder) -> None:
    folder.story(
        STORY
        + """\
beats:
  teaser:
    offset: -7d
    story: {hook: "Auroral lights and AURORA"}
    media: [{file: media/teaser.jpg, alt: A covered car.}]
  reveal: 0
"""
    )
    found = leaks(folder.plan())
    assert len(found) == 1 and "'Aurora'" in found[0].message  # AURORA, not Auroral


def test_an_embargo_term_the_reveal_never_says_is_a_probable_typo(folder: Folder) -> None:
    path = folder.story(
        STORY.replace('terms: [Aurora, "7 seats"]', "terms: [Auroa]")
        + """\
beats:
  teaser:
    offset: -7d
    story: {hook: Something is coming.}
    media: [{file: media/teaser.jpg, alt: A covered car.}]
  reveal: 0
"""
    )
    found = [f for f in folder.plan().findings if f.code == "embargo-term-unused"]
    assert len(found) == 1, found
    assert found[0].line == line_of(path, "Auroa")
    assert "did you mean 'Aurora'" in found[0].message


def test_an_embargo_without_a_reveal_beat_is_an_error(folder: Folder) -> None:
    path = folder.story(STORY + "beats: {teaser: -7d, launch: 0}\n")
    found = [f for f in folder.plan().findings if f.code == "embargo-no-reveal"]
    assert len(found) == 1 and found[0].is_error
    assert found[0].line == line_of(path, "embargo:")


def test_the_sample_aurora_launch_keeps_its_embargo() -> None:
    root = Path(__file__).resolve().parents[2]
    lines = load_lines(root / "editorial_lines")
    content = load_content(root / "content", networks=lines.networks)
    story = content.stories["aurora-launch"]
    assert story.embargo is not None and "Aurora" in story.embargo.terms
    result = plan(content, lines, NOW)
    assert not [f for f in result.findings if f.code.startswith("embargo")]
    teasers = [p for p in result.posts if p.story == "aurora-launch" and p.beat == "teaser"]
    assert teasers and all([m.file for m in p.media] == ["media/suv-teaser.jpg"] for p in teasers)


def test_each_leaking_post_carries_the_leak_for_its_preview_card(folder: Folder) -> None:
    folder.story(
        STORY
        + """\
beats:
  teaser: {offset: -7d, story: {hook: Something is coming.}}
  reveal: 0
"""
    )
    result = folder.plan()
    assert len(leaks(result)) == 1  # validate: once, for both posts
    cards = {p.post_id: [f.code for f in p.findings] for p in result.posts}
    assert cards["aurora/teaser/x/fr"].count("embargo-leak") == 1
    assert cards["aurora/teaser/x/us"].count("embargo-leak") == 1
    assert "embargo-leak" not in cards["aurora/reveal/x/fr"]


def test_an_empty_embargo_term_is_refused_at_its_line(folder: Folder) -> None:
    path = folder.story(STORY.replace('terms: [Aurora, "7 seats"]', 'terms: [Aurora, " "]'))
    found = [f for f in folder.plan().findings if f.code == "bad-value"]
    assert len(found) == 1 and found[0].is_error
    assert found[0].line == line_of(path, "embargo:")
