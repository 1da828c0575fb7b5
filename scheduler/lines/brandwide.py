"""``editorial_lines/_brand.yaml``: the voice rules every editorial line shares.

Banned words per locale and ban patterns (``scheduler.text.voice``) are written once for the
brand instead of once per line; ``may_extend`` names the lines that may add banned words of
their own (``rules.banned`` in their ``line.yaml``) — any other line doing so is refused, so a
ban list cannot quietly fork. Without the file, each line keeps only its own rules.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType

from scheduler.content.files import BRAND_FILE_NAME, BRAND_SHAPE
from scheduler.content.shapes import conform
from scheduler.content.yamlpos import load_yaml
from scheduler.core.diagnostics import Finding
from scheduler.lines.model import EditorialLine
from scheduler.text.patterns import BanPattern, compile_ban_pattern
from scheduler.text.voice import rules_from

#: Largest ``_brand.yaml`` accepted (bytes).
MAX_BRAND_BYTES = 256 * 1024


@dataclass(frozen=True, slots=True)
class Brand:
    """What every line shares; ``path`` is empty when the brand has no ``_brand.yaml``."""

    path: str = ""
    banned: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    patterns: Mapping[str, tuple[BanPattern, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    may_extend: frozenset[str] = frozenset()


NO_BRAND = Brand()


def load_brand(root: Path) -> tuple[Brand, list[Finding]]:
    """Read ``<root>/_brand.yaml``, if there is one: its shape, then each pattern compiled
    and tried on probe texts (a pattern that fails is a finding at its line, and left out)."""
    path = root / BRAND_FILE_NAME
    if not path.is_file():
        return NO_BRAND, []
    display = path.as_posix()
    loaded = load_yaml(path, display=display, max_bytes=MAX_BRAND_BYTES)
    findings = list(loaded.findings)
    root_node = loaded.root
    if root_node is None:
        return Brand(path=display), findings
    if not root_node.is_map:
        findings.append(
            Finding.error(root_node.pos, "wrong-type", f"{BRAND_FILE_NAME} must be a mapping")
        )
        return Brand(path=display), findings
    checked, shape_findings = conform(root_node, BRAND_SHAPE)
    findings.extend(shape_findings)
    banned = rules_from({"banned": checked.get("banned", {})}).banned
    patterns: dict[str, tuple[BanPattern, ...]] = {}
    node = root_node.get("patterns")
    for locale, sources in checked.get("patterns", {}).items():
        assert node is not None  # conform kept it, so it was written
        items = node.fields[locale].items
        compiled: list[BanPattern] = []
        for source, item in zip(sources, items, strict=False):
            made = compile_ban_pattern(source, item.pos)
            if isinstance(made, Finding):
                findings.append(made)
            else:
                compiled.append(made)
        patterns[locale] = tuple(compiled)
    return (
        Brand(
            path=display,
            banned=banned,
            patterns=MappingProxyType(patterns),
            may_extend=frozenset(checked.get("may_extend", ())),
        ),
        findings,
    )


def with_brand(line: EditorialLine, brand: Brand) -> tuple[EditorialLine, list[Finding]]:
    """``line`` with the brand's banned words and patterns added to its own rules.

    A line the brand does not let extend keeps only the brand's words, and its own list is
    a finding at its line.
    """
    if not brand.path:
        return line, []
    findings: list[Finding] = []
    own = line.voice_rules.banned
    if own and line.network not in brand.may_extend:
        pos = line.rule_positions.get(("banned",), line.pos)
        allowed = ", ".join(sorted(brand.may_extend)) or "none"
        findings.append(
            Finding.error(
                pos,
                "banned-not-extendable",
                f"{line.network} may not add banned words: {brand.path} holds the brand's list "
                f"(may_extend: {allowed}); move them there, or add {line.network} to may_extend",
            )
        )
        own = MappingProxyType({})
    merged = {key: tuple(words) for key, words in brand.banned.items()}
    for key, words in own.items():
        merged[key] = tuple(dict.fromkeys((*merged.get(key, ()), *words)))
    rules = replace(line.voice_rules, banned=MappingProxyType(merged), patterns=brand.patterns)
    return replace(line, voice_rules=rules), findings
