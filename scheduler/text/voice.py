"""An editorial line's voice rules (the ``rules:`` of ``line.yaml``) and the check of a post.

Hard limits belong to the network (``networks``); these are the brand's own choices, made per
network line: words it no longer uses, the signature every post carries, how many hashtags and
emoji it tolerates, and where links go. Every broken rule is a finding with a stable code:

=====================  ==========================================================
``banned-word``        a banned word or phrase appears (which one, and where)
``missing-signature``  ``require_signature`` and the market's claim is not in the text
``too-many-hashtags``  more distinct hashtags than ``max_hashtags``
``too-many-emoji``     more emoji than ``emoji.max``
``too-many-mentions``  more @mentions than ``mentions.max``
``link-missing``       ``link: inline`` and the story's link is not in the text
``link-not-allowed``   ``link: none`` or ``first_comment`` and the text has a link
``banned-pattern``     a ban pattern of ``_brand.yaml`` matches (discount talk: ``-20%``)
``pattern-too-slow``   a ban pattern ran past its time budget on a post
=====================  ==========================================================

The shape of ``rules:`` (``unknown-rule``, ``invalid-rule``) is checked where ``line.yaml`` is
read, against ``RULES_SHAPE`` in ``scheduler.content.files``; :func:`rules_from` gives the
checked values their meaning.

Banned vocabulary is per locale. A post is checked against the list of its own locale (an
exact key such as ``pt-BR``, else its language ``pt``) **and** the ``all`` list, which applies
everywhere — the English list does *not* apply to a French post unless it is under ``all``.
Matching ignores case and accents (``PROMO``, ``Promó`` and ``promo`` are one word), respects
word boundaries for words (``deal`` does not ban ``ideal``), matches a phrase that starts or
ends with a symbol as written (``% off``), lets any run of spaces match a space, and treats a
trailing ``*`` as "any ending" (``promo*`` bans ``promotion``).

Ban **patterns** (``patterns:`` of ``editorial_lines/_brand.yaml``) catch what words miss —
``-20%``, ``20 % off``, ``5 000 € de remise`` — and are regular expressions run by the
``regex`` module, any case, within each line of the text (a match inside a link does not
count), each search with a time budget
(:data:`PATTERN_TIMEOUT`): a pattern that backtracks catastrophically is stopped and reported,
never left to hang a validation. :func:`compile_ban_pattern` refuses, before any post is
checked, a pattern that does not compile or that is too slow on probe texts.

Pure: no I/O. Positions come from the caller (``pos`` for a post).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final
from urllib.parse import urlsplit

import regex

from scheduler.core.diagnostics import Finding, Position
from scheduler.text.counting import emoji_clusters
from scheduler.text.extract import Entity, hashtags_in, links, links_in, mentions
from scheduler.text.patterns import PATTERN_TIMEOUT, BanPattern, PatternSet

ALL_LOCALES: Final = "all"


class LinkPolicy(StrEnum):
    """Where a post's link goes on this network."""

    INLINE = "inline"  # in the text: the network makes it clickable
    FIRST_COMMENT = "first_comment"  # posted as the first comment; never in the text
    NONE = "none"  # no link at all


@dataclass(frozen=True, slots=True)
class VoiceRules:
    """A line's rules; ``None`` means "no such rule" (no cap)."""

    max_hashtags: int | None = None
    max_emoji: int | None = None
    max_mentions: int | None = None
    banned: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    require_signature: bool = False
    link: LinkPolicy = LinkPolicy.INLINE
    utm: bool = True
    #: locale (or ``all``) -> ban patterns (``_brand.yaml``), compiled, with their positions
    patterns: Mapping[str, tuple[BanPattern, ...]] = field(
        default_factory=lambda: MappingProxyType({})
    )
    #: locale -> the banned terms that apply there and their longest words, worked out on
    #: first use (a line's rules are checked against tens of thousands of posts, in a few
    #: locales): the shortcut of :func:`_check_banned`.
    _by_locale: dict[str, _Banned] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    #: locale -> the ban patterns that apply there, with the lines already searched
    _patterns_by_locale: dict[str, PatternSet] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def banned_for(self, locale: str) -> list[tuple[str, str]]:
        """``(list name, term)`` pairs that apply to a post in ``locale``."""
        keys = [ALL_LOCALES]
        wanted = locale.replace("_", "-").casefold()
        exact = [k for k in self.banned if k.replace("_", "-").casefold() == wanted]
        language = wanted.split("-")[0]
        keys += exact or [k for k in self.banned if k.casefold() == language]
        return [(key, term) for key in keys for term in self.banned.get(key, ())]

    def patterns_for(self, locale: str) -> list[tuple[str, BanPattern]]:
        """``(list name, pattern)`` pairs that apply to a post in ``locale``."""
        return [
            (key, pattern)
            for key in _keys_for(self.patterns, locale)
            for pattern in self.patterns[key]
        ]

    def _patterns(self, locale: str) -> PatternSet:
        """:meth:`patterns_for`, remembered per locale with the lines it searched."""
        found = self._patterns_by_locale.get(locale)
        if found is None:
            pairs = self.patterns_for(locale)
            found = self._patterns_by_locale[locale] = PatternSet(
                tuple(p for _, p in pairs), tuple(name for name, _ in pairs)
            )
        return found

    def _banned(self, locale: str) -> _Banned:
        """:meth:`banned_for` with each term's longest folded word, remembered per locale."""
        found = self._by_locale.get(locale)
        if found is None:
            terms = tuple(self.banned_for(locale))
            words = tuple({_longest_word(term): None for _, term in terms})
            found = self._by_locale[locale] = _Banned(terms, words)
        return found


