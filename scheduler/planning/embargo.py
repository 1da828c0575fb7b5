"""Embargo: what no post may say or show before a story's reveal, anywhere in the world.

A story's ``embargo: {terms: [...], media: reveal}`` holds until the **earliest** instant its
reveal beat is due in any market: a teaser due in Tokyo must not leak what Paris reveals
later, even if Tokyo's own reveal is later still. Every post due before that instant is
checked, in its own locale's text (the text, the title, the first comment and the media's
alternative text):

- ``embargo-leak``: a term appears (case-insensitively, as a whole word) or a media file of
  the reveal beat is attached. The finding points at the field that produced it — the
  translation, the beat's own hook, an override, the media item — as ``storyline explain``
  would name it; a term that comes from the template itself points at the template.
- ``embargo-term-unused``: a term that the reveal itself never says is probably a typo,
  and protects nothing.

The query and fragment of links are not read: they carry Storyline's own tracking
parameters (``utm_content`` names the post, hence the story id), not the brand's words; the
address itself is (``/aurora`` gives the name away). Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

import regex

from scheduler.core.diagnostics import Finding, Position, Severity
from scheduler.core.model import REVEAL_BEAT, Beat, Market, Story, StoryStatus
from scheduler.core.post import PlannedPost
from scheduler.core.resolve import Resolved, resolve
from scheduler.core.suggest import did_you_mean
from scheduler.core.timezones import apply_offset
from scheduler.lines.book import LineBook

LEAK = "embargo-leak"
UNUSED = "embargo-term-unused"
NO_REVEAL = "embargo-no-reveal"

_QUERY = re.compile(r"(https?://[^\s?#]+)([?#]\S*)")


def _without_queries(text: str) -> str:
    return _QUERY.sub(lambda m: m.group(1) + " " * len(m.group(2)), text)


def term_pattern(term: str) -> regex.Pattern[str]:
    """``term`` as a whole word or phrase, any case, any run of spaces for a space."""
    body = r"\s+".join(regex.escape(part) for part in term.split())
    left = r"(?<!\w)" if regex.match(r"\w", term) else ""
    right = r"(?!\w)" if regex.search(r"\w$", term) else ""
    return regex.compile(left + body + right, regex.IGNORECASE | regex.FULLCASE)


@dataclass(frozen=True, slots=True)
class _Reveal:
    """When the embargo lifts, where, and what the reveal shows."""

    at: datetime
    market: str
    media: frozenset[str]
    said: str  # every text the reveal resolves to, in every market, for the typo check


def _reveal(story: Story, beat: Beat, markets: Mapping[str, Market]) -> _Reveal | None:
    networks = beat.networks if beat.networks is not None else story.networks
    codes = beat.markets if beat.markets is not None else story.markets
    earliest: tuple[datetime, str] | None = None
    media: set[str] = set()
    said: list[str] = []
    for code in codes:
        market = markets.get(code)
        if market is None:
            continue
        told = [n for n in networks if n in market.accounts]
        if not told:
            continue
        at = apply_offset(story.launch, beat.offset, market.timezone).utc
        if earliest is None or at < earliest[0]:
            earliest = (at, code)
        for network in told:
            fields = resolve(story, network, market, beat)
            media.update(m.file for m in fields.media)
            said.extend(_field_texts(fields).values())
    if earliest is None:
        return None
    return _Reveal(earliest[0], earliest[1], frozenset(media), "\n".join(said))


def _field_texts(fields: Resolved) -> dict[str, str]:
    """Each resolved field as the text a post may show of it."""
    return {
        "headline": fields.headline,
        "hook": fields.hook or "",
        "body": fields.body or "",
        "facts": "\n".join(fields.facts),
        "hashtags": " ".join(f"#{t}" for t in fields.hashtags),
        "link": _without_queries(fields.link or ""),
        "claim": fields.claim or "",
        "media": "\n".join(m.alt for m in fields.media),
    }


def _post_texts(post: PlannedPost) -> str:
    parts = [post.text, post.title or "", post.first_comment or ""]
    parts.extend(m.alt for m in post.media)
    return _without_queries("\n".join(parts))


@dataclass(frozen=True, slots=True)
class EmbargoCheck:
    """The story's embargo findings (leaks grouped by origin), and each leaking post's own."""

    findings: tuple[Finding, ...] = ()
    by_post: Mapping[str, tuple[Finding, ...]] = field(default_factory=dict)


def check_embargo(
    story: Story,
    posts: Iterable[PlannedPost],
    markets: Mapping[str, Market],
    lines: LineBook,
) -> EmbargoCheck:
    """Every leak of ``story``'s embargo among ``posts``: once per origin for ``validate``,
    and on each post it concerns for ``preview``."""
    embargo = story.embargo
    if embargo is None:
        return EmbargoCheck()
    beat = story.beat(REVEAL_BEAT)
    if beat is None:
        missing = Finding.error(
            embargo.pos,
            NO_REVEAL,
            f"{story.id} has an embargo but no beat named {REVEAL_BEAT!r}: the embargo "
            f"lifts at the reveal (beats: {', '.join(b.name for b in story.beats)})",
        )
        return EmbargoCheck((missing,))
    reveal = _reveal(story, beat, markets)
    if reveal is None:
        return EmbargoCheck()
    findings = _unused_terms(story, reveal)
    patterns = [(term, term_pattern(term)) for term in embargo.terms]
    leaks: dict[tuple[Position, str], list[str]] = {}
    severity = Severity.WARNING if story.status is StoryStatus.DRAFT else Severity.ERROR
    for post in posts:
        if post.beat == beat.name or post.due_utc >= reveal.at:
            continue
        text = _post_texts(post)
        said = [term for term, pattern in patterns if pattern.search(text)]
        shown = [m for m in post.media if m.file in reveal.media]
        if not said and not shown:
            continue
        fields = resolve(story, post.network, markets[post.market], story.beat(post.beat))
        for term in said:
            pos, what = _origin(fields, term_pattern(term), post, lines, story)
            leaks.setdefault((pos, f"says {term!r} ({what})"), []).append(post.post_id)
        for media in shown:
            source = fields.sources.get("media")
            pos = media.pos if media.pos.file else source.pos if source else story.pos("media")
            where = source.label if source is not None else "media"
            what = f"shows {media.file}, a media file of the reveal ({where})"
            leaks.setdefault((pos, what), []).append(post.post_id)
    when = f"{reveal.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC in {reveal.market}"
    draft = " [draft: an error once approved]" if severity != "error" else ""
    by_post: dict[str, list[Finding]] = {}
    for (pos, what), ids in leaks.items():
        more = f" and {len(ids) - 1} other post(s)" if len(ids) > 1 else ""
        tail = f"{what} before the embargo lifts: the reveal is first due at {when}{draft}"
        findings.append(Finding.at(pos, severity, LEAK, f"{ids[0]}{more} {tail}"))
        for pid in ids:
            by_post.setdefault(pid, []).append(Finding.at(pos, severity, LEAK, f"{pid} {tail}"))
    return EmbargoCheck(tuple(findings), {pid: tuple(f) for pid, f in by_post.items()})


def _origin(
    fields: Resolved, pattern: regex.Pattern[str], post: PlannedPost, lines: LineBook, story: Story
) -> tuple[Position, str]:
    """The field whose value says the term and is in the post, else one that says it (a
    template may shorten it), else the template itself (or a phrase of the line)."""
    sent = _post_texts(post)
    saying = [
        (name, text, source)
        for name, text in _field_texts(fields).items()
        if (source := fields.sources.get(name)) is not None and pattern.search(text)
    ]
    shown = [
        (name, text, source)
        for name, text, source in saying
        if any(piece in sent for piece in text.split("\n") if pattern.search(piece))
    ]
    for _name, _text, source in shown or saying:
        return source.pos, f"from {source.label}"
    template = lines.template_name(post.network, post.beat)
    if template is not None:
        return Position(lines.sources[template], 1, 1), f"from the template {template}"
    return story.pos("beats", post.beat), "from the template"


def _unused_terms(story: Story, reveal: _Reveal) -> list[Finding]:
    """A term the reveal never says protects nothing: most likely a typo."""
    assert story.embargo is not None
    out = []
    tokens = regex.findall(r"\w+", reveal.said)
    for term, pos in zip(story.embargo.terms, story.embargo.term_positions, strict=True):
        if term_pattern(term).search(reveal.said):
            continue
        size = max(1, len(term.split()))  # "600 kms" is closest to "600 km", not to "600"
        words = sorted({" ".join(tokens[i : i + size]) for i in range(len(tokens) - size + 1)})
        out.append(
            Finding.warning(
                pos,
                UNUSED,
                f"embargo term {term!r} never appears in the reveal, so it protects nothing: "
                f"probably a typo{did_you_mean(term, words)}",
            )
        )
    return out
