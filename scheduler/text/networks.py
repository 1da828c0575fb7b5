"""Each network's hard limits, and how each network counts a post's length.

Networks disagree on what "a character" is: X weighs code points (CJK counts 2, a URL 23,
an emoji sequence 2), Bluesky counts grapheme clusters *and* bytes, Mastodon counts a URL as 23
and a remote mention by its user part only, Threads counts an emoji by its UTF-8 bytes,
YouTube counts the description in UTF-8 bytes, Weibo counts in half characters.
A post that fits by Python's ``len`` can still be refused, so every length here is measured
the network's own way. The source of every number is in ``docs/networks.md``.

Pure: no I/O, no clock. Findings carry the position the caller passes in.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final

import regex

from scheduler.core.diagnostics import Finding, Position
from scheduler.text.links import find_urls, twitter_text_module, url_spans


class Counting(StrEnum):
    """How a network turns a text into its length."""

    TWITTER_TEXT = "twitter-text v3 weighted length"
    GRAPHEMES = "grapheme clusters"
    MASTODON = "grapheme clusters, each URL as 23, a remote mention as its @user part"
    THREADS = "characters, each emoji as its UTF-8 byte length"
    CODE_POINTS = "characters (Unicode code points)"
    UTF8_BYTES = "UTF-8 bytes"
    WEIBO = "Weibo characters: a wide character 1, a narrow one 1/2, a URL 10, rounded up"


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    """One network's hard limits: what makes the network itself refuse a post.

    ``None`` means the network sets no such limit. ``text_field`` is the network's own word
    for the post's text, used in messages so a reader recognises the API field.
    """

    name: str
    display_name: str
    text_limit: int
    counting: Counting
    text_field: str = "text"
    byte_limit: int | None = None
    title_limit: int | None = None
    hashtag_max: int | None = None
    mention_max: int | None = None
    link_max: int | None = None
    media_required: bool = False
    media_kind: str = "an image or a video"
    forbidden_characters: frozenset[str] = frozenset()
    url_weight: int | None = None
    limit_configurable: bool = False
    soft_limit: int | None = None
    soft_limit_note: str = ""


_SPECS: Final = (
    NetworkSpec("facebook", "Facebook", 63_206, Counting.CODE_POINTS, text_field="message"),
    NetworkSpec(
        "instagram",
        "Instagram",
        2_200,
        Counting.CODE_POINTS,
        text_field="caption",
        hashtag_max=30,
        mention_max=20,
        media_required=True,
    ),
    NetworkSpec("x", "X", 280, Counting.TWITTER_TEXT, url_weight=23),
    NetworkSpec("linkedin", "LinkedIn", 3_000, Counting.CODE_POINTS, text_field="commentary"),
    NetworkSpec(
        "youtube",
        "YouTube",
        5_000,
        Counting.UTF8_BYTES,
        text_field="description",
        title_limit=100,
        media_required=True,
        media_kind="a video",
        forbidden_characters=frozenset("<>"),
    ),
    NetworkSpec(
        "weibo",
        "Weibo",
        2_000,
        Counting.WEIBO,
        text_field="status",
        soft_limit=140,
        soft_limit_note=(
            "Weibo's API takes over 140 characters only as a long Weibo"
            " (is_longtext), from accounts allowed to send them"
        ),
    ),
    NetworkSpec(
        "mastodon",
        "Mastodon",
        500,
        Counting.MASTODON,
        text_field="status",
        url_weight=23,
        limit_configurable=True,
    ),
    NetworkSpec("bluesky", "Bluesky", 300, Counting.GRAPHEMES, byte_limit=3_000),
    NetworkSpec(
        "threads",
        "Threads",
        500,
        Counting.THREADS,
        hashtag_max=1,
        link_max=5,
    ),
)

#: Every network Storyline publishes to, by the name stories and lines use.
NETWORKS: Final[Mapping[str, NetworkSpec]] = MappingProxyType({n.name: n for n in _SPECS})

_GOOGLE_PLUS = (
    "Google+ was shut down for consumers on 2 April 2019: there is nothing to publish to. "
    "Remove it from the story's networks, the markets' accounts and editorial_lines/."
)

#: Names of networks the brand once used that no longer exist, with what to tell the user.
RETIRED: Final[Mapping[str, str]] = MappingProxyType(
    dict.fromkeys(("google+", "googleplus", "google_plus", "gplus", "google-plus"), _GOOGLE_PLUS)
)


class UnknownNetwork(ValueError):
    """A network name that is neither supported nor a known retired one."""


def spec(network: str) -> NetworkSpec:
    """The spec of ``network``; a retired or unknown name raises with a message for humans."""
    try:
        return NETWORKS[network]
    except KeyError:
        if network.lower() in RETIRED:
            raise UnknownNetwork(RETIRED[network.lower()]) from None
        known = ", ".join(sorted(NETWORKS))
        raise UnknownNetwork(f"unknown network {network!r} (known: {known})") from None


_GRAPHEME = regex.compile(r"\X")
_EMOJI_BY_DEFAULT = regex.compile(r"\p{Emoji_Presentation}")
_PICTOGRAPH = regex.compile(r"\p{Extended_Pictographic}")
_EMOJI_MARKS = regex.compile(r"[\uFE0F\u200D\u20E3\p{Emoji_Modifier}]")
# Anything an emoji cluster must contain; a text without any has no emoji.
_EMOJI_CANDIDATE = regex.compile(r"[\p{Emoji_Presentation}\p{Extended_Pictographic}\u20E3]")


# The only characters that join a cluster with a neighbour (UAX #29 rules GB6-GB13, and
# GB3's CR LF): without them every code point is a cluster of its own.
_JOINER = regex.compile(
    r"[\p{GCB=Extend}\p{GCB=ZWJ}\p{GCB=Regional_Indicator}\p{GCB=Prepend}"
    r"\p{GCB=SpacingMark}\p{GCB=L}\p{GCB=V}\p{GCB=T}\p{GCB=LV}\p{GCB=LVT}]"
)


_JOINS = 1
_MAY_BE_EMOJI = 2
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


@functools.cache
def _char_traits(char: str) -> int:
    """``_JOINS`` if ``char`` can join a neighbour's cluster, ``_MAY_BE_EMOJI`` if an emoji
    cluster can hold it (``_EMOJI_CANDIDATE``)."""
    joins = _JOINS if _JOINER.match(char) else 0
    return joins | (_MAY_BE_EMOJI if _EMOJI_CANDIDATE.match(char) else 0)


@functools.lru_cache(maxsize=4096)
def _text_traits(text: str) -> tuple[bool, frozenset[str]]:
    """Whether every code point of ``text`` is a grapheme cluster of its own, and the
    characters of ``text`` an emoji needs — one pass over its distinct non-ASCII characters.

    Nearly every post has one cluster per code point (precomposed accents, CJK,
    single-code-point emoji): counting its clusters is then ``len``, without segmenting it
    with ``\\X``. No ASCII character joins a cluster or belongs to an emoji (a keycap needs
    U+20E3), so only the others are looked at.
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


