"""Findings that differ only by post are one line for a person (scheduler.core.grouping)."""

from __future__ import annotations

from scheduler.core.diagnostics import Finding, Position
from scheduler.core.grouping import compact, group_posts

AT = Position("content/stories/s.yaml", 14, 5)


def too_long(post: str) -> Finding:
    return Finding.error(AT, "x-too-long", f"{post}: X text is 300 long, over 280")


def test_the_same_cause_on_every_market_is_one_finding_naming_the_posts() -> None:
    [grouped] = group_posts([too_long("s/reveal/x/fr"), too_long("s/reveal/x/de")])
    assert grouped.message == "s/reveal/x/{de,fr} (2 posts): X text is 300 long, over 280"
    assert (grouped.line, grouped.column, grouped.code) == (14, 5, "x-too-long")


def test_different_causes_or_places_stay_apart() -> None:
    other = Finding.error(Position(AT.file, 20, 1), "x-too-long", "s/reveal/x/it: X text is 300")
    plain = Finding.warning(AT, "dst", "no post id here")
    findings = [too_long("s/reveal/x/fr"), other, plain]
    assert group_posts(findings) == findings


def test_posts_that_are_not_every_combination_are_listed() -> None:
    assert compact(["s/a/x/fr", "s/b/x/de"]) == "s/a/x/fr, s/b/x/de"
    many = [f"s/a/x/m{i}" for i in range(5)] + ["s/b/y/fr"]
    assert compact(many) == "s/a/x/m0, s/a/x/m1, s/a/x/m2 and 3 more"
