"""The shape of each file the brand writes: ``markets.yaml``, ``stories/<id>.yaml`` and
``editorial_lines/<network>/line.yaml``.

One table per file type, read by the loaders to validate (``check_shape``/``conform``) and by
``storyline schema`` to write the JSON Schema editors use, so the two can never disagree
(``tests/content/test_one_shape.py`` runs the sample and bad cases through both).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from scheduler.content.shapes import Boolean, Field, Integer, Obj, OneOf, Seq, Text
from scheduler.core.model import OVERRIDABLE_FIELDS, Audience, StoryStatus, TranslationPolicy
from scheduler.core.signoff import APPROVER_HINT, APPROVER_PATTERN
from scheduler.text.voice import ALL_LOCALES, RULES, LinkPolicy

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


def fields_of(**fields: Field) -> Mapping[str, Field]:
    return MappingProxyType(fields)


ACCOUNT_SHAPE = Obj(
    fields_of(
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


SIGNOFF_SHAPE = Obj(
    fields_of(
        required=Field(Boolean(), default=False, doc="posts are held until approved"),
        approvers=Field(
            Seq(
                Text(
                    numbers_ok=False,
                    pattern=APPROVER_PATTERN,
                    pattern_code="bad-approver",
                    pattern_hint=APPROVER_HINT,
                ),
                min_items=1,
            ),
            doc="e-mail addresses or team names whose `storyline approve` counts",
        ),
    ),
    doc="Per-market sign-off, bound to the exact post (`storyline approve`).",
)


MARKET_SHAPE = Obj(
    fields_of(
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
        signoff=Field(SIGNOFF_SHAPE, doc="posts wait for one of these approvers (docs/signoff.md)"),
        translation=Field(
            Text(enum=tuple(p.value for p in TranslationPolicy)),
            default=TranslationPolicy.WARN.value,
            doc="required | warn: whether an approved story may reach this market untranslated",
        ),
    ),
    doc="One market: a country or region with its clock, language and accounts.",
)


MARKETS_SHAPE = Obj(
    fields_of(
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
    fields_of(
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
    fields_of(
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


_THREAD = Field(
    Boolean(),
    doc="X only: a post over 280 characters goes out as a numbered thread (docs/publishers.md)",
)


#: ``overrides.network.<network>``: a layer, and the network's own switches.
NETWORK_LAYER_SHAPE = Obj(
    MappingProxyType({**LAYER_SHAPE.fields, "thread": _THREAD}),
    doc="Fields this network's posts replace; `thread: true` (X) splits a long post.",
)


STORY_TEXT_SHAPE = Obj(
    fields_of(
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


BEAT_TEXT_SHAPE = Obj(
    fields_of(
        headline=Field(_TEXT),
        hook=Field(_TEXT),
        body=Field(_TEXT),
        facts=Field(_FACTS),
    ),
    doc="The beat's own text; what it leaves out is the story's.",
)


#: What a beat's translation may replace: its own text and media.
BEAT_LAYER_SHAPE = Obj(
    fields_of(**BEAT_TEXT_SHAPE.fields, media=Field(_MEDIA)),
    doc="A translation of the beat's own fields.",
)


BEAT_SHAPE = Obj(
    fields_of(
        offset=Field(OFFSET_SHAPE, default="0", doc="distance from the launch"),
        networks=Field(
            Seq(Text(numbers_ok=False)), doc="only these of the story's networks (default: all)"
        ),
        markets=Field(
            Seq(Text(numbers_ok=False)), doc="only these of the story's markets (default: all)"
        ),
        story=Field(BEAT_TEXT_SHAPE, doc="the beat's own headline, hook, body, facts"),
        media=Field(_MEDIA, doc="the beat's own media (default: the story's)"),
        link=Field(_LINK, doc="the beat's own link (default: the story's)"),
        hashtags=Field(_HASHTAGS),
        locales=Field(
            Obj(values=BEAT_LAYER_SHAPE, key_pattern=LOCALE_PATTERN, key_doc="a locale like fr"),
            doc="locale -> the beat's own fields, translated",
        ),
    ),
    doc="One moment of the story's arc, with its own content if it has some.",
)


MARKET_OVERRIDE_SHAPE = Obj(
    fields_of(
        **LAYER_SHAPE.fields,
        network=Field(
            Obj(values=LAYER_SHAPE, key_pattern=NAME_PATTERN, key_doc="a network name"),
            doc="network -> fields for that network in this market only (the last word)",
        ),
    ),
    doc="Fields for every network of one market, and per network in it.",
)


EMBARGO_SHAPE = Obj(
    fields_of(
        terms=Field(
            Seq(Text(), min_items=1),
            required=True,
            doc="words no post may say before the reveal (any case, whole words)",
        ),
        media=Field(
            Text(enum=("reveal",)),
            default="reveal",
            doc="reveal: no post before the reveal shows any media file of the reveal beat",
        ),
    ),
    doc="What stays secret until the reveal beat's earliest instant worldwide.",
)


STORY_SHAPE = Obj(
    fields_of(
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
            doc="beat name -> offset or {offset, networks, markets, story, media, ...}; "
            "default: reveal at 0",
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
                fields_of(
                    network=Field(
                        Obj(values=NETWORK_LAYER_SHAPE, key_pattern=NAME_PATTERN),
                        doc="network -> fields (and `thread: true` for X)",
                    ),
                    market=Field(
                        Obj(values=MARKET_OVERRIDE_SHAPE, key_pattern=NAME_PATTERN),
                        doc="market -> fields, and network -> fields within it",
                    ),
                )
            ),
            doc="the last word: per network, then per market, then per network in a market",
        ),
        embargo=Field(EMBARGO_SHAPE),
    ),
    doc="content/stories/<id>.yaml: one story, written once.",
)


_CAP = Obj(
    fields_of(max=Field(Integer(minimum=0), doc="at most this many; 0 forbids")),
    doc="{max: N}",
)


#: A banned word or phrase: anything but spaces and ``*`` (a trailing ``*`` is "any ending").
BANNED_WORD_PATTERN = r"^[\s\S]*[^ *][\s\S]*$"


#: A ``banned:`` key: ``all``, or a locale as markets write it, in any case and with ``-`` or
#: ``_`` (voice matches ``FR`` and ``pt_BR`` to the markets' ``fr`` and ``pt-BR``); any other
#: key could never apply to a post.
BANNED_LOCALE_PATTERN = rf"^([A-Za-z]{{2,3}}([-_][A-Za-z0-9]{{2,8}})*|{ALL_LOCALES})$"


_WORD = Text(
    numbers_ok=False,
    pattern=BANNED_WORD_PATTERN,
    pattern_hint="a word or phrase; a trailing * matches any ending",
)


_WORDS = Seq(_WORD, doc="words or phrases, matched case- and accent-insensitively")


#: ``rules:`` of ``line.yaml``: the rules ``scheduler.text.voice`` reads, in its order. Their
#: findings say ``unknown-rule`` and ``invalid-rule`` (``docs/networks.md``).
RULES_SHAPE = Obj(
    fields_of(
        max_hashtags=Field(Integer(minimum=0), doc="most distinct hashtags in a post"),
        emoji=Field(_CAP, doc="most emoji in a post"),
        mentions=Field(_CAP, doc="most @mentions in a post"),
        banned=Field(
            Obj(
                values=OneOf((_WORDS, _WORD)),
                key_pattern=BANNED_LOCALE_PATTERN,
                key_doc=f"a locale such as fr or pt-BR (any case), or '{ALL_LOCALES}'",
            ),
            doc="locale (or 'all') -> words the brand never uses there",
        ),
        require_signature=Field(Boolean(), doc="the market's claim must appear"),
        link=Field(
            Text(enum=tuple(p.value for p in LinkPolicy)),
            default=LinkPolicy.INLINE.value,
            doc="where the story's link goes: inline | first_comment | none",
        ),
        utm=Field(Boolean(), default=True, doc="add utm_* parameters to the link"),
    ),
    doc="The voice's rules; every broken rule is a finding of `storyline validate`.",
    codes=MappingProxyType(
        {
            "unknown-field": "unknown-rule",
            "wrong-type": "invalid-rule",
            "bad-value": "invalid-rule",
            "bad-key": "invalid-rule",
        }
    ),
)
assert tuple(RULES_SHAPE.fields) == RULES


LINE_SHAPE = Obj(
    fields_of(
        voice=Field(
            Text(numbers_ok=False), required=True, doc="how this network speaks, for people"
        ),
        rules=Field(RULES_SHAPE),
        thread=_THREAD,
        phrases=Field(
            Obj(
                values=Obj(values=Text(), doc="phrase key -> text"),
                key_pattern=LOCALE_PATTERN,
                key_doc="a locale as markets write it, like fr or pt-BR",
            ),
            doc="locale -> phrase key -> text the templates may use (en fills gaps)",
        ),
    ),
    doc="editorial_lines/<network>/line.yaml: one network's voice.",
)


BRAND_FILE_NAME = "_brand.yaml"


_BANNED_LISTS = Obj(
    values=OneOf((_WORDS, _WORD)),
    key_pattern=BANNED_LOCALE_PATTERN,
    key_doc=f"a locale such as fr or pt-BR (any case), or '{ALL_LOCALES}'",
)


BRAND_SHAPE = Obj(
    fields_of(
        banned=Field(
            _BANNED_LISTS,
            doc="locale (or 'all') -> words no line uses there (as a line's rules.banned)",
        ),
        patterns=Field(
            Obj(
                values=Seq(Text(numbers_ok=False), doc="regular expressions, any case"),
                key_pattern=BANNED_LOCALE_PATTERN,
                key_doc=f"a locale such as fr, or '{ALL_LOCALES}'",
            ),
            doc="locale (or 'all') -> patterns no post may match (discount talk: -20%)",
        ),
        may_extend=Field(
            Seq(Text(numbers_ok=False, pattern=NAME_PATTERN, pattern_hint="a network name")),
            doc="the lines that may add banned words of their own in their line.yaml",
        ),
    ),
    doc="editorial_lines/_brand.yaml: the voice rules every line shares.",
)
