"""Findings: what validation says, where, and how bad — printed compiler-style.

A finding always names a file and a position so an editor or CI annotation can jump to it;
``line``/``column`` are 1-based (0 when the whole file is concerned).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True, slots=True)
class Position:
    """Where a value was written: file path as given to the loader, 1-based line and column."""

    file: str
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True, slots=True)
class Finding:
    file: str
    line: int
    column: int
    severity: Severity
    code: str
    message: str

    @classmethod
    def at(cls, pos: Position, severity: Severity, code: str, message: str) -> Finding:
        return cls(pos.file, pos.line, pos.column, severity, code, message)

    @classmethod
    def error(cls, pos: Position, code: str, message: str) -> Finding:
        return cls.at(pos, Severity.ERROR, code, message)

    @classmethod
    def warning(cls, pos: Position, code: str, message: str) -> Finding:
        return cls.at(pos, Severity.WARNING, code, message)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def format(self) -> str:
        """``file:line:col: severity[code]: message`` — what compilers print, editors parse."""
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.severity}[{self.code}]: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["severity"] = str(self.severity)
        return d


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.is_error for f in findings)


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Stable reading order: by file, then position, then code."""
    return sorted(set(findings), key=lambda f: (f.file, f.line, f.column, f.code, f.message))


def format_text(findings: Sequence[Finding]) -> str:
    lines = [f.format() for f in findings]
    errors = sum(f.is_error for f in findings)
    warnings = sum(f.severity is Severity.WARNING for f in findings)
    lines.append(f"{errors} error(s), {warnings} warning(s)")
    return "\n".join(lines)


def format_json(findings: Sequence[Finding]) -> str:
    """The fixed shape ``{"ok": bool, "findings": [...]}`` (docs/architecture.md, contracts)."""
    return json.dumps(
        {"ok": not has_errors(findings), "findings": [f.as_dict() for f in findings]},
        ensure_ascii=False,
        indent=2,
    )
