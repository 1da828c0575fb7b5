"""Post text as a feed shows it: escaped, with links, hashtags and mentions highlighted, folded.

The post text comes from the content team and the brand's templates, so it is untrusted here:
the text is split into tokens on the *raw* string, every piece is HTML-escaped on its own, and
the only markup in the result is the markup this module writes around the pieces. A link becomes
an ``<a>`` only when it starts with ``http://`` or ``https://`` (in any case), so no
``javascript:`` URL can be produced, whatever the story says.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from markupsafe import Markup, escape

from scheduler.text.extract import Kind, entities

#: The preview's token kind of each kind of entity (a Weibo topic is shown as a hashtag).
_TOKEN_KINDS: Final = {
    Kind.LINK: "url",
    Kind.TOPIC: "tag",
    Kind.HASHTAG: "tag",
    Kind.MENTION: "mention",
}
_SHOWN_URL_LENGTH = 32


@dataclass(frozen=True, slots=True)
class Token:
    """A piece of the raw text: ``kind`` is ``text``, ``url``, ``tag`` or ``mention``."""

    kind: str
    text: str


def tokens(text: str) -> Iterator[Token]:
    """Split ``text`` into plain runs and the entities a feed highlights, in order.

    The entities are the ones validation, tracking and Bluesky's facets see
    (:func:`scheduler.text.extract.entities`): links written with their scheme (a bare domain
    is not made clickable), hashtags, mentions, and Weibo's ``#topics#``.
    """
    last = 0
    for entity in entities(text, with_topics=True):
        if entity.start > last:
            yield Token("text", text[last : entity.start])
        yield Token(_TOKEN_KINDS[entity.kind], text[entity.start : entity.end])
        last = entity.end
    if last < len(text):
        yield Token("text", text[last:])


def shown_url(url: str) -> str:
    """How feeds print a link: without the scheme, shortened with an ellipsis when long."""
    bare = re.sub(r"^https?://(www\.)?", "", url)
    if len(bare) <= _SHOWN_URL_LENGTH:
        return bare
    return bare[: _SHOWN_URL_LENGTH - 1] + "…"


def linkify(text: str) -> Markup:
    """Escaped HTML of ``text`` with links, hashtags and mentions wrapped in their markup."""
    parts: list[str] = []
    for token in tokens(text):
        if token.kind == "url":
            parts.append(
                f'<a class="link" href="{escape(token.text)}" rel="noopener noreferrer nofollow"'
                f' target="_blank" title="{escape(token.text)}">{escape(shown_url(token.text))}</a>'
            )
        elif token.kind == "tag":
            parts.append(f'<span class="hashtag">{escape(token.text)}</span>')
        elif token.kind == "mention":
            parts.append(f'<span class="mention">{escape(token.text)}</span>')
        else:
            parts.append(str(escape(token.text)))
    return Markup("".join(parts))  # noqa: S704 - every piece above is escaped


@dataclass(frozen=True, slots=True)
class Fold:
    """A text cut where a feed cuts it: ``shown`` before "see more", ``hidden`` after."""

    shown: str
    hidden: str

    @property
    def is_folded(self) -> bool:
        return bool(self.hidden)


def fold(text: str, at: int | None) -> Fold:
    """Cut ``text`` after ``at`` shown characters, as a feed does before its "see more" link.

    Characters are counted as the feed shows them: a link counts as its shortened form. Feeds
    do not cut inside a word or a link: when the cut falls inside one, it moves back to the
    space before it (unless that would hide most of the visible part). ``at`` of ``None``
    means the network shows every post whole.
    """
    cut = None if at is None else _raw_index(text, at)
    if cut is None:
        return Fold(text, "")
    limit = cut
    for token_start, token_end in _entity_spans(text):
        if token_start < cut < token_end:
            cut = token_start
            break
    else:
        if not text[cut - 1].isspace() and not text[cut].isspace():
            space = max(text.rfind(" ", 0, cut), text.rfind("\n", 0, cut))
            if space > limit * 0.6:
                cut = space
    if cut <= 0:
        cut = limit
    return Fold(text[:cut].rstrip(), text[cut:].lstrip(" "))


def _raw_index(text: str, at: int) -> int | None:
    """Where in ``text`` the ``at``-th shown character ends; None when the text fits."""
    shown = 0
    position = 0
    for token in tokens(text):
        width = len(shown_url(token.text)) if token.kind == "url" else len(token.text)
        if shown + width > at:
            inside = at - shown
            if token.kind == "url":  # a link is cut whole: point inside it, moved back below
                inside = min(max(inside, 1), len(token.text) - 1)
            return position + inside
        shown += width
        position += len(token.text)
    return None


def _entity_spans(text: str) -> Iterator[tuple[int, int]]:
    position = 0
    for token in tokens(text):
        end = position + len(token.text)
        if token.kind != "text":
            yield position, end
        position = end


def initials(name: str) -> str:
    """Two letters for an avatar: the first letters of the first two words of the name."""
    words = [w for w in re.split(r"[\s_.\-@]+", name) if w and w[0].isalnum()]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:2].upper()
    return (words[0][0] + words[1][0]).upper()
