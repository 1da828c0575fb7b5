"""Reading the editorial lines folder: each ``line.yaml``, the templates, the compiled cache.

An editorial line lives in ``editorial_lines/<network>/``: ``line.yaml`` (the voice, its rules
and per-locale phrases) and one template per beat (``teaser.j2``, ``reveal.j2``...), falling
back to ``default.j2`` the way a Pelican theme falls back to its parent. Shared macros live in
``editorial_lines/_shared/`` and are imported as ``{% import "_shared/macros.j2" as m %}``;
the voice rules every line shares (banned words, ban patterns) live in
``editorial_lines/_brand.yaml`` (``scheduler.lines.brandwide``).

``line.yaml`` is checked against ``LINE_SHAPE`` (``scheduler.content.files``, the shape the
JSON Schema of ``storyline schema line`` is made from) before anything is read from it; the
rules' meaning is then ``scheduler.text.voice``'s. Templates are read once, here, and every
one is compiled up front by default, so syntax errors are findings before anything renders.
Every problem is a :class:`~scheduler.core.diagnostics.Finding` naming the file and line.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from jinja2.bccache import BytecodeCache, FileSystemBytecodeCache

from scheduler.content.files import LINE_SHAPE
from scheduler.content.shapes import conform
from scheduler.content.yamlpos import Node, load_yaml
from scheduler.core.diagnostics import Finding, Position
from scheduler.lines import sandbox
from scheduler.lines.book import LineBook
from scheduler.lines.brandwide import load_brand, with_brand
from scheduler.lines.model import (
    DEFAULT_TEMPLATE,
    FALLBACK_LOCALE,
    LINE_FILE,
    SHARED_DIR,
    TEMPLATE_SUFFIX,
    EditorialLine,
    RulePath,
)
from scheduler.lines.sandbox import FastLineEnvironment, PreloadedLoader
from scheduler.text.networks import UnknownNetwork
from scheduler.text.networks import spec as network_spec
from scheduler.text.voice import rules_from

#: Top-level keys ``line.yaml`` may hold.
LINE_KEYS = tuple(LINE_SHAPE.fields)
#: Largest template file accepted (bytes).
MAX_TEMPLATE_BYTES = 64 * 1024
#: Largest ``line.yaml`` accepted (bytes).
MAX_LINE_BYTES = 256 * 1024


def load_lines(root: Path | str, *, eager: bool = True, cache_dir: Path | None = None) -> LineBook:
    """Load every ``<network>/line.yaml`` and template under ``root``.

    ``eager`` compiles every template now, so syntax errors in templates no story uses are
    findings too; otherwise each compiles when first rendered. ``cache_dir`` keeps compiled
    templates between runs (checked against each template's source).

    Problems (unreadable YAML, unknown keys, template syntax errors) are findings; a line
    with errors is still returned when it can be, so validation reports everything at once.
    """
    root_path = Path(root)
    findings: list[Finding] = []
    sources: dict[str, tuple[str, str]] = {}
    lines: dict[str, EditorialLine] = {}
    if not root_path.is_dir():
        findings.append(
            Finding.error(
                Position(_display(root_path), 0, 0),
                "lines-missing",
                "the editorial lines folder does not exist (set --lines or STORYLINE_LINES_DIR)",
            )
        )
    else:
        brand, brand_findings = load_brand(root_path)
        findings.extend(brand_findings)
        shared = root_path / SHARED_DIR
        if shared.is_dir():
            sources.update(_read_templates(root_path, shared, findings))
        for folder in sorted(p for p in root_path.iterdir() if p.is_dir()):
            if folder.name.startswith(("_", ".")):
                continue
            try:
                network_spec(folder.name)
            except UnknownNetwork as exc:  # Google+, or a typo: no post could be checked or sent
                findings.append(
                    Finding.error(
                        Position(_display(folder), 0, 0), "line-unknown-network", str(exc)
                    )
                )
                continue
            yaml_file = folder / LINE_FILE
            templates = _read_templates(root_path, folder, findings)
            sources.update(templates)
            if not yaml_file.is_file():
                findings.append(
                    Finding.error(
                        Position(_display(folder), 0, 0),
                        "line-missing",
                        f"{folder.name}/ has no {LINE_FILE}: every line states its voice and rules",
                    )
                )
                continue
            beats = tuple(sorted(Path(n).stem for n in templates))
            line, line_findings = load_line_file(folder.name, yaml_file, beats)
            findings.extend(line_findings)
            if line is not None:
                line, brand_findings = with_brand(line, brand)
                findings.extend(brand_findings)
                lines[folder.name] = line
    book = LineBook(
        root=_display(root_path),
        by_network=MappingProxyType(lines),
        findings=(),
        env=FastLineEnvironment(PreloadedLoader(sources), _bytecode_cache(cache_dir)),
        sources=MappingProxyType({name: display for name, (_src, display) in sources.items()}),
    )
    if eager:
        for name in sorted(sources):
            compiled = book.template(name)
            if isinstance(compiled, Finding):
                findings.append(compiled)
    for network, line in lines.items():
        if line.templates and f"{network}/{DEFAULT_TEMPLATE}{TEMPLATE_SUFFIX}" not in sources:
            findings.append(
                Finding.warning(
                    line.pos,
                    "line-no-default",
                    f"{network}/ has no {DEFAULT_TEMPLATE}{TEMPLATE_SUFFIX}: beats without their "
                    "own template cannot be rendered",
                )
            )
    return replace(book, findings=tuple(findings), _compiled=book._compiled)


def load_line_file(
    network: str, path: Path, templates: tuple[str, ...]
) -> tuple[EditorialLine | None, list[Finding]]:
    """Read one ``line.yaml``: its shape checked, then its voice, rules and phrases."""
    display = _display(path)
    loaded = load_yaml(path, display=display, max_bytes=MAX_LINE_BYTES)
    findings = list(loaded.findings)
    root = loaded.root
    whole = Position(display, 1, 1)
    if root is None:
        if loaded.ok:
            findings.append(Finding.error(whole, "line-empty", f"{LINE_FILE} is empty"))
        return None, findings
    if not root.is_map:
        findings.append(
            Finding.error(root.pos, "wrong-type", f"{LINE_FILE} must be a mapping of {LINE_KEYS}")
        )
        return None, findings
    checked, shape_findings = conform(root, LINE_SHAPE)
    findings.extend(shape_findings)
    rules_node = root.get("rules")
    rules: Mapping[str, Any] = MappingProxyType({})
    rule_positions: dict[RulePath, Position] = {}
    if rules_node is not None and rules_node.is_map:
        rules = MappingProxyType(rules_node.plain())  # as written, for people to read
        _collect_positions(rules_node, (), rule_positions)
    phrases = _phrases(checked.get("phrases", {}), root.get("phrases"), findings)
    thread = checked.get("thread") is True
    if thread and network != "x":
        thread_node = root.get("thread")
        findings.append(
            Finding.error(
                thread_node.pos if thread_node is not None else whole,
                "thread-not-x",
                f"thread: only X posts can be threads, not {network}'s; remove it",
            )
        )
        thread = False
    line = EditorialLine(
        network=network,
        path=display,
        voice=checked.get("voice", ""),
        rules=rules,
        phrases=phrases,
        templates=templates,
        pos=whole,
        voice_rules=rules_from(checked.get("rules", {})),
        rule_positions=MappingProxyType(rule_positions),
        thread=thread,
    )
    return line, findings


def _collect_positions(
    node: Node, path: tuple[str | int, ...], out: dict[tuple[str | int, ...], Position]
) -> None:
    if node.is_map:
        for key, kpos, child in node.entries():
            out[(*path, key)] = kpos
            _collect_positions(child, (*path, key), out)
    elif node.is_seq:
        for i, child in enumerate(node.items):
            out[(*path, i)] = child.pos
            _collect_positions(child, (*path, i), out)


def _phrases(
    checked: Mapping[str, Mapping[str, str]], node: Node | None, findings: list[Finding]
) -> Mapping[str, Mapping[str, str]]:
    """``phrases: {<locale>: {<key>: text}}`` — what a voice says in each market's language.

    A key English has and another locale lacks is a warning: English fills the gap.
    """
    out = {locale: MappingProxyType(dict(texts)) for locale, texts in checked.items()}
    english: Mapping[str, str] = out.get(FALLBACK_LOCALE, {})
    for locale, written in out.items():
        for key in sorted(set(english) - set(written)):
            assert node is not None  # a checked locale was written there
            findings.append(
                Finding.warning(
                    node.fields[locale].pos,
                    "phrase-missing",
                    f"phrase {key!r} has no {locale} text; the English one will be used",
                )
            )
    return MappingProxyType(out)


def _display(path: Path) -> str:
    return path.as_posix()


def _read_templates(
    root: Path, folder: Path, findings: list[Finding]
) -> dict[str, tuple[str, str]]:
    sources: dict[str, tuple[str, str]] = {}
    for file in sorted(folder.glob(f"*{TEMPLATE_SUFFIX}")):
        display = _display(file)
        try:
            size = file.stat().st_size
            if size > MAX_TEMPLATE_BYTES:
                findings.append(
                    Finding.error(
                        Position(display, 0, 0),
                        "template-too-large",
                        f"template is {size} bytes; at most {MAX_TEMPLATE_BYTES} are read",
                    )
                )
                continue
            source = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            findings.append(Finding.error(Position(display, 0, 0), "template-unreadable", str(exc)))
            continue
        sources[f"{folder.name}/{file.name}"] = (source, display)
    return sources


def _bytecode_cache(folder: Path | None) -> BytecodeCache | None:
    """Compiled templates kept between runs, so a preview does not recompile the lines.

    A speed shortcut over no cache (``None``): a repeat ``storyline preview`` takes 0.21 s
    instead of 0.28 s (``bench preview``, warm); ``tests/lines/test_shortcuts.py`` holds
    templates read back from it to freshly compiled ones. The file names carry a hash of the
    sandbox's module: compiled code embeds its budget rewriting, so a change there must never
    load code compiled by an older version.
    """
    if folder is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None  # a read-only data dir only costs compile time
    salt = hashlib.sha256(Path(sandbox.__file__).read_bytes()).hexdigest()[:16]
    return FileSystemBytecodeCache(str(folder), f"storyline-{salt}-%s.cache")
