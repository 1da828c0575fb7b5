"""The shortcuts taken for speed give exactly the answers of the slow, obvious computation.

Each shortcut of ``scheduler/text`` sits behind one function beside its plain version (the
``*_plain`` functions; docs/networks.md lists them with what each saves on ``bench render``):
X lengths skip twitter-text's emoji expression where no emoji can start and its URL extractor
where no top-level domain can start; links skip the extractor the same way; hashtags are found
line by line; grapheme and emoji counts skip segmenting texts where every code point is a
cluster of its own; a story's tracked link is framed once per network; banned words are
screened by each term's longest word, text is folded through a table, line by line, and a
claim written as is needs no folding; ban patterns search each line once, lines remembered.
Each is held here to its plain version on generated texts, and the X length to ``parse_tweet``
itself.
"""

from __future__ import annotations

import re
from types import MappingProxyType
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st
from twitter_text import extract_urls_with_indices, parse_tweet

from scheduler.core.diagnostics import Position
from scheduler.text import counting, extract, links, patterns, voice, xlength
from scheduler.text.twitter_text import config, tlds
from scheduler.text.voice import VoiceRules

POS = Position("content/stories/suv.yaml", 1, 1)

_PIECES = st.one_of(
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(
        [
            "👀",
            "👍🏽",
            "👨‍👩‍👧‍👦",
            "#️⃣",
            "1\u20e3",
            "©",
            "©\ufe0f",
            "🇫🇷",
            "\u200d",
            "\ufe0f",
            "新车",
            " https://brand.example/suv?x=1 ",
            "www.example.org/a",
            "brand.com",
            ".中国",
            "e.g. ",
            "\r\n",
            "e\u0301",
            "#SUV @brand",
        ]
    ),
)
_TEXTS = st.lists(_PIECES, max_size=14).map("".join)


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_x_length_equals_parse_tweet_with_or_without_emoji(text: str) -> None:
    assert xlength.x_weighted_length(text) == parse_tweet(text).weightedLength
    assert xlength.x_weighted_length_plain(text) == parse_tweet(text).weightedLength


_URL_PIECES = st.one_of(
    _PIECES,
    st.sampled_from(
        [
            " ",
            "\n",
            ".",
            "(",
            ")",
            "https://t.co/abc123?x=1",
            "http://example.com/a(b)c",
            "éxample.com",
            "brand.example/models/000?utm_source=x&utm_content=a%2Fb",
            "@brand.com",
            "-www.brand.com",
            "a.co",
            "\u202a",
            "xn--wgv71a.jp",
            "brand.COM",
            "brand.comx",
            "a.co-",
            "x.com@",
            "b.jp+",
            "v2.0",
            ".xn--p1ai",
            "\u212a",  # KELVIN SIGN: "k" to a case-insensitive expression
        ]
    ),
)


@settings(max_examples=600, deadline=None)
@given(st.lists(_URL_PIECES, max_size=16).map("".join))
def test_x_urls_found_word_by_word_are_the_extractors_on_the_whole_text(text: str) -> None:
    expected = {e["indices"][0]: len(e["url"]) for e in extract_urls_with_indices(text)}
    assert xlength._urls(text) == xlength._urls_plain(text) == expected


def test_the_top_level_domain_trie_matches_exactly_twitter_texts_list() -> None:
    words = [*tlds.GTLDS.split("|"), *tlds.CCTLDS.split("|")]
    trie = re.compile(xlength._trie(words))
    prefixes = {word[:n] for word in words for n in range(1, len(word))} - set(words)
    assert all(trie.fullmatch(word) for word in words)
    assert not any(trie.fullmatch(prefix) for prefix in prefixes)