def _keys_for(lists: Mapping[str, Any], locale: str) -> list[str]:
    """The keys of ``lists`` that apply to ``locale``: ``all``, then exact, else language."""
    keys = [ALL_LOCALES] if ALL_LOCALES in lists else []
    wanted = locale.replace("_", "-").casefold()
    exact = [k for k in lists if k.replace("_", "-").casefold() == wanted]
    language = wanted.split("-")[0]
    return keys + (exact or [k for k in lists if k.casefold() == language])


@dataclass(frozen=True, slots=True)
class _Banned:
    """The banned terms that apply in one locale, and what clears a clean post at once."""

    terms: tuple[tuple[str, str], ...]
    #: The longest folded word of each term: a post whose folded text holds none of them
    #: holds no banned term (each term's expression spells out every word of it).
    words: tuple[str, ...] = ()

    def may_match(self, folded: str) -> bool:
        return any(word in folded for word in self.words)


RULES: Final = (
    "max_hashtags",
    "emoji",
    "mentions",
    "banned",
    "require_signature",
    "link",
    "utm",
)


def rules_from(checked: Mapping[str, Any]) -> VoiceRules:
    """The :class:`VoiceRules` of a line's ``rules:``, already checked against their shape.

    ``checked`` is what ``scheduler.content.shapes.conform`` keeps of the mapping against
    ``RULES_SHAPE`` (``scheduler.content.files``): every value has its rule's type, and a rule
    written wrong is absent, so it keeps its default. This gives the rules their meaning.
    """
    values: dict[str, Any] = {}
    for name, value in checked.items():
        if name in ("emoji", "mentions"):
            if "max" in value:
                values[f"max_{name}"] = value["max"]
        elif name == "banned":
            values[name] = MappingProxyType(
                {locale: _words(words) for locale, words in value.items()}
            )
        elif name == "link":
            values[name] = LinkPolicy(value)
        else:  # max_hashtags, require_signature, utm: taken as they are
            values[name] = value
    return VoiceRules(**values)


def _words(written: str | list[str]) -> tuple[str, ...]:
    """A banned list as voice keeps it: one word alone is a list of one, spaces trimmed."""
    return tuple(word.strip() for word in ([written] if isinstance(written, str) else written))


def _fold_char(char: str) -> str:
    return "".join(
        piece
        for piece in unicodedata.normalize("NFKD", char.casefold())
        if not unicodedata.combining(piece)
    )


def _fold(text: str) -> tuple[str, list[int]]:
    """``text`` case- and accent-folded, with the index in ``text`` of each folded character."""
    if text.isascii():
        return text.lower(), list(range(len(text)))
    folded: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        for piece in _fold_char(char):
            folded.append(piece)
            origin.append(index)
    return "".join(folded), origin


def _folded(text: str) -> str:
    """``text`` case- and accent-folded, character by character (see :func:`_fold`).

    Shortcut: a text folds through a translate table filled on first sight of each
    character (one C-level pass instead of a Python loop per character), line by line with
    each line remembered, as posts share most of their lines (headline, hook, phrases)
    across markets and networks; :func:`_folded_plain` folds character by character.
    """
    if text.isascii():
        return text.lower()
    return "\n".join(map(_folded_line, text.split("\n")))


def _folded_plain(text: str) -> str:
    return _fold(text)[0]


@functools.lru_cache(maxsize=8192)
def _folded_line(line: str) -> str:
    if line.isascii():
        return line.lower()
    return line.translate(_FOLD_TABLE)


class _FoldTable(dict[int, str]):
    """``str.translate`` table of :func:`_fold_char`, one code point at a time, filled on
    first sight."""

    def __missing__(self, code: int) -> str:
        folded = self[code] = _fold_char(chr(code))
        return folded


_FOLD_TABLE: Final = _FoldTable()


