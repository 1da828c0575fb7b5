"""docs/content.md's table of finding codes is the list of codes the content loader emits.

Both ways: every code the loader's modules can emit is in the table, and every code in the
table is emitted somewhere in the package (issue 16: the DST warnings were documented as
``nonexistent-time`` while the planner said ``time-nonexistent``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import get_args

from scheduler.core.timezones import Note

ROOT = Path(__file__).resolve().parent.parent
CODE = re.compile(r"[a-z]+(?:-[a-z0-9+]+)+")
FINDING_CALLS = {"error", "warning", "at"}


def _table(doc: str) -> set[str]:
    text = (ROOT / "docs" / doc).read_text(encoding="utf-8")
    section = text[text.index("## Finding codes") :]
    section = section[: section.find("\n## ", 1)]
    return {c for row in re.findall(r"^\| `([^|]+)` \|", section, re.M) for c in row.split("` / `")}


def _literal(node: ast.expr) -> list[str]:
    """The code a call passes: a string, or an f-string over the DST notes (``time-{note}``)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        parts = [v.value if isinstance(v, ast.Constant) else "{}" for v in node.values]
        shape = "".join(str(p) for p in parts)
        if shape.count("{}") == 1 and "time" in shape:
            return [shape.replace("{}", note) for note in get_args(Note)]
    return []


def _emitted(folder: str) -> set[str]:
    """Codes passed to Finding.error/warning/at or a loader's error() in ``scheduler/folder``,
    and the shapes' ``*_code=`` keywords."""
    found: set[str] = set()
    for path in (ROOT / "scheduler" / folder).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in FINDING_CALLS:
                for arg in node.args[1:3]:
                    found.update(c for c in _literal(arg) if CODE.fullmatch(c))
            for kw in node.keywords:
                if kw.arg and kw.arg.endswith("code"):
                    found.update(c for c in _literal(kw.value) if CODE.fullmatch(c))
    return found


def test_every_code_the_content_loader_emits_is_in_content_md() -> None:
    missing = _emitted("content") - _table("content.md")
    assert not missing, f"add these codes to docs/content.md's table: {sorted(missing)}"


def _literals() -> set[str]:
    """Every code-like string constant of the package (codes held in constants included)."""
    found: set[str] = set()
    for path in (ROOT / "scheduler").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant | ast.JoinedStr):
                found.update(c for c in _literal(node) if CODE.fullmatch(c))
    return found


def test_every_code_in_content_md_is_emitted_by_the_package() -> None:
    emitted = _literals()
    stale = _table("content.md") - emitted
    assert not stale, f"docs/content.md lists codes nothing emits: {sorted(stale)}"


def test_the_dst_warnings_have_one_code_for_a_launch_and_for_a_beat() -> None:
    assert {"time-nonexistent", "time-ambiguous"} <= _emitted("content") & _emitted("planning")
