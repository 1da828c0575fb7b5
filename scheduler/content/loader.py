"""The brand's content as typed, frozen values: markets and stories, with where each was written.

This module owns the *shape* of content. Loading (YAML with positions, validation, findings)
lives in :func:`load_content`; everything downstream (lines, planning, preview) reads only
these values, never YAML.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any, TypeVar

from scheduler.content.yamlpos import (
    Field,
    Integer,
    Node,
    Obj,
    OneOf,
    Seq,
    Text,
    check_shape,
    did_you_mean,
    load_yaml,
    scalar_text,
)
from scheduler.core import timezones
from scheduler.core.diagnostics import Finding, Position, sort_findings
from scheduler.text.networks import NETWORKS, RETIRED

_E = TypeVar("_E", bound=StrEnum)

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
        """The account's key in the secrets file: its id, else its handle (DESIGN §7)."""
        return self.id or self.handle or ""

    @property
    def display(self) -> str:
        return self.name or (f"@{self.handle}" if self.handle else self.key)


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


@dataclass(frozen=True, slots=True)
class Media:
    file: str
    alt: str
    kind: str = "image"  # image | video
    pos: Position = NOWHERE


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


# --- the field tables: the loader validates with these; `storyline schema` prints them -------

MARKETS_FILE_NAME = "markets.yaml"
STORIES_DIR_NAME = "stories"
STORY_SUFFIXES = (".yaml", ".yml")

#: Market codes, network names, beat names: they end up in post ids and file names.
NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"
#: A story id: a file-name-safe word (the post id is ``<story>/<beat>/<network>/<market>``).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
TIMEZONE_PATTERN = r"^[A-Za-z][A-Za-z0-9_+/-]*$"
LOCALE_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
OFFSET_PATTERN = r"^([+-]?0|[+-]?([0-9]+d([0-9]+h)?([0-9]+m)?|[0-9]+h([0-9]+m)?|[0-9]+m))$"
LAUNCH_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2})?"
    r"( +[A-Za-z][A-Za-z0-9_+/-]*|Z)?$"
)
HASHTAG_PATTERN = r"^#?[^\s#]+$"
URL_PATTERN = r"^https?://[^\s/$.?#][^\s]*$"
#: Farthest a beat may sit from its launch (ten years), so date arithmetic cannot overflow.
MAX_OFFSET_DAYS = 3660
MIN_YEAR, MAX_YEAR = 2000, 2100

OFFSET_HINT = "write e.g. -7d, +3d, -2h, +1d2h, 30m or 0"
LAUNCH_HINT = (
    "write a local wall time '2026-12-01 09:00' or one instant worldwide "
    "'2026-12-01T09:00 Europe/Paris'"
)


def _fields(**fields: Field) -> Mapping[str, Field]:
    return MappingProxyType(fields)


ACCOUNT_SHAPE = Obj(
    _fields(
        id=Field(Text(), doc="the network's own id (page id, channel id, user id)"),
        handle=Field(Text(), doc="the @handle (Mastodon: user@server; Bluesky: a domain)"),
        name=Field(Text(), doc="how the account is shown in previews"),
        max_characters=Field(
            Integer(minimum=1), doc="Mastodon: this server's max_characters (default 500)"
        ),
    ),
    doc="One account of the market on a network; needs an id or a handle.",
    any_of=("id", "handle"),
)
MARKET_SHAPE = Obj(
    _fields(
        name=Field(Text(), required=True, doc="the market's display name"),
        timezone=Field(
            Text(
                numbers_ok=False,
                pattern=TIMEZONE_PATTERN,
                pattern_code="bad-timezone",
                pattern_hint="an IANA name like Europe/Paris",
                examples=("Europe/Paris",),
            ),
            required=True,
            doc="IANA time zone: the market's wall clock",
        ),
        locale=Field(
            Text(pattern=LOCALE_PATTERN, pattern_hint="a language code like fr or pt-BR"),
            required=True,
            doc="picks the story's translation and the voice rules",
        ),
        claim=Field(Text(), doc="the brand signature as this market writes it"),
        claim_pro=Field(Text(), doc="the signature for pro-audience stories (default: claim)"),
        accounts=Field(
            Obj(values=ACCOUNT_SHAPE, key_pattern=NAME_PATTERN, key_doc="a network name"),
            doc="network -> account",
        ),
    ),
    doc="One market: a country or region with its clock, language and accounts.",
)
MARKETS_SHAPE = Obj(
    _fields(
        markets=Field(
            Obj(
                values=MARKET_SHAPE,
                key_pattern=NAME_PATTERN,
                key_doc="a market code like fr",
                min_fields=1,
            ),
            required=True,
            doc="market code -> market",
        )
    ),
    doc="content/markets.yaml: every market the brand publishes in.",
)