def _term_pattern(term: str) -> regex.Pattern[str]:
    return regex.compile(_term_source(term))


def _longest_word(term: str) -> str:
    """The longest literal every match of ``term`` holds (see :func:`_term_source`): of
    ``% off``, ``off`` — the ``%`` is in every tracked link."""
    return max(_folded(term.rstrip("*").strip()).split(), key=len, default="")


def _term_source(term: str) -> str:
    prefix = term.endswith("*")
    core = _folded(term.rstrip("*").strip())
    body = r"\s+".join(regex.escape(part) for part in core.split())
    left = r"(?<![\w])" if regex.match(r"\w", core) else ""
    right = "" if prefix or not regex.search(r"\w$", core) else r"(?![\w])"
    tail = r"\w*" if prefix else ""
    return left + body + tail + right


def _where(text: str, index: int) -> str:
    line = text.count("\n", 0, index) + 1
    column = index - (text.rfind("\n", 0, index) + 1) + 1
    return f"line {line}, column {column} of the text"


def _same_link(a: str, b: str) -> bool:
    """Whether two URLs point at the same page, whatever their query (tracking) or fragment."""
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.netloc.casefold(), pa.path.rstrip("/")) == (
        pb.netloc.casefold(),
        pb.path.rstrip("/"),
    )


def check_voice(
    rules: VoiceRules,
    *,
    text: str,
    locale: str,
    signature: str | None,
    link: str | None,
    pos: Position,
) -> list[Finding]:
    """Every voice rule that a rendered post breaks.

    ``signature`` is the market's claim (``None`` when the market has none); ``link`` is the
    story's link for this post, tracked or not (``None`` when the story has none).
    """
    written = links(text, bare=False)  # found once for the pattern and link checks
    return [
        *_check_banned(rules, text=text, locale=locale, pos=pos),
        *_check_patterns(rules, text=text, locale=locale, pos=pos, written=written),
        *_check_signature(rules, text=text, signature=signature, pos=pos),
        *_check_counts(rules, text=text, pos=pos),
        *_check_link(rules.link, text=text, link=link, pos=pos, written=written),
    ]


def _check_banned(rules: VoiceRules, *, text: str, locale: str, pos: Position) -> list[Finding]:
    """Banned words, outside links: a tracked URL carries campaign names, not the voice.

    Shortcut: a post whose folded text holds none of the terms' longest words holds no
    banned term, and is cleared without blanking its links or searching term by term
    (:func:`_check_banned_plain`). Blanking links only turns characters into spaces, and
    folding is per character: a word (no spaces) found in the folded prose is in the folded
    text too.
    """
    banned = rules._banned(locale)
    if not banned.terms or not banned.may_match(_folded(text)):
        return []
    return _check_banned_plain(rules, text=text, locale=locale, pos=pos)


def _check_banned_plain(
    rules: VoiceRules, *, text: str, locale: str, pos: Position
) -> list[Finding]:
    terms = rules.banned_for(locale)
    if not terms:
        return []
    folded, origin = _fold(_blank_links(text))
    findings = []
    for list_name, term in terms:
        match = _term_pattern(term).search(folded)
        if match:
            start, end = origin[match.start()], origin[match.end() - 1] + 1
            findings.append(
                Finding.error(
                    pos,
                    "banned-word",
                    f"{text[start:end]!r} is banned by the line ({list_name}: {term!r}),"
                    f" at {_where(text, start)}",
                )
            )
    return findings


def _check_patterns(
    rules: VoiceRules,
    *,
    text: str,
    locale: str,
    pos: Position,
    written: tuple[Entity, ...] | None = None,
) -> list[Finding]:
    """Ban patterns, outside links, each search within its time budget.

    Patterns match within one line of the post, its links written with their scheme
    (``written``, when the caller found them already) blanked as the one extractor finds them;
    a hit is then checked against the text's links, bare domains included (a match inside a
    link does not count). Shortcut: each line is searched once per locale's patterns
    (:meth:`PatternSet.hits`, remembered), as posts share most of their lines across markets
    and networks; :func:`_check_patterns_plain` searches them all.
    """
    return _pattern_findings(rules, text, locale, pos, written, remember=True)


def _check_patterns_plain(
    rules: VoiceRules, *, text: str, locale: str, pos: Position
) -> list[Finding]:
    return _pattern_findings(rules, text, locale, pos, None, remember=False)


