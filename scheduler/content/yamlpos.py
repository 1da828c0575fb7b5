"""Safe YAML loading that remembers where every key and value was written.

PyYAML's ``safe_load`` forgets positions, silently keeps the last of two duplicate keys, and
expands aliases without limit. Content files are written by people, so every mistake must come
back as a :class:`~scheduler.core.diagnostics.Finding` naming ``file:line:col`` — never as an
exception. We therefore *compose* the document (nodes with marks, aliases not yet expanded) and
convert it ourselves into a small :class:`Node` tree, counting every value produced so that an
alias bomb is refused after a bounded amount of work and memory.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from scheduler.content.yamlerrors import syntax_finding
from scheduler.core.diagnostics import Finding, Position

#: Files larger than this are refused before parsing (a story is a few KiB).
MAX_BYTES = 1024 * 1024


#: Values a document may expand to, aliases included; well above any real content file.
MAX_NODES = 100_000


#: Alias references a document may hold; real content uses a handful, bombs use thousands.
MAX_ALIASES = 1_000


#: Values all aliases together may expand to (a shared block of accounts merged into every
#: market is a few hundred; a "billion laughs" is billions).
MAX_EXPANSION = 10_000


_MERGE_TAG = "tag:yaml.org,2002:merge"


_MAP_TAG = "tag:yaml.org,2002:map"


_SEQ_TAG = "tag:yaml.org,2002:seq"


_STR_TAG = "tag:yaml.org,2002:str"


_BOOL_WORDS = {"yes", "no", "on", "off", "true", "false", "y", "n"}


# libyaml is much faster; its marks carry the same line and column.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class Kind(StrEnum):
    SCALAR = "scalar"
    MAP = "map"
    SEQ = "seq"


_EMPTY_NODES: Mapping[str, Node] = MappingProxyType({})


_EMPTY_POS: Mapping[str, Position] = MappingProxyType({})


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    """One YAML value and where it starts.

    ``value`` is the constructed Python value of a scalar (str, int, float, bool, None, date,
    datetime) and ``raw`` its source text, so a loader can reparse e.g. ``2026-12-01 09:00``
    exactly as written. Mappings keep their keys in file order with each key's position.
    """

    kind: Kind
    pos: Position
    value: Any = None
    raw: str = ""
    fields: Mapping[str, Node] = field(default_factory=lambda: _EMPTY_NODES)
    key_pos: Mapping[str, Position] = field(default_factory=lambda: _EMPTY_POS)
    items: tuple[Node, ...] = ()

    @property
    def is_map(self) -> bool:
        return self.kind is Kind.MAP

    @property
    def is_seq(self) -> bool:
        return self.kind is Kind.SEQ

    @property
    def is_scalar(self) -> bool:
        return self.kind is Kind.SCALAR

    def get(self, key: str) -> Node | None:
        return self.fields.get(key)

    def entries(self) -> Iterator[tuple[str, Position, Node]]:
        """Each key of a mapping with the key's position and its value."""
        for key, node in self.fields.items():
            yield key, self.key_pos.get(key, node.pos), node

    def plain(self) -> Any:
        """The value as plain Python (dicts, lists, scalars), positions dropped."""
        if self.kind is Kind.MAP:
            return {k: v.plain() for k, v in self.fields.items()}
        if self.kind is Kind.SEQ:
            return [v.plain() for v in self.items]
        return self.value


@dataclass(frozen=True, slots=True)
class Loaded:
    """The root node (None when the file is empty or unusable) and what went wrong."""

    root: Node | None
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return not any(f.is_error for f in self.findings)


class _Refused(Exception):
    """Internal: stop converting; the finding says why."""

    def __init__(self, finding: Finding) -> None:
        self.finding = finding
        super().__init__(finding.message)


def load_yaml(
    path: Path,
    *,
    display: str | None = None,
    max_bytes: int = MAX_BYTES,
    max_nodes: int = MAX_NODES,
) -> Loaded:
    """Read and parse one YAML file; every problem is a finding, nothing raises.

    ``display`` is the file name findings carry (default: ``str(path)``). The size is checked
    before a byte is parsed, so a huge file costs nothing.
    """
    name = display if display is not None else str(path)
    whole = Position(name, 0, 0)
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return Loaded(None, (_too_large(name, size, max_bytes),))
        with path.open("rb") as fh:
            data = fh.read(max_bytes + 1)
    except FileNotFoundError:
        return Loaded(None, (Finding.error(whole, "missing-file", "file not found"),))
    except OSError as exc:
        return Loaded(None, (Finding.error(whole, "unreadable-file", f"cannot read: {exc}"),))
    if len(data) > max_bytes:  # grew between stat and read
        return Loaded(None, (_too_large(name, len(data), max_bytes),))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        msg = f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); save the file as UTF-8"
        return Loaded(None, (Finding.error(Position(name, line, col), "yaml-encoding", msg),))
    return parse_yaml(text, name, max_bytes=max_bytes, max_nodes=max_nodes)


