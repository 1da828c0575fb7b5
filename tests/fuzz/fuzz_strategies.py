"""Hypothesis strategies for content files: valid stories and markets, and every way to break them.

A generated case is a whole content folder: ``markets.yaml`` plus a few ``stories/*.yaml``,
each either a well-formed document built from the real field names (then mutated: values of
the wrong type, keys one typo away from real ones, unicode a person could paste from anywhere)
or raw text/bytes (truncated YAML, tabs, aliases, tags, invalid UTF-8). Nothing here knows
what the loader will say; the tests only check that it always answers, and answers precisely.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml
from hypothesis import strategies as st

#: Networks the fuzz content may name (a subset of the sample brand's lines, plus near misses).
NETWORKS = ("facebook", "x", "linkedin", "instagram")
MARKET_CODES = ("fr", "de", "br", "np")
ZONES = (
    "Europe/Paris",
    "Europe/Berlin",
    "America/Sao_Paulo",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "Europe/Dublin",
)
MEDIA_FILE = "media/pic.jpg"

# --- unicode a content team can paste in -----------------------------------------------------

WEIRD_PIECES = (
    "\u202eevil\u202c",  # right-to-left override
    "שלום עולם",  # Hebrew (RTL)
    "مرحبا",  # Arabic (RTL)
    "e\u0301\u0301\u0301\u0301",  # stacked combining marks
    "Z\u0351\u0352\u0357\u035b\u0346",  # zalgo
    "👨\u200d👩\u200d👧\u200d👦",  # family: emoji ZWJ sequence
    "🏳️\u200d🌈",  # flag ZWJ sequence
    "👍🏽",  # skin tone modifier
    "🇫🇷",  # regional indicators
    "\x00",  # NUL
    "\x07\x08\x1b[31m",  # bell, backspace, ANSI escape
    "\t",
    "\r\n",
    "\u2028\u2029",  # line/paragraph separators
    "\x85",  # NEL
    "\ufeff",  # BOM in the middle of a line
    "\u200b\u200c\u200d",  # zero widths
    "\U000e0041\U000e0042",  # tag characters
    "\ufffd",  # replacement character
    "\U0010ffff",  # last code point
    "Ａｕｒｏｒａ",  # fullwidth
    "ﬁ",  # ligature that NFKC-folds
    "İı",  # Turkish dotted/dotless i
    "ß",  # casefolds to ss
    "{{ 7*7 }}{% raw %}",  # Jinja syntax inside text
    "*alias &anchor !!tag <<: ",  # YAML syntax inside text
    "#",
    ": ",
    "- ",
    "'\"",
    "%YAML 1.1",
    "---",
    "...",
)

# Surrogates cannot be encoded as UTF-8: a file cannot hold them, so they are left out.
_chars = st.characters(exclude_categories=["Cs"])
odd_text = st.one_of(
    st.text(_chars, max_size=40),
    st.lists(st.sampled_from(WEIRD_PIECES), min_size=1, max_size=6).map("".join),
    st.tuples(st.text(_chars, max_size=10), st.sampled_from(WEIRD_PIECES)).map("".join),
    st.integers(min_value=1, max_value=60_000).map(lambda n: "x" * n),  # huge values
)

scalars = st.one_of(
    odd_text,
    st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)),
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),
)


def _near(word: str) -> st.SearchStrategy[str]:
    """Keys one slip away from a real one: typo, case, lookalike, padding."""
    options = [word.upper(), word.capitalize(), f" {word}", f"{word} ", word + "s", f"{word}\u200b"]
    if len(word) > 1:
        options += [word[1:], word[:-1], word[1] + word[0] + word[2:], word.replace("e", "é")]
    return st.sampled_from(options)


STORY_KEYS = (
    "id",
    "title",
    "campaign",
    "language",
    "audience",
    "status",
    "launch",
    "networks",
    "markets",
    "beats",
    "story",
    "link",
    "hashtags",
    "media",
    "locales",
    "overrides",
)
MARKET_KEYS = ("name", "timezone", "locale", "claim", "claim_pro", "accounts")

keys = st.one_of(
    st.sampled_from(STORY_KEYS + MARKET_KEYS),
    st.sampled_from(STORY_KEYS + MARKET_KEYS).flatmap(_near),
    odd_text,
    st.integers(-5, 5),
    st.booleans(),  # `yes:` / `no:` keys
)

values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.one_of(st.sampled_from(STORY_KEYS), odd_text), inner, max_size=4),
    ),
    max_leaves=12,
)


def deep(depth: int, leaf: Any = "x") -> Any:
    """A value nested ``depth`` levels (alternating lists and mappings)."""
    out = leaf
    for i in range(depth):
        out = [out] if i % 2 else {"k": out}
    return out


nested = st.integers(min_value=1, max_value=150).map(deep)  # past the 100-level limit

# --- well-formed pieces, each of which may be swapped for junk ------------------------------

#: How often a field is broken, drawn once per document: a third of documents are valid.
RATES = (0, 0, 0, 5, 20, 60)


def _pick(draw: st.DrawFn, rate: int, valid: st.SearchStrategy[Any]) -> Any:
    """The valid value, or (with probability ``rate`` %) any value at all, nesting included."""
    if draw(st.integers(0, 99)) < rate:
        return draw(st.one_of(values, nested))
    return draw(valid)


valid_text = st.one_of(
    st.sampled_from(["Meet Aurora", "Voici Aurora", "Hello 👋 world", "שלום", "見てください"]),
    odd_text.filter(lambda t: t.strip() != ""),
)
valid_launches = st.sampled_from(
    [
        "2027-03-28 02:30",  # nonexistent in Paris
        "2027-10-31 02:30",  # ambiguous in Paris
        "2027-04-04 02:15",  # ambiguous on Lord Howe
        "2027-10-03 02:15",  # nonexistent on Lord Howe
        "2027-06-01 09:00",
        "2027-06-01T09:00 Asia/Kathmandu",
        "2027-06-01T09:00Z",
    ]
)
launches = st.one_of(
    valid_launches,
    st.sampled_from(
        [
            "2027-02-30 09:00",  # no such day
            "2027-06-01 25:61",
            "1999-01-01 09:00",
            "2101-01-01 09:00",
            "2027-06-01T09:00 Mars/Olympus",
        ]
    ),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2200, 1, 1)).map(
        lambda d: d.strftime("%Y-%m-%d %H:%M")
    ),
    st.dates(min_value=date(1990, 1, 1), max_value=date(2110, 1, 1)),
)
valid_offsets = st.one_of(
    st.sampled_from(["-7d", "+3d", "0", 0, "-2h", "+1d2h", "30m", "-21d"]),
    st.integers(-400, 400).map(lambda n: f"{n:+d}d"),
)
offsets = st.one_of(
    valid_offsets,
    st.sampled_from(["-3661d", "7", "-7 d", "+∞", "1w"]),
    st.integers(-10_000, 10_000).map(lambda n: f"{n:+d}d"),
)


@st.composite
def beats(draw: st.DrawFn, rate: int) -> Any:
    names = draw(
        st.lists(
            st.one_of(st.sampled_from(["teaser", "reveal", "followup", "early-teaser"]), odd_text)
            if rate
            else st.sampled_from(["teaser", "reveal", "followup", "early-teaser"]),
            min_size=1,
            max_size=4,
            unique=True,
        )
    )
    out: dict[Any, Any] = {}
    for name in names:
        offset = _pick(draw, rate, valid_offsets if rate < 20 else offsets)
        if draw(st.booleans()):
            beat: dict[str, Any] = {"offset": offset}
            if draw(st.integers(0, 3)) == 0:
                beat["networks"] = draw(
                    st.lists(st.sampled_from(NETWORKS), min_size=1, max_size=2, unique=True)
                )
            out[name] = _pick(draw, rate, st.just(beat))
        else:
            out[name] = offset
    return out


@st.composite
def text_block(draw: st.DrawFn, rate: int) -> Any:
    block: dict[str, Any] = {"headline": _pick(draw, rate, valid_text)}
    for key in ("hook", "body"):
        if draw(st.booleans()):
            block[key] = _pick(draw, rate, valid_text)
    if draw(st.booleans()):
        block["facts"] = _pick(draw, rate, st.lists(valid_text, max_size=3))
    return block


MEDIA_FILES = (
    MEDIA_FILE,
    "media/missing.jpg",
    "../outside.jpg",
    "/etc/passwd",
    "~/x.jpg",
    "C:\\x.jpg",
    "media/../../outside.jpg",
    "media/link-out.jpg",  # a symlink to outside the content folder
    "",
)


@st.composite
def media_items(draw: st.DrawFn, rate: int) -> Any:
    items = []
    for _ in range(draw(st.integers(0, 2))):
        file = MEDIA_FILE if not rate else draw(st.sampled_from(MEDIA_FILES))
        item: dict[str, Any] = {"file": file, "alt": _pick(draw, rate, valid_text)}
        if draw(st.booleans()):
            item["kind"] = _pick(draw, rate, st.sampled_from(["image", "video"]))
        items.append(item)
    return items


@st.composite
def story_docs(draw: st.DrawFn) -> Any:
    """A story document: the real shape with some parts broken, or anything at all."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.one_of(values, nested))
    rate = draw(st.sampled_from(RATES))
    some = st.lists(st.sampled_from(NETWORKS), min_size=1, max_size=4, unique=True)
    fields: dict[str, Any] = {
        "title": valid_text,
        "status": st.just("approved")
        if not rate
        else st.sampled_from(["approved", "draft", "Approved"]),
        "audience": st.sampled_from(["public", "pro"]),
        "launch": valid_launches if rate < 20 else launches,
        "networks": some
        if not rate
        else st.lists(st.sampled_from((*NETWORKS, "google+", "myspace")), max_size=4),
        "markets": st.lists(st.sampled_from(MARKET_CODES), min_size=1, max_size=4, unique=True),
        "beats": beats(rate),
        "story": text_block(rate),
        "link": st.sampled_from(["https://brand.example/x", "https://brand.example/é?q=1#f"])
        if not rate
        else st.sampled_from(
            ["https://brand.example/x", "javascript:alert(1)", "http://", "ftp://x"]
        ),
        "hashtags": st.lists(st.sampled_from(["Tag", "#Tag", "Aurora2027"]), max_size=3),
        "media": media_items(rate),
        "locales": st.dictionaries(
            st.sampled_from(["fr", "de", "pt-BR", "ne"]), text_block(rate), max_size=2
        ),
        "overrides": st.fixed_dictionaries(
            {},
            optional={
                "network": st.dictionaries(st.sampled_from(NETWORKS), text_block(rate), max_size=2),
                "market": st.dictionaries(
                    st.sampled_from(MARKET_CODES), text_block(rate), max_size=2
                ),
            },
        ),
        "id": st.sampled_from(
            ["story-1", "story-1", "../../etc/passwd", "a/b", "~root", ".hidden"]
        ),
    }
    required = {"launch", "story"}
    out: dict[Any, Any] = {}
    for key, strategy in fields.items():
        if key == "id" and not rate:
            continue
        if key not in required and draw(st.integers(0, 3)) == 0:
            continue  # an optional field left out
        if draw(st.integers(0, 99)) < rate // 3:
            key = draw(_near(key))  # a typo of the real key
        out[key] = _pick(draw, rate, strategy)
    if rate:
        for _ in range(draw(st.integers(0, 2))):
            out[draw(keys)] = draw(values)
    return out