def _pattern_findings(
    rules: VoiceRules,
    text: str,
    locale: str,
    pos: Position,
    written: tuple[Entity, ...] | None,
    *,
    remember: bool,
) -> list[Finding]:
    if not rules.patterns:
        return []
    chosen = rules._patterns(locale)
    if not chosen.patterns:
        return []
    if written is None:
        written = links(text, bare=False)
    hits: list[tuple[int, int, int, str]] = []
    offset = 0
    for line in _blanked(text, written).split("\n"):
        found = chosen.hits(line, remember=remember)
        if isinstance(found, int):
            pattern = chosen.patterns[found]
            return [
                Finding.error(
                    pattern.pos,
                    "pattern-too-slow",
                    f"pattern {pattern.source!r} ({chosen.names[found]}) ran past "
                    f"{PATTERN_TIMEOUT}s on a post and was stopped: rewrite it without nested "
                    "repeats",
                )
            ]
        if found:
            hits.extend((index, offset + start, offset + end, t) for index, start, end, t in found)
        offset += len(line) + 1
    if not hits:
        return []
    spans = [(start, end) for _, start, end, _ in links(text)]
    findings: list[Finding] = []
    reported: set[int] = set()
    for index, start, end, matched in hits:
        if index in reported or any(a < end and start < b for a, b in spans):
            continue
        reported.add(index)
        pattern = chosen.patterns[index]
        findings.append(
            Finding.error(
                pos,
                "banned-pattern",
                f"{matched.strip()!r} is banned by the brand ({chosen.names[index]}: pattern "
                f"{pattern.source!r} at {pattern.pos}), at {_where(text, start)}",
            )
        )
    return findings


def _blank_links(text: str) -> str:
    """``text`` with every link replaced by as many spaces: positions stay those of ``text``."""
    return _blanked(text, links(text))


def _blanked(text: str, spans: tuple[Entity, ...]) -> str:
    if not spans:
        return text
    pieces: list[str] = []
    last = 0
    for _, start, end, _ in spans:
        start = max(start, last)
        if end > start:
            pieces.append(text[last:start])
            pieces.append(" " * (end - start))
            last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _check_signature(
    rules: VoiceRules, *, text: str, signature: str | None, pos: Position
) -> list[Finding]:
    if not rules.require_signature:
        return []
    if not signature:
        message = "the line requires the market's claim, but this market has none"
        return [Finding.error(pos, "missing-signature", message)]
    if _has_signature(text, signature):
        return []
    return [Finding.error(pos, "missing-signature", f"the claim {signature!r} is not in the text")]


def _has_signature(text: str, signature: str) -> bool:
    """Whether ``text`` holds the claim, case- and accent-insensitively, any run of white
    space matching a space.

    Shortcut: a claim written as is is in there (folding is per character) without folding
    the text (:func:`_has_signature_plain`).
    """
    return signature in text or _has_signature_plain(text, signature)


def _has_signature_plain(text: str, signature: str) -> bool:
    wanted = " ".join(_folded(signature).split())
    return wanted in " ".join(_folded(text).split())


def _over(pos: Position, code: str, count: int, cap: int | None, what: str) -> list[Finding]:
    if cap is None or count <= cap:
        return []
    return [Finding.error(pos, code, f"{count} {what}, the line allows {cap}")]


def _check_counts(rules: VoiceRules, *, text: str, pos: Position) -> list[Finding]:
    findings: list[Finding] = []
    if rules.max_hashtags is not None:
        written = hashtags_in(text)
        if len(written) > rules.max_hashtags:  # else the distinct ones are within the cap too
            tags = {tag.casefold() for tag in written}
            findings += _over(pos, "too-many-hashtags", len(tags), rules.max_hashtags, "hashtags")
    if rules.max_emoji is not None:
        emoji = emoji_clusters(text)
        if len(emoji) > rules.max_emoji:
            shown = f"emoji ({' '.join(emoji[:5])})"
            findings += _over(pos, "too-many-emoji", len(emoji), rules.max_emoji, shown)
    if rules.max_mentions is not None:
        mentioned = len(mentions(text))
        findings += _over(pos, "too-many-mentions", mentioned, rules.max_mentions, "@mentions")
    return findings


def _check_link(
    policy: LinkPolicy,
    *,
    text: str,
    link: str | None,
    pos: Position,
    written: tuple[Entity, ...] | None = None,
) -> list[Finding]:
    """The link where the line puts it; ``written``: the text's links written with their
    scheme, when the caller found them already."""
    if policy is LinkPolicy.INLINE:
        if not link:
            return []
        urls = [e.value for e in (links(text, bare=False) if written is None else written)]
        if not any(url == link or _same_link(url, link) for url in urls):
            message = f"the line puts links inline, but {link} is not in the text"
            return [Finding.error(pos, "link-missing", message)]
        return []
    urls = links_in(text)
    if not urls:
        return []
    where = "goes in the first comment" if policy is LinkPolicy.FIRST_COMMENT else "is not used"
    message = f"{urls[0]} is in the text, but on this line the link {where} (link: {policy})"
    return [Finding.error(pos, "link-not-allowed", message)]
