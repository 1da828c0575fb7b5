"""X's weighted length: exactly ``twitter_text.parse_tweet(text).weightedLength``.

X weighs code points (twitter-text v3: Latin-1, general punctuation and a few other ranges 1,
everything else 2), counts every URL as 23 (t.co) and an emoji, however many code points it
joins, as 2; the text is NFC-normalised first. The weights, the URL extractor and the emoji
table are twitter-text's own (vendored in ``twitter_text/``).

:func:`x_weighted_length_plain` is ``parse_tweet``'s walk. ``parse_tweet`` tries its emoji
expression at every position of a text, which costs milliseconds a post in Python, and
validating a year of content measures tens of thousands: :func:`x_weighted_length` takes the
same walk but looks for URLs only in the words where a "." precedes one of twitter-text's
top-level domains, and for emoji only where one can start. Property tests hold the two equal,
and the plain one to ``parse_tweet`` on twitter-text's conformance suite. Pure: no I/O.
"""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Final

from scheduler.text.twitter_text import config, tlds
from scheduler.text.twitter_text.emoji import emoji_table

_CONFIG: Final = config.DEFAULTS
_SCALE: Final = _CONFIG["scale"]
_URL_WEIGHT: Final = _CONFIG["transformed_url_length"] * _SCALE
_EMOJI_WEIGHT: Final = _CONFIG["default_weight"]


def _normalized(text: str) -> str:
    """The text ``parse_tweet`` counts: NFC, every line ending a line feed."""
    return unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")


def _urls_plain(text: str) -> dict[int, int]:
    """Start -> length of each URL twitter-text's extractor finds in ``text``."""
    # Imported on first use: compiling its expressions costs a preview a tenth of a second.
    from scheduler.text.twitter_text.urls import extract_urls_with_indices

    return {e["indices"][0]: len(e["url"]) for e in extract_urls_with_indices(text)}


def _emoji_plain(text: str) -> dict[int, int]:
    """Start -> length of each emoji twitter-text's expression finds in ``text``: tried at
    every position, left to right, each match skipping what it covers."""
    table = x_emoji_table()
    found: dict[int, int] = {}
    index = 0
    while index < len(text):
        length = table.match(text, index)
        if length:
            found[index] = length
            index += length
        else:
            index += 1
    return found


def x_weighted_length_plain(text: str) -> int:
    """X's weighted length, counted as ``parse_tweet`` counts it."""
    normalized = _normalized(text)
    urls = _urls_plain(normalized)
    emoji = _emoji_plain(normalized)
    return _walk(normalized, urls, emoji, config.character_weight)


