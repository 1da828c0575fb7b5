"""What an editorial line is, what a template sees and what a render makes: plain values.

:class:`EditorialLine` is one network's ``line.yaml`` as read; :class:`PostContext` is the
documented contract between the code and the brand's templates (``docs/editorial-lines.md``
lists every field, and a test keeps the two equal); :class:`Draft` is the post a template
made of one context, with what went wrong. No Jinja here: the sandbox, the loader and the
render build on these.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime
from types import MappingProxyType
from typing import Any

from scheduler.core.diagnostics import Finding, Position
from scheduler.core.model import Media
from scheduler.text.voice import LinkPolicy, VoiceRules

#: The file of an editorial line, inside ``editorial_lines/<network>/``.
LINE_FILE = "line.yaml"
#: Template suffix; ``<beat>.j2`` then ``default.j2``.
TEMPLATE_SUFFIX = ".j2"
DEFAULT_TEMPLATE = "default"
#: Folder of macros shared by every line (not a network).
SHARED_DIR = "_shared"
#: Locale whose phrases fill in for a locale that lacks one.
FALLBACK_LOCALE = "en"

#: A path inside the ``rules:`` mapping: keys and list indices, e.g. ``("banned", "fr", 2)``.
RulePath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class PostContext:
    """Exactly what a template may use — the documented contract between code and brand.

    Every field is listed in ``docs/editorial-lines.md`` (a test keeps the two in step).
    Text fields are already resolved for the market's locale and the network/market
    overrides; ``link`` is already UTM-tracked, and is ``None`` when the line's link policy
    keeps links out of the text (``first_comment`` or ``none``).
    """

    story: str  # the story id (file name)
    title: str  # the story's internal title
    campaign: str
    audience: str  # public | pro
    beat: str  # teaser | reveal | followup | ...
    network: str
    market: str  # market code, e.g. "fr"
    market_name: str  # e.g. "France"
    locale: str  # e.g. "fr", "zh"
    timezone: str  # IANA name
    account_name: str  # how the account is displayed
    account_handle: str | None  # the handle without "@", if the network has handles
    headline: str
    hook: str
    body: str
    facts: tuple[str, ...]
    hashtags: tuple[str, ...]  # without the leading "#"
    link: str | None  # UTM-tracked, or None when the line keeps links out of the text
    claim: str | None  # the brand signature for this market and audience
    media: tuple[Media, ...]
    due_local: datetime  # aware, in ``timezone``
    phrases: Mapping[str, str]  # this line's phrases in the market's locale (en fills gaps)

    def as_template_vars(self) -> dict[str, Any]:
        """The variables handed to Jinja: one per field, nothing else."""
        return {name: getattr(self, name) for name in CONTEXT_FIELDS}


#: The names a template sees, in declaration order.
CONTEXT_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(PostContext))


@dataclass(frozen=True, slots=True)
class Draft:
    """What a line made of one context: the post as it would be sent, plus what went wrong.

    ``title`` is the template's exported ``{% set title = ... %}`` (YouTube needs one);
    ``first_comment`` is the exported ``first_comment`` or, when the line's link policy is
    ``first_comment``, the tracked link.
    """

    text: str
    title: str | None = None
    link: str | None = None
    media: tuple[Media, ...] = ()
    hashtags: tuple[str, ...] = ()
    first_comment: str | None = None
    template: str = ""  # the template file that produced it
    findings: tuple[Finding, ...] = ()

    @property
    def ok(self) -> bool:
        return not any(f.is_error for f in self.findings)


@dataclass(frozen=True, slots=True)
class EditorialLine:
    """One network's editorial line as written in its ``line.yaml``.

    ``rules`` is kept as written (with ``rule_positions``); ``voice_rules`` is their meaning
    (:func:`scheduler.text.voice.rules_from`), once their shape was checked.
    """

    network: str
    path: str  # the line.yaml file, as a display path
    voice: str
    rules: Mapping[str, Any]
    phrases: Mapping[str, Mapping[str, str]]  # locale -> key -> text
    templates: tuple[str, ...]  # beat names that have their own template (default included)
    pos: Position
    voice_rules: VoiceRules = field(default_factory=VoiceRules)
    rule_positions: Mapping[RulePath, Position] = field(
        default_factory=lambda: MappingProxyType({}), repr=False
    )
    #: ``thread: true`` (X only): a post over 280 characters goes out as a numbered thread.
    thread: bool = False

    @property
    def link_policy(self) -> LinkPolicy:
        """Where this line puts the story's link: ``inline``, ``first_comment`` or ``none``."""
        return self.voice_rules.link

    def rule_pos(self, *path: str | int) -> Position:
        """Where a rule was written (or the nearest enclosing key, or the file)."""
        while path:
            found = self.rule_positions.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return self.pos

    def phrases_for(self, locale: str) -> Mapping[str, str]:
        """Phrases in ``locale`` (``pt-BR`` falls back to ``pt``), gaps filled from English."""
        merged: dict[str, str] = dict(self.phrases.get(FALLBACK_LOCALE, {}))
        language = locale.split("-")[0].split("_")[0]
        if language != locale:
            merged.update(self.phrases.get(language, {}))
        merged.update(self.phrases.get(locale, {}))
        return MappingProxyType(merged)
