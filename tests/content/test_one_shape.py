"""One shape per file type: `storyline validate` and `storyline schema` agree on every file.

Stories, ``markets.yaml`` and ``line.yaml`` are each checked by the loader (what ``validate``
runs) and by the JSON Schema made from the same shape (what an editor shows). For the sample
and for a list of good and bad cases of each type, both must accept or both refuse. Meaning
(a zone that does not exist, a media file that is missing) is validate's alone: the schema
accepts those, and a few cases show where that boundary is. Then every value of a sample file
of each type is replaced by a value of each YAML kind: wherever the schema refuses the file,
validate refuses it too — an editor never marks a file that ``validate`` passes.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from scheduler.content.loader import load_content
from scheduler.content.schema import json_schema
from scheduler.content.yamlpos import Node, parse_yaml
from scheduler.lines.loader import load_lines

from .conftest import NETWORKS, ROOT, SAMPLE

LINES = ROOT / "editorial_lines"
Verdict = Callable[[str], bool]  # file text -> accepted?


def as_json(node: Node | None) -> Any:
    """The document as an editor's YAML 1.2 reader gives it to the JSON Schema (no dates)."""
    if node is None:
        return None
    if node.is_map:
        return {key: as_json(value) for key, value in node.fields.items()}
    if node.is_seq:
        return [as_json(item) for item in node.items]
    return node.raw if isinstance(node.value, date) else node.value


@cache
def _validator(kind: str) -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json_schema(kind))


