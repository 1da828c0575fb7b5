"""The vendored parts of twitter-text (scheduler/text/twitter_text) are the package's own.

Storyline carries the parts of twitter-text it uses (the URL extractor, the v3 weights, the
emoji table read from the package's data file) instead of importing the package, whose
``__init__`` loads its emoji table through ``pkg_resources`` (slow to import, and gone from
setuptools 81 on) and compiles one expression of thousands of alternatives. The package is a
test dependency only: these tests hold the vendored expressions, weights and emoji table to
the package's, the counts to ``parse_tweet``, and show counting works where neither the
package nor ``pkg_resources`` can be imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from twitter_text import extract_urls_with_indices, parse_tweet
from twitter_text.config import config as package_config
from twitter_text.regexp import emoji as package_emoji
from twitter_text.regexp.extract_url import extract_url
from twitter_text.regexp.invalid_url_without_protocol_preceding_chars import (
    invalid_url_without_protocol_preceding_chars,
)
from twitter_text.regexp.valid_ascii_domain import valid_ascii_domain
from twitter_text.regexp.valid_tco_url import valid_tco_url

from scheduler.app.pipeline import load_plan
from scheduler.app.settings import Settings
from scheduler.text import extract, xlength
from scheduler.text.twitter_text import config, urls
from scheduler.text.twitter_text.emoji import DATA

ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = ROOT.parent / "shared" / "conformance" / "twitter-text" / "validate.yml"


def _escaped(code: int, upper: bool) -> str:
    digits = f"{code:X}" if upper else f"{code:x}"
    return r"\U" + digits.zfill(8)


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (urls.EXTRACT_URL, extract_url),
        (urls.VALID_ASCII_DOMAIN_RE, valid_ascii_domain),
        (urls.VALID_TCO_URL, valid_tco_url),
        (
            urls.INVALID_URL_WITHOUT_PROTOCOL_PRECEDING_CHARS,
            invalid_url_without_protocol_preceding_chars,
        ),
    ],
    ids=["extract_url", "valid_ascii_domain", "valid_tco_url", "invalid_preceding_chars"],
)
def test_the_url_expressions_are_the_packages_own(ours: object, theirs: object) -> None:
    assert (ours.pattern, ours.flags) == (theirs.pattern, theirs.flags)  # type: ignore[attr-defined]


def test_the_weights_are_the_packages_v3_defaults() -> None:
    assert package_config["defaults"] == config.DEFAULTS
    assert package_config["defaults"]["version"] == 3


def test_the_emoji_data_is_the_packages_file() -> None:
    packaged = Path(package_emoji.__file__).with_name("emoji-test.txt")
    assert DATA.read_bytes() == packaged.read_bytes()


def test_the_emoji_table_builds_the_packages_own_expression() -> None:
    table = xlength.x_emoji_table()
    multi = "|".join(
        "".join(_escaped(ord(char), upper=True) for char in sequence)
        for sequence in table.sequences
    )
    single = "".join(
        _escaped(low, upper=False)
        if low == high
        else f"{_escaped(low, upper=False)}-{_escaped(high, upper=False)}"
        for low, high in table.single_ranges
    )
    assert f"{multi}|[{single}]" == package_emoji.emoji.pattern


def _package_emoji(text: str) -> dict[int, int]:
    return {m.start(): m.end() - m.start() for m in package_emoji.emoji.finditer(text)}


def test_every_emoji_of_the_table_is_found_as_the_package_finds_it() -> None:
    for entry in package_emoji.emoji_list:
        for text in (
            entry.emoji,
            f"a{entry.emoji}b",
            f"{entry.emoji}{entry.emoji}",
            f"1{entry.emoji}",
        ):
            assert xlength._emoji(text) == _package_emoji(text), entry
            assert xlength._emoji_plain(text) == _package_emoji(text), entry


def _conformance_texts() -> list[str]:
    suite = yaml.safe_load(CONFORMANCE.read_text(encoding="utf-8"))
    return [case["text"] for section in suite["tests"].values() for case in section]


def test_the_conformance_texts_hold_the_same_emoji_as_the_package_finds() -> None:
    texts = _conformance_texts()
    assert len(texts) > 50
    for text in texts:
        assert xlength._emoji(text) == _package_emoji(text), text
        assert xlength._emoji_plain(text) == _package_emoji(text), text


def _sample_x_posts(data_dir: Path) -> list[str]:
    settings = Settings(
        content_dir=ROOT / "content", lines_dir=ROOT / "editorial_lines", data_dir=data_dir
    )
    plan = load_plan(settings, datetime(2026, 11, 28, tzinfo=UTC))
    return [post.text for post in plan.posts if post.network == "x"]


def test_the_sample_brands_x_posts_count_as_parse_tweet_counts_them(tmp_path: Path) -> None:
    texts = _sample_x_posts(tmp_path)
    assert texts
    for text in texts:
        assert xlength._emoji(text) == _package_emoji(text)
        assert xlength._count(text) == parse_tweet(text).weightedLength
        assert xlength.x_weighted_length_plain(text) == parse_tweet(text).weightedLength


def test_the_conformance_texts_count_as_parse_tweet_counts_them() -> None:
    for text in _conformance_texts():
        assert xlength._count(text) == parse_tweet(text).weightedLength
        assert xlength.x_weighted_length_plain(text) == parse_tweet(text).weightedLength


def test_the_conformance_texts_hold_the_urls_the_package_finds_in_the_whole_text() -> None:
    for text in _conformance_texts():
        whole = {e["indices"][0]: len(e["url"]) for e in extract_urls_with_indices(text)}
        assert xlength._urls(text) == whole, text
        assert xlength._urls_plain(text) == whole, text


@pytest.mark.parametrize(
    "text",
    ["#️⃣ 1️⃣ 1⃣ *", "👨‍👩‍👧‍👦 👍🏽 🇫🇷", "© ©️ ™ ‼️", "a#b 100% 7 seats", "新车 👀 é"],
)
def test_keycaps_sequences_and_text_symbols_are_found_as_the_package_finds_them(
    text: str,
) -> None:
    assert xlength._emoji(text) == _package_emoji(text)


_COUNT = """
import json, sys
sys.modules["pkg_resources"] = None  # as with setuptools >= 81: importing it fails
sys.modules["twitter_text"] = None  # nor is the package needed
from scheduler.text import extract, xlength
texts = json.loads(sys.stdin.read())
lengths = [xlength.x_weighted_length(text) for text in texts]
spans = [[list(link) for link in extract.links(text)] for text in texts]
print(json.dumps({"lengths": lengths, "spans": spans}))
"""

_TEXTS = [
    "Seven seats. Soon. 👀\nhttps://brand.example/suv?utm_source=x\n#SUV",
    "Voir brand.com/suv et www.example.org 👍🏽 1️⃣",
    "新车，为你而来。https://t.co/abc123 🇫🇷",
    "plain text, no link, no emoji",
]


def test_x_lengths_and_links_need_neither_the_package_nor_pkg_resources() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _COUNT],
        input=json.dumps(_TEXTS),
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result = json.loads(run.stdout)
    assert result["lengths"] == [parse_tweet(text).weightedLength for text in _TEXTS]
    assert result["spans"] == [[list(link) for link in extract.links(t)] for t in _TEXTS]


_THEN_THE_PACKAGE = """
import json, sys
from scheduler.text import xlength
length = xlength.x_weighted_length("Soon 👀 brand.com")
before = sorted(m for m in sys.modules if m.split(".")[0] in ("twitter_text", "pkg_resources"))
from twitter_text import extract_urls, parse_tweet
import twitter_text
print(json.dumps({
    "before": before,
    "same": parse_tweet("Soon 👀 brand.com").weightedLength == length,
    "extract_urls": type(twitter_text.extract_urls).__name__,
    "regexp": type(twitter_text.regexp).__name__,
    "all": sorted(twitter_text.__all__),
}))
"""


def test_counting_leaves_the_package_alone_for_whoever_imports_it() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _THEN_THE_PACKAGE],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result = json.loads(run.stdout)
    assert result == {
        "before": [],
        "same": True,
        "extract_urls": "function",
        "regexp": "module",
        "all": sorted(
            [
                "ParsedResult",
                "parse_tweet",
                "extract_urls",
                "extract_urls_with_indices",
                "extract_emojis_with_indices",
            ]
        ),
    }
