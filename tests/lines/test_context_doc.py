"""docs/editorial-lines.md documents exactly the fields a template may use (PostContext)."""

from __future__ import annotations

import re
from pathlib import Path

from scheduler.lines.model import CONTEXT_FIELDS, PostContext

DOC = Path(__file__).resolve().parents[2] / "docs" / "editorial-lines.md"


def _documented_fields() -> list[str]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## What a template may use", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z_]+)` \|", section, flags=re.MULTILINE)


def test_the_doc_lists_every_context_field_in_order() -> None:
    assert _documented_fields() == list(CONTEXT_FIELDS)


def test_a_template_sees_the_context_fields_and_nothing_else() -> None:
    assert set(PostContext.__dataclass_fields__) == set(CONTEXT_FIELDS)
