"""Resolving: what one market's account on one network tells of a story, in one beat.

Layers, each replacing the fields it sets (docs/content.md, resolution order):

1. the story's own fields (``story:``, ``link``, ``hashtags``, ``media``; the claim comes from
   ``markets.yaml``);
2. its translation for the market's locale (``locales.<locale>``);
3. ``overrides.network.<network>``;
4. ``overrides.market.<market>``;
5. ``overrides.market.<market>.network.<network>``;
6. the beat's own fields (``beats.<beat>.story``, ``.media``, ``.link``, ``.hashtags``);
7. the beat's translation (``beats.<beat>.locales.<locale>``): the last word, so what a
   teaser says is what the teaser says, on every network (nothing of the reveal leaks
   through an override).

Each value keeps where it was written (:class:`Source`), for ``storyline explain`` and for
findings that must point at the field that produced a text. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from scheduler.core.diagnostics import Finding, Position, Severity
from scheduler.core.model import (
    EMPTY,
    TEXT_FIELDS,
    Audience,
    Beat,
    Market,
    Media,
    Story,
    StoryStatus,
    TranslationPolicy,
)

#: Finding codes of a translation a market lacks: errors where ``translation: required``.
TRANSLATION_CODES = frozenset({"missing-translation", "partial-translation", "untranslated-beat"})


@dataclass(frozen=True, slots=True)
class Source:
    """Where a resolved value was written: its path in the file (``locales.fr.hook``) and
    its position; ``git blame`` for one field of a post."""

    path: tuple[str | int, ...]
    pos: Position

    @property
    def label(self) -> str:
        return ".".join(str(p) for p in self.path)


@dataclass(frozen=True, slots=True)
class Resolved:
    """A story's fields for one network and one market, after translation and overrides.

    ``locale`` is the market's (voice rules, banned words follow it); ``text_locale`` is the
    language the text is really in, which differs when a translation is missing.
    """

    headline: str
    hook: str | None
    body: str | None
    facts: tuple[str, ...]
    hashtags: tuple[str, ...]
    link: str | None
    media: tuple[Media, ...]
    claim: str | None
    locale: str
    text_locale: str
    findings: tuple[Finding, ...] = ()
    #: field -> where its value was written (fields left empty have none)
    sources: Mapping[str, Source] = field(default_factory=lambda: MappingProxyType({}))


def _language(locale: str) -> str:
    return locale.split("-", 1)[0].lower()


def translation_key(story: Story, locale: str) -> str | None:
    """Which of the story's ``locales`` serves ``locale``: exact (pt-BR), else its language (pt)."""
    if locale in story.locales:
        return locale
    base = _language(locale)
    return base if base in story.locales else None


def claim_for(market: Market, audience: Audience) -> str | None:
    """The market's signature for this audience (pro falls back to the public claim)."""
    if audience is Audience.PRO and market.claim_pro:
        return market.claim_pro
    return market.claim


def required(story: Story, market: Market) -> bool:
    """Whether a missing translation is an error for ``market`` (not only a warning)."""
    return market.translation is TranslationPolicy.REQUIRED and story.status is (
        StoryStatus.APPROVED
    )


def _policy(story: Story, market: Market, finding: Finding) -> Finding:
    if not required(story, market):
        return finding
    return Finding.at(
        Position(finding.file, finding.line, finding.column),
        Severity.ERROR,
        finding.code,
        f"{finding.message}; markets.yaml says translation: required for {market.code}, "
        f"so its posts of {story.id} are not planned (the other markets are)",
    )


def translation_findings(story: Story, market: Market) -> list[Finding]:
    """What ``market`` will read (part of) in another language: warnings, or errors where
    the market requires translations (:func:`required`).

    A story without ``locales`` is deliberately monolingual and gets none.
    """
    if not story.locales or _language(market.locale) == _language(story.language):
        return []
    key = translation_key(story, market.locale)
    if key is None:
        return [
            _policy(
                story,
                market,
                Finding.warning(
                    story.pos("locales"),
                    "missing-translation",
                    f"no {market.locale!r} translation: market {market.code} gets the story's "
                    f"own {story.language!r} text",
                ),
            )
        ]
    layer = story.locales[key]
    missing = [f for f in TEXT_FIELDS if story.text.get(f) and f not in layer]
    if not missing:
        return []
    return [
        _policy(
            story,
            market,
            Finding.warning(
                story.pos("locales", key),
                "partial-translation",
                f"the {key!r} translation lacks {', '.join(missing)}: market {market.code} gets "
                f"the story's own {story.language!r} text there",
            ),
        )
    ]