_TAG_PIECES = st.one_of(
    _PIECES,
    st.sampled_from(["#", "＃", "\n", "#Tag", "#1", "a#b", "&#x", "/#y", "#_", "#é\u0301", "\r\n"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TAG_PIECES, max_size=16).map("".join))
def test_hashtags_found_line_by_line_are_those_of_the_whole_text(text: str) -> None:
    assert extract.hashtags_in(text) == extract.hashtags_in_plain(text)


def _reference_spans(text: str) -> list[tuple[int, int, str]]:
    """Links as first written: scheme links, then every entity of the package's extractor."""
    spans = [(s, e, url) for _, s, e, url in extract.links(text, bare=False)]
    for entity in extract_urls_with_indices(text):
        start, end = entity["indices"]
        if not any(s <= start < e for s, e, _ in spans):
            spans.append((start, end, entity["url"]))
    return sorted(spans)


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_link_spans_equal_the_extractor_everywhere(text: str) -> None:
    assert extract.links(text) == extract.links_plain(text)
    assert [(s, e, url) for _, s, e, url in extract.links(text)] == _reference_spans(text)


def test_a_text_without_a_dot_before_a_letter_has_no_bare_domain() -> None:
    assert [
        (s, e, url)
        for _, s, e, url in extract.links("Sept places. Voir https://brand.example/suv.")
    ] == [(18, 43, "https://brand.example/suv")]


_GRAPHEME = regex.compile(r"\X")


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_grapheme_count_equals_segmenting_the_text(text: str) -> None:
    assert counting.graphemes(text) == counting.graphemes_plain(text)
    assert counting.graphemes(text) == len(_GRAPHEME.findall(text))


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_emoji_are_the_emoji_clusters_of_the_segmented_text(text: str) -> None:
    expected = [cluster for cluster in _GRAPHEME.findall(text) if counting.is_emoji(cluster)]
    assert counting.emoji_clusters(text) == counting.emoji_clusters_plain(text) == expected


@settings(max_examples=400, deadline=None)
@given(_TEXTS)
def test_x_emoji_tried_where_one_can_start_are_those_tried_everywhere(text: str) -> None:
    assert xlength._emoji(text) == xlength._emoji_plain(text)


@given(st.characters())
def test_x_weights_looked_up_once_are_the_weight_table(char: str) -> None:
    assert xlength._weight(char) == xlength._weight(char) == config.character_weight(char)


@pytest.mark.parametrize(
    ("text", "count"),
    [("a\r\nb", 3), ("e\u0301", 1), ("🇫🇷🇩🇪", 2), ("👍🏽", 1), ("\u1100\u1161", 1), ("é👀新", 3)],
)
def test_clusters_that_join_characters_are_counted_once(text: str, count: int) -> None:
    assert counting.graphemes(text) == count


def _reference_track(url: str, network: str, campaign: str, post_id: str) -> str:
    """links.track as first written: split, add what is missing, unsplit."""
    parts = urlsplit(url.strip())
    present = {key.lower() for key, _ in parse_qsl(parts.query, keep_blank_values=True)}
    wanted = dict(zip(links.UTM_KEYS, (network, "social", campaign, post_id), strict=True))
    added = "&".join(
        f"{key}={quote(value, safe='')}" for key, value in wanted.items() if key not in present
    )
    if not added:
        return urlunsplit(parts)
    query = f"{parts.query}&{added}" if parts.query else added
    return urlunsplit(parts._replace(query=query))


_URLS = st.builds(
    lambda scheme, host, path, query, fragment: f"{scheme}://{host}{path}{query}{fragment}",
    st.sampled_from(["http", "https", "HTTPS"]),
    st.sampled_from(["brand.example", "Brand.COM:8080", "a.b.c"]),
    st.sampled_from(["", "/", "/suv", "/a/b/"]),
    st.sampled_from(["", "?", "?x=1", "?utm_source=mail", "?UTM_Campaign=p&y=", "?a=%20"]),
    st.sampled_from(["", "#", "#top", "#a?b"]),
)


@settings(max_examples=300, deadline=None)
@given(_URLS, st.text(max_size=8), st.text(max_size=8), st.text(max_size=12))
def test_tracking_equals_splitting_and_unsplitting(
    url: str, network: str, campaign: str, post_id: str
) -> None:
    expected = _reference_track(url, network, campaign, post_id)
    for _ in range(2):  # the frame is worked out once, then reused
        assert links.track(url, network=network, campaign=campaign, post_id=post_id) == expected
    assert links.track_plain(url, network=network, campaign=campaign, post_id=post_id) == expected


# --- voice ----------------------------------------------------------------------------------

_VOICE_PIECES = st.one_of(
    _PIECES,
    st.sampled_from(
        [
            "Promo",
            "PROMÓ",
            "promotion",
            "deal",
            "ideal",
            "20% OFF",
            "% off",
            "Inspired  By\nYou",
            "inspired by you",
            "ﬁ",
            "İ",
            "ß",
            "\u00a0",
            "https://brand.example/deal?utm_campaign=promo ",
            "www.promo.com",
        ]
    ),
)
_VOICE_TEXTS = st.lists(_VOICE_PIECES, max_size=14).map("".join)
_TERMS = st.lists(
    st.sampled_from(["promo*", "deal", "% off", "remise", "Inspired by you", "ß", "ﬁ", "İn"]),
    max_size=4,
)


@settings(max_examples=400, deadline=None)
@given(_VOICE_TEXTS)
def test_text_folded_through_the_table_line_by_line_is_folded_char_by_char(text: str) -> None:
    assert voice._folded(text) == voice._folded(text) == voice._folded_plain(text)


@settings(max_examples=400, deadline=None)
@given(_VOICE_TEXTS, _TERMS, _TERMS, st.sampled_from(["en", "fr", "fr-BE", "de"]))
def test_banned_words_screened_by_their_longest_word_are_found_term_by_term(
    text: str, everywhere: list[str], french: list[str], locale: str
) -> None:
    rules = VoiceRules(banned=MappingProxyType({"all": tuple(everywhere), "fr": tuple(french)}))
    for _ in range(2):  # the locale's terms are worked out once, then reused
        assert rules._banned(locale).terms == tuple(rules.banned_for(locale))
        assert voice._check_banned(
            rules, text=text, locale=locale, pos=POS
        ) == voice._check_banned_plain(rules, text=text, locale=locale, pos=POS)


_PATTERN_PIECES = st.one_of(
    _VOICE_PIECES,
    st.sampled_from(
        ["-20%", " -30 %", "20 % off", "5 000 € de remise", "10-80%", "!!!", "'", '"', "<", ">"]
    ),
)
_PATTERNS = {
    "all": (r"(?<![\w.,%-])[-−–]\s?\d+(?:[.,]\d+)?\s?%", r"\d+(?:[.,]\d+)?\s?%\s*off\b", "!{2,}"),
    "fr": (r"\d[\d\s.]*\s?(?:€|eur\b|euros?\b)\s+de\s+(?:remise|réduction|rabais)",),
}


def _ban_patterns() -> VoiceRules:
    compiled = {
        key: tuple(patterns.compile_ban_pattern(source, POS) for source in sources)
        for key, sources in _PATTERNS.items()
    }
    assert all(isinstance(p, patterns.BanPattern) for group in compiled.values() for p in group)
    return VoiceRules(patterns=MappingProxyType(compiled))


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(_PATTERN_PIECES, max_size=10).map("".join), min_size=1, max_size=4))
def test_ban_patterns_searched_line_by_line_from_memory_find_what_a_full_search_finds(
    texts: list[str],
) -> None:
    rules = _ban_patterns()
    for text in texts * 2:  # lines remembered from earlier texts, and from the same one
        for locale in ("en", "fr"):
            assert voice._check_patterns(
                rules, text=text, locale=locale, pos=POS
            ) == voice._check_patterns_plain(rules, text=text, locale=locale, pos=POS)


@settings(max_examples=400, deadline=None)
@given(_VOICE_TEXTS, _VOICE_TEXTS)
def test_a_claim_found_as_written_is_found_folded(text: str, claim: str) -> None:
    for signature in (claim, text[len(text) // 3 : len(text) // 2], text):
        assert voice._has_signature(text, signature) == voice._has_signature_plain(text, signature)