def graphemes(text: str) -> int:
    """Number of user-perceived characters (extended grapheme clusters, UAX #29)."""
    if _text_traits(text)[0]:
        return len(text)
    return len(_GRAPHEME.findall(text))


def utf8_bytes(text: str) -> int:
    return len(text.encode("utf-8"))


@functools.lru_cache(maxsize=8192)
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


@functools.lru_cache(maxsize=1024)
def _single_emoji(chars: frozenset[str]) -> frozenset[str]:
    """Which of ``chars``, each a cluster of its own, are emoji."""
    return frozenset(char for char in chars if is_emoji(char))


@functools.lru_cache(maxsize=256)
def _any_of(chars: frozenset[str]) -> re.Pattern[str]:
    """One character class of ``chars``: finds them in a text's order in one C-level pass."""
    return re.compile("[" + "".join(re.escape(char) for char in sorted(chars)) + "]")


def emoji_clusters(text: str) -> list[str]:
    """The emoji of ``text``, one per grapheme cluster: "👨‍👩‍👧‍👦" is one emoji, not seven."""
    return list(_emoji_clusters(text))


@functools.lru_cache(maxsize=4096)
def _emoji_clusters(text: str) -> tuple[str, ...]:
    """:func:`emoji_clusters`, remembered: voice and Threads both count a post's emoji."""
    one_per_char, candidates = _text_traits(text)
    if not candidates:
        return ()
    if one_per_char:  # then an emoji is one character, shown as emoji by default
        emoji = _single_emoji(candidates)
        return tuple(_any_of(emoji).findall(text)) if emoji else ()
    return tuple(
        cluster
        for cluster in _GRAPHEME.findall(text)
        if not cluster.isascii() and is_emoji(cluster)
    )


