"""Each network's hard limits, and the findings of a post that breaks them.

A post that fits by Python's ``len`` can still be refused: X weighs code points, Bluesky counts
grapheme clusters *and* bytes, Mastodon discounts links and remote mentions, Threads counts an
emoji by its bytes, YouTube counts bytes, Weibo half characters. So :func:`measure` counts each
network's own way (``counting``, ``xlength``), and :func:`check` turns every broken limit into
a finding. The source of every number is in ``docs/networks.md``.

Pure: no I/O, no clock. Findings carry the position the caller passes in.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from scheduler.core.diagnostics import Finding, Position
from scheduler.text import extract
from scheduler.text.counting import (
    graphemes,
    mastodon_length,
    threads_length,
    utf8_bytes,
    weibo_length,
)
from scheduler.text.xlength import x_weighted_length


class Counting(StrEnum):
    """How a network turns a text into its length."""

    TWITTER_TEXT = "twitter-text v3 weighted length"
    GRAPHEMES = "grapheme clusters"
    MASTODON = "grapheme clusters, each URL as 23, a remote mention as its @user part"
    THREADS = "characters, each emoji as its UTF-8 byte length"
    CODE_POINTS = "characters (Unicode code points)"
    UTF8_BYTES = "UTF-8 bytes"
    WEIBO = "Weibo characters: a wide character 1, a narrow one 1/2, a URL 10, rounded up"


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    """One network's hard limits: what makes the network itself refuse a post.

    ``None`` means the network sets no such limit. ``text_field`` is the network's own word
    for the post's text, used in messages so a reader recognises the API field.
    """

    name: str
    display_name: str
    text_limit: int
    counting: Counting
    text_field: str = "text"
    byte_limit: int | None = None
    title_limit: int | None = None
    hashtag_max: int | None = None
    mention_max: int | None = None
    link_max: int | None = None
    media_required: bool = False
    media_kind: str = "an image or a video"
    forbidden_characters: frozenset[str] = frozenset()
    url_weight: int | None = None
    limit_configurable: bool = False
    soft_limit: int | None = None
    soft_limit_note: str = ""


_SPECS: Final = (
    NetworkSpec("facebook", "Facebook", 63_206, Counting.CODE_POINTS, text_field="message"),
    NetworkSpec(
        "instagram",
        "Instagram",
        2_200,
        Counting.CODE_POINTS,
        text_field="caption",
        hashtag_max=30,
        mention_max=20,
        media_required=True,
    ),
    NetworkSpec("x", "X", 280, Counting.TWITTER_TEXT, url_weight=23),
    NetworkSpec("linkedin", "LinkedIn", 3_000, Counting.CODE_POINTS, text_field="commentary"),
    NetworkSpec(
        "youtube",
        "YouTube",
        5_000,
        Counting.UTF8_BYTES,
        text_field="description",
        title_limit=100,
        media_required=True,
        media_kind="a video",
        forbidden_characters=frozenset("<>"),
    ),
    NetworkSpec(
        "weibo",
        "Weibo",
        2_000,
        Counting.WEIBO,
        text_field="status",
        soft_limit=140,
        soft_limit_note=(
            "Weibo's API takes over 140 characters only as a long Weibo"
            " (is_longtext), from accounts allowed to send them"
        ),
    ),
    NetworkSpec(
        "mastodon",
        "Mastodon",
        500,
        Counting.MASTODON,
        text_field="status",
        url_weight=23,
        limit_configurable=True,
    ),
    NetworkSpec("bluesky", "Bluesky", 300, Counting.GRAPHEMES, byte_limit=3_000),
    NetworkSpec(
        "threads",
        "Threads",
        500,
        Counting.THREADS,
        hashtag_max=1,
        link_max=5,
    ),
)

#: Every network Storyline publishes to, by the name stories and lines use.
NETWORKS: Final[Mapping[str, NetworkSpec]] = MappingProxyType({n.name: n for n in _SPECS})

_GOOGLE_PLUS = (
    "Google+ was shut down for consumers on 2 April 2019: there is nothing to publish to. "
    "Remove it from the story's networks, the markets' accounts and editorial_lines/."
)

#: Names of networks the brand once used that no longer exist, with what to tell the user.
RETIRED: Final[Mapping[str, str]] = MappingProxyType(
    dict.fromkeys(("google+", "googleplus", "google_plus", "gplus", "google-plus"), _GOOGLE_PLUS)
)


#: Networks whose limits are the brand's own, written in their line's ``limits:`` (a webhook
#: relay accepts what the agency or CMS behind it accepts; no network sets them).
LINE_DEFINED: Final = frozenset({"webhook"})

#: How a ``limits:`` mapping may say a text is counted.
COUNTINGS: Final[Mapping[str, Counting]] = MappingProxyType(
    {
        "code_points": Counting.CODE_POINTS,
        "graphemes": Counting.GRAPHEMES,
        "utf8_bytes": Counting.UTF8_BYTES,
    }
)


def line_spec(network: str, limits: Mapping[str, object]) -> NetworkSpec:
    """The spec of a :data:`LINE_DEFINED` network, from its line's (shape-checked) ``limits:``."""

    def number(key: str) -> int | None:
        value = limits.get(key)
        return int(value) if isinstance(value, int) and not isinstance(value, bool) else None

    return NetworkSpec(
        network,
        network.capitalize(),
        number("text_limit") or 0,
        COUNTINGS[str(limits.get("counting", "code_points"))],
        byte_limit=number("byte_limit"),
        title_limit=number("title_limit"),
        hashtag_max=number("hashtag_max"),
        mention_max=number("mention_max"),
        link_max=number("link_max"),
        media_required=bool(limits.get("media_required", False)),
    )


class UnknownNetwork(ValueError):
    """A network name that is neither supported nor a known retired one."""