def parse_yaml(
    text: str, file: str, *, max_bytes: int = MAX_BYTES, max_nodes: int = MAX_NODES
) -> Loaded:
    """Parse YAML text already in memory (see :func:`load_yaml`)."""
    if len(text.encode("utf-8")) > max_bytes:
        return Loaded(None, (_too_large(file, len(text.encode("utf-8")), max_bytes),))
    # Every value is set off by one of these characters, so their count bounds the values
    # *before* libyaml spends seconds composing half a million of them.
    separators = sum(text.count(c) for c in ",\n:-[{")
    if separators > max_nodes:
        return Loaded(None, (_too_many_values(file, max_nodes),))
    loader = _Loader(text)
    try:
        try:
            composed = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            return Loaded(None, (syntax_finding(text, file, exc),))
        except yaml.YAMLError as exc:  # unmarked: very rare (reader errors)
            finding = Finding.error(Position(file, 1, 1), "yaml-syntax", str(exc))
            return Loaded(None, (finding,))
        if composed is None:
            return Loaded(None, ())
        converter = _Converter(loader, file, max_nodes)
        try:
            root = converter.convert(composed)
        except _Refused as refused:
            return Loaded(None, (refused.finding,))
        return Loaded(root, tuple(converter.findings))
    finally:
        loader.dispose()


def _too_large(file: str, size: int, limit: int) -> Finding:
    return Finding.error(
        Position(file, 1, 1),
        "file-too-large",
        f"file is {size:,} bytes; content files are limited to {limit:,} bytes "
        "(split it into several stories)",
    )


def _too_many_values(file: str, limit: int) -> Finding:
    return Finding.error(
        Position(file, 1, 1),
        "file-too-large",
        f"file may hold more than {limit:,} values; content files are limited to that "
        "(split it into several stories)",
    )


def _mark_pos(file: str, mark: Any) -> Position:
    if mark is None:
        return Position(file, 1, 1)
    return Position(file, int(mark.line) + 1, int(mark.column) + 1)