MEDIA_SHAPE = Obj(
    _fields(
        file=Field(
            Text(numbers_ok=False),
            required=True,
            nonblank=True,
            doc="path under the content folder, e.g. media/suv-front.jpg",
        ),
        alt=Field(
            Text(),
            required=True,
            nonblank=True,
            missing_code="missing-alt",
            doc="alternative text for people who cannot see the image (required)",
        ),
        kind=Field(Text(enum=("image", "video")), default="image", doc="image | video"),
    ),
    doc="A picture or video attached to the post.",
)
_TEXT = Text()
_FACTS = Seq(Text(), doc="short facts the templates may list")
_HASHTAGS = Seq(
    Text(pattern=HASHTAG_PATTERN, pattern_hint="one word, with or without #"),
    doc="hashtags, without spaces",
)
_LINK = Text(numbers_ok=False, pattern=URL_PATTERN, pattern_hint="an http(s) URL")
_MEDIA = Seq(MEDIA_SHAPE)

LAYER_SHAPE = Obj(
    _fields(
        headline=Field(_TEXT),
        hook=Field(_TEXT),
        body=Field(_TEXT),
        facts=Field(_FACTS),
        hashtags=Field(_HASHTAGS),
        link=Field(_LINK),
        media=Field(_MEDIA),
        claim=Field(_TEXT, doc="replaces the market's signature"),
    ),
    doc="Fields a translation or an override replaces; the rest falls through.",
)
assert tuple(LAYER_SHAPE.fields) == OVERRIDABLE_FIELDS

STORY_TEXT_SHAPE = Obj(
    _fields(
        headline=Field(_TEXT, required=True, nonblank=True, doc="the one-line news"),
        hook=Field(_TEXT, doc="the first sentence that makes people stop"),
        body=Field(_TEXT, doc="the longer telling"),
        facts=Field(_FACTS),
    ),
    doc="The story's own text, in its `language`.",
)
OFFSET_SHAPE = Text(
    pattern=OFFSET_PATTERN,
    pattern_code="bad-offset",
    pattern_hint=OFFSET_HINT,
    also=(0,),
    examples=("-7d", "0", "+3d", "-2h"),
)
BEAT_SHAPE = Obj(
    _fields(
        offset=Field(OFFSET_SHAPE, default="0", doc="distance from the launch"),
        networks=Field(
            Seq(Text(numbers_ok=False)), doc="only these of the story's networks (default: all)"
        ),
        markets=Field(
            Seq(Text(numbers_ok=False)), doc="only these of the story's markets (default: all)"
        ),
    ),
    doc="One moment of the story's arc.",
)
STORY_SHAPE = Obj(
    _fields(
        id=Field(
            Text(pattern=ID_PATTERN, pattern_code="bad-id", pattern_hint="letters, digits, . _ -"),
            doc="default: the file name without .yaml",
        ),
        title=Field(_TEXT, doc="internal title (calendar, previews); default: the headline"),
        campaign=Field(_TEXT, doc="utm_campaign and grouping; default: the story id"),
        language=Field(
            Text(pattern=LOCALE_PATTERN, pattern_hint="a language code like en"),
            default="en",
            doc="the language of the story's own text",
        ),
        audience=Field(
            Text(enum=tuple(a.value for a in Audience)),
            default="public",
            doc="public | pro: selects the market's claim or claim_pro",
        ),
        status=Field(
            Text(enum=tuple(s.value for s in StoryStatus)),
            default="draft",
            doc="draft | approved: only approved stories are planned",
        ),
        launch=Field(
            Text(
                numbers_ok=False,
                dates_ok=True,
                pattern=LAUNCH_PATTERN,
                pattern_code="bad-date",
                pattern_hint=LAUNCH_HINT,
                examples=("2026-12-01 09:00", "2027-02-10T18:00 Europe/Paris"),
            ),
            required=True,
            doc="local wall time in each market, or an instant with its zone (world premiere)",
        ),
        networks=Field(
            Seq(Text(numbers_ok=False)), doc="networks to publish on (default: every line)"
        ),
        markets=Field(Seq(Text(numbers_ok=False)), doc="market codes (default: every market)"),
        beats=Field(
            Obj(
                values=OneOf((OFFSET_SHAPE, BEAT_SHAPE)),
                key_pattern=NAME_PATTERN,
                key_doc="a beat name like teaser (lower case, digits, - _)",
                min_fields=1,
            ),
            doc="beat name -> offset or {offset, networks, markets}; default: reveal at 0",
        ),
        story=Field(STORY_TEXT_SHAPE, required=True),
        link=Field(_LINK),
        hashtags=Field(_HASHTAGS),
        media=Field(_MEDIA),
        locales=Field(
            Obj(values=LAYER_SHAPE, key_pattern=LOCALE_PATTERN, key_doc="a locale like fr"),
            doc="locale -> translated fields",
        ),
        overrides=Field(
            Obj(
                _fields(
                    network=Field(
                        Obj(values=LAYER_SHAPE, key_pattern=NAME_PATTERN), doc="network -> fields"
                    ),
                    market=Field(
                        Obj(values=LAYER_SHAPE, key_pattern=NAME_PATTERN), doc="market -> fields"
                    ),
                )
            ),
            doc="the last word: per network, then per market",
        ),
    ),
    doc="content/stories/<id>.yaml: one story, written once.",
)

