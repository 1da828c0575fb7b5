"""twitter-text is used without its package ``__init__``, its emoji module or ``pkg_resources``.

Its ``__init__`` imports the emoji module, which reads the package's emoji table through
``pkg_resources`` (slow to import, and gone from setuptools 81 on) and compiles one expression
of thousands of alternatives. Storyline reads that table itself and imports only the
extractor and the weights; these tests hold the result to the package's own expression and
to ``parse_tweet``, and show counting works where ``pkg_resources`` cannot be imported.
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
from twitter_text.regexp import emoji as package_emoji

from scheduler.app.pipeline import load_plan
from scheduler.app.settings import Settings
from scheduler.text import links, networks

ROOT = Path(__file__).resolve().parents[2]
CONFORMANCE = ROOT.parent / "shared" / "conformance" / "twitter-text" / "validate.yml"


def _escaped(code: int, upper: bool) -> str:
    digits = f"{code:X}" if upper else f"{code:x}"
    return r"\U" + digits.zfill(8)


def test_the_emoji_table_builds_the_packages_own_expression() -> None:
    table = networks.x_emoji_table()
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
            assert networks._x_emoji(text) == _package_emoji(text), entry


def _conformance_texts() -> list[str]:
    suite = yaml.safe_load(CONFORMANCE.read_text(encoding="utf-8"))
    return [case["text"] for section in suite["tests"].values() for case in section]


def test_the_conformance_texts_hold_the_same_emoji_as_the_package_finds() -> None:
    texts = _conformance_texts()
    assert len(texts) > 50
    for text in texts:
        assert networks._x_emoji(text) == _package_emoji(text), text


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
        assert networks._x_emoji(text) == _package_emoji(text)
        assert networks._count_x_weighted_length(text) == parse_tweet(text).weightedLength


def test_the_conformance_texts_count_as_parse_tweet_counts_them() -> None:
    for text in _conformance_texts():
        assert networks._count_x_weighted_length(text) == parse_tweet(text).weightedLength


def test_the_conformance_texts_hold_the_urls_the_extractor_finds_in_the_whole_text() -> None:
    for text in _conformance_texts():
        whole = {e["indices"][0]: len(e["url"]) for e in extract_urls_with_indices(text)}
        assert networks._x_urls(text) == whole, text


@pytest.mark.parametrize(
    "text",
    ["#️⃣ 1️⃣ 1⃣ *", "👨‍👩‍👧‍👦 👍🏽 🇫🇷", "© ©️ ™ ‼️", "a#b 100% 7 seats", "新车 👀 é"],
)
def test_keycaps_sequences_and_text_symbols_are_found_as_the_package_finds_them(
    text: str,
) -> None:
    assert networks._x_emoji(text) == _package_emoji(text)


_COUNT = """
import json, sys
sys.modules["pkg_resources"] = None  # as with setuptools >= 81: importing it fails
from scheduler.text import links, networks
texts = json.loads(sys.stdin.read())
lengths = [networks.x_weighted_length(text) for text in texts]
spans = [links.url_spans(text) for text in texts]
print(json.dumps({"lengths": lengths, "spans": spans,
                  "emoji_module": "twitter_text.regexp.emoji" in sys.modules}))
"""

_TEXTS = [
    "Seven seats. Soon. 👀\nhttps://brand.example/suv?utm_source=x\n#SUV",
    "Voir brand.com/suv et www.example.org 👍🏽 1️⃣",
    "新车，为你而来。https://t.co/abc123 🇫🇷",
    "plain text, no link, no emoji",
]


def test_x_lengths_and_links_need_no_pkg_resources() -> None:
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
    assert result["spans"] == [[list(span) for span in links.url_spans(t)] for t in _TEXTS]
    assert result["emoji_module"] is False


_THEN_THE_PACKAGE = """
import json, sys
from scheduler.text import links, networks
from scheduler.app.settings import Settings
from scheduler.app.pipeline import load_plan
length = networks.x_weighted_length("Soon 👀 brand.com")
before = "pkg_resources" in sys.modules
from twitter_text import extract_urls, parse_tweet
import twitter_text
print(json.dumps({
    "pkg_resources_before": before,
    "same": parse_tweet("Soon 👀 brand.com").weightedLength == length,
    "extract_urls": type(twitter_text.extract_urls).__name__,
    "regexp": type(twitter_text.regexp).__name__,
    "all": sorted(twitter_text.__all__),
}))
"""


def test_the_package_imported_later_is_the_package_as_a_plain_import_makes_it() -> None:
    run = subprocess.run(
        [sys.executable, "-c", _THEN_THE_PACKAGE],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    result = json.loads(run.stdout)
    assert result == {
        "pkg_resources_before": False,
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
