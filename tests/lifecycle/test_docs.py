"""docs/architecture.md shows the lifecycle table as the code has it, diagram and table.

Both are generated from ``TRANSITIONS`` (``lifecycle.mermaid()``, ``lifecycle.markdown_table()``)
and pasted between HTML comment markers. After changing the table, rewrite the page's copies
with ``.venv/bin/python tests/lifecycle/test_docs.py`` and review the diff.
"""

from __future__ import annotations

import re
from pathlib import Path

from scheduler.core import lifecycle
from scheduler.core.lifecycle import TRANSITIONS, Cause, HoldReason, PostState

DOC = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def _generated() -> dict[str, str]:
    """Marker name -> what belongs between its begin and end markers."""
    return {
        "lifecycle-diagram": f"```mermaid\n{lifecycle.mermaid()}\n```",
        "lifecycle-table": lifecycle.markdown_table(),
    }


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}: begin -->", f"<!-- {name}: end -->"


def _shown(doc: str, name: str) -> str:
    begin, end = _markers(name)
    assert doc.count(begin) == 1 and doc.count(end) == 1, f"{DOC.name} needs one {begin}...{end}"
    return doc.split(begin, 1)[1].split(end, 1)[0].strip()


def test_the_diagram_and_the_table_of_the_page_are_generated_from_the_table() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for name, text in _generated().items():
        assert _shown(doc, name) == text, (
            f"docs/architecture.md's {name} is out of date: "
            "run .venv/bin/python tests/lifecycle/test_docs.py"
        )


def test_the_diagram_has_an_arrow_for_every_move_and_no_other() -> None:
    drawn = {
        (a, b, cause)
        for a, b, causes in re.findall(r"^ {4}(\S+) --> (\S+): (.+)$", lifecycle.mermaid(), re.M)
        for cause in causes.split(", ")
    }
    expected = {
        ("[*]" if t.source is None else str(t.source), str(t.target), str(t.cause))
        for t in TRANSITIONS
    }
    assert drawn == expected


def test_the_table_has_a_row_for_every_move_with_who_makes_it() -> None:
    rows = lifecycle.markdown_table().splitlines()[2:]
    assert len(rows) == len(TRANSITIONS)
    for row, t in zip(rows, TRANSITIONS, strict=True):
        cells = [c.strip().strip("`") for c in row.strip("|").split("|")]
        assert cells[:4] == [
            "(new)" if t.source is None else t.source,
            t.target,
            t.cause,
            lifecycle.actor(t.cause),
        ]
        assert cells[4] == (lifecycle.hold_reason(t.cause) or "")


def test_the_page_names_every_state_cause_and_hold_reason() -> None:
    doc = DOC.read_text(encoding="utf-8")
    for name in [*PostState, *Cause, *HoldReason]:
        assert f"`{name}`" in doc, name


def rewrite() -> None:
    """Replace the page's generated parts with what the table generates now."""
    doc = DOC.read_text(encoding="utf-8")
    for name, text in _generated().items():
        begin, end = _markers(name)
        head, rest = doc.split(begin, 1)
        _, tail = rest.split(end, 1)
        doc = f"{head}{begin}\n{text}\n{end}{tail}"
    DOC.write_text(doc, encoding="utf-8")


if __name__ == "__main__":
    rewrite()
