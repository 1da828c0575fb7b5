"""The brand's content as typed, frozen values: markets and stories, with where each was written.

Everything downstream of loading (lines, planning, preview, the calendar) reads only these
values, never YAML. :mod:`scheduler.content` builds them from the files.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from scheduler.core.diagnostics import Finding, Position

EMPTY: Mapping[str, Any] = MappingProxyType({})


NOWHERE = Position("")  # default position of values built in code, not loaded from a file


#: The text fields a story, a locale or an override may set.
TEXT_FIELDS = ("headline", "hook", "body", "facts")


#: What locales and overrides may replace besides the text fields.
OVERRIDABLE_FIELDS = (*TEXT_FIELDS, "hashtags", "link", "media", "claim")


class Audience(StrEnum):
    PUBLIC = "public"
    PRO = "pro"


class StoryStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"


class TranslationPolicy(StrEnum):
    """``translation:`` of a market: whether an approved story may reach it untranslated."""

    WARN = "warn"  # the story's own text goes out, with a warning
    REQUIRED = "required"  # an error for that market: its posts are not planned


@dataclass(frozen=True, slots=True)
class Account:
    """One account of a market on one network, as ``markets.yaml`` names it."""

    network: str
    id: str | None = None
    handle: str | None = None
    name: str | None = None
    extra: Mapping[str, str] = field(default_factory=lambda: EMPTY)
    pos: Position = NOWHERE

    @property
    def key(self) -> str:
        """The account's key in the secrets file: its id, else its handle (docs/publishers.md)."""
        return self.id or self.handle or ""

    @property
    def display(self) -> str:
        return self.name or (f"@{self.handle}" if self.handle else self.key)


@dataclass(frozen=True, slots=True)
class SignoffRule:
    """``signoff:`` of a market: whether its posts wait for a reviewer, and who counts as one."""

    required: bool = False
    approvers: tuple[str, ...] = ()  # e-mail addresses and team names
    pos: Position = NOWHERE


@dataclass(frozen=True, slots=True)
class Market:
    code: str
    name: str
    timezone: str  # IANA name, checked with pytz by the loader
    locale: str
    claim: str | None = None  # the brand signature as this market writes it (may be untranslated)
    claim_pro: str | None = None  # the signature for the pro audience, if the market has one
    accounts: Mapping[str, Account] = field(default_factory=lambda: EMPTY)  # network -> account
    pos: Position = NOWHERE
    signoff: SignoffRule | None = None  # None: its posts need no sign-off
    translation: TranslationPolicy = TranslationPolicy.WARN
    #: field name -> where its value is written in markets.yaml (``storyline explain``)
    positions: Mapping[str, Position] = field(default_factory=lambda: EMPTY, compare=False)


@dataclass(frozen=True, slots=True)
class Offset:
    """Distance from the launch: calendar ``days`` in local wall time, plus a clock part."""

    days: int = 0
    hours: int = 0
    minutes: int = 0
    text: str = "0"

    @property
    def is_zero(self) -> bool:
        return not (self.days or self.hours or self.minutes)


@dataclass(frozen=True, slots=True)
class Launch:
    """Either a local wall time applied in each market's zone, or one instant worldwide.

    ``local`` is naive (wall time); ``instant`` is aware (a world premiere: ``zone`` is the
    zone it was written in, kept for display).
    """

    local: datetime | None = None
    instant: datetime | None = None
    zone: str | None = None
    pos: Position = NOWHERE

    @property
    def is_world_premiere(self) -> bool:
        return self.instant is not None


@dataclass(frozen=True, slots=True)
class Beat:
    name: str
    offset: Offset
    networks: tuple[str, ...] | None = None  # None: the story's networks
    markets: tuple[str, ...] | None = None  # None: the story's markets
    pos: Position = NOWHERE
    #: The beat's own story fields and media (a layer, like a translation), which win over
    #: the story's; ``locales`` translates them. Empty: the beat tells the story's content.
    content: Mapping[str, Any] = field(default_factory=lambda: EMPTY)
    locales: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: EMPTY)

    @property
    def has_content(self) -> bool:
        return bool(self.content or self.locales)


@dataclass(frozen=True, slots=True)
class Media:
    file: str
    alt: str
    kind: str = "image"  # image | video
    pos: Position = NOWHERE


@dataclass(frozen=True, slots=True)
class Embargo:
    """What no post may say or show before the reveal's earliest instant worldwide."""

    terms: tuple[str, ...] = ()
    term_positions: tuple[Position, ...] = ()
    media: str = "reveal"  # every media file of the reveal beat
    pos: Position = NOWHERE


#: The beat whose earliest instant lifts a story's embargo.
REVEAL_BEAT = "reveal"


@dataclass(frozen=True, slots=True)
class Story:
    id: str
    path: str
    title: str
    campaign: str
    audience: Audience
    status: StoryStatus
    launch: Launch
    networks: tuple[str, ...]
    markets: tuple[str, ...]
    beats: tuple[Beat, ...]
    text: Mapping[str, Any]  # the ``story:`` block: headline, hook, body, facts
    link: str | None = None
    hashtags: tuple[str, ...] = ()
    media: tuple[Media, ...] = ()
    locales: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: EMPTY)
    network_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: EMPTY)
    market_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=lambda: EMPTY)
    positions: Mapping[tuple[str | int, ...], Position] = field(
        default_factory=lambda: MappingProxyType({}), repr=False
    )
    language: str = "en"  # the language the story's own text is written in
    #: market -> network -> fields: one network in one market (the very last word)
    market_network_overrides: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(
        default_factory=lambda: EMPTY
    )
    embargo: Embargo | None = None

    def pos(self, *path: str | int) -> Position:
        """Where ``path`` was written, or the nearest enclosing value, or the file itself."""
        while path:
            found = self.positions.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return self.positions.get((), Position(self.path, 1, 1))

    def beat(self, name: str) -> Beat | None:
        return next((b for b in self.beats if b.name == name), None)


@dataclass(frozen=True, slots=True)
class Content:
    """Everything loaded from the content folder, plus what was wrong with it."""

    markets: Mapping[str, Market]
    stories: Mapping[str, Story]
    findings: tuple[Finding, ...] = ()