def schema_accepts(kind: str, text: str) -> bool:
    loaded = parse_yaml(text, "file.yaml")
    assert loaded.ok, "the cases are well-formed YAML"
    return _validator(kind).is_valid(as_json(loaded.root))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample's markets and media, sample lines' x network, and room for one more file."""
    root = tmp_path_factory.mktemp("one-shape")
    content = root / "content"
    (content / "stories").mkdir(parents=True)
    shutil.copy(SAMPLE / "markets.yaml", content / "markets.yaml")
    shutil.copytree(SAMPLE / "media", content / "media")
    (root / "lines" / "x").mkdir(parents=True)
    (root / "lines" / "x" / "default.j2").write_text("{{ headline }}", encoding="utf-8")
    (root / "markets-only" / "stories").mkdir(parents=True)
    return root


@pytest.fixture(scope="module")
def validate(folder: Path) -> Callable[..., bool]:
    """Whether ``storyline validate`` passes one file of ``kind`` written as ``text``."""

    def accepted(kind: str, text: str, network: str = "x") -> bool:
        if kind == "story":
            path = folder / "content" / "stories" / "case.yaml"
            path.write_text(text, encoding="utf-8")
            findings = load_content(folder / "content", networks=NETWORKS).findings
        elif kind == "markets":
            path = folder / "markets-only" / "markets.yaml"
            path.write_text(text, encoding="utf-8")
            findings = load_content(folder / "markets-only", networks=NETWORKS).findings
        elif kind == "brand":
            path = folder / "lines" / "_brand.yaml"
            path.write_text(text, encoding="utf-8")
            try:
                findings = load_lines(folder / "lines").findings
            finally:
                path.unlink()
        else:
            path = folder / "lines" / network / "line.yaml"  # webhook's holds its limits
            path.parent.mkdir(exist_ok=True)
            path.write_text(text, encoding="utf-8")
            findings = load_lines(folder / "lines").findings
        return not any(f.is_error and Path(f.file).resolve() == path for f in findings)

    return accepted


def dump(document: Any) -> str:
    return yaml.safe_dump(document, allow_unicode=True, sort_keys=False)


def changed(base: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """``base`` with the value at ``path`` replaced (or removed, for ``DROP``)."""
    if not path:
        return value  # type: ignore[no-any-return]
    out = dict(base)
    head, rest = path[0], path[1:]
    if rest:
        out[head] = changed(out.get(head, {}), rest, value)
    elif value is DROP:
        out.pop(head, None)
    else:
        out[head] = value
    return out


DROP = object()

STORY = {"launch": "2027-01-12 09:00", "story": {"headline": "Hello"}}
MARKETS = {
    "markets": {
        "fr": {
            "name": "France",
            "timezone": "Europe/Paris",
            "locale": "fr",
            "accounts": {"x": {"handle": "HoldoutFR"}},
        }
    }
}
LINE = {"voice": "Short.", "rules": {"banned": {"en": ["deal"]}}, "phrases": {"en": {"a": "A"}}}
FR = ("markets", "fr")
BRAND = {"banned": {"en": ["deal"]}, "patterns": {"all": [r"-\d+\s?%"]}, "may_extend": ["x"]}
TEASER = {"offset": "-7d", "story": {"hook": "Soon."}, "link": "https://holdout.example/soon"}

#: (kind, base document, path, new value, both accept?) — shape cases: the two must agree.
CASES: list[tuple[str, dict[str, Any], tuple[str, ...], Any, bool]] = [
    # stories
    ("story", STORY, (), STORY, True),
    ("story", STORY, ("beats",), {"teaser": "-7d", "reveal": 0, "f": {"offset": "+1d2h"}}, True),
    ("story", STORY, ("launch",), "2027-02-10T18:00 Europe/Paris", True),
    ("story", STORY, ("story", "headline"), 2027, True),
    ("story", STORY, ("hashtags",), ["#one", "two"], True),
    ("story", STORY, ("media",), [{"file": "media/suv-front.jpg", "alt": "A car"}], True),
    ("story", STORY, ("locales",), {"fr": {"headline": "Salut", "facts": ["a"]}}, True),
    ("story", STORY, ("overrides",), {"network": {"x": {"hook": "Hi"}}}, True),
    ("story", STORY, ("overrides",), {"network": {"x": {"thread": True, "hook": "Hi"}}}, True),
    ("story", STORY, ("overrides",), {"network": {"x": {"thread": "yes"}}}, False),
    ("story", STORY, ("overrides",), {"market": {"fr": {"thread": True}}}, False),
    # per-beat content, one network in one market, embargo
    ("story", STORY, ("beats",), {"teaser": TEASER, "reveal": 0}, True),
    (
        "story",
        STORY,
        ("beats",),
        {"teaser": {**TEASER, "media": [{"file": "media/suv-teaser.jpg", "alt": "A"}]}},
        True,
    ),
    ("story", STORY, ("beats",), {"teaser": {**TEASER, "locales": {"fr": {"hook": "B"}}}}, True),
    ("story", STORY, ("beats",), {"teaser": {**TEASER, "story": {"hedline": "x"}}}, False),
    ("story", STORY, ("beats",), {"teaser": {**TEASER, "claim": "x"}}, False),
    ("story", STORY, ("beats",), {"teaser": {**TEASER, "locales": {"fr": {"link": "x"}}}}, False),
    ("story", STORY, ("overrides",), {"market": {"fr": {"network": {"x": {"hook": "B"}}}}}, True),
    ("story", STORY, ("overrides",), {"market": {"fr": {"network": {"x": {"tone": "B"}}}}}, False),
    ("story", STORY, ("overrides",), {"market": {"fr": {"network": ["x"]}}}, False),
    ("story", STORY, ("embargo",), {"terms": ["Aurora", "7 seats"]}, True),
    ("story", STORY, ("embargo",), {"terms": ["Aurora"], "media": "reveal"}, True),
    ("story", STORY, ("embargo",), {"terms": []}, False),
    ("story", STORY, ("embargo",), {"terms": ["Aurora"], "media": "all"}, False),
    ("story", STORY, ("embargo",), {"media": "reveal"}, False),
    ("story", STORY, ("embargo",), ["Aurora"], False),
    ("story", STORY, ("netwroks",), ["x"], False),
    ("story", STORY, ("networks",), "x", False),
    ("story", STORY, ("status",), "aproved", False),
    ("story", STORY, ("audience",), "everyone", False),
    ("story", STORY, ("launch",), "2027-01-12", False),
    ("story", STORY, ("launch",), 2027, False),
    ("story", STORY, ("launch",), DROP, False),
    ("story", STORY, ("story",), "Hello", False),
    ("story", STORY, ("story", "headline"), "", False),
    ("story", STORY, ("story", "headline"), DROP, False),
    ("story", STORY, ("id",), "bad id", False),
    ("story", STORY, ("beats",), {}, False),
    ("story", STORY, ("beats",), {"teaser": {"offset": "-7x"}}, False),
    ("story", STORY, ("beats",), {"teaser": {"ofset": "-7d"}}, False),
    ("story", STORY, ("beats",), {"Teaser!": 0}, False),
    ("story", STORY, ("media",), [{"file": "media/suv-front.jpg"}], False),
    ("story", STORY, ("media",), [{"file": "media/suv-front.jpg", "alt": ""}], False),
    (
        "story",
        STORY,
        ("media",),
        [{"file": "media/suv-front.jpg", "alt": "A", "kind": "gif"}],
        False,
    ),
    ("story", STORY, ("locales",), {"French": {"headline": "Salut"}}, False),
    ("story", STORY, ("locales",), {"fr": {"title": "x"}}, False),
    ("story", STORY, ("overrides",), {"market": {"fr": {"title": "x"}}}, False),
    ("story", STORY, ("link",), "ftp://holdout.example", False),
    ("story", STORY, ("link",), 42, False),
    ("story", STORY, ("hashtags",), ["two words"], False),
    ("story", STORY, ("hashtags",), "#one", False),
    # markets.yaml
    ("markets", MARKETS, (), MARKETS, True),
    ("markets", MARKETS, (*FR, "name"), 2027, True),
    ("markets", MARKETS, (*FR, "locale"), "pt-BR", True),
    ("markets", MARKETS, (*FR, "accounts", "mastodon"), {"handle": "a@b.example"}, True),
    ("markets", MARKETS, (*FR, "translation"), "required", True),
    ("markets", MARKETS, (*FR, "translation"), "warn", True),
    ("markets", MARKETS, (*FR, "translation"), "always", False),
    ("markets", MARKETS, (*FR, "translation"), True, False),
    ("markets", MARKETS, ("markets",), {}, False),
    ("markets", MARKETS, ("markets",), DROP, False),
    ("markets", MARKETS, ("markets",), ["fr"], False),
    ("markets", MARKETS, ("extra",), 1, False),
    ("markets", MARKETS, (*FR, "timezone"), DROP, False),
    ("markets", MARKETS, (*FR, "timezone"), 2027, False),
    ("markets", MARKETS, (*FR, "locale"), "French", False),
    ("markets", MARKETS, (*FR, "zone"), "Europe/Paris", False),
    ("markets", MARKETS, (*FR, "accounts", "x"), {"name": "Holdout"}, False),
    ("markets", MARKETS, (*FR, "accounts", "x"), "HoldoutFR", False),
    ("markets", MARKETS, (*FR, "accounts", "x", "max_characters"), 0, False),
    ("markets", MARKETS, ("markets", "FR"), MARKETS["markets"]["fr"], False),
    # line.yaml
    # _brand.yaml
    ("brand", BRAND, (), BRAND, True),
    ("brand", BRAND, ("patterns", "fr"), [r"\d+ € de remise"], True),
    ("brand", BRAND, ("may_extend",), [], True),
    ("brand", BRAND, ("banned", "all"), "cheap", True),
    ("brand", BRAND, ("patterns",), [r"-\d+%"], False),
    ("brand", BRAND, ("patterns", "French"), [r"-\d+%"], False),
    ("brand", BRAND, ("patterns", "all"), r"-\d+%", False),
    ("brand", BRAND, ("may_extend",), "x", False),
    ("brand", BRAND, ("may_extend",), ["X Network"], False),
    ("brand", BRAND, ("rules",), {}, False),
    # line.yaml
    ("line", LINE, (), LINE, True),
    ("line", LINE, ("thread",), True, True),
    ("line", LINE, ("thread",), "always", False),
    ("line", LINE, ("rules", "banned"), {"FR": ["remise"], "pt_BR": ["x"], "all": "cheap"}, True),
    ("line", LINE, ("rules", "banned", "en"), ["promo*", "% off"], True),
    ("line", LINE, ("rules", "emoji"), {}, True),
    ("line", LINE, ("rules", "link"), "first_comment", True),
    ("line", LINE, ("phrases", "pt-BR"), {"a": "A", "year": 2027}, True),
    ("line", LINE, ("voice",), "", True),
    ("line", LINE, ("voice",), 42, False),
    ("line", LINE, ("voice",), DROP, False),
    ("line", LINE, ("phrase",), {"en": {"a": "b"}}, False),
    ("line", LINE, ("rules",), ["max_hashtags"], False),
    ("line", LINE, ("rules",), None, False),
    ("line", LINE, ("rules", "max_hashtag"), 3, False),
    ("line", LINE, ("rules", "max_hashtags"), -1, False),
    ("line", LINE, ("rules", "max_hashtags"), "3", False),
    ("line", LINE, ("rules", "max_hashtags"), 2.5, False),
    ("line", LINE, ("rules", "emoji"), 2, False),
    ("line", LINE, ("rules", "emoji"), {"max": -1}, False),
    ("line", LINE, ("rules", "emoji"), {"mx": 1}, False),
    ("line", LINE, ("rules", "link"), "sometimes", False),
    ("line", LINE, ("rules", "require_signature"), "true", False),
    ("line", LINE, ("rules", "utm"), 1, False),
    ("line", LINE, ("rules", "banned"), ["deal"], False),
    ("line", LINE, ("rules", "banned"), {"French": ["remise"]}, False),
    ("line", LINE, ("rules", "banned"), {"": ["remise"]}, False),
    ("line", LINE, ("rules", "banned", "fr"), ["promo", 3], False),
    ("line", LINE, ("rules", "banned", "fr"), ["promo", ""], False),
    ("line", LINE, ("rules", "banned", "fr"), ["*"], False),
    ("line", LINE, ("rules", "banned", "fr"), {"a": "b"}, False),
    ("line", LINE, ("rules", "banned", "fr"), None, False),
    ("line", LINE, ("phrases",), None, False),
    ("line", LINE, ("phrases",), {"French": {"a": "b"}}, False),
    ("line", LINE, ("phrases", "fr"), ["a"], False),
    ("line", LINE, ("phrases", "fr"), {"a": ["b"]}, False),
    ("line", LINE, ("phrases", "fr"), {"a": True}, False),
    ("line", LINE, ("phrases", "fr"), {"a": None}, False),
]


def _shown(value: Any) -> str:
    """A case's id: the same in every process (pytest-xdist compares them)."""
    return "<dropped>" if value is DROP else repr(value)


