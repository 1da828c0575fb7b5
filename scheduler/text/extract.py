"""Links, hashtags, mentions and Weibo topics in a post's text: the one place they are found.

Validation (a network's caps, the line's voice rules), link tracking, the preview's highlight
and Bluesky's facets all ask here, so they agree on what a link is: in
``see https://en.example/wiki/Foo_(bar).`` the link is ``https://en.example/wiki/Foo_(bar)``
for every one of them.

* **Links written with their scheme** run to the next space, quote or angle bracket; sentence
  punctuation after them, and a closing bracket they did not open, are left out. Any top-level
  domain is accepted: ``https://brand.example/suv`` is a link on every network.
* **Bare domains** (``www.brand.com/suv``) are found by twitter-text's extractor (vendored in
  ``twitter_text/``), which only accepts real top-level domains, so "e.g." or "file.txt" are
  not links. Only validation asks for them (``bare=True``): X and the voice rules treat
  ``brand.com`` as a link, but tracking, Mastodon's count, the preview and Bluesky's facets
  deal in links a reader can click, written with their scheme.
* **A hashtag** is ``#`` (or the full-width ``＃``) and a run of letters, marks, digits and
  ``_`` holding at least one letter, mark or ``_``, not glued to a word, an ``&`` (``&#38;``)
  or a ``/`` before it: ``#SUV``, ``#1er``, not ``#2026``.
* **A mention** is ``@`` and a run of letters, digits, ``_`` and ``.`` (Bluesky handles hold
  dots), not glued to a word, an ``@``, a ``/`` or a ``.`` before it (so ``press@brand.example``
  is no mention), with an optional ``@server`` (a Mastodon account).
* **A Weibo topic** is written between two signs, ``#好德极光#``; only the preview asks for them.

Entities are in code points (``str`` indices). :func:`entities` resolves overlaps: a link
wins over a topic, a topic over a hashtag, a hashtag over a mention. Pure: no I/O.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Final, NamedTuple

import regex


class Kind(StrEnum):
    """What an entity is; the order of the members is the order of precedence."""

    LINK = "link"
    TOPIC = "topic"
    HASHTAG = "hashtag"
    MENTION = "mention"


class Entity(NamedTuple):
    """One entity of a text: ``text[start:end]`` as written, and its value — a link's URL, a
    hashtag's or topic's tag (without its signs), a mention's handle (without its ``@``)."""

    kind: Kind
    start: int
    end: int
    value: str


# Case-insensitive "http(s)" spelt out rather than by IGNORECASE, which makes the engine fold
# every character of the link: the same matches (U+017F, long s, folds to "s"), twice as fast.
_SCHEME_URL: Final = regex.compile(r"""\b[hH][tT][tT][pP][sS\u017f]?://[^\s<>"'\u00a0\u3000]+""")
_TRAILING: Final = ".,;:!?'\"…。，、！？"
_CLOSERS: Final = {")": "(", "]": "[", "}": "{"}

_HASHTAG: Final = regex.compile(
    r"(?<![\p{L}\p{M}\p{N}_&/])[#＃](?P<tag>[\p{L}\p{M}\p{N}_]*[\p{L}\p{M}_][\p{L}\p{M}\p{N}_]*)"
)
_MENTION: Final = regex.compile(
    r"(?<![\p{L}\p{N}_@/.])@(?P<user>[\p{L}\p{N}_.]+)"
    r"(?:@(?P<server>[\p{L}\p{N}_](?:[\p{L}\p{N}_.-]*[\p{L}\p{N}_])?))?"
)
# ``#话题#``: a topic between two signs, with no space, ``&`` or ``;`` inside (``&#38;`` is
# an entity, not a topic), not glued to a word or another sign.
_TOPIC: Final = re.compile(r"(?<![\w&/#＃])[#＃](?P<topic>[^#＃\s&;]{1,63})[#＃]")


def _trim(url: str) -> str:
    """Drop sentence punctuation after a link, and a closing bracket it did not open."""
    while url:
        last = url[-1]
        unopened = last in _CLOSERS and url.count(_CLOSERS[last]) < url.count(last)
        if last not in _TRAILING and not unopened:
            break
        url = url[:-1]
    return url


# --- links --------------------------------------------------------------------------------


def links(text: str, *, bare: bool = True) -> tuple[Entity, ...]:
    """The links of ``text``, in order: those written with their scheme, then, unless
    ``bare`` is false, the bare domains twitter-text finds outside them.

    Shortcut: twitter-text's extractor runs only on a text where a bare domain can be
    (:func:`_may_hold_bare_domain`); :func:`links_plain` runs it on every text.
    """
    scheme = _scheme_links(text)
    if not bare or not _may_hold_bare_domain(text, scheme):
        return scheme
    return _with_bare_domains(text, scheme)


def links_plain(text: str, *, bare: bool = True) -> tuple[Entity, ...]:
    """:func:`links`, the plain way: the scheme links, and twitter-text on every text."""
    scheme = _scheme_links(text)
    return _with_bare_domains(text, scheme) if bare else scheme