_OFFSET_RE = re.compile(r"([+-]?)(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?")
_LAUNCH_RE = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?(?: +(\S+)|(Z))?", re.ASCII
)


def parse_offset(text: str) -> Offset | None:
    """``-7d`` -> Offset(days=-7); ``+1d2h`` -> days=1, hours=2; ``0``; None when invalid."""
    t = text.strip()
    if not re.fullmatch(OFFSET_PATTERN, t):
        return None
    m = _OFFSET_RE.fullmatch(t)
    if m is None:
        return Offset(text=t)  # "0", "+0", "-0"
    sign = -1 if m.group(1) == "-" else 1
    days, hours, minutes = (int(g) if g else 0 for g in m.groups()[1:])
    if days + hours / 24 + minutes / 1440 > MAX_OFFSET_DAYS:
        return None
    return Offset(sign * days, sign * hours, sign * minutes, t)


def retired_message(network: str) -> str | None:
    """The explanation for a network that no longer exists (Google+), else None."""
    return RETIRED.get(network.lower())


# --- loading -----------------------------------------------------------------------------


def load_content(content_dir: Path, *, networks: Collection[str]) -> Content:
    """Load ``markets.yaml`` and ``stories/*.yaml``; never raises for bad content.

    ``networks`` are the networks the brand has editorial lines for: a story or account naming
    another one is an error. A market or story with an error is left out of the result (and
    its findings say why), so everything downstream sees only valid content; the rest still
    loads, so one broken file never hides the others' problems.
    """
    findings: list[Finding] = []
    known = tuple(networks)
    if not content_dir.is_dir():
        findings.append(
            Finding.error(
                Position(str(content_dir), 0, 0),
                "missing-folder",
                f"content folder {content_dir} not found (set --content or STORYLINE_CONTENT_DIR)",
            )
        )
        return Content(EMPTY, EMPTY, tuple(findings))
    markets, codes = _load_markets(content_dir / MARKETS_FILE_NAME, known, findings)
    stories: dict[str, Story] = {}
    first_seen: dict[str, Position] = {}
    stories_dir = content_dir / STORIES_DIR_NAME
    if not stories_dir.is_dir():
        findings.append(
            Finding.warning(
                Position(str(stories_dir), 0, 0),
                "missing-folder",
                "no stories/ folder: there is nothing to publish",
            )
        )
    else:
        paths = sorted(
            p
            for p in stories_dir.iterdir()
            if p.suffix in STORY_SUFFIXES and not p.name.startswith(".") and p.is_file()
        )
        for path in paths:
            if not path.resolve().is_relative_to(content_dir.resolve()):  # a symlink out
                why = f"{path.name} links to a file outside the content folder; refused"
                findings.append(Finding.error(Position(str(path), 1, 1), "path-escape", why))
                continue
            loader = _StoryLoader(path, content_dir, markets, codes, known)
            story = loader.load()
            if story is not None:
                earlier = first_seen.get(story.id)
                if earlier is not None:
                    loader.error(
                        story.pos("id"),
                        "duplicate-story",
                        f"story id {story.id!r} is already used by {earlier.file}",
                    )
                else:
                    first_seen[story.id] = story.pos()
            findings.extend(loader.findings)
            if story is not None and not loader.failed:
                stories[story.id] = story
    return Content(
        MappingProxyType(markets), MappingProxyType(stories), tuple(sort_findings(findings))
    )