@pytest.mark.parametrize(
    ("kind", "base", "path", "value", "accepted"),
    CASES,
    ids=[f"{c[0]}:{'.'.join(c[2]) or 'whole'}={_shown(c[3])}"[:60] for c in CASES],
)
def test_validate_and_the_schema_agree_on_each_case(
    validate: Callable[[str, str], bool],
    kind: str,
    base: dict[str, Any],
    path: tuple[str, ...],
    value: Any,
    accepted: bool,
) -> None:
    text = dump(changed(base, path, value))
    assert (validate(kind, text), schema_accepts(kind, text)) == (accepted, accepted), text


def sample_files() -> Iterator[tuple[str, Path]]:
    for path in sorted((SAMPLE / "stories").glob("*.yaml")):
        yield "story", path
    yield "markets", SAMPLE / "markets.yaml"
    for path in sorted(LINES.glob("*/line.yaml")):
        yield "line", path
    yield "brand", LINES / "_brand.yaml"


@pytest.mark.parametrize(
    ("kind", "path"), list(sample_files()), ids=lambda p: p if isinstance(p, str) else p.stem
)
def test_every_sample_file_is_accepted_by_both(
    validate: Callable[..., bool], kind: str, path: Path
) -> None:
    text = path.read_text(encoding="utf-8")
    assert validate(kind, text, path.parent.name) if kind == "line" else validate(kind, text)
    assert schema_accepts(kind, text)