def _with_bare_domains(text: str, scheme: tuple[Entity, ...]) -> tuple[Entity, ...]:
    # Imported on first use: compiling its expressions costs a preview a tenth of a second.
    from scheduler.text.twitter_text.urls import extract_urls_with_indices

    found = list(scheme)
    for entity in extract_urls_with_indices(text):
        start, end = entity["indices"]
        if not any(s <= start < e for _, s, e, _ in found):
            found.append(Entity(Kind.LINK, start, end, entity["url"]))
    return tuple(sorted(found, key=lambda link: link.start))


def _scheme_links(text: str) -> tuple[Entity, ...]:
    """The links written with their scheme."""
    if "://" not in text:
        return ()
    found = []
    for match in _SCHEME_URL.finditer(text):
        url = _trim(match.group(0))
        if "://" in url and len(url) > url.index("://") + 3:
            found.append(Entity(Kind.LINK, match.start(), match.start() + len(url), url))
    return tuple(found)


# twitter-text finds a bare domain only by a "." and the first letter of its top-level
# domain. (``re``, not ``regex``: a plain scan is several times faster, and "." followed by
# anything but a space or another "." is a superset of "." followed by a letter.)
_DOT_WORD: Final = re.compile(r"\.[^\s.]")


def _may_hold_bare_domain(text: str, scheme: Sequence[Entity]) -> bool:
    """Whether a "." followed by a letter stands outside the scheme links.

    A bare domain the extractor would report starts outside those links (the others are
    dropped) and cannot run into one (a host holds no "://"), so its top-level domain's dot
    is outside them too: without such a dot there is nothing to extract, and twitter-text's
    expressions (a tenth of a second to compile) are not even imported.
    """
    if "." not in text:
        return False
    return any(
        not any(s <= m.start() < e for _, s, e, _ in scheme) for m in _DOT_WORD.finditer(text)
    )


def links_in(text: str, *, bare: bool = True) -> list[str]:
    """The URLs of the links in ``text``, in order (see :func:`links`)."""
    return [link.value for link in links(text, bare=bare)]


# --- hashtags, mentions, topics -----------------------------------------------------------


def hashtags(text: str) -> tuple[Entity, ...]:
    """The hashtags written in ``text``, in order (a ``#`` inside a link included: see
    :func:`entities` for the text as a reader sees it)."""
    if "#" not in text and "＃" not in text:
        return ()
    return tuple(
        Entity(Kind.HASHTAG, m.start(), m.end(), m.group("tag")) for m in _HASHTAG.finditer(text)
    )


def hashtags_in(text: str) -> list[str]:
    """The hashtags written in ``text``, without their ``#``, in order.

    Shortcut: found line by line, each line remembered, as posts share most of their lines
    (a tag holds no line feed, and the look-behind reads one as it reads the start of the
    text); :func:`hashtags_in_plain` searches the whole text.
    """
    if "#" not in text and "＃" not in text:
        return []
    if "\n" not in text:
        return list(_line_hashtags(text))
    found: list[str] = []
    for line in text.split("\n"):
        if "#" in line or "＃" in line:
            found += _line_hashtags(line)
    return found


def hashtags_in_plain(text: str) -> list[str]:
    return [tag.value for tag in hashtags(text)]


@functools.lru_cache(maxsize=8192)
def _line_hashtags(line: str) -> tuple[str, ...]:
    return tuple(m.group("tag") for m in _HASHTAG.finditer(line))


def mentions(text: str) -> tuple[Entity, ...]:
    """The @mentions of ``text``, in order; sentence dots after one are not part of it."""
    if "@" not in text:
        return ()
    found = []
    for m in _MENTION.finditer(text):
        user, server = m.group("user"), m.group("server")
        if server:
            found.append(Entity(Kind.MENTION, m.start(), m.end(), f"{user}@{server}"))
        else:
            trimmed = user.rstrip(".") or user
            found.append(Entity(Kind.MENTION, m.start(), m.start() + 1 + len(trimmed), trimmed))
    return tuple(found)


def mentions_in(text: str) -> list[str]:
    """The handles mentioned in ``text``, without their ``@``, in order."""
    return [mention.value for mention in mentions(text)]


def topics(text: str) -> tuple[Entity, ...]:
    """Weibo's ``#topic#`` entities of ``text``, in order."""
    if "#" not in text and "＃" not in text:
        return ()
    return tuple(
        Entity(Kind.TOPIC, m.start(), m.end(), m.group("topic")) for m in _TOPIC.finditer(text)
    )


# --- everything, as a reader sees it ------------------------------------------------------


def entities(text: str, *, bare: bool = False, with_topics: bool = False) -> tuple[Entity, ...]:
    """Every entity of ``text`` a reader sees, in order, none overlapping another.

    Where two overlap, the link wins over the topic, the topic over the hashtag, the hashtag
    over the mention: ``https://brand.example/a-#b`` is one link, ``#好德极光#`` one topic.
    ``bare`` adds bare domains to the links, ``with_topics`` Weibo's topics.
    """
    kept: list[Entity] = []
    candidates = (
        links(text, bare=bare),
        topics(text) if with_topics else (),
        hashtags(text),
        mentions(text),
    )
    for found in candidates:
        for entity in found:
            if not any(entity.start < e and s < entity.end for _, s, e, _ in kept):
                kept.append(entity)
    return tuple(sorted(kept, key=lambda entity: entity.start))