def _network_problem(name: str, pos: Position, networks: Collection[str]) -> Finding | None:
    if name in networks:
        return None
    retired = retired_message(name)
    if retired is not None:
        return Finding.error(pos, "retired-network", retired)
    known = ", ".join(sorted(networks)) or "none"
    return Finding.error(
        pos,
        "unknown-network",
        f"unknown network {name!r}{did_you_mean(name, sorted(networks))}; known: {known}",
    )


def _zone_problem(zone: str, pos: Position) -> Finding | None:
    if timezones.zone_exists(zone):
        return None
    close = timezones.suggest_zone(zone)
    hint = f" (did you mean {close!r}?)" if close else ""
    return Finding.error(pos, "bad-timezone", f"unknown time zone {zone!r}{hint}; use an IANA name")


def _load_markets(
    path: Path, networks: Collection[str], findings: list[Finding]
) -> tuple[dict[str, Market], list[str]]:
    """Markets by code (valid ones only) and every code written (valid or not)."""
    if not path.resolve().is_relative_to(path.parent.resolve()):  # a symlink out
        why = f"{path.name} links to a file outside the content folder; refused"
        findings.append(Finding.error(Position(str(path), 1, 1), "path-escape", why))
        return {}, []
    loaded = load_yaml(path)
    if loaded.root is None:
        if any(f.code == "missing-file" for f in loaded.findings):
            findings.append(
                Finding.error(
                    Position(str(path), 0, 0),
                    "missing-file",
                    f"{path} not found: it lists the markets every story is published in",
                )
            )
        else:
            findings.extend(loaded.findings)
            if not loaded.findings:
                findings.append(
                    Finding.error(Position(str(path), 1, 1), "empty-file", "no markets defined")
                )
        return {}, []
    findings.extend(loaded.findings)
    root = loaded.root
    top = Obj(_fields(markets=Field(Obj(values=Obj()), required=True)))
    if not root.is_map:
        findings.extend(check_shape(root, top))
        return {}, []
    for key, kpos, _ in root.entries():
        if key != "markets":
            findings.append(
                Finding.error(
                    kpos,
                    "unknown-field",
                    f"unknown field {key!r}{did_you_mean(key, ['markets'])}; "
                    "markets.yaml holds one field: markets",
                )
            )
    node = root.get("markets")
    if node is None:
        findings.append(Finding.error(root.pos, "missing-field", "missing field 'markets'"))
        return {}, []
    if not node.is_map:
        findings.extend(check_shape(node, MARKETS_SHAPE.fields["markets"].shape, "markets"))
        return {}, []
    markets: dict[str, Market] = {}
    codes: list[str] = []
    for code, kpos, mnode in node.entries():
        codes.append(code)
        problems: list[Finding] = []
        if not re.fullmatch(NAME_PATTERN, code):
            problems.append(
                Finding.error(
                    kpos, "bad-key", f"market code {code!r} must be lower case letters and digits"
                )
            )
        problems.extend(check_shape(mnode, MARKET_SHAPE, f"markets.{code}"))
        market = _market(code, kpos, mnode, networks, problems)
        findings.extend(problems)
        if market is not None and not any(p.is_error for p in problems):
            markets[code] = market
    return markets, codes


