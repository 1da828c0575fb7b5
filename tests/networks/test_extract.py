"""The one extractor (scheduler.text.extract): links, hashtags, mentions, and where they meet.

Validation, link tracking, the preview's highlight and Bluesky's facets all read a post's
entities here; the first tests show the four agree on the link the issue found cut in two,
the last ones hold the extractor to twitter-text's own extractor conformance cases.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from scheduler.interfaces.preview.text import tokens
from scheduler.publishers.bluesky import facets_of
from scheduler.text import extract
from scheduler.text.extract import Entity, Kind
from scheduler.text.links import track_urls_in
from scheduler.text.twitter_text.urls import extract_urls_with_indices

WIKI = "https://en.example/wiki/Foo_(bar)"


# --- links --------------------------------------------------------------------------------


def test_links_accept_any_top_level_domain() -> None:
    assert extract.links_in("Discover it: https://brand.example/suv.") == [
        "https://brand.example/suv"
    ]


def test_links_leave_sentence_punctuation_and_unopened_brackets_out() -> None:
    text = "(see https://brand.example/suv?a=1), and https://en.wikipedia.org/wiki/SUV_(car)!"
    assert extract.links_in(text) == [
        "https://brand.example/suv?a=1",
        "https://en.wikipedia.org/wiki/SUV_(car)",
    ]


def test_links_find_bare_domains_with_a_real_tld() -> None:
    assert extract.links_in("Visit www.brand.com/suv, e.g. today") == ["www.brand.com/suv"]


def test_bare_domains_are_left_out_when_asked() -> None:
    assert extract.links_in("Visit www.brand.com/suv or https://brand.example", bare=False) == [
        "https://brand.example"
    ]


def test_a_link_is_an_entity_with_its_position() -> None:
    assert extract.links("see https://brand.example/suv.") == (
        Entity(Kind.LINK, 4, 29, "https://brand.example/suv"),
    )


# --- one link for everyone ----------------------------------------------------------------


@pytest.mark.parametrize("text", [WIKI, f"see {WIKI}.", f"({WIKI})", f"{WIKI}, then #SUV"])
def test_validation_tracking_preview_and_bluesky_see_the_same_whole_link(text: str) -> None:
    assert extract.links_in(text) == [WIKI]
    tracked = track_urls_in(text, network="x", campaign="c", post_id="p")
    assert f"{WIKI}?utm_source=x&utm_medium=social&utm_campaign=c&utm_content=p" in tracked
    assert [t.text for t in tokens(text) if t.kind == "url"] == [WIKI]
    links = [f for f in facets_of(text) if f["features"][0]["$type"].endswith("#link")]
    assert [f["features"][0]["uri"] for f in links] == [WIKI]


# --- hashtags, mentions, topics -----------------------------------------------------------


def test_a_hashtag_needs_a_letter_and_no_word_before_it() -> None:
    assert extract.hashtags_in("#SUV #2026 #1er a#b &#38; /#x #_go ＃全角") == [
        "SUV",
        "1er",
        "_go",
        "全角",
    ]


def test_hashtags_keep_their_positions_line_by_line() -> None:
    text = "Seven seats.\n#SUV #Family\nSoon #Aurora"
    assert [(t.value, text[t.start : t.end]) for t in extract.hashtags(text)] == [
        ("SUV", "#SUV"),
        ("Family", "#Family"),
        ("Aurora", "#Aurora"),
    ]


def test_a_mention_may_name_its_server_and_leaves_a_sentence_dot_out() -> None:
    text = "thanks @HoldoutUK, @brand@social.example and @aurora.bsky.social."
    assert [(m.value, text[m.start : m.end]) for m in extract.mentions(text)] == [
        ("HoldoutUK", "@HoldoutUK"),
        ("brand@social.example", "@brand@social.example"),
        ("aurora.bsky.social", "@aurora.bsky.social"),
    ]


def test_an_email_address_is_not_a_mention() -> None:
    assert extract.mentions_in("write to press@brand.example") == []


def test_weibo_topics_are_found_only_when_asked() -> None:
    text = "#好德极光#七座"
    assert [e.kind for e in extract.entities(text)] == [Kind.HASHTAG]
    assert extract.entities(text, with_topics=True) == (Entity(Kind.TOPIC, 0, 6, "好德极光"),)


def test_a_link_wins_over_a_hashtag_or_mention_inside_it() -> None:
    text = "https://brand.example/a-#b/@c #d"
    assert [(e.kind, text[e.start : e.end]) for e in extract.entities(text)] == [
        (Kind.LINK, "https://brand.example/a-#b/@c"),
        (Kind.HASHTAG, "#d"),
    ]


def test_entities_leave_bare_domains_out_unless_asked() -> None:
    text = "brand.com/suv #SUV"
    assert [e.kind for e in extract.entities(text)] == [Kind.HASHTAG]
    assert [e.kind for e in extract.entities(text, bare=True)] == [Kind.LINK, Kind.HASHTAG]


# --- twitter-text's extractor conformance cases -------------------------------------------
#
# A selection of twitter-text's own extractor conformance cases: conformance/extract.yml of
# https://github.com/twitter/twitter-text at commit 30e2430d90cff3b46393ea54caf511441983c260
# (the file last changed in 65e7e00da383fb77f5ab7fe3c0dc26b724e14035), Copyright 2011
# Twitter, Inc., Apache License 2.0 (conformance/LICENSE). Each case keeps its description,
# text and expected result (a value list, or (value, start, end) where the section gives
# indices); where our extractor deliberately differs, the case says what it finds and why.
# The URL cases also hold the vendored twitter-text extractor to twitter-text's answer.

SAME: Any = object()


class Case(NamedTuple):
    description: str
    text: str
    twitter: list[Any]
    ours: list[Any]
    why: str


def _case(description: str, text: str, twitter: list[Any], ours: Any = SAME, why: str = "") -> Any:
    expected = twitter if ours is SAME else ours
    return pytest.param(Case(description, text, twitter, expected, why), id=description)


def _found(entities: tuple[Entity, ...], like: list[Any]) -> list[Any]:
    """Entities in the shape of a conformance case: (value, start, end), or values only."""
    if like and isinstance(like[0], tuple):
        return [(e.value, e.start, e.end) for e in entities]
    return [e.value for e in entities]


MENTIONS_CASES = [
    _case(
        "Extract a mention at the start",
        "@username yo!",
        [("username", 0, 9)],
        SAME,
    ),
    _case(
        "Extract a mention that has the same thing mentioned at the start",
        "username @username",
        [("username", 9, 18)],
        SAME,
    ),
    _case(
        "Extract a mention in the middle of a Japanese tweet",
        "の@usernameに到着を待っている",
        [("username", 1, 10)],
        [],
        (
            "a mention glued to a letter before it is not one, in any script (twi"
            "tter-text looks at ASCII letters only)"
        ),
    ),
    _case(
        "Extract mention of username with underscore",
        "mention @user_name",
        ["user_name"],
        SAME,
    ),
    _case(
        "Extract mention of all numeric username",
        "mention @12345",
        ["12345"],
        SAME,
    ),
    _case(
        "Extract mention or multiple usernames",
        "mention @username1 @username2",
        ["username1", "username2"],
        SAME,
    ),
    _case(
        "Extract mentions before newline",
        "@username\n@mention",
        ["username", "mention"],
        SAME,
    ),
    _case(
        "DO NOT extract username preceded by @",
        "f@@kn",
        [],
        SAME,
    ),
    _case(
        "DO NOT extract username followed by accented latin characters",
        "@aliceìnheiro something something",
        [],
        ["aliceìnheiro"],
        "handles are read in any script (Bluesky, Mastodon), not only ASCII",
    ),
    _case(
        "Extract lone metion but not @user@user (too close to an email)",
        "@username email me @test@example.com",
        ["username"],
        ["username", "test@example.com"],
        "@user@server is one Mastodon mention, not an e-mail address",
    ),
    _case(
        "DO NOT extract username ending in @",
        "Current Status: @_@ (cc: @username)",
        ["username"],
        ["_", "username"],
        (
            'a handle followed by "@" is still a mention (the server part of @use'
            "r@server is optional)"
        ),
    ),
    _case(
        "Extract mentions after 'RT'",
        "RT@username RT:@mention RT @test",
        ["username", "mention", "test"],
        ["mention", "test"],
        "a mention glued to a letter before it is not one (no retweet syntax in our posts)",
    ),
    _case(
        "DO NOT extract username preceded by !",
        "f!@kn",
        [],
        ["kn"],
        'only letters, digits, "_", "@", "/" and "." before the "@" make it no mention',
    ),
]

HASHTAGS_CASES = [
    _case(
        "Extract a hastag at the start",
        "#hashtag here",
        [("hashtag", 0, 8)],
        SAME,
    ),
    _case(
        "Extract a hastag at the end",
        "test a #hashtag",
        [("hashtag", 7, 15)],
        SAME,
    ),
    _case(
        "Extract a hastag in the middle",
        "test a #hashtag in a string",
        [("hashtag", 7, 15)],
        SAME,
    ),
    _case(
        "Extract only a valid hashtag",
        "#123 a #hashtag in a string",
        [("hashtag", 7, 15)],
        SAME,
    ),
    _case(
        "Extract a hashtag in a string of multi-byte characters",
        "会議中 #hashtag 会議中",
        [("hashtag", 4, 12)],
        SAME,
    ),
    _case(
        "Extract multiple valid hashtags",
        "One #two three #four",
        [("two", 4, 8), ("four", 15, 20)],
        SAME,
    ),
    _case(
        "Extract a non-latin hashtag",
        "Hashtags in #русский!",
        [("русский", 12, 20)],
        SAME,
    ),
    _case(
        "Extract multiple non-latin hashtags",
        "Hashtags in #中文, #日本語, #한국말, and #русский! Try it out!",
        [("中文", 12, 15), ("日本語", 17, 21), ("한국말", 23, 27), ("русский", 33, 41)],
        SAME,
    ),
    _case(
        "Extract hashtag after emoji without variant selector (uFE0E or uFE0F)",
        "a ✌#hashtag here",
        ["hashtag"],
        SAME,
    ),
    _case(
        "Extract a number-then-letter hashtag",
        "#1hashtag is this",
        ["1hashtag"],
        SAME,
    ),
    _case(
        "DO NOT Extract an all-numeric hashtag",
        "On the #16 bus",
        [],
        SAME,
    ),
    _case(
        "Extract hashtag after bracket",
        "(#hashtag1 )#hashtag2 [#hashtag3 ]#hashtag4 ’#hashtag5’#hashtag6",
        ["hashtag1", "hashtag2", "hashtag3", "hashtag4", "hashtag5", "hashtag6"],
        SAME,
    ),
    _case(
        "Extract a hashtag containing ñ",
        "I'll write more tests #mañana",
        ["mañana"],
        SAME,
    ),
    _case(
        "DO NOT Extract a hashtag containing Japanese",
        "this is not valid: # 会議中 ハッシュ",
        [],
        SAME,
    ),
    _case(
        "Extract a full-width Alnum hashtag",
        "全角英数字ハッシュタグ ＃ｈａｓｈｔａｇ１２３",
        ["ｈａｓｈｔａｇ１２３"],
        SAME,
    ),
    _case(
        "DO NOT extract a hashtag without a preceding space",
        "日本語ハッシュタグ#日本語ハッシュタグ",
        [],
        SAME,
    ),
    _case(
        "Hashtag before punctuations",
        "#hashtag: #hashtag; #hashtag, #hashtag. #hashtag! #hashtag?",
        ["hashtag", "hashtag", "hashtag", "hashtag", "hashtag", "hashtag"],
        SAME,
    ),
    _case(
        "Hashtag after punctuations",
        ":#hashtag ;#hashtag ,#hashtag .#hashtag !#hashtag ?#hashtag",
        ["hashtag", "hashtag", "hashtag", "hashtag", "hashtag", "hashtag"],
        SAME,
    ),
    _case(
        "Hashtag before newline",
        "#hashtag\ntest\n#hashtag2\ntest\n#hashtag3\n",
        ["hashtag", "hashtag2", "hashtag3"],
        SAME,
    ),
    _case(
        "DO NOT extract hashtag if it's a part of URL",
        "http://twitter.com/#hashtag twitter.com/#hashtag",
        [],
        SAME,
    ),
    _case(
        "Extract Arabic hashtags with underscore",
        "#برنامه_نویسی  #رییس_جمهور  #رئيس_الوزراء, #ثبت_نام. #لس_آنجلس",
        ["برنامه_نویسی", "رییس_جمهور", "رئيس_الوزراء", "ثبت_نام", "لس_آنجلس"],
        SAME,
    ),
    _case(
        "Extract Thai hashtags",
        "#ผู้เริ่ม #การเมือง #รายละเอียด #นักท่องเที่ยว #ของขวัญ #สนามบิน #เดินทาง #ประธาน",
        ["ผู้เริ่ม", "การเมือง", "รายละเอียด", "นักท่องเที่ยว", "ของขวัญ", "สนามบิน", "เดินทาง", "ประธาน"],
        SAME,
    ),
    _case(
        "Extract Hindi hashtags",
        "#महात्मा #महात्मा_१२३४ #१२३४ गांधी",
        ["महात्मा", "महात्मा_१२३४"],
        SAME,
    ),
    _case(
        "Extract hashtag with letter plus marker from astral plane (U+16f04 U+16f51)",
        "#𖼄𖽑",
        ["𖼄𖽑"],
        SAME,
    ),
    _case(
        "Extract hashtag after emoji with variant selector FE0F",
        "a ✌️#hashtag here",
        ["hashtag"],
        [],
        'a "#" glued to a mark (here VS16) is not a hashtag, as after a letter',
    ),
    _case(
        "Extract hashtag with middle dot",
        "#il·lusió",
        ["il·lusió"],
        ["il"],
        (
            'a tag is letters, marks, digits and "_" only (twitter-text also take'
            "s a few joining punctuation marks)"
        ),
    ),
    _case(
        "Extract Arabic hashtags with Zero-Width Non-Joiner",
        "#أي\u200cبي\u200cإم #می\u200cخواهم",
        ["أي\u200cبي\u200cإم", "می\u200cخواهم"],
        ["أي", "می"],
        "the zero-width (non-)joiners end a tag",
    ),
    _case(
        "DO NOT extract hashtags without a letter",
        "#_ #1_2 #122 #〃",
        [],
        ["_", "1_2"],
        '"_" counts as a letter, so #_ and #1_2 are tags',
    ),
    _case(
        "DO NOT extract hashtag when # is followed by URL",
        "#http://twitter.com #https://twitter.com",
        [],
        ["http", "https"],
        (
            '"#http" is a tag; the link after it is found as a link (entities() r'
            "esolves the overlap)"
        ),
    ),
]

LINKS_CASES = [
    _case(
        "Extract a URL from a Japanese tweet",
        "皆さん見てください！ http://google.com",
        [("http://google.com", 11, 28)],
        SAME,
    ),
    _case(
        "Extract URLs without protocol on ccTLD with slash",
        "t.co/abcde bit.ly/abcde",
        [("t.co/abcde", 0, 10), ("bit.ly/abcde", 11, 23)],
        SAME,
    ),
    _case(
        "Extract URLs without protocol surrounded by CJK characters",
        (
            "twitter.comこれは日本語です。example.com中国語t.co/abcde한국twitter.com example2.c"
            "omテストtwitter.com/abcde"
        ),
        [
            ("twitter.com", 0, 11),
            ("example.com", 20, 31),
            ("t.co/abcde", 34, 44),
            ("twitter.com", 46, 57),
            ("example2.com", 58, 70),
            ("twitter.com/abcde", 73, 90),
        ],
        SAME,
    ),
    _case(
        "Properly extract URL that contains t.co in referer",
        "http://www.foo.com?referer=https://t.co/abcde http://t.co/xyzzy",
        [("http://www.foo.com?referer=https://t.co/abcde", 0, 45), ("http://t.co/xyzzy", 46, 63)],
        SAME,
    ),
    _case(
        "Extract correct indices for duplicate instances of the same URL",
        "http://t.co http://t.co",
        [("http://t.co", 0, 11), ("http://t.co", 12, 23)],
        SAME,
    ),
    _case(
        "Extract URLs with IDN(not encoded)",
        "test http://foobar.みんな/ http://foobar.中国/ http://foobar.پاکستان/ ",
        [
            ("http://foobar.みんな/", 5, 23),
            ("http://foobar.中国/", 24, 41),
            ("http://foobar.پاکستان/", 42, 64),
        ],
        SAME,
    ),
    _case(
        "Extract URLs with and without protocol surrounded by CJK characters",
        (
            "http://twitter.com/これは日本語です。example.com中国語http://t.co/abcde한국twitter"
            ".comテストexample2.comテストhttp://twitter.com/abcde"
        ),
        [
            ("http://twitter.com/", 0, 19),
            ("example.com", 28, 39),
            ("http://t.co/abcde", 42, 59),
            ("twitter.com", 61, 72),
            ("example2.com", 75, 87),
            ("http://twitter.com/abcde", 90, 114),
        ],
        [
            (
                "http://twitter.com/これは日本語です。example.com中国語http://t.co/abcde한국twitter.comテストexample2.comテストhttp://twitter.com/abcde",
                0,
                114,
            )
        ],
        ("a link written with its scheme runs to the next space or quote, whatever its characters"),
    ),
    _case(
        "Extract t.co URLs skipping trailing characters and adjusting indices correctly",
        (
            "http://t.co/pbY2NfTZ's http://t.co/2vYHpAc5; http://t.co/ulYGBYSo: h"
            "ttp://t.co/8MkmHU0k+c http://t.co/TKLp64dY.x http://t.co/8t7G3ddS#a "
            "http://t.co/FNkPfmii-"
        ),
        [
            ("http://t.co/pbY2NfTZ", 0, 20),
            ("http://t.co/2vYHpAc5", 23, 43),
            ("http://t.co/ulYGBYSo", 45, 65),
            ("http://t.co/8MkmHU0k", 67, 87),
            ("http://t.co/TKLp64dY", 90, 110),
            ("http://t.co/8t7G3ddS", 113, 133),
            ("http://t.co/FNkPfmii", 136, 156),
        ],
        [
            ("http://t.co/pbY2NfTZ", 0, 20),
            ("http://t.co/2vYHpAc5", 23, 43),
            ("http://t.co/ulYGBYSo", 45, 65),
            ("http://t.co/8MkmHU0k+c", 67, 89),
            ("http://t.co/TKLp64dY.x", 90, 112),
            ("http://t.co/8t7G3ddS#a", 113, 135),
            ("http://t.co/FNkPfmii-", 136, 157),
        ],
        ("no t.co rule; only sentence punctuation and unopened brackets are left out of a link"),
    ),
    _case(
        "Extract valid URL: http://en.wikipedia.org/wiki/Primer_(film)",
        "text http://en.wikipedia.org/wiki/Primer_(film)",
        ["http://en.wikipedia.org/wiki/Primer_(film)"],
        SAME,
    ),
    _case(
        (
            "Extract valid URL: http://msdn.microsoft.com/ja-jp/library/system.ne"
            "t.httpwebrequest(v=VS.100).aspx"
        ),
        ("text http://msdn.microsoft.com/ja-jp/library/system.net.httpwebrequest(v=VS.100).aspx"),
        ["http://msdn.microsoft.com/ja-jp/library/system.net.httpwebrequest(v=VS.100).aspx"],
        SAME,
    ),
    _case(
        "DO NOT include period at the end of URL",
        "test http://twitter.com/.",
        ["http://twitter.com/"],
        SAME,
    ),
    _case(
        "Extract a URL with a ton of trailing commas",
        ("Test a ton of periods http://example.com/,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,"),
        ["http://example.com/"],
        SAME,
    ),
    _case(
        "Extract a t.co URL with a trailing apostrophe",
        "I really like http://t.co/pbY2NfTZ's website",
        ["http://t.co/pbY2NfTZ"],
        SAME,
    ),
    _case(
        "Extract a t.co URL with a trailing colon",
        "According to http://t.co/ulYGBYSo: the internet is cool",
        ["http://t.co/ulYGBYSo"],
        SAME,
    ),
    _case(
        "Extract URLs without protocol not on (com|org|edu|gov|net) domains",
        (
            "foo.baz foo.co.jp www.xxxxxxx.baz www.foo.co.uk wwwww.xxxxxxx foo.co"
            "mm foo.somecom foo.govedu foo.jp"
        ),
        ["foo.co.jp", "www.foo.co.uk", "foo.jp"],
        SAME,
    ),
    _case(
        "DO NOT Extract URLs with a - or + in the middle of an email address",
        "Email me at name.al-lastname@foo.com or name.al+lastname@foo.com",
        [],
        SAME,
    ),
    _case(
        "Extract domain followed by Japanese characters",
        "example.comてすとですtwitter.みんなです",
        ["example.com", "twitter.みんな"],
        SAME,
    ),
    _case(
        "Extract URL before newline",
        (
            "http://twitter.com\nhttp://example.com\nhttp://example.com/path\nexa"
            "mple.com/path\nit.so\nit.so/abcde"
        ),
        [
            "http://twitter.com",
            "http://example.com",
            "http://example.com/path",
            "example.com/path",
            "it.so",
            "it.so/abcde",
        ],
        SAME,
    ),
    _case(
        "Extract URLs beginning with a space",
        "@user Try http:// example.com/path",
        ["example.com/path"],
        SAME,
    ),
    _case(
        "DO NOT extract .bz2 file name as URL",
        "long.test.tar.bz2 test.tar.bz2 tar.bz2",
        [],
        SAME,
    ),
    _case(
        "DO NOT extract URL with ccTLD followed by @ sign",
        "john.doe.jp@mail.com",
        [],
        SAME,
    ),
    _case(
        "DO NOT extract invalid URL: http://no-tld",
        "text http://no-tld",
        [],
        ["http://no-tld"],
        (
            "any host written with its scheme is a link (https://brand.example/ i"
            "s posted everywhere)"
        ),
    ),
    _case(
        "DO NOT extract URLs containing leading dashes in the subdomain",
        "test http://-leadingdash.twitter.com",
        [],
        ["http://-leadingdash.twitter.com"],
        "any host written with its scheme is a link",
    ),
    _case(
        "DO NOT extract URL if preceded by $",
        ("$http://twitter.com $twitter.com $http://t.co/abcde $t.co/abcde $t.co $TVI.CA $RBS.CA"),
        [],
        ["http://twitter.com", "http://t.co/abcde"],
        ('"$" before a link written with its scheme does not unmake it (no cashtags in our posts)'),
    ),
    _case(
        "Extract URLs from RTL text with embedded directional marks",
        (
            "This is a test \u2066\u202atwitter.com\u202c\u2069 \u2066\u202ahttp:"
            "//foobar.پاکستان/\u202c\u2069\u2069 قطر فلسطين عمان"
        ),
        [("twitter.com", 17, 28), ("http://foobar.پاکستان/", 33, 55)],
        [("twitter.com", 17, 28), ("http://foobar.پاکستان/\u202c\u2069\u2069", 33, 58)],
        ("a directional mark is not a space, so it does not end a link written with its scheme"),
    ),
]


@pytest.mark.parametrize("case", MENTIONS_CASES)
def test_mentions_as_twitter_text_finds_them_or_as_we_chose(case: Case) -> None:
    assert _found(extract.mentions(case.text), case.ours or case.twitter) == case.ours


@pytest.mark.parametrize("case", HASHTAGS_CASES)
def test_hashtags_as_twitter_text_finds_them_or_as_we_chose(case: Case) -> None:
    assert _found(extract.hashtags(case.text), case.ours or case.twitter) == case.ours


@pytest.mark.parametrize("case", LINKS_CASES)
def test_links_as_twitter_text_finds_them_or_as_we_chose(case: Case) -> None:
    assert _found(extract.links(case.text), case.ours or case.twitter) == case.ours


@pytest.mark.parametrize("case", LINKS_CASES)
def test_the_vendored_url_extractor_finds_what_twitter_text_finds(case: Case) -> None:
    found = extract_urls_with_indices(case.text)
    if case.twitter and isinstance(case.twitter[0], tuple):
        assert [(e["url"], *e["indices"]) for e in found] == case.twitter
    else:
        assert [e["url"] for e in found] == case.twitter


def test_every_deliberate_difference_says_why() -> None:
    for param in (*MENTIONS_CASES, *HASHTAGS_CASES, *LINKS_CASES):
        (case,) = param.values
        assert (case.ours != case.twitter) == bool(case.why), case.description