def _beat_translation_key(beat: Beat, locale: str) -> str | None:
    if locale in beat.locales:
        return locale
    base = _language(locale)
    return base if base in beat.locales else None


def _beat_findings(story: Story, beat: Beat, market: Market, text_locale: str) -> list[Finding]:
    """A beat's own text read untranslated where the rest of the story is translated."""
    if _language(text_locale) == _language(story.language):
        return []
    key = _beat_translation_key(beat, market.locale)
    layer = beat.locales[key] if key is not None else EMPTY
    return [
        _policy(
            story,
            market,
            Finding.warning(
                story.pos("beats", beat.name, "story", name),
                "untranslated-beat",
                f"beat {beat.name} has its own {name} but no {market.locale!r} translation of "
                f"it: market {market.code} gets it as written (add "
                f"beats.{beat.name}.locales.{_language(market.locale)}.{name})",
            ),
        )
        for name in TEXT_FIELDS
        if beat.content.get(name) and name not in layer
    ]


class _Layers:
    """The fields as each layer replaces them, and where each value came from."""

    def __init__(self, story: Story) -> None:
        self.story = story
        self.fields: dict[str, Any] = {}
        self.sources: dict[str, Source] = {}

    def put(self, name: str, value: Any, source: Source | None) -> None:
        self.fields[name] = value
        if source is not None:
            self.sources[name] = source
        else:
            self.sources.pop(name, None)

    def apply(self, layer: Mapping[str, Any], *prefix: str | int, text: str | None = None) -> None:
        """``layer`` over the fields; ``text`` is where text fields sit below ``prefix``."""
        for name, value in layer.items():
            path = (*prefix, text, name) if text and name in TEXT_FIELDS else (*prefix, name)
            self.put(name, value, Source(path, self.story.pos(*path)))


def resolve(story: Story, network: str, market: Market, beat: Beat | None = None) -> Resolved:
    """The story's fields for ``network`` in ``market`` (in ``beat``, when it has content of
    its own), layer over layer as the module says."""
    findings = translation_findings(story, market)
    layers = _Layers(story)
    for name in TEXT_FIELDS:
        value = story.text.get(name)
        if name == "facts":
            value = tuple(value or ())
        elif name == "headline":
            value = value or ""
        layers.put(
            name, value, Source(("story", name), story.pos("story", name)) if value else None
        )
    for name, value in (("hashtags", story.hashtags), ("link", story.link), ("media", story.media)):
        layers.put(name, value, Source((name,), story.pos(name)) if value else None)
    claim = claim_for(market, story.audience)
    which = "claim_pro" if story.audience is Audience.PRO and market.claim_pro else "claim"
    where = market.positions.get(which)
    layers.put("claim", claim, Source(("markets", market.code, which), where) if where else None)
    key = translation_key(story, market.locale)
    text_locale = key or story.language
    if key is not None:
        layers.apply(story.locales[key], "locales", key)
    by_network = story.network_overrides.get(network, EMPTY)
    by_market = story.market_overrides.get(market.code, EMPTY)
    by_both = story.market_network_overrides.get(market.code, EMPTY).get(network, EMPTY)
    if _language(text_locale) != _language(story.language):
        for name in TEXT_FIELDS:
            told_by_beat = beat is not None and name in beat.content
            if name in by_network and not (name in by_market or name in by_both or told_by_beat):
                findings.append(
                    Finding.warning(
                        story.pos("overrides", "network", network, name),
                        "untranslated-override",
                        f"the {network} override of {name} is one text for every market: "
                        f"market {market.code} reads {text_locale!r} but gets it as written "
                        f"(add overrides.market.{market.code}.{name} to translate it)",
                    )
                )
    layers.apply(by_network, "overrides", "network", network)
    layers.apply(by_market, "overrides", "market", market.code)
    layers.apply(by_both, "overrides", "market", market.code, "network", network)
    if beat is not None and beat.has_content:
        layers.apply(beat.content, "beats", beat.name, text="story")
        bkey = _beat_translation_key(beat, market.locale)
        if bkey is not None:
            layers.apply(beat.locales[bkey], "beats", beat.name, "locales", bkey)
        findings.extend(_beat_findings(story, beat, market, text_locale))
    fields = layers.fields
    return Resolved(
        headline=fields["headline"],
        hook=fields["hook"],
        body=fields["body"],
        facts=tuple(fields["facts"]),
        hashtags=tuple(fields["hashtags"]),
        link=fields["link"],
        media=tuple(fields["media"]),
        claim=fields["claim"],
        locale=market.locale,
        text_locale=text_locale,
        findings=tuple(findings),
        sources=MappingProxyType(layers.sources),
    )