@st.composite
def markets_docs(draw: st.DrawFn) -> Any:
    """A markets.yaml document: valid markets with broken parts, or anything."""
    if draw(st.integers(0, 29)) == 0:
        return draw(st.one_of(values, nested))
    rate = draw(st.sampled_from(RATES))
    markets: dict[Any, Any] = {}
    if not rate:  # every market, with an account on every network: posts get planned
        chosen: list[Any] = list(MARKET_CODES)
    else:
        pool = (*MARKET_CODES, "FR", "x y")
        chosen = draw(st.lists(st.sampled_from(pool), min_size=1, max_size=4, unique=True))
    for code in chosen:
        accounts = {}
        networks = NETWORKS if not rate else draw(st.lists(st.sampled_from(NETWORKS), unique=True))
        for network in networks:
            account = {"handle": f"brand_{code}", "id": draw(st.sampled_from(["100", 100, "UC1"]))}
            if draw(st.booleans()):
                account["name"] = draw(valid_text)
            accounts[network] = _pick(draw, rate, st.just(account))
        if rate and draw(st.integers(0, 9)) == 0:
            accounts[draw(st.sampled_from(["google+", "orkut"]))] = {"id": "1"}
        market: dict[Any, Any] = {
            "name": _pick(draw, rate, valid_text),
            "timezone": _pick(
                draw,
                rate,
                st.sampled_from(ZONES)
                if not rate
                else st.sampled_from((*ZONES, "europe/paris", "CET", "Mars/X")),
            ),
            "locale": _pick(draw, rate, st.sampled_from(["fr", "de", "pt-BR", "ne"])),
            "claim": _pick(draw, rate, valid_text),
            "accounts": _pick(draw, rate, st.just(accounts)),
        }
        if rate and draw(st.integers(0, 5)) == 0:
            market[draw(keys)] = draw(values)
        markets[code] = market
    doc: dict[Any, Any] = {"markets": markets}
    if rate and draw(st.integers(0, 5)) == 0:
        doc[draw(keys)] = draw(values)
    return doc


