"""JSON Schemas (draft 2020-12) of the files the brand writes, for editors and CI.

Generated from the very shapes the loaders validate with (``scheduler.content.files``: one per
file type), so the schema an editor shows and the checks ``storyline validate`` runs cannot
drift apart. The schema covers shape (types, known fields, enums, patterns); meaning (does this
market exist, is this zone real, does the media file exist) stays with ``storyline validate``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from scheduler.content.files import BRAND_SHAPE, LINE_SHAPE, MARKETS_SHAPE, STORY_SHAPE
from scheduler.content.shapes import Boolean, Field, Integer, Obj, Seq, Shape, Text

DRAFT: Final = "https://json-schema.org/draft/2020-12/schema"
BASE_ID: Final = "https://storyline.example/schema/"

#: ``storyline schema KIND``: which file each schema describes.
SHAPES: Final[Mapping[str, tuple[Obj, str]]] = MappingProxyType(
    {
        "story": (STORY_SHAPE, "Storyline story (content/stories/<id>.yaml)"),
        "markets": (MARKETS_SHAPE, "Storyline markets (content/markets.yaml)"),
        "line": (LINE_SHAPE, "Storyline editorial line (editorial_lines/<network>/line.yaml)"),
        "brand": (BRAND_SHAPE, "Storyline brand voice rules (editorial_lines/_brand.yaml)"),
    }
)
KINDS: Final = tuple(SHAPES)


def json_schema(kind: str = "story") -> dict[str, Any]:
    """The JSON Schema of one kind of file (``story``, ``markets``, ``line`` or ``brand``)."""
    if kind not in SHAPES:
        raise KeyError(f"unknown schema {kind!r}; choose one of {', '.join(KINDS)}")
    shape, title = SHAPES[kind]
    schema: dict[str, Any] = {"$schema": DRAFT, "$id": f"{BASE_ID}{kind}.json", "title": title}
    schema.update(_schema(shape))
    return schema


def schema_text(kind: str = "story") -> str:
    """The schema as pretty JSON, as ``storyline schema`` prints it."""
    return json.dumps(json_schema(kind), ensure_ascii=False, indent=2)


def _schema(shape: Shape) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(shape, Text):
        out = _text(shape)
    elif isinstance(shape, Integer):
        out = {"type": "integer"}
        if shape.minimum is not None:
            out["minimum"] = shape.minimum
    elif isinstance(shape, Boolean):
        out = {"type": "boolean"}
    elif isinstance(shape, Seq):
        out = {"type": "array", "items": _schema(shape.item)}
        if shape.min_items:
            out["minItems"] = shape.min_items
    elif isinstance(shape, Obj):
        out = _object(shape)
    else:
        out = {"anyOf": [_schema(option) for option in shape.options]}
    if shape.doc:
        out.setdefault("description", shape.doc)
    return out


def _text(shape: Text) -> dict[str, Any]:
    if shape.enum is not None:
        out: dict[str, Any] = {"enum": list(shape.enum)}
    elif shape.pattern is not None:
        out = {"type": "string", "pattern": shape.pattern}
        if shape.numbers_ok and not shape.also and re.fullmatch(shape.pattern, "0"):
            # The loader reads a number as its source text (``2027`` as a hashtag or a story
            # id); the schema sees only the number, so it admits every number when digits
            # fit the pattern and leaves the rest (a negative id) to the loader. The
            # constants in ``also`` (an offset of 0) are the only numbers such a text takes.
            out = {"anyOf": [out, {"type": "number"}]}
    elif shape.numbers_ok:
        out = {"type": ["string", "number"]}
    else:
        out = {"type": "string"}
    if shape.examples:
        out["examples"] = list(shape.examples)
    if shape.also:
        return {"anyOf": [out, {"enum": list(shape.also)}]}
    return out


def _field(spec: Field) -> dict[str, Any]:
    out = _schema(spec.shape)
    if spec.nonblank:  # JSON Schema applies these to strings only, as the loader does
        blank_free = {"minLength": 1, "pattern": r"\S"}
        out = {"allOf": [out, blank_free]} if "pattern" in out else out | blank_free
    if spec.doc:
        out["description"] = spec.doc
    if spec.default is not None:
        out["default"] = spec.default
    return out


def _object(shape: Obj) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object"}
    if shape.fields:
        out["properties"] = {name: _field(spec) for name, spec in shape.fields.items()}
        required = [name for name, spec in shape.fields.items() if spec.required]
        if required:
            out["required"] = required
    if shape.values is not None:
        out["additionalProperties"] = _schema(shape.values)
        if shape.key_pattern is not None:
            names: dict[str, Any] = {"pattern": shape.key_pattern}
            if shape.key_doc:
                names["description"] = shape.key_doc
            out["propertyNames"] = names
    else:
        out["additionalProperties"] = False
    if shape.min_fields:
        out["minProperties"] = shape.min_fields
    if shape.any_of:
        out["anyOf"] = [{"required": [name]} for name in shape.any_of]
    return out
