"""Resolving: what one market's account on one network tells of a story.

The story's text, then its translation for the market's locale, then the network's overrides,
then the market's (the last word).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from scheduler.core.diagnostics import Finding
from scheduler.core.model import EMPTY, TEXT_FIELDS, Audience, Market, Media, Story


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


def translation_findings(story: Story, market: Market) -> list[Finding]:
    """Warnings when ``market`` will read (part of) the story in another language.

    A story without ``locales`` is deliberately monolingual and gets none.
    """
    if not story.locales or _language(market.locale) == _language(story.language):
        return []
    key = translation_key(story, market.locale)
    if key is None:
        return [
            Finding.warning(
                story.pos("locales"),
                "missing-translation",
                f"no {market.locale!r} translation: market {market.code} gets the story's own "
                f"{story.language!r} text",
            )
        ]
    layer = story.locales[key]
    missing = [f for f in TEXT_FIELDS if story.text.get(f) and f not in layer]
    if not missing:
        return []
    return [
        Finding.warning(
            story.pos("locales", key),
            "partial-translation",
            f"the {key!r} translation lacks {', '.join(missing)}: market {market.code} gets "
            f"the story's own {story.language!r} text there",
        )
    ]


def resolve(story: Story, network: str, market: Market) -> Resolved:
    """Story text, then its translation for the market's locale, then the network's
    overrides, then the market's (the last word)."""
    findings = translation_findings(story, market)
    fields: dict[str, Any] = {
        "headline": story.text.get("headline") or "",
        "hook": story.text.get("hook"),
        "body": story.text.get("body"),
        "facts": tuple(story.text.get("facts") or ()),
        "hashtags": story.hashtags,
        "link": story.link,
        "media": story.media,
        "claim": claim_for(market, story.audience),
    }
    key = translation_key(story, market.locale)
    text_locale = key or story.language
    if key is not None:
        fields.update(story.locales[key])
    by_network = story.network_overrides.get(network, EMPTY)
    by_market = story.market_overrides.get(market.code, EMPTY)
    if _language(text_locale) != _language(story.language):
        for name in TEXT_FIELDS:
            if name in by_network and name not in by_market:
                findings.append(
                    Finding.warning(
                        story.pos("overrides", "network", network, name),
                        "untranslated-override",
                        f"the {network} override of {name} is one text for every market: "
                        f"market {market.code} reads {text_locale!r} but gets it as written "
                        f"(add overrides.market.{market.code}.{name} to translate it)",
                    )
                )
    fields.update(by_network)
    fields.update(by_market)
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
    )
