"""yamlpos: YAML with positions, where every mistake is a finding at file:line:col."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

from scheduler.content.shapes import Field, Obj, Seq, Text, check_shape
from scheduler.content.yamlpos import MAX_BYTES, Kind, load_yaml, parse_yaml

from .conftest import only, where


def test_keys_and_values_keep_their_line_and_column() -> None:
    root = parse_yaml("title: Hello\nstory:\n  facts: [a, b]\n", "s.yaml").root
    assert root is not None
    assert root.key_pos["story"].line == 2
    facts = root.fields["story"].fields["facts"]
    assert facts.kind is Kind.SEQ
    assert [(n.value, n.pos.line, n.pos.column) for n in facts.items] == [
        ("a", 3, 11),
        ("b", 3, 14),
    ]
    assert root.fields["title"].pos == root.fields["title"].pos.__class__("s.yaml", 1, 8)


def test_scalars_keep_their_source_text() -> None:
    root = parse_yaml("launch: 2026-12-01 09:00:00\nid: 100200300\n", "s.yaml").root
    assert root is not None
    assert root.fields["launch"].raw == "2026-12-01 09:00:00"
    assert root.fields["id"].value == 100200300
    assert root.fields["id"].raw == "100200300"


def test_an_unclosed_list_is_reported_where_it_opens() -> None:
    loaded = parse_yaml("title: ok\nnetworks: [x, facebook\nstatus: approved\n", "s.yaml")
    assert loaded.root is None
    finding = only(loaded.findings, "yaml-syntax")
    assert finding.file == "s.yaml"
    assert where(finding) == (2, 11)
    assert finding.message == (
        "the list or mapping that starts here is not closed: expected ',' or ']' "
        "before line 3 column 7"
    )


def test_tab_indentation_gets_its_own_clear_message() -> None:
    loaded = parse_yaml("story:\n  headline: Hi\n\tbody: tabbed\n", "s.yaml")
    finding = only(loaded.findings, "yaml-tab")
    assert where(finding) == (3, 1)
    assert "tab" in finding.message and "spaces" in finding.message


def test_a_tab_after_a_colon_is_legal_and_not_reported() -> None:
    loaded = parse_yaml("title:\tHello\n", "s.yaml")
    assert loaded.findings == ()
    assert loaded.root is not None and loaded.root.fields["title"].value == "Hello"


def test_duplicate_key_is_an_error_at_the_second_naming_the_first() -> None:
    loaded = parse_yaml("title: One\nstatus: draft\ntitle: Two\n", "s.yaml")
    finding = only(loaded.findings, "duplicate-key")
    assert where(finding) == (3, 1)
    assert "line 1" in finding.message
    assert loaded.root is not None and loaded.root.fields["title"].value == "One"


def test_duplicate_key_in_a_nested_mapping() -> None:
    loaded = parse_yaml("story:\n  headline: A\n  hook: B\n  headline: C\n", "s.yaml")
    assert where(only(loaded.findings, "duplicate-key")) == (4, 3)


def test_yes_no_keys_are_not_silently_booleans() -> None:
    loaded = parse_yaml("markets:\n  no: {name: Norge}\n", "m.yaml")
    finding = only(loaded.findings, "non-string-key")
    assert where(finding) == (2, 3)
    assert "quote it" in finding.message


def test_file_over_the_size_cap_is_refused_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    # Not even valid YAML: proves the parser never saw it.
    path.write_bytes(b"[" * (MAX_BYTES + 1))
    started = time.perf_counter()
    loaded = load_yaml(path)
    assert time.perf_counter() - started < 0.5
    finding = only(loaded.findings, "file-too-large")
    assert finding.file == str(path)
    assert where(finding) == (1, 1)


def billion_laughs(levels: int = 9) -> str:
    lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    previous = "a"
    for i in range(1, levels):
        name = chr(ord("a") + i)
        lines.append(f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]")
        previous = name
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_fast_with_bounded_memory() -> None:
    tracemalloc.start()
    started = time.perf_counter()
    loaded = parse_yaml(billion_laughs(), "bomb.yaml")
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert elapsed < 1.0
    assert peak < 50 * 1024 * 1024
    assert loaded.root is None
    finding = only(loaded.findings, "yaml-alias-bomb")
    assert finding.file == "bomb.yaml" and finding.line >= 1


def test_a_few_aliases_are_fine() -> None:
    text = "base: &tags [a, b]\none: *tags\ntwo: *tags\n"
    loaded = parse_yaml(text, "s.yaml")
    assert loaded.findings == ()
    assert loaded.root is not None and loaded.root.plain()["two"] == ["a", "b"]


def test_recursive_alias_is_refused() -> None:
    loaded = parse_yaml("a: &a [1, *a]\n", "s.yaml")
    assert only(loaded.findings, "yaml-alias-bomb").line == 1


def test_merge_keys_fill_in_without_overriding_explicit_keys() -> None:
    loaded = parse_yaml("d: &d {x: 1, y: 2}\ne:\n  <<: *d\n  y: 3\n", "s.yaml")
    assert loaded.root is not None
    assert loaded.root.plain()["e"] == {"y": 3, "x": 1}


def test_python_tags_are_refused_not_executed() -> None:
    loaded = parse_yaml("title: !!python/object/apply:os.system [echo hi]\n", "s.yaml")
    assert loaded.root is None
    assert only(loaded.findings, "yaml-tag").line == 1


def test_file_that_is_not_utf8_is_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(b"title: ok\nbody: caf\xe9\n")
    finding = only(load_yaml(path).findings, "yaml-encoding")
    assert where(finding) == (2, 10)


def test_missing_file_is_a_finding(tmp_path: Path) -> None:
    assert only(load_yaml(tmp_path / "nope.yaml").findings, "missing-file").line == 0


def test_empty_document_has_no_root_and_no_findings() -> None:
    loaded = parse_yaml("# only a comment\n", "s.yaml")
    assert loaded.root is None and loaded.findings == ()


SHAPE = Obj(
    {
        "name": Field(Text(), required=True),
        "kind": Field(Text(enum=("image", "video"))),
        "tags": Field(Seq(Text())),
    }
)


def shape_findings(text: str) -> list:
    root = parse_yaml(text, "s.yaml").root
    assert root is not None
    return check_shape(root, SHAPE)


def test_shape_unknown_field_suggests_the_closest_known_one() -> None:
    finding = only(shape_findings("name: a\ntagz: [x]\n"), "unknown-field")
    assert where(finding) == (2, 1)
    assert "did you mean 'tags'?" in finding.message


def test_shape_wrong_type_says_what_was_expected() -> None:
    finding = only(shape_findings("name: a\ntags: x\n"), "wrong-type")
    assert where(finding) == (2, 7)
    assert "must be a list of text, not text" in finding.message


def test_shape_yes_is_not_text() -> None:
    finding = only(shape_findings("name: yes\n"), "wrong-type")
    assert "yes/no" in finding.message


def test_shape_enum_mismatch_suggests_a_value() -> None:
    finding = only(shape_findings("name: a\nkind: imgae\n"), "bad-value")
    assert "did you mean 'image'?" in finding.message


def test_shape_missing_required_field() -> None:
    assert "'name'" in only(shape_findings("kind: image\n"), "missing-field").message


def test_a_tab_inside_a_block_scalar_does_not_hide_a_later_syntax_error() -> None:
    loaded = parse_yaml("body: |\n  line one\n  \tindented with a tab\nbad: [\n", "s.yaml")
    assert only(loaded.findings, "yaml-syntax").line >= 4


def test_a_shared_block_merged_into_many_markets_is_not_a_bomb() -> None:
    accounts = ", ".join(f"n{i}: {{id: '{i}', name: Account {i}}}" for i in range(30))
    markets = "\n".join(f"  m{i}:\n    <<: *shared\n    name: Market {i}" for i in range(80))
    text = f"shared: &shared\n  accounts: {{{accounts}}}\nmarkets:\n{markets}\n"
    loaded = parse_yaml(text, "markets.yaml")
    assert loaded.findings == ()
    assert loaded.root is not None
    assert len(loaded.root.plain()["markets"]["m79"]["accounts"]) == 30


STORY_WITH_OPEN_QUOTE = (
    'title: "Aurora, the comfort SUV\n'
    "campaign: aurora\n"
    "status: approved\n"
    "launch: 2026-12-15 09:00\n"
    "story:\n"
    "  headline: Meet Aurora\n"
)


def test_an_unclosed_double_quote_is_reported_at_the_line_where_it_opens() -> None:
    finding = only(parse_yaml(STORY_WITH_OPEN_QUOTE, "s.yaml").findings, "yaml-syntax")
    assert where(finding) == (1, 8)  # libyaml alone says line 7, the end of the file
    assert finding.message == (
        'the quoted value that starts here with " is not closed on its line, so the lines after '
        'it are read as part of it, to the end of the file: close it with "'
    )


def test_a_single_quote_closed_by_a_later_apostrophe_is_reported_where_it_opens() -> None:
    text = "title: 'Aurora\ncampaign: x\nstatus: approved\nstory:\n  headline: it's here\n"
    finding = only(parse_yaml(text, "s.yaml").findings, "yaml-syntax")
    assert where(finding) == (1, 8)  # libyaml alone says 5:16, after "it's"
    assert finding.message == (
        "the quoted value that starts here with ' is not closed on its line, so the lines after "
        "it are read as part of it, up to line 5: close it with ' "
        "(an apostrophe inside '...' is written twice: 'it''s')"
    )


def test_a_stray_colon_in_a_value_suggests_quoting_the_value() -> None:
    text = "title: Aurora\nstory:\n  headline: Aurora: the comfort SUV\n"
    finding = only(parse_yaml(text, "s.yaml").findings, "yaml-syntax")
    assert where(finding) == (3, 19)
    assert finding.message == (
        "a ':' followed by a space inside a value starts a new key; put the value in quotes: "
        'headline: "Aurora: the comfort SUV"'
    )


def test_a_multi_line_quoted_value_that_parses_is_not_an_error() -> None:
    loaded = parse_yaml('story:\n  body: "one\n    two"\n', "s.yaml")
    assert loaded.ok and loaded.root is not None


def test_a_key_indented_into_the_value_above_says_so_at_the_key() -> None:
    text = "title: x\nstory:\n  headline: Hi\n    hook: x\n"
    finding = only(parse_yaml(text, "s.yaml").findings, "yaml-syntax")
    assert where(finding) == (4, 5)
    assert finding.message == (
        "'hook:' is indented more than 'headline:' above, so YAML reads it as the rest of "
        "headline's value: indent 'hook' by 2 space(s), like 'headline'"
    )


def test_a_key_that_lines_up_with_nothing_names_the_indentations_above() -> None:
    finding = only(
        parse_yaml("story:\n  headline: Hi\n hook: x\n", "s.yaml").findings, "yaml-syntax"
    )
    assert where(finding) == (3, 1)
    assert finding.message == (
        "this line is indented by 1 space(s), which lines it up with no key above (0 or 2): "
        "indent it like the key it belongs with"
    )


def test_a_value_starting_with_at_suggests_the_quoted_value() -> None:
    finding = only(
        parse_yaml("story:\n  hook: @HoldoutFR is here\n", "s.yaml").findings, "yaml-syntax"
    )
    assert where(finding) == (2, 9)
    assert finding.message == (
        "a value cannot start with '@' in YAML: put it in quotes: hook: \"@HoldoutFR is here\""
    )


def test_a_hashtag_with_its_hash_in_a_list_explains_the_comment() -> None:
    text = "hashtags: [#HoldoutFR, Aurora]\nstory:\n  headline: Hi\n"
    finding = only(parse_yaml(text, "s.yaml").findings, "yaml-syntax")
    assert where(finding) == (1, 11)
    assert finding.message.endswith(
        "; a '#' starts a comment in YAML, so the rest of that line was ignored: write hashtags "
        "without '#' (hashtags: [HoldoutFR]) or quote them ('#HoldoutFR')"
    )