@pytest.mark.parametrize(
    ("kind", "base", "path", "value"),
    [
        ("story", STORY, ("markets",), ["xx"]),
        ("story", STORY, ("networks",), ["myspace"]),
        ("story", STORY, ("media",), [{"file": "media/missing.jpg", "alt": "A"}]),
        ("story", STORY, ("launch",), "2027-02-30 09:00"),
        ("markets", MARKETS, (*FR, "timezone"), "Europe/Pariss"),
        ("markets", MARKETS, (*FR, "accounts", "myspace"), {"handle": "h"}),
        ("brand", BRAND, ("patterns", "all"), [r"(\d+% off"]),
        ("brand", BRAND, ("patterns", "all"), [r"(a|a)+$"]),
    ],
)
def test_meaning_is_validates_alone(
    validate: Callable[[str, str], bool],
    kind: str,
    base: dict[str, Any],
    path: tuple[str, ...],
    value: Any,
) -> None:
    text = dump(changed(base, path, value))
    assert (validate(kind, text), schema_accepts(kind, text)) == (False, True)


#: One value of each kind YAML has.
KINDS_OF_VALUE: tuple[Any, ...] = (None, -1, "text", True, [], {"a": "b"})


def value_paths(document: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple]:
    yield path
    if isinstance(document, dict):
        for key, value in document.items():
            yield from value_paths(value, (*path, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from value_paths(value, (*path, index))


def replaced(document: Any, path: tuple[str | int, ...], value: Any) -> Any:
    if not path:
        return value
    copy: Any = dict(document) if isinstance(document, dict) else list(document)
    copy[path[0]] = replaced(copy[path[0]], path[1:], value)
    return copy


def trimmed(document: Any, free: frozenset[tuple[str, ...]], at: tuple[str, ...] = ()) -> Any:
    """The mappings at ``free`` (one entry per market, per locale...) cut to their first two
    entries: the others have the same shape, and the sweep stays quick."""
    if isinstance(document, list):
        return [trimmed(item, free, at) for item in document]
    if isinstance(document, dict):
        entries = list(document.items())[: 2 if at in free else None]
        return {key: trimmed(value, free, (*at, key)) for key, value in entries}
    return document


@pytest.mark.parametrize(
    ("kind", "path", "free"),
    [
        ("story", SAMPLE / "stories" / "aurora-launch.yaml", {("locales",)}),
        ("markets", SAMPLE / "markets.yaml", {("markets",)}),
        ("line", LINES / "x" / "line.yaml", {("rules", "banned"), ("phrases",)}),
        ("brand", LINES / "_brand.yaml", {("banned",), ("patterns",)}),
    ],
    ids=["story", "markets", "line", "brand"],
)
def test_the_schema_never_refuses_what_validate_accepts(
    validate: Callable[[str, str], bool], kind: str, path: Path, free: set[tuple[str, ...]]
) -> None:
    whole = as_json(parse_yaml(path.read_text(encoding="utf-8"), str(path)).root)
    document = trimmed(whole, frozenset(free))
    assert validate(kind, dump(document))
    stricter = []
    for where in value_paths(document):
        for value in KINDS_OF_VALUE:
            text = dump(replaced(document, where, value))
            if validate(kind, text) and not schema_accepts(kind, text):
                stricter.append((where, value))
    assert stricter == []
