"""How the networks other than X count a text: graphemes, bytes, emoji, Mastodon, Threads, Weibo.

Networks disagree on what "a character" is: Bluesky counts grapheme clusters (and bytes),
Mastodon counts a URL as 23 and a remote mention by its user part only, Threads counts an
emoji by its UTF-8 bytes, YouTube counts UTF-8 bytes, Weibo counts in half characters. Each
count here follows the network's own code or documentation (sources in ``docs/networks.md``);
X's weighted length is ``xlength``. Pure: no I/O.
"""

from __future__ import annotations

import functools
import re
from typing import Final

import regex

from scheduler.text.extract import links

_GRAPHEME: Final = regex.compile(r"\X")
_EMOJI_BY_DEFAULT: Final = regex.compile(r"\p{Emoji_Presentation}")
_PICTOGRAPH: Final = regex.compile(r"\p{Extended_Pictographic}")
_EMOJI_MARKS: Final = regex.compile(r"[\uFE0F\u200D\u20E3\p{Emoji_Modifier}]")
# Anything an emoji cluster must contain; a text without any has no emoji.
_EMOJI_CANDIDATE: Final = regex.compile(r"[\p{Emoji_Presentation}\p{Extended_Pictographic}\u20E3]")
# The only characters that join a cluster with a neighbour (UAX #29 rules GB6-GB13, and
# GB3's CR LF): without them every code point is a cluster of its own.
_JOINER: Final = regex.compile(
    r"[\p{GCB=Extend}\p{GCB=ZWJ}\p{GCB=Regional_Indicator}\p{GCB=Prepend}"
    r"\p{GCB=SpacingMark}\p{GCB=L}\p{GCB=V}\p{GCB=T}\p{GCB=LV}\p{GCB=LVT}]"
)
_JOINS: Final = 1
_MAY_BE_EMOJI: Final = 2
_NON_ASCII: Final = re.compile(r"[^\x00-\x7f]")


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


# --- grapheme clusters --------------------------------------------------------------------


def graphemes(text: str) -> int:
    """Number of user-perceived characters (extended grapheme clusters, UAX #29).

    Shortcut: nearly every post has one cluster per code point (precomposed accents, CJK,
    single-code-point emoji); its count is then ``len``, without segmenting it
    (:func:`graphemes_plain` segments every text).
    """
    if _text_traits(text)[0]:
        return len(text)
    return graphemes_plain(text)


def graphemes_plain(text: str) -> int:
    """:func:`graphemes`, the plain way: segment the text with ``\\X``."""
    return len(_GRAPHEME.findall(text))


@functools.cache
def _char_traits(char: str) -> int:
    """``_JOINS`` if ``char`` can join a neighbour's cluster, ``_MAY_BE_EMOJI`` if an emoji
    cluster can hold it (``_EMOJI_CANDIDATE``); remembered, as posts share their characters."""
    joins = _JOINS if _JOINER.match(char) else 0
    return joins | (_MAY_BE_EMOJI if _EMOJI_CANDIDATE.match(char) else 0)


def _text_traits(text: str) -> tuple[bool, frozenset[str]]:
    """Whether every code point of ``text`` is a grapheme cluster of its own, and the
    characters of ``text`` an emoji needs — one pass over its distinct non-ASCII characters.

    No ASCII character joins a cluster or belongs to an emoji (a keycap needs U+20E3), so
    only the others are looked at.
    """
    if text.isascii():
        return "\r\n" not in text, frozenset()
    joins = False
    candidates = []
    for char in set(_NON_ASCII.findall(text)):
        traits = _char_traits(char)
        joins = joins or bool(traits & _JOINS)
        if traits & _MAY_BE_EMOJI:
            candidates.append(char)
    return "\r\n" not in text and not joins, frozenset(candidates)


# --- emoji --------------------------------------------------------------------------------


def is_emoji(cluster: str) -> bool:
    """Whether one grapheme cluster is an emoji, as Unicode's emoji data defines it.

    An emoji is a cluster drawn as a picture: a code point shown as emoji by default
    (``Emoji_Presentation``: 😀, flags), or any pictograph or keycap made an emoji by VS16,
    a ZWJ sequence or a skin-tone modifier (``©️``, ``1️⃣``, ``👍🏽``). Plain ``©`` or ``☺``
    without VS16 are text symbols, not emoji.
    """
    if _EMOJI_BY_DEFAULT.search(cluster):
        return True
    return bool(_EMOJI_MARKS.search(cluster)) and (
        bool(_PICTOGRAPH.search(cluster)) or "\u20e3" in cluster
    )