class _Converter:
    """Turns composed PyYAML nodes into :class:`Node`, counting work to stop alias bombs."""

    def __init__(self, loader: yaml.SafeLoader, file: str, max_nodes: int) -> None:
        self.loader = loader
        self.file = file
        self.max_nodes = max_nodes
        self.count = 0
        self.aliases = 0
        self.expanded = 0
        self.expanding = 0
        self.positions: dict[int, Position] = {}
        self.seen: set[int] = set()
        self.active: set[int] = set()
        self.findings: list[Finding] = []

    def pos(self, node: yaml.Node) -> Position:
        # Aliases revisit the same nodes: build each node's Position once.
        found = self.positions.get(id(node))
        if found is None:
            found = self.positions[id(node)] = _mark_pos(self.file, node.start_mark)
        return found

    def convert(self, node: yaml.Node) -> Node:
        self.count += 1
        # The composer hands an alias back as the very node it names, so a node met twice is
        # an alias. Count the aliases as written and every value they expand to: a document
        # made mostly of expansions is an alias bomb, refused after bounded work.
        reused = id(node) in self.seen
        if reused and not self.expanding:
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise _Refused(self._bomb(node, f"more than {MAX_ALIASES:,} alias references"))
        if reused or self.expanding:
            self.expanded += 1
            if self.expanded > MAX_EXPANSION:
                raise _Refused(
                    self._bomb(node, f"aliases expand to more than {MAX_EXPANSION:,} values")
                )
        self.seen.add(id(node))
        if self.count > self.max_nodes:
            raise _Refused(
                Finding.error(
                    self.pos(node),
                    "file-too-large",
                    f"document holds more than {self.max_nodes:,} values; refused",
                )
            )
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node)
        if id(node) in self.active:
            raise _Refused(self._bomb(node, "an alias refers to a value that contains it"))
        if len(self.active) >= 100:  # the nesting depth: real content nests a handful of levels
            why = "values nested more than 100 levels deep; refused (Python's stack is finite)"
            raise _Refused(Finding.error(self.pos(node), "yaml-too-deep", why))
        self.active.add(id(node))
        self.expanding += reused
        try:
            if isinstance(node, yaml.MappingNode):
                return self.mapping(node)
            if isinstance(node, yaml.SequenceNode):
                return self.sequence(node)
        finally:
            self.active.discard(id(node))
            self.expanding -= reused
        raise _Refused(Finding.error(self.pos(node), "yaml-syntax", "unsupported YAML node"))

    def _bomb(self, node: yaml.Node, why: str) -> Finding:
        return Finding.error(
            self.pos(node), "yaml-alias-bomb", f"YAML aliases refused: {why} (an alias bomb?)"
        )

    def scalar(self, node: yaml.ScalarNode) -> Node:
        if node.tag == _STR_TAG:  # most values: skip the constructor machinery
            return Node(Kind.SCALAR, self.pos(node), value=node.value, raw=node.value)
        try:
            value = self.loader.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            problem = exc.problem or "cannot read this value"
            raise _Refused(
                Finding.error(_mark_pos(self.file, exc.problem_mark), "yaml-tag", problem)
            ) from None
        except (ValueError, TypeError) as exc:  # e.g. !!int "abc"
            raise _Refused(Finding.error(self.pos(node), "yaml-tag", str(exc))) from None
        return Node(Kind.SCALAR, self.pos(node), value=value, raw=str(node.value))

    def sequence(self, node: yaml.SequenceNode) -> Node:
        if node.tag != _SEQ_TAG:
            raise _Refused(
                Finding.error(self.pos(node), "yaml-tag", f"unsupported tag {node.tag!r}")
            )
        return Node(Kind.SEQ, self.pos(node), items=tuple(self.convert(v) for v in node.value))

    def mapping(self, node: yaml.MappingNode) -> Node:
        if node.tag != _MAP_TAG:
            raise _Refused(
                Finding.error(self.pos(node), "yaml-tag", f"unsupported tag {node.tag!r}")
            )
        fields: dict[str, Node] = {}
        key_pos: dict[str, Position] = {}
        merged: list[Node] = []
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _MERGE_TAG:
                merged.append(self.convert(value_node))
                continue
            kpos = self.pos(key_node)
            key = self.key(key_node, kpos)
            value = self.convert(value_node)
            if key is None:
                continue
            if key in fields:
                first = key_pos[key]
                self.findings.append(
                    Finding.error(
                        kpos,
                        "duplicate-key",
                        f"duplicate key {key!r}: already set at line {first.line}, "
                        f"column {first.column}; YAML would silently keep only one",
                    )
                )
                continue
            fields[key] = value
            key_pos[key] = kpos
        for source in merged:  # `<<: *defaults`: explicit keys win
            for m in source.items if source.is_seq else (source,):
                if not m.is_map:
                    self.findings.append(
                        Finding.error(m.pos, "wrong-type", "a merge key (<<) needs a mapping")
                    )
                    continue
                for k, kp, v in m.entries():
                    if k not in fields:
                        fields[k] = v
                        key_pos[k] = kp
        return Node(
            Kind.MAP,
            self.pos(node),
            fields=MappingProxyType(fields),
            key_pos=MappingProxyType(key_pos),
        )

    def key(self, key_node: yaml.Node, kpos: Position) -> str | None:
        if not isinstance(key_node, yaml.ScalarNode):
            self.findings.append(
                Finding.error(
                    kpos, "non-string-key", "a key must be a plain name, not a collection"
                )
            )
            return None
        self.count += 1
        key = self.scalar(key_node).value
        if isinstance(key, str):
            return key
        hint = ""
        if isinstance(key, bool) and key_node.value.lower() in _BOOL_WORDS:
            hint = f" (YAML reads {key_node.value} as {key}; quote it: '{key_node.value}')"
        elif key is not None:
            hint = f" (quote it: '{key_node.value}')"
        self.findings.append(
            Finding.error(kpos, "non-string-key", f"key {key_node.value!r} is not text{hint}")
        )
        return None


def scalar_text(node: Node | None, *, dates: bool = False) -> str | None:
    """A scalar as the text its shape accepts (numbers, optionally dates, as written)."""
    if node is None or not node.is_scalar:
        return None
    v = node.value
    if isinstance(v, str):
        return v
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int | float) or (dates and isinstance(v, date)):
        return node.raw
    return None


def kind_name(node: Node) -> str:
    """How a value reads to a person, for "expected X, got Y" messages."""
    if node.kind is Kind.MAP:
        return "a mapping"
    if node.kind is Kind.SEQ:
        return "a list"
    v = node.value
    if v is None:
        return "nothing (null)"
    if isinstance(v, bool):
        return f"a yes/no value ({node.raw})"
    if isinstance(v, int | float):
        return f"a number ({node.raw})"
    if isinstance(v, str):
        return "text"
    return f"a {type(v).__name__} ({node.raw})"
