"""X threads: one long post told as numbered posts, each within X's 280 weighted characters.

A story opts in (``overrides.network.x.thread: true``, or ``thread: true`` in the X line's
``line.yaml``). Planning checks the parts, previews draw them, and the X publisher sends them:
all three call :func:`split`, so what was checked is exactly what goes out, part for part.

The text is cut at sentence boundaries; each part ends with its number (``1/3``), and the
post's link, wherever the template wrote it, goes at the end of the first part, so the
tracked link is in the post people see first. A sentence too long for one part is reported
(``unfit``): planning makes it an error, and the publisher, should it ever get one, cuts it
between words rather than fail.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from scheduler.core.diagnostics import Finding, Position
from scheduler.text.networks import measure

#: X's limit, in weighted characters (twitter-text v3).
LIMIT = 280
#: The finding a thread post does not get (its parts are checked instead), and the one it may.
TOO_LONG = "x-too-long"
UNFIT = "x-thread-sentence-too-long"

_SENTENCE_END = re.compile(r"(?<=[.!?…。！？])(\s+)")
_WORD_GAP = re.compile(r"(\s+)")
_SPACES = re.compile(r"[ \t]{2,}")
_BLANKS = re.compile(r"\n[ \t]*(\n[ \t]*)+")


@dataclass(frozen=True, slots=True)
class Thread:
    """The posts of a thread in order (one post: no numbers), and the sentences too long to fit
    in a post with their number (empty when all fit)."""

    parts: tuple[str, ...]
    unfit: tuple[str, ...] = ()

    @property
    def is_thread(self) -> bool:
        return len(self.parts) > 1


def _x(text: str) -> int:
    return measure("x", text)


def _without_link(text: str, link: str | None) -> tuple[str, str | None]:
    """The text without its link (which moves to the first part), and that link if present."""
    if not link or link not in text:
        return text, None
    lines = text.splitlines()
    alone = next((i for i, line in enumerate(lines) if line.strip() == link), None)
    if alone is not None:  # a line of its own goes whole, with its line break
        rest = "\n".join(lines[:alone] + lines[alone + 1 :])
    else:
        rest = text.replace(link, " ", 1)
    rest = _BLANKS.sub("\n\n", _SPACES.sub(" ", rest))
    rest = "\n".join(line.strip() for line in rest.splitlines())
    return rest.strip(), link


def _glue(sep: str) -> str:
    """Keep a paragraph break between two sentences of one part; any other gap is a space."""
    return "\n\n" if sep.count("\n") >= 2 else ("\n" if "\n" in sep else " ")


def _pack(
    pieces: list[str], limits: Callable[[int], int], finer: Callable[[str, int], list[str]]
) -> tuple[list[str], list[str]]:
    """Greedy packing of ``[text, sep, text, sep, ...]`` into parts; part ``i`` holds at most
    ``limits(i)``. A piece too long for a part alone is cut by ``finer`` and reported."""
    parts: list[str] = []
    unfit: list[str] = []
    current = ""
    for i in range(0, len(pieces), 2):
        piece = pieces[i].strip()
        sep = _glue(pieces[i + 1]) if i + 1 < len(pieces) else " "
        if not piece:
            continue
        candidate = f"{current}{piece}"
        if _x(candidate) <= limits(len(parts)):
            current = candidate + sep
            continue
        if current.strip():
            parts.append(current.strip())
        current = ""
        if _x(piece) <= limits(len(parts)):
            current = piece + sep
            continue
        unfit.append(piece)
        smaller = finer(piece, limits(len(parts)))
        for chunk in smaller[:-1]:
            parts.append(chunk)
        current = smaller[-1] + sep
    if current.strip():
        parts.append(current.strip())
    return parts, unfit


def _by_words(sentence: str, limit: int) -> list[str]:
    parts, _ = _pack(_WORD_GAP.split(sentence), lambda _: limit, _by_characters)
    return parts or [sentence]


def _by_characters(word: str, limit: int) -> list[str]:
    parts: list[str] = []
    current = ""
    for char in word:
        if current and _x(current + char) > limit:
            parts.append(current)
            current = ""
        current += char
    return [*parts, current] if current else parts


def _balanced(pieces: list[str], limits: Callable[[int], int], count: int) -> list[str] | None:
    """The same number of parts of whole sentences, as even as they allow: greedy packing
    alone can leave a last post of two words ("Ask us. 3/3"). The least sum of squared
    lengths (a small dynamic programme over the sentences); each part within its limit."""
    items = [
        (pieces[i].strip(), _glue(pieces[i + 1]) if i + 1 < len(pieces) else " ")
        for i in range(0, len(pieces), 2)
        if pieces[i].strip()
    ]
    size = len(items)
    if size < count:
        return None
    lengths: dict[tuple[int, int], int] = {}

    def text(start: int, end: int) -> str:
        return "".join(f"{s}{sep}" for s, sep in items[start:end]).strip()

    def length(start: int, end: int) -> int:
        if (start, end) not in lengths:
            lengths[(start, end)] = _x(text(start, end))
        return lengths[(start, end)]

    never = float("inf")
    cost = [[never] * (size + 1) for _ in range(count + 1)]
    cut = [[0] * (size + 1) for _ in range(count + 1)]
    cost[0][0] = 0.0
    for part in range(1, count + 1):
        extra = limits(1) - limits(part - 1)  # the first part also shows the link
        for end in range(part, size + 1):
            for start in range(end - 1, part - 2, -1):
                n = length(start, end)
                if n > limits(part - 1):
                    break  # starting earlier only makes it longer
                if cost[part - 1][start] == never:
                    continue
                candidate = cost[part - 1][start] + (n + extra) ** 2
                if candidate < cost[part][end]:
                    cost[part][end], cut[part][end] = candidate, start
    if cost[count][size] == never:
        return None
    parts: list[str] = []
    end = size
    for part in range(count, 0, -1):
        start = cut[part][end]
        parts.append(text(start, end))
        end = start
    return parts[::-1]


def split(text: str, *, link: str | None = None, limit: int = LIMIT) -> Thread:
    """The thread of ``text``: itself when it fits in one post, else numbered parts.

    ``link`` (the post's tracked link) is moved from wherever it is in the text to the end of
    the first part, before its number.
    """
    text = text.strip()
    if _x(text) <= limit:
        return Thread((text,))
    body, moved = _without_link(text, link)
    link_cost = _x(f" {moved}") if moved else 0
    count = 9  # widest number: " 9/9"; widened and tried again if the thread is longer
    while True:
        number_cost = _x(f" {count}/{count}")

        def limits(index: int, number_cost: int = number_cost) -> int:
            return limit - number_cost - (link_cost if index == 0 else 0)

        pieces = _SENTENCE_END.split(body)
        parts, unfit = _pack(pieces, limits, _by_words)
        if len(str(len(parts))) <= len(str(count)):
            break
        count = 10 ** len(str(len(parts))) - 1
    if len(parts) > 1 and not unfit:
        parts = _balanced(pieces, limits, len(parts)) or parts
    if moved:
        parts[0] = f"{parts[0]} {moved}" if parts else moved
    if len(parts) == 1:
        return Thread((parts[0],), tuple(unfit))
    total = len(parts)
    return Thread(tuple(f"{p} {i}/{total}" for i, p in enumerate(parts, 1)), tuple(unfit))


def thread_checks(
    checks: Sequence[Finding], *, text: str, link: str | None, pos: Position
) -> list[Finding]:
    """The X checks of a post that opted in to threads: the whole text may be long (it goes
    out in parts), but a sentence that cannot fit in one part is an error."""
    kept = [f for f in checks if f.code != TOO_LONG]
    for sentence in split(text, link=link).unfit:
        shown = sentence if len(sentence) <= 60 else sentence[:59] + "…"
        kept.append(
            Finding.error(
                pos,
                UNFIT,
                f"X thread: a sentence is {_x(sentence):,} long, over what one post of the "
                f"thread holds with its number (280): split it into shorter sentences ({shown!r})",
            )
        )
    return kept