def emoji_clusters(text: str) -> list[str]:
    """The emoji of ``text``, one per grapheme cluster: "👨‍👩‍👧‍👦" is one emoji, not seven.

    Shortcut: only a text holding a character an emoji needs is looked at, and one whose
    every code point is a cluster of its own is not segmented: its emoji are its characters
    shown as emoji, found in one pass (:func:`emoji_clusters_plain` segments every text).
    """
    one_per_char, candidates = _text_traits(text)
    if not candidates:
        return []
    if one_per_char:
        emoji = [char for char in candidates if is_emoji(char)]
        if not emoji:
            return []
        return re.findall("[" + "".join(map(re.escape, sorted(emoji))) + "]", text)
    return [
        cluster
        for cluster in _GRAPHEME.findall(text)
        if not cluster.isascii() and is_emoji(cluster)
    ]


def emoji_clusters_plain(text: str) -> list[str]:
    """:func:`emoji_clusters`, the plain way: segment the text and test every cluster."""
    return [cluster for cluster in _GRAPHEME.findall(text) if is_emoji(cluster)]


# --- Mastodon -----------------------------------------------------------------------------

# Mastodon's own patterns (Account::MENTION_RE / USERNAME_RE): a remote mention counts only
# as "@user", however long its domain. Mastodon's rule, not a reader's: see ``extract`` for
# the mentions a post holds.
_MASTODON_MENTION: Final = regex.compile(
    r"(?<![=/\w])@(?P<user>[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\w]+(?:[.-][\w]+)*)?",
    regex.IGNORECASE,
)
MASTODON_URL_WEIGHT: Final = 23


def mastodon_countable(text: str) -> str:
    """The text Mastodon counts: each URL as 23 characters, ``@user@domain`` as ``@user``.

    Mirrors ``StatusLengthValidator#countable_text``: entities are extracted together and
    where two overlap the earlier one wins. Mastodon links only URLs written with their
    scheme.
    """
    mentions = _MASTODON_MENTION.finditer(text) if "@" in text else ()
    entities = sorted(
        [(link.start, link.end, "x" * MASTODON_URL_WEIGHT) for link in links(text, bare=False)]
        + [(m.start(), m.end(), f"@{m.group('user')}") for m in mentions]
    )
    pieces: list[str] = []
    last = 0
    for start, end, replacement in entities:
        if start < last:
            continue
        pieces.append(text[last:start])
        pieces.append(replacement)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def mastodon_length(text: str) -> int:
    return graphemes(mastodon_countable(text))


# --- Threads, Weibo -----------------------------------------------------------------------


def threads_length(text: str) -> int:
    """Threads' count: one per character, except that an emoji counts its UTF-8 bytes."""
    emoji = emoji_clusters(text)
    return len(text) - sum(len(e) for e in emoji) + sum(utf8_bytes(e) for e in emoji)


# Weibo's composer counts in half characters: a character outside Latin-1 is 2 halves, any
# other 1; a link costs 20 halves (10 characters) up to 140 long, and 1 per half beyond that.
# Weibo's own link pattern, not a reader's.
_WEIBO_URL: Final = regex.compile(
    r"https?://[a-zA-Z0-9]+(?:\.[a-zA-Z0-9]+)+(?:[-A-Z0-9a-z_$.+!*()/,:;@&=?~#%]*)*"
)
_WEIBO_WIDE: Final = regex.compile(r"[^\x00-\xff]")


def _weibo_halves(text: str) -> int:
    return len(text) + len(_WEIBO_WIDE.findall(text))


def weibo_length(text: str) -> int:
    """Weibo's count: wide (CJK) characters 1, Latin-1 characters 1/2, a link 10, rounded up."""
    halves = 0
    for url in _WEIBO_URL.findall(text):
        size = _weibo_halves(url)
        halves += 20 if size <= 140 else size - 140 + 20
    rest = _WEIBO_URL.sub("", text)
    return -(-(halves + _weibo_halves(rest)) // 2)
