"""The shortcuts taken for speed give exactly the answers of the slow, obvious computation.

Each shortcut of ``scheduler/text`` sits behind one function beside its plain version (the
``*_plain`` functions): X lengths skip twitter-text's emoji expression where no emoji can start
and its URL extractor where no top-level domain can start; links skip the extractor the same
way; hashtags are found line by line; grapheme and emoji counts skip segmenting texts where
every code point is a cluster of its own. Each is held here to its plain version, and the X
length to ``parse_tweet`` itself, on generated texts.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

import pytest
import regex
from hypothesis import given, settings
from hypothesis import strategies as st
from twitter_text import extract_urls_with_indices, parse_tweet

from scheduler.text import counting, extract, links, xlength

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
        ]
    ),
)


@settings(max_examples=600, deadline=None)
@given(st.lists(_URL_PIECES, max_size=16).map("".join))
def test_x_urls_found_word_by_word_are_the_extractors_on_the_whole_text(text: str) -> None:
    expected = {e["indices"][0]: len(e["url"]) for e in extract_urls_with_indices(text)}
    assert xlength._urls(text) == xlength._urls_plain(text) == expected


_TAG_PIECES = st.one_of(
    _PIECES,
    st.sampled_from(["#", "＃", "\n", "#Tag", "#1", "a#b", "&#x", "/#y", "#_", "#é\u0301", "\r\n"]),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(_TAG_PIECES, max_size=16).map("".join))
def test_hashtags_found_line_by_line_are_those_of_the_whole_text(text: str) -> None:
    assert extract.hashtags(text) == extract.hashtags_plain(text)


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
    assert links.track(
        url, network=network, campaign=campaign, post_id=post_id
    ) == _reference_track(url, network, campaign, post_id)