def dump(doc: Any) -> str:
    """YAML text of a generated document, written the way a person's editor would save it."""
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml: huge values dump fast
    return yaml.dump(doc, Dumper=dumper, allow_unicode=True, sort_keys=False, width=1_000_000)


RAW_SNIPPETS = (
    "\t",
    "&a ",
    "*a",
    "*undefined",
    "<<: *a\n",
    "!!python/object/apply:os.system ['true']",
    "!!binary ",
    "!custom ",
    "{",
    "[",
    "]",
    ": :",
    "\n- ",
    "\x00",
    "\ufeff",
    "%TAG ! tag:x,2000:\n",
    "---\n",
    "\n...\n",
    "? complex\n",
    "'",
    '"\\x',
    "key: |\n",
    "  \t",
)


@st.composite
def raw_text(draw: st.DrawFn, doc_strategy: st.SearchStrategy[Any]) -> str:
    """A generated document's text, then cut and spliced the way broken files are."""
    text = dump(draw(doc_strategy))
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        action = draw(st.integers(0, 3))
        if action == 0:
            text = text[:at]  # truncated (a save interrupted)
        elif action == 1:
            text = text[:at] + draw(st.sampled_from(RAW_SNIPPETS)) + text[at:]
        elif action == 2:
            text = text[:at] + draw(odd_text) + text[at:]
        else:
            text = text.replace("  ", "\t", 1)
    return text


