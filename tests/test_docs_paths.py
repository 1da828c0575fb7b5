"""The docs name code that exists: every module, file and name they cite is where they say.

The README and ``docs/*.md`` cite code three ways, and each is checked:

* rooted at the package, ``scheduler/text/links.py`` or ``scheduler.text.links.track``: the
  file must exist, the dotted name must import (a module, then attributes of it);
* ``from scheduler... import ...`` in a ``python`` code block: every name must import;
* a short dotted name in backticks whose first part is a module of the package
  (``xlength.x_weighted_length``, ``calendar.queries.due_query``): some module of that name
  must have it; and a file name in backticks (``publishers/http.py``, ``worker.py``) must be
  the end of a file's path in the repository.

docs/decisions.md is exempt from the last rule only: its account of the layout names the
modules of the old flat package (``store.py``, ``tasks.py``) on purpose. CHANGELOG.md is a
history and is not checked. Last, no file of the repository may cite a design document the
repository does not have: the docs it cites are these pages.
"""

from __future__ import annotations

import ast
import importlib
import os
import re
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "scheduler"
DOCS = sorted([ROOT / "README.md", *(ROOT / "docs").glob("*.md")])
HISTORY = {ROOT / "docs" / "decisions.md"}
SKIP_DIRS = {".venv", ".git", "node_modules", ".storyline", ".bench", "__pycache__", ".mypy_cache"}
SKIP_DIRS |= {".ruff_cache", ".pytest_cache", ".hypothesis"}

ROOTED = re.compile(r"(?<![\w/.-])scheduler[./][A-Za-z0-9_./]*[A-Za-z0-9_/]")
CODE_BLOCK = re.compile(r"^```python\n(.*?)^```", re.M | re.S)
INLINE = re.compile(r"`([^`\n]+)`")
DOTTED = re.compile(r"[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)+")
FILE_NAME = re.compile(r"[\w./-]*\w\.py")
#: Dotted words that are not Python: file names, hosts, the networks' own vocabulary.
NOT_CODE_ENDS = (".md", ".py", ".yaml", ".yml", ".j2", ".json", ".html", ".ics", ".css", ".js")
NOT_CODE_ENDS += (".txt", ".db", ".ts", ".com", ".net")
NOT_CODE_STARTS = ("app.bsky.", "youtube.", "media.media_ids", "config.", "http.server")


def _resolves(dotted: str) -> bool:
    """``a.b.c.d``: the longest importable module prefix, then attributes of it."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: object = importlib.import_module(".".join(parts[:cut]))
        except ModuleNotFoundError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


@cache
def _modules_by_name() -> dict[str, list[str]]:
    """Every module and package of ``scheduler`` by its last name: ``xlength`` -> [...]."""
    found: dict[str, list[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(ROOT).with_suffix("")
        parts = rel.parts[:-1] if rel.name == "__init__" else rel.parts
        if "migrations" not in parts:
            found.setdefault(parts[-1], []).append(".".join(parts))
    return found


@cache
def _files() -> list[str]:
    """Every ``.py`` file of the repository, as ``/path/from/the/root``."""
    found = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        rel = Path(folder).relative_to(ROOT)
        found += [f"/{rel / name}" for name in files if name.endswith(".py")]
    return found


def _rooted_ok(name: str) -> bool:
    name = name.rstrip(".")
    if "/" in name:
        return (ROOT / name).exists()
    return _resolves(name)


def _short_ok(dotted: str) -> bool | None:
    """None when the first part names no module of the package (then it is not a citation)."""
    head, _, rest = dotted.partition(".")
    candidates = _modules_by_name().get(head)
    if not candidates:
        return None
    return any(_resolves(f"{module}.{rest}") for module in candidates)


def citations(doc: Path) -> list[tuple[int, str, bool]]:
    """(line, name, found) for every piece of code the page cites."""
    text = doc.read_text(encoding="utf-8")
    out: list[tuple[int, str, bool]] = []

    def line_of(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    for m in ROOTED.finditer(text):
        out.append((line_of(m.start()), m.group(), _rooted_ok(m.group())))
    for block in CODE_BLOCK.finditer(text):
        for node in ast.walk(ast.parse(block.group(1))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("scheduler"):
                for alias in node.names:
                    name = f"{node.module}.{alias.name}"
                    out.append((line_of(block.start()), name, _resolves(name)))
    for m in INLINE.finditer(text):
        code = m.group(1)
        if "scheduler" in code:
            continue  # checked as rooted above
        for token in DOTTED.findall(code):
            if token.endswith(NOT_CODE_ENDS) or token.startswith(NOT_CODE_STARTS):
                continue
            if (found := _short_ok(token)) is None:
                continue
            out.append((line_of(m.start()), token, found))
        if doc not in HISTORY:
            for name in FILE_NAME.findall(code):
                path = "/" + name.removeprefix("./")
                found_file = any(f.endswith(path) for f in _files())
                out.append((line_of(m.start()), name, found_file))
    return out


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_piece_of_code_a_page_cites_exists(doc: Path) -> None:
    missing = [f"{doc.name}:{line}: {name}" for line, name, found in citations(doc) if not found]
    assert missing == []


def test_the_check_sees_citations_and_refuses_a_moved_module() -> None:
    readme = citations(ROOT / "docs" / "architecture.md")
    assert any(name == "scheduler/core/lifecycle.py" for _, name, _ in readme)
    assert not _rooted_ok("scheduler/store.py")
    assert not _rooted_ok("scheduler.pipeline.load_plan")
    assert _rooted_ok("scheduler.app.pipeline.load_plan")
    assert _short_ok("xlength.x_weighted_length") is True
    assert _short_ok("store.due_query") is None
    assert _short_ok("calendar.queries.no_such_query") is False


def test_no_file_cites_a_design_document_the_repository_does_not_have() -> None:
    word = "DES" + "IGN"  # spelled so that this file does not hold the word either
    citing = []
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [d for d in dirs if d not in SKIP_DIRS]
        for name in files:
            path = Path(folder) / name
            if path.suffix in {".png", ".db", ".pyc"}:
                continue
            try:
                text = path.read_text(encoding="utf-8")
            except (UnicodeDecodeError, OSError):
                continue
            if word in text:
                citing.append(str(path.relative_to(ROOT)))
    assert citing == []
