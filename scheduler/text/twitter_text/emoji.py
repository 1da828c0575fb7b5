"""twitter-text's emoji: read from its data file by the rules of its emoji module.

Vendored from twitter-text-parser 3.0.0 (``twitter_text/regexp/emoji.py``: ``parse_emoji_list``
and ``get_ranges``, and ``emoji-test.txt``), MIT licence: see ``LICENSE`` in this folder. The
package compiles the result into one expression, its multi-code-point emoji longest first,
then one class of single code points; :func:`emoji_table` returns the two lists that
expression is made of, and ``scheduler.text.xlength`` matches them without compiling it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Final

#: Unicode's ``emoji-test.txt`` (version 12.0), the file the package reads.
DATA: Final = Path(__file__).with_name("emoji-test.txt")


def parse_emoji_codepoints(raw: str) -> list[tuple[int, ...]]:
    """The code points of each emoji in ``emoji-test.txt``, in file order, with the rules of
    ``parse_emoji_list``: the 32 explanation lines, the ``Component`` group (skin tones, hair)
    and the subtotal lines are skipped."""
    out: list[tuple[int, ...]] = []
    group = ""
    for line in raw.splitlines()[32:]:  # skip the explanation lines
        if line == "# Status Counts":  # the last line in the document
            break
        if "subtotal:" in line or not line:
            continue
        if line.startswith("#") and "# group:" in line:
            group = line.split(":")[-1].strip()
        if group == "Component":  # skin tones and hair types
            continue
        if re.search("^[0-9A-F]{3,}", line):  # an emoji's code points
            out.append(tuple(int(code, 16) for code in line.split(";")[0].split()))
    return out


def get_ranges(nums: list[int]) -> list[tuple[int, int]]:
    """Reduce a list of integers to (low, high) runs, as the package computes them (its
    expression is built from these, not from the code points themselves)."""
    nums = sorted(nums)
    lows = [nums[0]]
    highs = []
    if nums[1] - nums[0] > 1:
        highs.append(nums[0])
    for i in range(1, len(nums) - 1):
        if (nums[i] - nums[i - 1]) > 1:
            lows.append(nums[i])
        if (nums[i + 1] - nums[i]) > 1:
            highs.append(nums[i])
    highs.append(nums[-1])
    if len(highs) > len(lows):
        lows.append(highs[-1])
    return list(zip(lows, highs, strict=False))


def emoji_table(raw: str | None = None) -> tuple[list[str], list[tuple[int, int]]]:
    """The package's emoji expression as data: its multi-code-point emoji, longest first (a
    stable sort: equal lengths keep file order), and its single code points as runs."""
    codes = parse_emoji_codepoints(DATA.read_bytes().decode("utf-8") if raw is None else raw)
    multi = sorted(("".join(map(chr, seq)) for seq in codes if len(seq) > 1), key=len, reverse=True)
    return multi, get_ranges([seq[0] for seq in codes if len(seq) == 1])