# Mastodon's own patterns (Account::MENTION_RE / USERNAME_RE): a remote mention counts only
# as "@user", however long its domain.
_MASTODON_MENTION = regex.compile(
    r"(?<![=/\w])@(?P<user>[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?)(?:@[\w]+(?:[.-][\w]+)*)?",
    regex.IGNORECASE,
)
MASTODON_URL_WEIGHT: Final = 23


def _urls_with_protocol(text: str) -> list[tuple[int, int, str]]:
    """URL spans as Mastodon counts them: only links written with their scheme."""
    return url_spans(text, bare=False)


def _mastodon_countable(text: str) -> str:
    """The text Mastodon counts: each URL as 23 characters, ``@user@domain`` as ``@user``.

    Mirrors ``StatusLengthValidator#countable_text``: entities are extracted together and
    where two overlap the earlier one wins.
    """
    mentions = _MASTODON_MENTION.finditer(text) if "@" in text else ()
    entities = sorted(
        [(start, end, "x" * MASTODON_URL_WEIGHT) for start, end, _ in _urls_with_protocol(text)]
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


def threads_length(text: str) -> int:
    """Threads' count: one per character, except that an emoji counts its UTF-8 bytes."""
    emoji = emoji_clusters(text)
    return len(text) - sum(len(e) for e in emoji) + sum(utf8_bytes(e) for e in emoji)


# Weibo's composer counts in half characters: a character outside Latin-1 is 2 halves, any
# other 1; a link costs 20 halves (10 characters) up to 140 long, and 1 per half beyond that.
_WEIBO_URL = regex.compile(
    r"https?://[a-zA-Z0-9]+(?:\.[a-zA-Z0-9]+)+(?:[-A-Z0-9a-z_$.+!*()/,:;@&=?~#%]*)*"
)
_WEIBO_WIDE = regex.compile(r"[^\x00-\xff]")


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


# The only characters a twitter-text emoji can start with or need: ©, ®, the keycap mark
# U+20E3, and code points from U+203C (‼) up. A text without any has no emoji to discount.
_X_MAY_HOLD_EMOJI = regex.compile(r"[\u00a9\u00ae\u203c-\U0010ffff]")


# A URL twitter-text counts as 23 has a "." before its top-level domain's first letter.
# (``re``, not ``regex``: a plain scan is several times faster, and "." followed by anything
# but a space or another "." is a superset of "." followed by a letter.)
_X_MAY_HOLD_URL = re.compile(r"\.[^\s.]")


@functools.cache
def _x_config() -> dict[str, Any]:
    """twitter-text v3's configuration, as the maintained package ships it."""
    defaults: dict[str, Any] = twitter_text_module("config").config["defaults"]
    return defaults


@functools.cache
def _x_weight(char: str) -> int:
    code = ord(char)
    config = _x_config()
    for weighted in config["ranges"]:
        if weighted["start"] <= code <= weighted["end"]:
            return int(weighted["weight"])
    return int(config["default_weight"])


@dataclass(frozen=True, slots=True, eq=False)
class XEmojiTable:
    """twitter-text's emoji, as its extractor matches them.

    The package's expression is its multi-code-point emoji, longest first, then one class of
    single code points: at a position, the longest sequence that starts there wins, else a
    single code point of the class. ``sequences`` (in the expression's order) and
    ``single_ranges`` are the package's own lists; the rest is looked up by dict.
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

    def finder(self, chars: frozenset[str]) -> re.Pattern[str]:
        """Where an emoji can start in a text holding ``chars`` (a subset of ``starts``)."""
        return _x_emoji_finder(self, chars)

    def match(self, text: str, start: int) -> int:
        """Length of the emoji twitter-text's expression matches at ``start``, or 0."""
        first = text[start]
        room = len(text) - start
        for length in self.lengths.get(first, ()):
            if length <= room and text[start : start + length] in self.known:
                return length
        return 1 if first in self.singles else 0


#: twitter-text's emoji data, a file of its ``twitter_text.regexp`` package.
X_EMOJI_DATA = "emoji-test.txt"


@functools.cache
def x_emoji_table() -> XEmojiTable:
    """twitter-text's emoji table, read from the package's data file as its emoji module
    (``twitter_text.regexp.emoji``) reads it, without importing that module: it opens the
    file through ``pkg_resources`` (a fifth of a second to import; gone from setuptools 81)
    and compiles one expression of thousands of alternatives. Tests hold the two equal."""
    data = importlib.resources.files(twitter_text_module("regexp")) / X_EMOJI_DATA
    raw = data.read_bytes().decode("utf-8")
    codes = _emoji_test_codepoints(raw)
    # Longest first, as the package sorts them (stably: equal lengths keep file order).
    multi = sorted(
        ("".join(chr(c) for c in seq) for seq in codes if len(seq) > 1), key=len, reverse=True
    )
    ranges = _emoji_ranges([seq[0] for seq in codes if len(seq) == 1])
    lengths: dict[str, set[int]] = {}
    for sequence in multi:
        lengths.setdefault(sequence[0], set()).add(len(sequence))
    singles = frozenset(chr(c) for low, high in ranges for c in range(low, high + 1))
    followers: dict[str, set[str]] = {}
    for sequence in multi:
        followers.setdefault(sequence[0], set()).add(sequence[1])
    return XEmojiTable(
        sequences=tuple(multi),
        single_ranges=tuple(ranges),
        lengths=MappingProxyType({k: tuple(sorted(v, reverse=True)) for k, v in lengths.items()}),
        known=frozenset(multi),
        singles=singles,
        followers=MappingProxyType({k: frozenset(v) for k, v in followers.items()}),
        starts=frozenset(followers) | singles,
    )


@functools.lru_cache(maxsize=256)
def _x_emoji_finder(table: XEmojiTable, chars: frozenset[str]) -> re.Pattern[str]:
    """One expression finding the positions of ``chars`` where an emoji can start: any of
    them that is an emoji on its own, the others only before a character that continues
    one of their sequences (a digit only before U+FE0F or U+20E3)."""
    alone = sorted(c for c in chars if c in table.singles)
    parts = ["[" + "".join(map(re.escape, alone)) + "]"] if alone else []
    for char in sorted(chars.difference(alone)):
        after = "".join(map(re.escape, sorted(table.followers[char])))
        parts.append(f"{re.escape(char)}(?=[{after}])")
    return re.compile("|".join(parts))


def _emoji_test_codepoints(raw: str) -> list[tuple[int, ...]]:
    """The code points of each emoji in ``emoji-test.txt``, in file order, with the rules of
    ``twitter_text.regexp.emoji.parse_emoji_list``: the 32 explanation lines, the
    ``Component`` group (skin tones, hair) and subtotal lines are skipped."""
    out: list[tuple[int, ...]] = []
    group = ""
    for line in raw.splitlines()[32:]:
        if line == "# Status Counts":
            break
        if "subtotal:" in line or not line:
            continue
        if line.startswith("#") and "# group:" in line:
            group = line.split(":")[-1].strip()
        if group == "Component":
            continue
        if re.search("^[0-9A-F]{3,}", line):
            out.append(tuple(int(code, 16) for code in line.split(";")[0].split()))
    return out


def _emoji_ranges(nums: list[int]) -> list[tuple[int, int]]:
    """``twitter_text.regexp.emoji.get_ranges``: the single code points as (low, high) runs,
    computed as the package computes them (its expression is built from these, not from
    the code points themselves)."""
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


def _x_emoji(text: str) -> dict[int, int]:
    """Start -> length of each emoji twitter-text's extractor finds in ``text``.

    The extractor tries its expression at every position; only where a character starts one
    of its emoji can it match, so only those positions are tried, left to right, each match
    skipping what it covers — the same emoji, found without compiling the expression.
    """
    table = x_emoji_table()
    chars = table.starts.intersection(text)
    if not chars:
        return {}
    found: dict[int, int] = {}
    after = 0
    for candidate in table.finder(chars).finditer(text):
        start = candidate.start()
        if start < after:
            continue
        length = table.match(text, start)
        if length:
            found[start] = length
            after = start + length
    return found


#: X lengths known without counting: text key -> weighted length. Seeded by the I/O edge
#: from a cache kept between runs (see ``scheduler.pipeline``), so a repeat preview of
#: unchanged posts never imports twitter-text; every length counted here is added.
_X_KNOWN: dict[str, int] = {}
#: The keys of ``_X_KNOWN`` counted by this process (what the cache does not hold yet).
_X_COUNTED: list[str] = []


def x_text_key(text: str) -> str:
    """The key of a text among known X lengths: its SHA-256, never the text itself."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def remember_x_lengths(known: Mapping[str, int]) -> None:
    """Take ``known`` (text key -> weighted length) as already counted."""
    _X_KNOWN.update(known)


def counted_x_lengths() -> dict[str, int]:
    """The X lengths this process counted itself, by text key, oldest first."""
    return {key: _X_KNOWN[key] for key in _X_COUNTED if key in _X_KNOWN}


def x_weighted_length(text: str) -> int:
    """X's weighted length, exactly ``twitter_text.parse_tweet(text).weightedLength``.

    A text whose length is known (counted before, or seeded by :func:`remember_x_lengths`)
    is not counted again.
    """
    key = x_text_key(text)
    known = _X_KNOWN.get(key)
    if known is None:
        known = _X_KNOWN[key] = _count_x_weighted_length(text)
        _X_COUNTED.append(key)
    return known


# A run of characters twitter-text's URL expression can match across: a URL holds no space
# and no line feed (its domain, path, query and port classes exclude both), which can only be
# the one character before it ("preceding chars"), and its one look-ahead (after a top-level
# domain: not a letter, digit, "@", "+" or "-", or the end) reads a space, a line feed and the
# end alike.
_X_TOKEN = re.compile(r"[^ \n]+")


def _x_urls(text: str) -> dict[int, int]:
    """Start -> length of the URL of each entity twitter-text's extractor finds in ``text``.

    Found word by word — each word containing a "." (a domain has one) with the space or
    line feed before it, where the extractor's scan of the whole text would find the same
    entities — so that the words posts share (a headline, "Soon.") are scanned once.
    """
    found: dict[int, int] = {}
    for token in _X_TOKEN.finditer(text):
        if "." not in token.group():
            continue
        start = token.start()
        offset = start - 1 if start else 0
        for relative, length in _x_segment_urls(text[offset : token.end()]):
            found[offset + relative] = length
    return found


@functools.lru_cache(maxsize=8192)
def _x_segment_urls(segment: str) -> tuple[tuple[int, int], ...]:
    entities = twitter_text_module("extract_urls").extract_urls_with_indices(segment)
    return tuple((int(e["indices"][0]), len(e["url"])) for e in entities)


def _count_x_weighted_length(text: str) -> int:
    """X's weighted length, counted.

    ``parse_tweet`` runs twitter-text's emoji expression at every position of every text,
    which costs milliseconds a post in Python; validating a year of content measures tens of
    thousands. This takes ``parse_tweet``'s own walk — NFC and line endings, the package's
    URL extractor and weight table, an emoji counted once — but looks for URLs only where a
    "." precedes a letter and for emoji only where one can start (:func:`_x_emoji`).
    Property tests and the conformance suite hold the two to the same answers.
    """
    normalized = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    urls = _x_urls(normalized) if _X_MAY_HOLD_URL.search(normalized) else {}
    emoji = _x_emoji(normalized) if _X_MAY_HOLD_EMOJI.search(normalized) else {}
    config = _x_config()
    scale = int(config["scale"])
    url_weight = int(config["transformed_url_length"]) * scale
    emoji_weight = int(config["default_weight"])
    total = 0
    index = 0
    # parse_tweet's walk, a run of plain characters at a time: an entity starting inside
    # the one before is skipped, and a URL wins over an emoji at the same index.
    for start in sorted(urls.keys() | emoji.keys()):
        if start < index:
            continue
        total += sum(map(_x_weight, normalized[index:start]))
        if start in urls:
            total += url_weight
            index = start + urls[start]
        else:
            total += emoji_weight
            index = start + emoji[start]
    if index < len(normalized):
        total += sum(map(_x_weight, normalized[index:]))
    return total // scale


def measure(network: str, text: str) -> int:
    """The length of ``text`` as ``network`` counts it against its ``text_limit``."""
    counting = spec(network).counting
    if counting is Counting.TWITTER_TEXT:
        return x_weighted_length(text)
    if counting is Counting.GRAPHEMES:
        return graphemes(text)
    if counting is Counting.MASTODON:
        return graphemes(_mastodon_countable(text))
    if counting is Counting.THREADS:
        return threads_length(text)
    if counting is Counting.UTF8_BYTES:
        return utf8_bytes(text)
    if counting is Counting.WEIBO:
        return weibo_length(text)
    return len(text)


def limit(network: str, limit_override: int | None = None) -> int:
    """The text limit that applies: the network's, or the server's own where it sets one."""
    s = spec(network)
    if limit_override is not None and s.limit_configurable:
        return limit_override
    return s.text_limit


_HASHTAG = regex.compile(
    r"(?<![\p{L}\p{M}\p{N}_&/])[#＃](?P<tag>[\p{L}\p{M}\p{N}_]*[\p{L}\p{M}_][\p{L}\p{M}\p{N}_]*)"
)
_MENTION = regex.compile(r"(?<![\p{L}\p{N}_@/.])@(?P<user>[\p{L}\p{N}_.]+)")


def hashtags_in(text: str) -> list[str]:
    """The hashtags written in ``text``, without their ``#``, in order."""
    return list(_hashtags_in(text))


@functools.lru_cache(maxsize=4096)
def _hashtags_in(text: str) -> tuple[str, ...]:
    """:func:`hashtags_in`, remembered: voice and the network both count a post's tags."""
    if "#" not in text and "＃" not in text:
        return ()
    if "\n" not in text:
        return _line_hashtags(text)
    # Line by line, as posts share their lines: a tag holds no line feed, and the
    # look-behind reads one as it reads the start of the text.
    tags: tuple[str, ...] = ()
    for line in text.split("\n"):
        if "#" in line or "＃" in line:
            tags += _line_hashtags(line)
    return tags


@functools.lru_cache(maxsize=8192)
def _line_hashtags(line: str) -> tuple[str, ...]:
    return tuple(m.group("tag") for m in _HASHTAG.finditer(line))


def mentions_in(text: str) -> list[str]:
    if "@" not in text:
        return []
    return [m.group("user") for m in _MENTION.finditer(text)]


def links_in(text: str) -> list[str]:
    """The links in ``text``, with or without a scheme (see :func:`scheduler.links.url_spans`)."""
    return find_urls(text)


def _code(network: str, code: str) -> str:
    return f"{network}-{code}"


def check(
    network: str,
    *,
    text: str,
    title: str | None = None,
    hashtags: Sequence[str] = (),
    media: Collection[object] = (),
    pos: Position,
    limit_override: int | None = None,
) -> list[Finding]:
    """Every hard limit of ``network`` that this post breaks, as error findings.

    ``hashtags`` are the post's tags whether or not the text spells them out; they are counted
    together with the ``#tags`` written in the text, each distinct tag (case-insensitive) once.
    ``limit_override`` is a server's own limit (Mastodon's ``max_characters``).
    """
    s = spec(network)
    findings: list[Finding] = []
    cap = limit(network, limit_override)
    length = measure(network, text)
    if length > cap:
        findings.append(
            Finding.error(
                pos,
                _code(network, "too-long"),
                f"{s.display_name} {s.text_field} is {length:,} long, over its limit of {cap:,}"
                f" ({s.counting})",
            )
        )
    elif s.soft_limit is not None and length > s.soft_limit:
        findings.append(
            Finding.warning(
                pos,
                _code(network, "long-text"),
                f"{s.display_name} {s.text_field} is {length:,} long, over {s.soft_limit:,}:"
                f" {s.soft_limit_note}",
            )
        )
    if s.byte_limit is not None and utf8_bytes(text) > s.byte_limit:
        findings.append(
            Finding.error(
                pos,
                _code(network, "too-many-bytes"),
                f"{s.display_name} {s.text_field} is {utf8_bytes(text):,} UTF-8 bytes,"
                f" over its limit of {s.byte_limit:,}",
            )
        )
    if s.title_limit is not None and title is not None and len(title) > s.title_limit:
        findings.append(
            Finding.error(
                pos,
                _code(network, "title-too-long"),
                f"{s.display_name} title is {len(title):,} characters,"
                f" over its limit of {s.title_limit:,}",
            )
        )
    written = _hashtags_in(text) if s.hashtag_max is not None else ()
    # More distinct tags than the cap needs more tags than the cap, written or given.
    if s.hashtag_max is not None and len(hashtags) + len(written) > s.hashtag_max:
        tags = {t.lstrip("#＃").casefold() for t in (*hashtags, *written)}
        if len(tags) > s.hashtag_max:
            findings.append(
                Finding.error(
                    pos,
                    _code(network, "too-many-hashtags"),
                    f"{s.display_name} allows at most {s.hashtag_max} hashtag(s) per post,"
                    f" this one has {len(tags)}",
                )
            )
    if s.mention_max is not None:
        mentions = mentions_in(text)
        if len(mentions) > s.mention_max:
            findings.append(
                Finding.error(
                    pos,
                    _code(network, "too-many-mentions"),
                    f"{s.display_name} allows at most {s.mention_max} @mentions per post,"
                    f" this one has {len(mentions)}",
                )
            )
    if s.link_max is not None:
        links = set(links_in(text))  # Threads counts each distinct URL once
        if len(links) > s.link_max:
            findings.append(
                Finding.error(
                    pos,
                    _code(network, "too-many-links"),
                    f"{s.display_name} allows at most {s.link_max} distinct links per post,"
                    f" this one has {len(links)}",
                )
            )
    if s.media_required and not media:
        findings.append(
            Finding.error(
                pos,
                _code(network, "media-required"),
                f"{s.display_name} cannot publish a post without media: add {s.media_kind}",
            )
        )
    for field, value in (("title", title), (s.text_field, text)):
        if not s.forbidden_characters:
            break
        bad = sorted(c for c in s.forbidden_characters if c in (value or ""))
        if bad:
            shown = " ".join(repr(c) for c in bad)
            findings.append(
                Finding.error(
                    pos,
                    _code(network, "forbidden-character"),
                    f"{s.display_name} does not accept {shown} in the {field}",
                )
            )
    return findings
