"""The small language the file shapes are written in, and the check of a YAML node against one.

A shape says what type a value has, which fields a mapping may hold and which it must, and
which words or patterns a text may take. :mod:`scheduler.content.files` writes one shape per
file type; the loader checks nodes against it and :mod:`scheduler.content.schema` turns it
into the JSON Schema editors use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from types import MappingProxyType
from typing import Any

from scheduler.content.yamlpos import Node, kind_name
from scheduler.core.diagnostics import Finding
from scheduler.core.suggest import did_you_mean


@dataclass(frozen=True, slots=True)
class Text:
    """A text value. ``also`` lists non-text constants accepted too (an offset may be ``0``).

    A ``pattern`` mismatch is reported with ``pattern_code`` and ``pattern_hint``. YAML reads
    ``2027`` as a number and ``2026-12-01`` as a date: with ``numbers_ok`` / ``dates_ok`` such
    values are accepted as the text written. ``yes``/``no`` are never taken as text.
    """

    doc: str = ""
    enum: tuple[str, ...] | None = None
    pattern: str | None = None
    pattern_code: str = "bad-value"
    pattern_hint: str = ""
    also: tuple[Any, ...] = ()
    numbers_ok: bool = True
    dates_ok: bool = False
    examples: tuple[Any, ...] = ()


@dataclass(frozen=True, slots=True)
class Integer:
    doc: str = ""
    minimum: int | None = None


@dataclass(frozen=True, slots=True)
class Boolean:
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Seq:
    item: Shape
    doc: str = ""
    min_items: int = 0


@dataclass(frozen=True, slots=True)
class Field:
    """One key of an :class:`Obj`; ``missing_code`` names the finding when it is absent/blank."""

    shape: Shape
    required: bool = False
    default: Any = None
    doc: str = ""
    missing_code: str = "missing-field"
    nonblank: bool = False


@dataclass(frozen=True, slots=True)
class Obj:
    """A mapping: known ``fields``, or free keys (``key_pattern``) each holding ``values``.

    ``any_of`` names fields of which at least one is required (an account's id or handle).
    """

    fields: Mapping[str, Field] = field(default_factory=lambda: MappingProxyType({}))
    values: Shape | None = None
    key_pattern: str | None = None
    key_doc: str = ""
    doc: str = ""
    min_fields: int = 0
    any_of: tuple[str, ...] = ()  # at least one of these fields must be set


@dataclass(frozen=True, slots=True)
class OneOf:
    """Either form is accepted (e.g. a scalar shorthand or a full mapping)."""

    options: tuple[Shape, ...]
    doc: str = ""


Shape = Text | Integer | Boolean | Seq | Obj | OneOf


def shape_name(shape: Shape) -> str:
    if isinstance(shape, Text):
        return "text"
    if isinstance(shape, Integer):
        return "a whole number"
    if isinstance(shape, Boolean):
        return "true or false"
    if isinstance(shape, Seq):
        return f"a list of {shape_name(shape.item).removeprefix('a ')}"
    if isinstance(shape, Obj):
        return "a mapping"
    return " or ".join(shape_name(o) for o in shape.options)


def check_shape(node: Node, shape: Shape, what: str = "value") -> list[Finding]:
    """Every way ``node`` departs from ``shape``: types, unknown fields, enums, patterns.

    Meaning (does this market exist? is this zone real?) is the loader's job; this only
    guarantees that a value the loader reads has the type its table promises.
    """
    out: list[Finding] = []

    def wrong(n: Node, s: Shape, label: str) -> None:
        out.append(
            Finding.error(
                n.pos, "wrong-type", f"{label} must be {shape_name(s)}, not {kind_name(n)}"
            )
        )

    def text_ok(n: Node, s: Text) -> str | None:
        if not n.is_scalar:
            return None
        if isinstance(n.value, str):
            return n.value
        if n.value in s.also and not isinstance(n.value, bool):
            return None
        if s.numbers_ok and isinstance(n.value, int | float) and not isinstance(n.value, bool):
            return n.raw
        if s.dates_ok and isinstance(n.value, date):
            return n.raw
        return None

    def accepts(n: Node, s: Shape) -> bool:
        """Quick type test used to pick a :class:`OneOf` branch."""
        if isinstance(s, Obj):
            return n.is_map
        if isinstance(s, Seq):
            return n.is_seq
        if isinstance(s, Text):
            return text_ok(n, s) is not None or (
                n.is_scalar and n.value in s.also and not isinstance(n.value, bool)
            )
        if isinstance(s, Boolean):
            return n.is_scalar and isinstance(n.value, bool)
        if isinstance(s, Integer):
            return n.is_scalar and isinstance(n.value, int) and not isinstance(n.value, bool)
        return any(accepts(n, o) for o in s.options)

    def walk(n: Node, s: Shape, label: str) -> None:
        if isinstance(s, OneOf):
            for option in s.options:
                if accepts(n, option):
                    walk(n, option, label)
                    return
            wrong(n, s, label)
            return
        if isinstance(s, Text):
            if n.is_scalar and n.value in s.also and not isinstance(n.value, bool):
                return
            text = text_ok(n, s)
            if text is None:
                wrong(n, s, label)
                return
            if s.enum is not None and text not in s.enum:
                choices = ", ".join(s.enum)
                out.append(
                    Finding.error(
                        n.pos,
                        "bad-value",
                        f"{label} is {text!r}; expected one of {choices}"
                        f"{did_you_mean(text, s.enum)}",
                    )
                )
            elif s.pattern is not None and not re.fullmatch(s.pattern, text):
                hint = f"; {s.pattern_hint}" if s.pattern_hint else ""
                out.append(
                    Finding.error(n.pos, s.pattern_code, f"{label} {text!r} is not valid{hint}")
                )
            return
        if isinstance(s, Boolean | Integer):
            if not accepts(n, s):
                wrong(n, s, label)
            elif isinstance(s, Integer) and s.minimum is not None and n.value < s.minimum:
                out.append(
                    Finding.error(n.pos, "bad-value", f"{label} must be at least {s.minimum}")
                )
            return
        if isinstance(s, Seq):
            if not n.is_seq:
                wrong(n, s, label)
                return
            if len(n.items) < s.min_items:
                out.append(
                    Finding.error(
                        n.pos, "bad-value", f"{label} needs at least {s.min_items} item(s)"
                    )
                )
            for i, item in enumerate(n.items):
                walk(item, s.item, f"{label}[{i}]")
            return
        if not n.is_map:
            wrong(n, s, label)
            return
        if len(n.fields) < s.min_fields:
            out.append(
                Finding.error(n.pos, "bad-value", f"{label} needs at least {s.min_fields} entry")
            )
        for key, kpos, value in n.entries():
            sub = f"{key}" if label == "value" else f"{label}.{key}"
            spec = s.fields.get(key)
            if spec is not None:
                if spec.nonblank and value.is_scalar and value.value in (None, ""):
                    out.append(Finding.error(value.pos, spec.missing_code, f"{sub} is empty"))
                    continue
                walk(value, spec.shape, sub)
            elif s.values is not None:
                if s.key_pattern is not None and not re.fullmatch(s.key_pattern, key):
                    doc = f"; {s.key_doc}" if s.key_doc else ""
                    out.append(Finding.error(kpos, "bad-key", f"{sub}: {key!r} is not valid{doc}"))
                    continue
                walk(value, s.values, sub)
            else:
                known = tuple(s.fields)
                where = f" in {label}" if label != "value" else ""
                out.append(
                    Finding.error(
                        kpos,
                        "unknown-field",
                        f"unknown field {key!r}{where}{did_you_mean(key, known)}; "
                        f"known fields: {', '.join(known)}",
                    )
                )
        if s.any_of and not any(k in n.fields for k in s.any_of):
            where = f" in {label}" if label != "value" else ""
            out.append(
                Finding.error(
                    n.pos, "missing-field", f"set at least one of {', '.join(s.any_of)}{where}"
                )
            )
        for key, spec in s.fields.items():
            if spec.required and key not in n.fields:
                where = f" in {label}" if label != "value" else ""
                out.append(
                    Finding.error(
                        n.pos, spec.missing_code, f"missing required field {key!r}{where}"
                    )
                )

    walk(node, shape, what)
    return out