def _market(
    code: str, kpos: Position, node: Node, networks: Collection[str], problems: list[Finding]
) -> Market | None:
    if not node.is_map:
        return None
    name = scalar_text(node.get("name"))
    zone = scalar_text(node.get("timezone"))
    locale = scalar_text(node.get("locale"))
    zone_node = node.get("timezone")
    if (
        zone_node is not None
        and isinstance(zone_node.value, str)
        and re.fullmatch(TIMEZONE_PATTERN, zone_node.value)  # else the shape check said so
    ):
        problem = _zone_problem(zone_node.value, zone_node.pos)
        if problem is not None:
            problems.append(problem)
    accounts: dict[str, Account] = {}
    acc_node = node.get("accounts")
    if acc_node is not None and acc_node.is_map:
        for network, npos, anode in acc_node.entries():
            problem = _network_problem(network, npos, networks)
            if problem is not None and network in NETWORKS:
                # A real network the brand has no editorial line for (yet): nothing will be
                # posted there, which is worth saying but not wrong.
                problem = Finding.warning(
                    npos,
                    "unused-account",
                    f"market {code} has a {network} account but there is no {network} "
                    "editorial line: nothing is posted there",
                )
            if problem is not None:
                problems.append(problem)
                continue
            if not anode.is_map:
                continue
            ident = scalar_text(anode.get("id"))
            handle = scalar_text(anode.get("handle"))
            if not ident and not handle:
                continue  # the shape check reported it
            extra: dict[str, str] = {}
            max_chars = anode.get("max_characters")
            if max_chars is not None and max_chars.is_scalar:
                extra["max_characters"] = max_chars.raw
            accounts[network] = Account(
                network=network,
                id=ident or None,
                handle=handle or None,
                name=scalar_text(anode.get("name")),
                extra=MappingProxyType(extra),
                pos=npos,
            )
    if name is None or zone is None or locale is None:
        return None
    return Market(
        code=code,
        name=name,
        timezone=zone,
        locale=locale,
        claim=scalar_text(node.get("claim")),
        claim_pro=scalar_text(node.get("claim_pro")),
        accounts=MappingProxyType(accounts),
        pos=kpos,
    )


def _positions(root: Node, file: str) -> dict[tuple[str | int, ...], Position]:
    """Path -> position: a collection at its key (where a reader looks), a scalar at its value."""
    out: dict[tuple[str | int, ...], Position] = {(): Position(file, 1, 1)}

    def walk(node: Node, path: tuple[str | int, ...]) -> None:
        if node.is_map:
            for key, kpos, child in node.entries():
                sub = (*path, key)
                out[sub] = child.pos if child.is_scalar else kpos
                walk(child, sub)
        elif node.is_seq:
            for i, child in enumerate(node.items):
                out[(*path, i)] = child.pos
                walk(child, (*path, i))

    walk(root, ())
    return out


