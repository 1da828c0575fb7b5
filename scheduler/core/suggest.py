"""One way to say "did you mean": every unknown name the user typed gets the same kind of hint.

A case slip (``FR`` for ``fr``) is matched first, then the closest spelling by
:func:`difflib.get_close_matches`.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

#: How alike a spelling must be to be suggested (difflib's ratio).
CUTOFF = 0.5


def closest(word: str, choices: Iterable[str], *, n: int = 1, cutoff: float = CUTOFF) -> list[str]:
    """Up to ``n`` choices closest to ``word``: a case-insensitive equal first, then difflib's."""
    options = list(choices)
    lowered = {o.lower(): o for o in options}
    same = lowered.get(word.lower())
    close = difflib.get_close_matches(word, options, n=n, cutoff=cutoff)
    if same is not None and same != word:
        close = [same, *(c for c in close if c != same)][:n]
    return close


def did_you_mean(word: str, choices: Iterable[str], *, cutoff: float = CUTOFF) -> str:
    """`` (did you mean 'x'?)`` for the closest choice, or an empty string."""
    close = closest(word, choices, cutoff=cutoff)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown(kind: str, name: str, known: list[str]) -> str:
    """A refusal of an unknown ``kind`` that suggests close names, or lists the known ones."""
    close = closest(name, known, n=3, cutoff=0.5)
    if close:
        return f"no {kind} {name!r}; did you mean: {', '.join(close)}?"
    if known:
        shown = ", ".join(known[:12]) + (", ..." if len(known) > 12 else "")
        return f"no {kind} {name!r}; the {kind}s are: {shown}"
    return f"no {kind} {name!r}: there are none"
