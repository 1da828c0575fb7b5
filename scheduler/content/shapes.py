"""The small language the file shapes are written in, and the check of a YAML node against one.

A shape says what type a value has, which fields a mapping may hold and which it must, and
which words or patterns a text may take. :mod:`scheduler.content.files` writes one shape per
file type; the loader checks nodes against it and :mod:`scheduler.content.schema` turns it
into the JSON Schema editors use.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from types import MappingProxyType
from typing import Any

from scheduler.content.yamlpos import Node, kind_name
from scheduler.core.diagnostics import Finding
from scheduler.core.suggest import closest, did_you_mean


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
    #: Finding codes renamed for this mapping and everything in it: the rules of
    #: ``line.yaml`` say ``unknown-rule`` and ``invalid-rule``, as ``docs/networks.md`` lists.
    codes: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


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
    return conform(node, shape, what)[1]


def conform(node: Node, shape: Shape, what: str = "value") -> tuple[Any, list[Finding]]:
    """``node`` as plain Python with every part that departs from ``shape`` left out, and why.

    The value is what a loader may read without checking types again: a mapping keeps only
    its known, well-formed fields (a required one may be missing: a finding says so), a list
    only its good items, a text is the text as written (a number or date the shape takes as
    text comes back as its source text). A value refused as a whole comes back as ``None``,
    which no shape accepts.
    """
    out: list[Finding] = []

    def wrong(n: Node, s: Shape, label: str) -> Any:
        out.append(
            Finding.error(
                n.pos, "wrong-type", f"{label} must be {shape_name(s)}, not {kind_name(n)}"
            )
        )
        return _REFUSED

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

    def walk(n: Node, s: Shape, label: str) -> Any:
        if isinstance(s, OneOf):
            for option in s.options:
                if accepts(n, option):
                    return walk(n, option, label)
            return wrong(n, s, label)
        if isinstance(s, Text):
            return text(n, s, label)
        if isinstance(s, Boolean | Integer):
            if not accepts(n, s):
                return wrong(n, s, label)
            if isinstance(s, Integer) and s.minimum is not None and n.value < s.minimum:
                out.append(
                    Finding.error(n.pos, "bad-value", f"{label} must be at least {s.minimum}")
                )
                return _REFUSED
            return n.value
        if isinstance(s, Seq):
            return sequence(n, s, label)
        if not s.codes:
            return mapping(n, s, label)
        start = len(out)
        value = mapping(n, s, label)
        for i in range(start, len(out)):
            code = s.codes.get(out[i].code)
            if code is not None:
                out[i] = replace(out[i], code=code)
        return value

    def text(n: Node, s: Text, label: str) -> Any:
        if n.is_scalar and n.value in s.also and not isinstance(n.value, bool):
            return n.value
        value = text_ok(n, s)
        if value is None:
            return wrong(n, s, label)
        if s.enum is not None and value not in s.enum:
            choices = ", ".join(s.enum)
            out.append(
                Finding.error(
                    n.pos,
                    "bad-value",
                    f"{label} is {value!r}; expected one of {choices}{did_you_mean(value, s.enum)}",
                )
            )
            return _REFUSED
        if s.pattern is not None and not re.fullmatch(s.pattern, value):
            hint = f"; {s.pattern_hint}" if s.pattern_hint else ""
            message = f"{label} {value!r} is not valid{hint}"
            out.append(Finding.error(n.pos, s.pattern_code, message))
            return _REFUSED
        return value

    def sequence(n: Node, s: Seq, label: str) -> Any:
        if not n.is_seq:
            return wrong(n, s, label)
        if len(n.items) < s.min_items:
            out.append(
                Finding.error(n.pos, "bad-value", f"{label} needs at least {s.min_items} item(s)")
            )
        items = (walk(item, s.item, f"{label}[{i}]") for i, item in enumerate(n.items))
        return [item for item in items if item is not _REFUSED]

    def mapping(n: Node, s: Obj, label: str) -> Any:
        if not n.is_map:
            return wrong(n, s, label)
        if len(n.fields) < s.min_fields:
            out.append(
                Finding.error(n.pos, "bad-value", f"{label} needs at least {s.min_fields} entry")
            )
        kept: dict[str, Any] = {}
        typos: set[str] = set()  # required fields an unknown key is a typo of: said once
        for key, kpos, value in n.entries():
            sub = f"{key}" if label == "value" else f"{label}.{key}"
            spec = s.fields.get(key)
            if spec is not None:
                if spec.nonblank and value.is_scalar and value.value in (None, ""):
                    out.append(Finding.error(value.pos, spec.missing_code, f"{sub} is empty"))
                    continue
                checked = walk(value, spec.shape, sub)
            elif s.values is not None:
                if s.key_pattern is not None and not re.fullmatch(s.key_pattern, key):
                    doc = f"; {s.key_doc}" if s.key_doc else ""
                    out.append(Finding.error(kpos, "bad-key", f"{sub}: {key!r} is not valid{doc}"))
                    continue
                checked = walk(value, s.values, sub)
            else:
                known = tuple(s.fields)
                where = f" in {label}" if label != "value" else ""
                hint = did_you_mean(key, known)
                meant = closest(key, known)
                if meant and s.fields[meant[0]].required and meant[0] not in n.fields:
                    typos.add(meant[0])
                    hint = f" (did you mean {meant[0]!r}? it is required, and missing)"
                out.append(
                    Finding.error(
                        kpos,
                        "unknown-field",
                        f"unknown field {key!r}{where}{hint}; known fields: {', '.join(known)}",
                    )
                )
                continue
            if checked is not _REFUSED:
                kept[key] = checked
        if s.any_of and not any(k in n.fields for k in s.any_of):
            where = f" in {label}" if label != "value" else ""
            out.append(
                Finding.error(
                    n.pos, "missing-field", f"set at least one of {', '.join(s.any_of)}{where}"
                )
            )
        for key, spec in s.fields.items():
            if spec.required and key not in n.fields and key not in typos:
                where = f" in {label}" if label != "value" else ""
                out.append(
                    Finding.error(
                        n.pos, spec.missing_code, f"missing required field {key!r}{where}"
                    )
                )
        return kept

    value = walk(node, shape, what)
    return (None if value is _REFUSED else value), out


#: What a part of a value that breaks its shape conforms to: nothing (see :func:`conform`).
_REFUSED: Any = object()