class _StoryLoader:
    """Reads one story file into a :class:`Story`, collecting every problem on the way."""

    def __init__(
        self,
        path: Path,
        content_dir: Path,
        markets: Mapping[str, Market],
        codes: list[str],
        networks: tuple[str, ...],
    ) -> None:
        self.path = path
        self.file = str(path)
        self.content_dir = content_dir
        self.markets = markets
        self.codes = codes
        self.networks = networks
        self.findings: list[Finding] = []
        self.positions: dict[tuple[str | int, ...], Position] = {}

    @property
    def failed(self) -> bool:
        return any(f.is_error for f in self.findings)

    def error(self, pos: Position, code: str, message: str) -> None:
        self.findings.append(Finding.error(pos, code, message))

    def pos(self, *path: str | int) -> Position:
        while path:
            found = self.positions.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return Position(self.file, 1, 1)

    def load(self) -> Story | None:
        loaded = load_yaml(self.path)
        self.findings.extend(loaded.findings)
        root = loaded.root
        if root is None:
            if not loaded.findings:
                self.error(Position(self.file, 1, 1), "empty-file", "the story file is empty")
            return None
        if not root.is_map:
            self.error(root.pos, "wrong-type", "a story file must be a mapping of fields")
            return None
        self.positions = _positions(root, self.file)
        self.findings.extend(check_shape(root, STORY_SHAPE))

        story_id = self._story_id(root)
        text_node = root.get("story")
        text = self._text(text_node)
        headline = text.get("headline") or ""
        language = scalar_text(root.get("language")) or "en"
        audience = _enum(Audience, scalar_text(root.get("audience")), Audience.PUBLIC)
        status = _enum(StoryStatus, scalar_text(root.get("status")), StoryStatus.DRAFT)
        launch = self._launch(root.get("launch"))
        networks = self._networks(root.get("networks"), ("networks",), self.networks)
        markets = self._markets(root.get("markets"), ("markets",), tuple(self.markets))
        beats = self._beats(root.get("beats"), networks, markets)
        locales = self._keyed_layers(root.get("locales"), ("locales",), kind="locale")
        overrides = root.get("overrides")
        net_over = self._keyed_layers(
            overrides.get("network") if overrides is not None and overrides.is_map else None,
            ("overrides", "network"),
            kind="network",
        )
        mkt_over = self._keyed_layers(
            overrides.get("market") if overrides is not None and overrides.is_map else None,
            ("overrides", "market"),
            kind="market",
        )
        base = self._layer(root, ())
        if launch is None or story_id is None:
            return None
        story = Story(
            id=story_id,
            path=self.file,
            title=scalar_text(root.get("title")) or headline,
            campaign=scalar_text(root.get("campaign")) or story_id,
            audience=audience,
            status=status,
            launch=launch,
            networks=networks,
            markets=markets,
            beats=beats,
            text=MappingProxyType(text),
            link=base.get("link"),
            hashtags=base.get("hashtags", ()),
            media=base.get("media", ()),
            locales=MappingProxyType(locales),
            network_overrides=MappingProxyType(net_over),
            market_overrides=MappingProxyType(mkt_over),
            positions=MappingProxyType(self.positions),
            language=language,
        )
        for code in markets:
            self.findings.extend(translation_findings(story, self.markets[code]))
        self._unused_overrides(net_over, networks, "network")
        self._unused_overrides(mkt_over, markets, "market")
        return story

    def _unused_overrides(
        self, overrides: Mapping[str, Any], used: tuple[str, ...], kind: str
    ) -> None:
        """An override for a network or market the story does not publish on does nothing."""
        for key in overrides:
            if key not in used:
                self.findings.append(
                    Finding.warning(
                        self.pos("overrides", kind, key),
                        "unused-override",
                        f"overrides.{kind}.{key} has no effect: {key} is not one of the "
                        f"story's {kind}s ({', '.join(used)})",
                    )
                )

    # -- pieces ------------------------------------------------------------------------

    def _story_id(self, root: Node) -> str | None:
        node = root.get("id")
        written = scalar_text(node)
        story_id = written if written is not None else self.path.stem
        pos = node.pos if node is not None else Position(self.file, 1, 1)
        escape = (
            "/" in story_id
            or "\\" in story_id
            or ".." in story_id
            or story_id.startswith("~")
            or PurePosixPath(story_id).is_absolute()
        )
        if escape:
            # The shape check saw a malformed id; the real story is that it escapes.
            self.findings = [
                f
                for f in self.findings
                if not (f.code == "bad-id" and f.line == pos.line and f.column == pos.column)
            ]
            self.error(
                pos,
                "path-escape",
                f"story id {story_id!r} would leave the stories folder; "
                "use letters, digits, . _ - only",
            )
            return None
        if written is None and not re.fullmatch(ID_PATTERN, story_id):
            self.error(
                pos,
                "bad-id",
                f"file name {self.path.name!r} is not a usable story id; "
                "rename it with letters, digits, . _ - only",
            )
            return None
        return story_id if re.fullmatch(ID_PATTERN, story_id) else None

    def _text(self, node: Node | None) -> dict[str, Any]:
        layer = self._layer(node, ("story",)) if node is not None else {}
        return {
            "headline": layer.get("headline"),
            "hook": layer.get("hook"),
            "body": layer.get("body"),
            "facts": layer.get("facts", ()),
        }

    def _launch(self, node: Node | None) -> Launch | None:
        raw = scalar_text(node, dates=True)
        if node is None or raw is None:
            return None
        m = _LAUNCH_RE.fullmatch(raw.strip())
        if m is None:
            return None  # check_shape already reported the pattern
        year, month, day, hour, minute = (int(g) for g in m.groups()[:5])
        second = int(m.group(6) or 0)
        try:
            naive = datetime(year, month, day, hour, minute, second)
        except ValueError as exc:
            self.error(node.pos, "bad-date", f"launch {raw!r} is not a real date and time ({exc})")
            return None
        if not MIN_YEAR <= year <= MAX_YEAR:
            self.error(node.pos, "bad-date", f"launch year {year} is outside {MIN_YEAR}-{MAX_YEAR}")
            return None
        zone = "UTC" if m.group(8) else m.group(7)
        if zone is None:
            return Launch(local=naive, pos=node.pos)
        problem = _zone_problem(zone, node.pos)
        if problem is not None:
            self.findings.append(problem)
            return None
        localized = timezones.localize(naive, zone)
        if localized.note is not None and localized.message is not None:
            self.findings.append(
                Finding.warning(node.pos, f"{localized.note}-time", localized.message)
            )
        return Launch(instant=localized.utc, zone=zone, pos=node.pos)

    def _networks(
        self, node: Node | None, path: tuple[str | int, ...], allowed: tuple[str, ...]
    ) -> tuple[str, ...]:
        if node is None or not node.is_seq:
            return allowed
        out: list[str] = []
        for i, item in enumerate(node.items):
            name = scalar_text(item)
            if name is None:
                continue
            pos = self.pos(*path, i)
            problem = _network_problem(name, pos, self.networks)
            if problem is not None:
                self.findings.append(problem)
            elif name not in allowed:
                self.error(
                    pos,
                    "unknown-network",
                    f"{name!r} is not one of the story's networks ({', '.join(allowed)})",
                )
            elif name in out:
                self.error(pos, "duplicate-value", f"{name!r} is listed twice")
            else:
                out.append(name)
        return tuple(out)

    def _markets(
        self, node: Node | None, path: tuple[str | int, ...], allowed: tuple[str, ...]
    ) -> tuple[str, ...]:
        if node is None or not node.is_seq:
            return allowed
        out: list[str] = []
        for i, item in enumerate(node.items):
            code = scalar_text(item)
            if code is None:
                continue
            pos = self.pos(*path, i)
            if code not in self.codes:
                self.error(
                    pos,
                    "unknown-market",
                    f"unknown market {code!r}{did_you_mean(code, self.codes)}; "
                    f"markets.yaml defines: {', '.join(self.codes) or 'none'}",
                )
            elif code not in self.markets:
                continue  # the market itself is broken; its own findings say why
            elif code not in allowed:
                self.error(
                    pos,
                    "unknown-market",
                    f"{code!r} is not one of the story's markets ({', '.join(allowed)})",
                )
            elif code in out:
                self.error(pos, "duplicate-value", f"{code!r} is listed twice")
            else:
                out.append(code)
        return tuple(out)

    def _beats(
        self, node: Node | None, networks: tuple[str, ...], markets: tuple[str, ...]
    ) -> tuple[Beat, ...]:
        if node is None:
            return (Beat("reveal", Offset(), pos=self.pos()),)
        if not node.is_map:
            return ()
        beats: list[Beat] = []
        for name, kpos, bnode in node.entries():
            if not re.fullmatch(NAME_PATTERN, name):
                continue  # reported as bad-key by the shape check
            offset_node = bnode if bnode.is_scalar else bnode.get("offset")
            if bnode.is_scalar:
                self.positions[("beats", name, "offset")] = bnode.pos
            offset = Offset()
            if offset_node is not None:
                text = "0" if offset_node.value == 0 else scalar_text(offset_node)
                parsed = parse_offset(text) if text is not None else None
                if parsed is None:
                    if text is not None and re.fullmatch(OFFSET_PATTERN, text.strip()):
                        self.error(
                            offset_node.pos,
                            "bad-offset",
                            f"offset {text!r} is more than {MAX_OFFSET_DAYS} days from the launch",
                        )
                    continue
                offset = parsed
            only_networks: tuple[str, ...] | None = None
            only_markets: tuple[str, ...] | None = None
            if bnode.is_map:
                if bnode.get("networks") is not None:
                    only_networks = self._networks(
                        bnode.get("networks"), ("beats", name, "networks"), networks
                    )
                if bnode.get("markets") is not None:
                    only_markets = self._markets(
                        bnode.get("markets"), ("beats", name, "markets"), markets
                    )
            elif not bnode.is_scalar:
                continue
            beats.append(Beat(name, offset, only_networks, only_markets, pos=kpos))
        return tuple(beats)

    def _media(self, node: Node | None, path: tuple[str | int, ...]) -> tuple[Media, ...]:
        if node is None or not node.is_seq:
            return ()
        out: list[Media] = []
        for i, item in enumerate(node.items):
            if not item.is_map:
                continue
            file = scalar_text(item.get("file"))
            alt = scalar_text(item.get("alt"))
            kind = scalar_text(item.get("kind")) or "image"
            if not file or not self._media_file_ok(file, self.pos(*path, i, "file")):
                continue
            if not alt or not alt.strip():
                continue  # missing-alt, reported by the shape check
            out.append(Media(file, alt, kind, pos=self.pos(*path, i)))
        return tuple(out)

    def _media_file_ok(self, file: str, pos: Position) -> bool:
        """A media path must stay inside the content folder and name an existing file."""
        posix = PurePosixPath(file.replace("\\", "/"))
        if posix.is_absolute() or file.startswith("~") or re.match(r"^[A-Za-z]:", file):
            self.error(
                pos,
                "path-escape",
                f"media path {file!r} is absolute; write it relative to the content folder, "
                "e.g. media/photo.jpg",
            )
            return False
        if ".." in posix.parts:
            self.error(
                pos,
                "path-escape",
                f"media path {file!r} leaves the content folder ('..' is not allowed)",
            )
            return False
        root = self.content_dir.resolve()
        target = (self.content_dir / posix).resolve()
        if not target.is_relative_to(root):
            self.error(pos, "path-escape", f"media path {file!r} points outside the content folder")
            return False
        if not target.is_file():
            self.error(
                pos,
                "missing-media",
                f"media file {file!r} not found under {self.content_dir}",
            )
            return False
        return True

    def _layer(self, node: Node | None, path: tuple[str | int, ...]) -> dict[str, Any]:
        """The overridable fields of a mapping, typed: str, tuple[str], tuple[Media]."""
        out: dict[str, Any] = {}
        if node is None or not node.is_map:
            return out
        for key in ("headline", "hook", "body", "claim"):
            value = scalar_text(node.get(key))
            if value is not None:
                out[key] = value
        link = node.get("link")
        if link is not None and link.is_scalar and isinstance(link.value, str):
            out["link"] = link.value
        for key in ("facts", "hashtags"):
            seq = node.get(key)
            if seq is not None and seq.is_seq:
                items = (scalar_text(i) for i in seq.items)
                values = tuple(v for v in items if v is not None)
                out[key] = tuple(v.lstrip("#") for v in values) if key == "hashtags" else values
        if node.get("media") is not None:
            out["media"] = self._media(node.get("media"), (*path, "media"))
        return out

    def _keyed_layers(
        self, node: Node | None, path: tuple[str | int, ...], *, kind: str
    ) -> dict[str, Mapping[str, Any]]:
        out: dict[str, Mapping[str, Any]] = {}
        if node is None or not node.is_map:
            return out
        for key, kpos, lnode in node.entries():
            if kind == "network":
                problem = _network_problem(key, kpos, self.networks)
                if problem is not None:
                    self.findings.append(problem)
                    continue
            elif kind == "market" and key not in self.codes:
                self.error(
                    kpos,
                    "unknown-market",
                    f"unknown market {key!r}{did_you_mean(key, self.codes)}; "
                    f"markets.yaml defines: {', '.join(self.codes) or 'none'}",
                )
                continue
            out[key] = MappingProxyType(self._layer(lnode, (*path, key)))
        return out


def _enum(cls: type[_E], value: str | None, default: _E) -> _E:
    if value is None:
        return default
    try:
        return cls(value)
    except ValueError:
        return default


# --- resolving: what one market's account on one network tells ---------------------------


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
