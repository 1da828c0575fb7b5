"""What the package promises to install, and the changelog's shape (issue 16, item 10)."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
REQUIREMENTS = {Requirement(r).name: Requirement(r) for r in PROJECT["dependencies"]}
KEEP_A_CHANGELOG = ("Added", "Changed", "Deprecated", "Removed", "Fixed", "Security")


def test_tzdata_is_a_dependency_so_zoneinfo_finds_every_zone_without_a_system_database() -> None:
    assert "tzdata" in REQUIREMENTS


def test_kombu_is_bounded_below_the_next_minor_because_the_embedded_broker_subclasses_it() -> None:
    kombu = REQUIREMENTS["kombu"]
    installed = Version(version("kombu"))
    assert installed in kombu.specifier, f"kombu {installed} is outside {kombu.specifier}"
    upper = [s for s in kombu.specifier if s.operator == "<"]
    assert upper, "kombu needs an upper bound"
    next_minor = Version(f"{installed.major}.{installed.minor + 1}")
    assert Version(upper[0].version) <= next_minor


def _sections(text: str) -> list[tuple[str, list[str]]]:
    out: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("## "):
            out.append((line[3:], []))
        elif line.startswith("### ") and out:
            out[-1][1].append(line[4:])
    return out


def test_changelog_has_unreleased_on_top_then_one_section_per_release_newest_first() -> None:
    sections = _sections((ROOT / "CHANGELOG.md").read_text(encoding="utf-8"))
    assert sections and sections[0][0] == "[Unreleased]"
    released: list[tuple[Version, date]] = []
    for title, _ in sections[1:]:
        m = re.fullmatch(r"\[(\d+\.\d+\.\d+)\] - (\d{4}-\d{2}-\d{2})", title)
        assert m, f"release heading {title!r} is not '[X.Y.Z] - YYYY-MM-DD'"
        released.append((Version(m[1]), date.fromisoformat(m[2])))
    assert released == sorted(released, reverse=True)
    for title, kinds in sections:
        assert len(kinds) == len(set(kinds)), f"{title}: a subsection appears twice: {kinds}"
        assert set(kinds) <= set(KEEP_A_CHANGELOG), f"{title}: {kinds}"
