"""Display width: how many terminal columns a text takes, so tables stay aligned in any script.

``len`` counts code points: 好德汽车 is 4 of them but 8 columns, and a combining accent is one
code point but no column. A table padded with ``len`` slides every column after a Chinese,
Japanese or Korean name. East Asian Wide and Fullwidth characters (which include most emoji)
take two columns; combining marks, zero-width joiners and other format characters take none.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_ZERO_WIDTH_CATEGORIES = frozenset({"Mn", "Me", "Cf"})


@lru_cache(maxsize=4096)
def char_width(char: str) -> int:
    if unicodedata.category(char) in _ZERO_WIDTH_CATEGORIES:
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes (ASCII: ``len``)."""
    if text.isascii():
        return len(text)
    return sum(char_width(c) for c in text)


def pad(text: str, width: int) -> str:
    """``text`` left-justified to ``width`` columns (``str.ljust`` by display width)."""
    return text + " " * max(0, width - display_width(text))


def clip(text: str, width: int) -> str:
    """At most ``width`` columns of ``text`` on one line, with ``…`` when it was cut."""
    flat = " ".join(text.split())
    if display_width(flat) <= width:
        return flat
    out, used = [], 0
    for c in flat:
        w = char_width(c)
        if used + w > width - 1:
            break
        out.append(c)
        used += w
    return "".join(out) + "…"
