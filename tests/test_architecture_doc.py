"""docs/architecture.md draws the layers tests/test_architecture.py enforces: its table's "may
import" column, and the arrows of its flowchart followed to the end, are that test's LAYERS."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "architecture.md"


def _layers() -> dict[str, set[str]]:
    spec = importlib.util.spec_from_file_location(
        "_layers", ROOT / "tests" / "test_architecture.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return dict(module.LAYERS)


def _section(title: str) -> str:
    doc = DOC.read_text(encoding="utf-8")
    return doc.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def table_layers() -> dict[str, set[str]]:
    """The table: ``| `folder/` | job | may import |``; "every folder above" means so."""
    shown: dict[str, set[str]] = {}
    for folder, allowed in re.findall(
        r"^\| `([a-z]+)/` \|.*\| ([^|]+) \|$", _section("The layers"), re.M
    ):
        if allowed == "nothing":
            shown[folder] = set()
        elif allowed == "every folder above":
            shown[folder] = set(shown)
        else:
            shown[folder] = set(re.findall(r"`([a-z]+)`", allowed))
    return shown


def flowchart_layers() -> dict[str, set[str]]:
    """The flowchart's arrows, each folder with every folder its arrows lead to."""
    chart = _section("The layers").split("```mermaid\n", 1)[1].split("```", 1)[0]
    direct: dict[str, set[str]] = {}
    for line in chart.splitlines()[1:]:
        a, _, b = line.strip().partition(" --> ")
        direct.setdefault(a, set())
        if b:
            direct[a].add(b)
            direct.setdefault(b, set())

    def reached(folder: str) -> set[str]:
        out: set[str] = set()
        for nxt in direct[folder]:
            out |= {nxt} | reached(nxt)
        return out

    return {folder: reached(folder) for folder in direct}


def test_the_table_lists_every_layer_with_what_it_may_import() -> None:
    assert table_layers() == _layers()


def test_the_flowchart_leads_each_layer_to_what_it_may_import_and_no_further() -> None:
    assert flowchart_layers() == _layers()