def spec(network: str, own: NetworkSpec | None = None) -> NetworkSpec:
    """The spec of ``network`` (``own``: a line-defined network's, from its line); a retired or
    unknown name raises with a message for humans."""
    if own is not None:
        return own
    try:
        return NETWORKS[network]
    except KeyError:
        if network.lower() in RETIRED:
            raise UnknownNetwork(RETIRED[network.lower()]) from None
        if network in LINE_DEFINED:
            raise UnknownNetwork(
                f"{network}'s limits come from its editorial line: "
                f"editorial_lines/{network}/line.yaml needs a `limits:` mapping"
            ) from None
        known = ", ".join(sorted((*NETWORKS, *LINE_DEFINED)))
        raise UnknownNetwork(f"unknown network {network!r} (known: {known})") from None


def measure(network: str, text: str, own: NetworkSpec | None = None) -> int:
    """The length of ``text`` as ``network`` counts it against its ``text_limit``."""
    counting = spec(network, own).counting
    if counting is Counting.TWITTER_TEXT:
        return x_weighted_length(text)
    if counting is Counting.GRAPHEMES:
        return graphemes(text)
    if counting is Counting.MASTODON:
        return mastodon_length(text)
    if counting is Counting.THREADS:
        return threads_length(text)
    if counting is Counting.UTF8_BYTES:
        return utf8_bytes(text)
    if counting is Counting.WEIBO:
        return weibo_length(text)
    return len(text)


def limit(network: str, limit_override: int | None = None, own: NetworkSpec | None = None) -> int:
    """The text limit that applies: the network's, or the server's own where it sets one."""
    s = spec(network, own)
    if limit_override is not None and s.limit_configurable:
        return limit_override
    return s.text_limit


def _code(network: str, code: str) -> str:
    return f"{network}-{code}"


def check(
    network: str,
    *,
    text: str,
    title: str | None = None,
    hashtags: Sequence[str] = (),
    media: Collection[object] = (),
    pos: Position,
    limit_override: int | None = None,
    own: NetworkSpec | None = None,
) -> list[Finding]:
    """Every hard limit of ``network`` that this post breaks, as error findings.

    ``hashtags`` are the post's tags whether or not the text spells them out; they are counted
    together with the ``#tags`` written in the text, each distinct tag (case-insensitive) once.
    ``limit_override`` is a server's own limit (Mastodon's ``max_characters``); ``own`` is a
    line-defined network's spec (:func:`line_spec`).
    """
    s = spec(network, own)
    findings: list[Finding] = []
    cap = limit(network, limit_override, own)
    length = measure(network, text, own)
    if length > cap:
        findings.append(
            Finding.error(
                pos,
                _code(network, "too-long"),
                f"{s.display_name} {s.text_field} is {length:,} long, over its limit of {cap:,}"
                f" ({s.counting})",
            )
        )
    elif s.soft_limit is not None and length > s.soft_limit:
        findings.append(
            Finding.warning(
                pos,
                _code(network, "long-text"),
                f"{s.display_name} {s.text_field} is {length:,} long, over {s.soft_limit:,}:"
                f" {s.soft_limit_note}",
            )
        )
    if s.byte_limit is not None and utf8_bytes(text) > s.byte_limit:
        findings.append(
            Finding.error(
                pos,
                _code(network, "too-many-bytes"),
                f"{s.display_name} {s.text_field} is {utf8_bytes(text):,} UTF-8 bytes,"
                f" over its limit of {s.byte_limit:,}",
            )
        )
    if s.title_limit is not None and title is not None and len(title) > s.title_limit:
        findings.append(
            Finding.error(
                pos,
                _code(network, "title-too-long"),
                f"{s.display_name} title is {len(title):,} characters,"
                f" over its limit of {s.title_limit:,}",
            )
        )
    written = extract.hashtags_in(text) if s.hashtag_max is not None else []
    # More distinct tags than the cap needs more tags than the cap, written or given.
    if s.hashtag_max is not None and len(hashtags) + len(written) > s.hashtag_max:
        tags = {t.lstrip("#＃").casefold() for t in (*hashtags, *written)}
        if len(tags) > s.hashtag_max:
            findings.append(
                Finding.error(
                    pos,
                    _code(network, "too-many-hashtags"),
                    f"{s.display_name} allows at most {s.hashtag_max} hashtag(s) per post,"
                    f" this one has {len(tags)}",
                )
            )
    if s.mention_max is not None:
        mentioned = len(extract.mentions(text))
        if mentioned > s.mention_max:
            findings.append(
                Finding.error(
                    pos,
                    _code(network, "too-many-mentions"),
                    f"{s.display_name} allows at most {s.mention_max} @mentions per post,"
                    f" this one has {mentioned}",
                )
            )
    if s.link_max is not None:
        links = set(extract.links_in(text))  # Threads counts each distinct URL once
        if len(links) > s.link_max:
            findings.append(
                Finding.error(
                    pos,
                    _code(network, "too-many-links"),
                    f"{s.display_name} allows at most {s.link_max} distinct links per post,"
                    f" this one has {len(links)}",
                )
            )
    if s.media_required and not media:
        findings.append(
            Finding.error(
                pos,
                _code(network, "media-required"),
                f"{s.display_name} cannot publish a post without media: add {s.media_kind}",
            )
        )
    for field, value in (("title", title), (s.text_field, text)):
        if not s.forbidden_characters:
            break
        bad = sorted(c for c in s.forbidden_characters if c in (value or ""))
        if bad:
            shown = " ".join(repr(c) for c in bad)
            findings.append(
                Finding.error(
                    pos,
                    _code(network, "forbidden-character"),
                    f"{s.display_name} does not accept {shown} in the {field}",
                )
            )
    return findings
