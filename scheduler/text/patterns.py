"""Brand-wide ban patterns (``_brand.yaml``): regular expressions compiled with a time budget,
and searched in a post line by line, each line remembered.

A pattern is refused when it is loaded if it does not compile, matches an empty text or runs
past its budget on a probe text built to make catastrophic backtracking show itself; on a post,
each search has its own budget too. :mod:`scheduler.text.voice` decides what a hit means (a
match inside a link does not count) and reports it. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import regex

from scheduler.core.diagnostics import Finding, Position

#: Most seconds one ban pattern may search one text.
PATTERN_TIMEOUT: Final = 0.1
#: Most seconds a pattern may take on one probe text when it is loaded.
PROBE_TIMEOUT: Final = 0.05
#: Characters the probe texts repeat: those discount talk is made of, and a letter.
_PROBE_CHARS: Final = "a1 -%€.,'"


@dataclass(frozen=True, slots=True)
class BanPattern:
    """A ban rule written as a regular expression, compiled, and where it was written."""

    source: str
    compiled: regex.Pattern[str] = field(compare=False)
    pos: Position = field(default=Position(""), compare=False)


def _probes(source: str) -> list[str]:
    """Texts that make a backtracking pattern show itself: long runs of one character, or of
    two, each ended by one that breaks the match."""
    chars = dict.fromkeys(_PROBE_CHARS + "".join(c for c in source if c.isalnum()))
    singles = [c * 3000 + "\x00" for c in chars]
    pairs = [(a + b) * 1500 + "\x00" for a in "a1" for b in " -%"]
    return singles + pairs


def compile_ban_pattern(source: str, pos: Position) -> BanPattern | Finding:
    """``source`` compiled (any case), or the finding that says why it cannot be used:
    ``bad-pattern`` (it does not compile) or ``slow-pattern`` (it runs past its budget on a
    probe text: catastrophic backtracking would stall every validation)."""
    try:
        compiled = regex.compile(source, regex.IGNORECASE | regex.V0)
    except (regex.error, ValueError, OverflowError) as exc:
        return Finding.error(pos, "bad-pattern", f"pattern {source!r} does not compile: {exc}")
    if compiled.search("") is not None:
        return Finding.error(
            pos, "bad-pattern", f"pattern {source!r} matches an empty text: it would ban every post"
        )
    for probe in _probes(source):
        try:
            compiled.search(probe, timeout=PROBE_TIMEOUT)
        except TimeoutError:
            shown = probe[:12] + "…"
            return Finding.error(
                pos,
                "slow-pattern",
                f"pattern {source!r} takes more than {PROBE_TIMEOUT}s on a text like "
                f"{shown!r} (catastrophic backtracking): rewrite it without nested repeats",
            )
    return BanPattern(source, compiled, pos)


#: Most lines a locale's pattern set remembers (then it starts again).
_MAX_LINES: Final = 16384


@dataclass(slots=True)
class PatternSet:
    """The ban patterns of one locale, and what each line searched so far held."""

    patterns: tuple[BanPattern, ...]
    names: tuple[str, ...]
    lines: dict[str, tuple[tuple[int, int, int, str], ...]] = field(default_factory=dict)

    def hits(
        self, line: str, *, remember: bool = True
    ) -> tuple[tuple[int, int, int, str], ...] | int:
        """Every match in ``line``: (pattern index, start, end, text); or the index of the
        pattern that ran out of time. ``remember``: look the line up first, and keep it."""
        found = self.lines.get(line) if remember else None
        if found is not None:
            return found
        out: list[tuple[int, int, int, str]] = []
        for index, pattern in enumerate(self.patterns):
            try:
                out.extend(
                    (index, m.start(), m.end(), m.group(0))
                    for m in pattern.compiled.finditer(line, timeout=PATTERN_TIMEOUT)
                )
            except TimeoutError:
                return index
        if not remember:
            return tuple(out)
        if len(self.lines) >= _MAX_LINES:
            self.lines.clear()
        found = self.lines[line] = tuple(out)
        return found