@st.composite
def file_bytes(draw: st.DrawFn, doc_strategy: st.SearchStrategy[Any]) -> bytes:
    """The bytes of one content file: YAML dumped, spliced, or not even UTF-8."""
    kind = draw(st.integers(0, 19))
    if kind <= 13:
        return dump(draw(doc_strategy)).encode("utf-8")
    if kind <= 17:
        return draw(raw_text(doc_strategy)).encode("utf-8")
    if kind == 18:
        good = dump(draw(doc_strategy)).encode("utf-8")
        at = draw(st.integers(0, len(good)))
        return (
            good[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80"]))
            + good[at:]
        )
    return draw(st.binary(max_size=200))


@st.composite
def content_folders(draw: st.DrawFn) -> dict[str, bytes]:
    """A whole content folder as relative path -> bytes (``markets.yaml`` may be absent)."""
    files: dict[str, bytes] = {}
    if draw(st.integers(0, 19)) != 0:
        files["markets.yaml"] = draw(file_bytes(markets_docs()))
    names = draw(
        st.lists(
            st.sampled_from(
                ["story-1", "story-2", "Story 3", "ünïcödé", "a.b", "-dash", "x" * 200]
            ),
            max_size=3,
            unique=True,
        )
    )
    for name in names:
        suffix = draw(st.sampled_from([".yaml", ".yaml", ".yml"]))
        files[f"stories/{name}{suffix}"] = draw(file_bytes(story_docs()))
    return files


def write_folder(root: Path, files: dict[str, bytes], outside: Path) -> None:
    """Write a generated folder, with a real media file and a symlink escaping the folder."""
    (root / "stories").mkdir(parents=True, exist_ok=True)
    (root / "media").mkdir(exist_ok=True)
    (root / MEDIA_FILE).write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    link = root / "media" / "link-out.jpg"
    if not link.is_symlink():
        link.symlink_to(outside)
    for rel, data in files.items():
        (root / rel).write_bytes(data)