def _walk(
    normalized: str,
    urls: Mapping[int, int],
    emoji: Mapping[int, int],
    weigh: Callable[[str], int],
) -> int:
    """``parse_tweet``'s walk, a run of plain characters at a time: an entity starting
    inside the one before is skipped, and a URL wins over an emoji at the same index."""
    total = 0
    index = 0
    for start in sorted(urls.keys() | emoji.keys()):
        if start < index:
            continue
        total += sum(map(weigh, normalized[index:start]))
        if start in urls:
            total += _URL_WEIGHT
            index = start + urls[start]
        else:
            total += _EMOJI_WEIGHT
            index = start + emoji[start]
    if index < len(normalized):
        total += sum(map(weigh, normalized[index:]))
    return int(total // _SCALE)


# --- the emoji table ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class XEmojiTable:
    """twitter-text's emoji, as its expression matches them.

    The expression is its multi-code-point emoji, longest first, then one class of single
    code points: at a position, the longest sequence that starts there wins, else a single
    code point of the class. ``sequences`` (in the expression's order) and ``single_ranges``
    are the package's own lists; the rest is looked up by dict.
    """

    sequences: tuple[str, ...]
    single_ranges: tuple[tuple[int, int], ...]
    lengths: Mapping[str, tuple[int, ...]]  # first character -> lengths of its sequences
    known: frozenset[str]
    singles: frozenset[str]
    #: first character -> what can follow it in a sequence (for the characters that are
    #: not emoji on their own: ``#``, ``*`` and digits start keycaps only)
    followers: Mapping[str, frozenset[str]]
    starts: frozenset[str]

    def match(self, text: str, start: int) -> int:
        """Length of the emoji twitter-text's expression matches at ``start``, or 0."""
        first = text[start]
        room = len(text) - start
        for length in self.lengths.get(first, ()):
            if length <= room and text[start : start + length] in self.known:
                return length
        return 1 if first in self.singles else 0


@functools.cache
def x_emoji_table() -> XEmojiTable:
    """twitter-text's emoji table, read once from its data file."""
    multi, ranges = emoji_table()
    lengths: dict[str, set[int]] = {}
    followers: dict[str, set[str]] = {}
    for sequence in multi:
        lengths.setdefault(sequence[0], set()).add(len(sequence))
        followers.setdefault(sequence[0], set()).add(sequence[1])
    singles = frozenset(chr(c) for low, high in ranges for c in range(low, high + 1))
    return XEmojiTable(
        sequences=tuple(multi),
        single_ranges=tuple(ranges),
        lengths=MappingProxyType({k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()}),
        known=frozenset(multi),
        singles=singles,
        followers=MappingProxyType({k: frozenset(v) for k, v in followers.items()}),
        starts=frozenset(followers) | singles,
    )


# --- the shortcut -------------------------------------------------------------------------

# The only characters a twitter-text emoji can start with or need: ©, ®, the keycap mark
# U+20E3, and code points from U+203C (‼) up. A text without any has no emoji to discount.
_MAY_HOLD_EMOJI: Final = re.compile(r"[\u00a9\u00ae\u203c-\U0010ffff]")
# A URL twitter-text counts as 23 has a "." before its top-level domain's first letter.
# (A plain scan; "." followed by anything but a space or another "." is a superset of "."
# followed by a letter.)
_MAY_HOLD_URL: Final = re.compile(r"\.[^\s.]")


def _count(text: str) -> int:
    """:func:`x_weighted_length_plain`'s answer, looking for URLs only in the words where a
    "." precedes a top-level domain (:func:`_urls`) and for emoji only where one can start
    (:func:`_emoji`)."""
    normalized = _normalized(text)
    urls = _urls(normalized) if _MAY_HOLD_URL.search(normalized) else {}
    emoji = _emoji(normalized) if _MAY_HOLD_EMOJI.search(normalized) else {}
    return _walk(normalized, urls, emoji, _weight)


@functools.cache
def _weight(char: str) -> int:
    return config.character_weight(char)


def _emoji(text: str) -> dict[int, int]:
    """:func:`_emoji_plain`, trying only the positions where a character starts one of the
    table's emoji, left to right, each match skipping what it covers."""
    table = x_emoji_table()
    chars = table.starts.intersection(text)
    if not chars:
        return {}
    found: dict[int, int] = {}
    after = 0
    for candidate in _emoji_finder(table, chars).finditer(text):
        start = candidate.start()
        if start < after:
            continue
        length = table.match(text, start)
        if length:
            found[start] = length
            after = start + length
    return found


def _emoji_finder(table: XEmojiTable, chars: AbstractSet[str]) -> re.Pattern[str]:
    """One expression finding the positions of ``chars`` where an emoji can start: any of
    them that is an emoji on its own, the others only before a character that continues
    one of their sequences (a digit only before U+FE0F or U+20E3)."""
    alone = sorted(c for c in chars if c in table.singles)
    parts = ["[" + "".join(map(re.escape, alone)) + "]"] if alone else []
    for char in sorted(set(chars).difference(alone)):
        after = "".join(map(re.escape, sorted(table.followers[char])))
        parts.append(f"{re.escape(char)}(?=[{after}])")
    return re.compile("|".join(parts))


# A run of characters twitter-text's URL expression can match across: a URL holds no space
# and no line feed (its domain, path, query and port classes exclude both), which can only be
# the one character before it ("preceding chars"), and its one look-ahead (after a top-level
# domain: not a letter, digit, "@", "+" or "-", or the end) reads a space, a line feed and the
# end alike.
_TOKEN: Final = re.compile(r"[^ \n]+")


def _urls(text: str) -> dict[int, int]:
    """:func:`_urls_plain`, found word by word — each word where a "." precedes one of
    twitter-text's top-level domains (every URL it finds has one: :func:`_tld_screen`), with
    the space or line feed before it — so that the words posts share (a headline, "Soon.")
    are scanned once, and a word whose dots start no top-level domain (``brand.example/…``,
    ``v2.0``) is not scanned at all: the extractor tries every position of a word it finds no
    URL in, some fifty microseconds for a tracked link."""
    found: dict[int, int] = {}
    screen = _tld_screen()
    for token in _TOKEN.finditer(text):
        if "." not in token.group() or not screen.search(token.group()):
            continue
        start = token.start()
        offset = start - 1 if start else 0
        for relative, length in _segment_urls(text[offset : token.end()]):
            found[offset + relative] = length
    return found


@functools.cache
def _tld_screen() -> re.Pattern[str]:
    """A "." and what a domain of twitter-text's URL expression ends with: one of its generic or
    country top-level domains, followed by what its look-ahead allows, or a punycode one
    (``xn--``). Its domain expression matches only where this does, case-insensitively alike.

    The top-level domains are the expression's own, written as a trie (``co(?:m|op)?`` for
    ``com|coop|co``): the same strings, but ``re`` tries a thousand-branch alternation at every
    "." (some ten microseconds each) and a trie in well under one.
    """
    words = [*tlds.GTLDS.split("|"), *tlds.CCTLDS.split("|")]
    ending = "(?=[^0-9a-zA-Z@+-]|$)"  # twitter-text's, after a top-level domain
    return re.compile(rf"\.(?:{_trie(words)}{ending}|xn--)", re.IGNORECASE)


_Trie = dict[str, "_Trie"]  # next character -> the rest; "" marks a word's end


def _trie(words: list[str]) -> str:
    """An expression matching exactly ``words``, common prefixes shared."""
    root: _Trie = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def source(node: _Trie) -> str:
        branches = [re.escape(char) + source(child) for char, child in node.items() if char]
        if not branches:
            return ""
        body = "(?:" + "|".join(branches) + ")" if len(branches) > 1 else branches[0]
        return f"(?:{body})?" if "" in node else body

    return source(root)


@functools.lru_cache(maxsize=8192)
def _segment_urls(segment: str) -> tuple[tuple[int, int], ...]:
    return tuple(_urls_plain(segment).items())


# --- lengths known without counting -------------------------------------------------------

#: X lengths known without counting: text key -> weighted length. Seeded by the I/O edge
#: from a cache kept between runs (``scheduler.app.pipeline``), so a repeat preview of
#: unchanged posts never loads twitter-text; every length counted here is added.
_KNOWN: dict[str, int] = {}
#: The keys of ``_KNOWN`` counted by this process (what the cache does not hold yet).
_COUNTED: list[str] = []


def x_text_key(text: str) -> str:
    """The key of a text among known X lengths: its SHA-256, never the text itself."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def remember_x_lengths(known: Mapping[str, int]) -> None:
    """Take ``known`` (text key -> weighted length) as already counted."""
    _KNOWN.update(known)


def counted_x_lengths() -> dict[str, int]:
    """The X lengths this process counted itself, by text key, oldest first."""
    return {key: _KNOWN[key] for key in _COUNTED if key in _KNOWN}


@functools.cache
def counting_version() -> str:
    """What a remembered X length depends on: this module and the vendored twitter-text
    (its code and data), by content, so that any change to either forgets every length."""
    digest = hashlib.sha256()
    for path in (Path(__file__), *sorted(Path(config.__file__).parent.glob("*.*"))):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return f"xlength {digest.hexdigest()[:16]}"


def warm_up() -> None:
    """Pay X counting's one-time costs now (compiling twitter-text's URL expressions, reading
    its emoji table) rather than on the first post that needs them."""
    import scheduler.text.twitter_text.urls  # noqa: F401

    _tld_screen()
    x_emoji_table()


def x_weighted_length(text: str) -> int:
    """X's weighted length, exactly ``twitter_text.parse_tweet(text).weightedLength``.

    A text whose length is known (counted before, or seeded by :func:`remember_x_lengths`)
    is not counted again.
    """
    key = x_text_key(text)
    known = _KNOWN.get(key)
    if known is None:
        known = _KNOWN[key] = _count(text)
        _COUNTED.append(key)
    return known
