"""Every bad input of issue #3 is a finding with file, line, column and a stable code.

Nothing raises, and one broken file never hides the rest of the content.
"""

from __future__ import annotations

import time

from scheduler.content.loader import load_content

from .conftest import NETWORKS, STORY, ContentDir, only, where


def test_malformed_yaml_names_the_line_and_keeps_the_other_stories(content: ContentDir) -> None:
    content.story("good", STORY)
    content.story("broken", "launch: 2027-01-12 09:00\nnetworks: [x, facebook\nstory: {}\n")
    loaded = content.load()
    finding = only(loaded.findings, "yaml-syntax")
    assert finding.file == content.file("broken")
    assert where(finding) == (2, 11)  # the '[' left open, not where the parser gave up
    assert list(loaded.stories) == ["good"]


def test_tabs_for_indentation(content: ContentDir) -> None:
    content.story("tabs", "launch: 2027-01-12 09:00\nstory:\n\theadline: Hi\n")
    finding = only(content.load().findings, "yaml-tab")
    assert (finding.file, *where(finding)) == (content.file("tabs"), 3, 1)


def test_duplicate_keys_are_an_error_not_a_silent_overwrite(content: ContentDir) -> None:
    content.story("dup", STORY + "status: draft\n")
    loaded = content.load()
    finding = only(loaded.findings, "duplicate-key")
    assert (finding.file, *where(finding)) == (content.file("dup"), 6, 1)
    assert "line 2" in finding.message
    assert "dup" not in loaded.stories


def test_unknown_top_level_field_suggests_the_right_one(content: ContentDir) -> None:
    content.story("typo", STORY + "hashtag: [Aurora]\n")
    finding = only(content.load().findings, "unknown-field")
    assert where(finding) == (6, 1)
    assert "did you mean 'hashtags'?" in finding.message


def test_unknown_field_inside_the_story_block(content: ContentDir) -> None:
    content.story("typo", STORY + "  hedline: Oops\n")
    finding = only(content.load().findings, "unknown-field")
    assert where(finding) == (6, 3)
    assert "did you mean 'headline'?" in finding.message


def test_wrong_type_says_what_was_expected(content: ContentDir) -> None:
    content.story("wrong", STORY.replace("networks: [x, facebook]", "networks: x"))
    finding = only(content.load().findings, "wrong-type")
    assert where(finding) == (3, 11)
    assert "list" in finding.message


def test_a_yes_no_value_is_not_text(content: ContentDir) -> None:
    content.story("yes", STORY.replace("headline: Hello", "headline: yes"))
    assert where(only(content.load().findings, "wrong-type")) == (5, 13)


def test_unknown_market_with_suggestion(content: ContentDir) -> None:
    content.story("m", STORY + "markets: [fr, hungary, us]\n")
    finding = only(content.load().findings, "unknown-market")
    assert (finding.file, *where(finding)) == (content.file("m"), 6, 15)
    assert "hungary" in finding.message and "fr, hu, us" in finding.message


def test_unknown_network_with_suggestion(content: ContentDir) -> None:
    content.story("n", STORY.replace("[x, facebook]", "[x, facebok]"))
    finding = only(content.load().findings, "unknown-network")
    assert where(finding) == (3, 15)
    assert "did you mean 'facebook'?" in finding.message


def test_unknown_beat_field(content: ContentDir) -> None:
    content.story("b", STORY + "beats:\n  teaser: {ofset: -7d}\n")
    finding = only(content.load().findings, "unknown-field")
    assert where(finding) == (7, 12)
    assert "did you mean 'offset'?" in finding.message


def test_beat_network_outside_the_story_networks(content: ContentDir) -> None:
    content.story("b", STORY + "beats:\n  followup: {offset: +3d, networks: [linkedin]}\n")
    finding = only(content.load().findings, "unknown-network")
    assert where(finding) == (7, 38)
    assert "not one of the story's networks" in finding.message


def test_bad_time_zone_in_markets(content: ContentDir) -> None:
    path = content.markets("markets:\n  fr: {name: France, timezone: Europe/Pairs, locale: fr}\n")
    loaded = content.load()
    finding = only(loaded.findings, "bad-timezone")
    assert (finding.file, *where(finding)) == (str(path), 2, 32)
    assert "did you mean 'Europe/Paris'?" in finding.message
    assert "fr" not in loaded.markets


def test_bad_time_zone_in_a_world_premiere(content: ContentDir) -> None:
    content.story("p", STORY.replace("2027-01-12 09:00", "2027-01-12T09:00 Mars/Olympus"))
    assert where(only(content.load().findings, "bad-timezone")) == (1, 9)


def test_impossible_date(content: ContentDir) -> None:
    content.story("d", STORY.replace("2027-01-12", "2027-02-30"))
    finding = only(content.load().findings, "bad-date")
    assert where(finding) == (1, 9)
    assert "2027-02-30" in finding.message


def test_date_without_a_time(content: ContentDir) -> None:
    content.story("d", STORY.replace("2027-01-12 09:00", "2027-01-12"))
    finding = only(content.load().findings, "bad-date")
    assert where(finding) == (1, 9)
    assert "09:00" in finding.message  # the hint shows the expected form


def test_bad_offset(content: ContentDir) -> None:
    content.story("o", STORY + "beats:\n  teaser: {offset: -7x}\n")
    finding = only(content.load().findings, "bad-offset")
    assert where(finding) == (7, 20)
    assert "-7d" in finding.message


def test_offset_too_far_from_the_launch(content: ContentDir) -> None:
    content.story("o", STORY + "beats:\n  teaser: -99999d\n")
    assert where(only(content.load().findings, "bad-offset")) == (7, 11)


def test_bad_status_suggests_a_value(content: ContentDir) -> None:
    content.story("s", STORY.replace("status: approved", "status: aproved"))
    finding = only(content.load().findings, "bad-value")
    assert where(finding) == (2, 9)
    assert "did you mean 'approved'?" in finding.message


def test_missing_translation_is_a_warning_and_the_story_still_loads(content: ContentDir) -> None:
    content.story("t", STORY + "markets: [fr, hu]\nlocales:\n  fr: {headline: Bonjour}\n")
    loaded = content.load()
    finding = only(loaded.findings, "missing-translation")
    assert finding.severity == "warning"
    assert where(finding) == (7, 1)
    assert "'hu'" in finding.message
    assert "t" in loaded.stories


def test_story_id_leaving_its_folder(content: ContentDir) -> None:
    content.story("escape", "id: ../../etc/passwd\n" + STORY)
    loaded = content.load()
    finding = only(loaded.findings, "path-escape")
    assert (finding.file, *where(finding)) == (content.file("escape"), 1, 5)
    assert [f.code for f in loaded.findings] == ["path-escape"]
    assert loaded.stories == {}


def test_media_path_leaving_the_content_folder(content: ContentDir) -> None:
    content.story("m", STORY + "media:\n  - {file: ../secrets.jpg, alt: A secret}\n")
    finding = only(content.load().findings, "path-escape")
    assert where(finding) == (7, 12)


def test_absolute_media_path(content: ContentDir) -> None:
    content.story("m", STORY + "media:\n  - {file: /etc/passwd, alt: Nothing}\n")
    assert "absolute" in only(content.load().findings, "path-escape").message


def test_media_symlink_pointing_outside(content: ContentDir, tmp_path) -> None:
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"x")
    (content.root / "media" / "link.jpg").symlink_to(outside)
    content.story("m", STORY + "media:\n  - {file: media/link.jpg, alt: Linked}\n")
    assert where(only(content.load().findings, "path-escape")) == (7, 12)


def test_media_without_alt_text(content: ContentDir) -> None:
    content.media("a.jpg")
    content.story("m", STORY + "media:\n  - file: media/a.jpg\n")
    finding = only(content.load().findings, "missing-alt")
    assert where(finding) == (7, 5)


def test_media_with_empty_alt_text(content: ContentDir) -> None:
    content.media("a.jpg")
    content.story("m", STORY + "media:\n  - {file: media/a.jpg, alt: ''}\n")
    assert where(only(content.load().findings, "missing-alt")) == (7, 30)


def test_media_file_that_does_not_exist(content: ContentDir) -> None:
    content.story("m", STORY + "media:\n  - {file: media/nope.jpg, alt: Gone}\n")
    assert where(only(content.load().findings, "missing-media")) == (7, 12)


def test_huge_file_is_refused(content: ContentDir) -> None:
    path = content.root / "stories" / "huge.yaml"
    path.write_text(STORY + "# " + "x" * (1024 * 1024) + "\n", encoding="utf-8")
    started = time.perf_counter()
    finding = only(content.load().findings, "file-too-large")
    assert time.perf_counter() - started < 1.0
    assert (finding.file, *where(finding)) == (str(path), 1, 1)


def test_alias_bomb_is_refused_within_a_second(content: ContentDir) -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 12):
        prev, name = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{name}: &{name} [{','.join(['*' + prev] * 10)}]")
    content.story("bomb", "\n".join(lines) + "\nstory: {facts: *l}\n")
    started = time.perf_counter()
    loaded = content.load()
    assert time.perf_counter() - started < 1.0
    finding = only(loaded.findings, "yaml-alias-bomb")
    assert finding.file == content.file("bomb") and finding.line >= 1
    assert loaded.stories == {}


def test_google_plus_in_a_story_gets_the_shutdown_message(content: ContentDir) -> None:
    content.story("g", STORY.replace("[x, facebook]", "[x, google+]"))
    finding = only(content.load().findings, "retired-network")
    assert where(finding) == (3, 15)
    assert "Google+ was shut down" in finding.message and "2019" in finding.message


def test_google_plus_account_in_markets(content: ContentDir) -> None:
    content.markets(
        "markets:\n  fr:\n    name: France\n    timezone: Europe/Paris\n    locale: fr\n"
        "    accounts:\n      gplus: {id: '42'}\n"
    )
    assert where(only(content.load().findings, "retired-network")) == (7, 7)


def test_google_plus_override(content: ContentDir) -> None:
    content.story("g", STORY + "overrides:\n  network:\n    googleplus: {hook: Hi}\n")
    assert where(only(content.load().findings, "retired-network")) == (8, 5)


def test_unknown_market_override(content: ContentDir) -> None:
    content.story("o", STORY + "overrides:\n  market:\n    fx: {hook: Salut}\n")
    finding = only(content.load().findings, "unknown-market")
    assert where(finding) == (8, 5)
    assert "did you mean 'fr'?" in finding.message


def test_account_without_id_or_handle(content: ContentDir) -> None:
    content.markets(
        "markets:\n  fr:\n    name: France\n    timezone: Europe/Paris\n    locale: fr\n"
        "    accounts:\n      x: {name: Holdout}\n"
    )
    assert where(only(content.load().findings, "missing-field")) == (7, 10)


def test_unquoted_no_as_a_market_code(content: ContentDir) -> None:
    path = content.markets("markets:\n  no: {name: Norge, timezone: Europe/Oslo, locale: nb}\n")
    finding = only(content.load().findings, "non-string-key")
    assert (finding.file, *where(finding)) == (str(path), 2, 3)


def test_missing_markets_file(content: ContentDir) -> None:
    (content.root / "markets.yaml").unlink()
    finding = only(content.load().findings, "missing-file")
    assert finding.file.endswith("markets.yaml") and where(finding) == (0, 0)


def test_missing_content_folder(tmp_path) -> None:
    loaded = load_content(tmp_path / "nowhere", networks=NETWORKS)
    assert only(loaded.findings, "missing-folder").is_error
    assert loaded.stories == {} and loaded.markets == {}


def test_world_premiere_in_a_gap_is_moved_and_warned(content: ContentDir) -> None:
    content.story("p", STORY.replace("2027-01-12 09:00", "2027-03-28T02:30 Europe/Paris"))
    loaded = content.load()
    finding = only(loaded.findings, "time-nonexistent")
    assert finding.severity == "warning" and where(finding) == (1, 9)
    assert loaded.stories["p"].launch.instant is not None


def test_world_premiere_in_an_overlap_is_warned(content: ContentDir) -> None:
    content.story("p", STORY.replace("2027-01-12 09:00", "2027-10-31T02:30 Europe/Paris"))
    assert only(content.load().findings, "time-ambiguous").severity == "warning"


def test_empty_story_file(content: ContentDir) -> None:
    content.story("empty", "# nothing yet\n")
    assert where(only(content.load().findings, "empty-file")) == (1, 1)


def test_two_files_claiming_the_same_id(content: ContentDir) -> None:
    content.story("a", STORY)
    content.story("b", "id: a\n" + STORY)
    loaded = content.load()
    finding = only(loaded.findings, "duplicate-story")
    assert finding.file == content.file("b")
    assert loaded.stories["a"].path == content.file("a")


def test_file_name_that_is_not_a_usable_id(content: ContentDir) -> None:
    content.story("my story", STORY)
    assert only(content.load().findings, "bad-id").file == content.file("my story")


def test_every_finding_of_a_broken_story_is_reported_at_once(content: ContentDir) -> None:
    content.story(
        "many",
        "launch: 2027-02-30 09:00\nnetworks: [google+]\nmarkets: [fx]\nstory: {headline: Hi}\n",
    )
    codes = {f.code for f in content.load().findings}
    assert {"bad-date", "retired-network", "unknown-market"} <= codes


def test_account_on_a_network_without_a_line_is_only_a_warning(content: ContentDir) -> None:
    loaded = load_content(content.root, networks=("x",))
    unused = [f for f in loaded.findings if f.code == "unused-account"]
    assert [(f.severity, f.line, f.column) for f in unused] == [
        ("warning", 10, 7),
        ("warning", 17, 7),
        ("warning", 25, 7),
    ]
    assert not any(f.is_error for f in loaded.findings)
    assert "fr" in loaded.markets and "facebook" not in loaded.markets["fr"].accounts


def test_override_for_a_network_the_story_does_not_use_is_a_warning(content: ContentDir) -> None:
    content.story("o", STORY + "overrides:\n  network:\n    linkedin: {hook: Hi}\n")
    finding = only(content.load().findings, "unused-override")
    assert finding.severity == "warning" and where(finding) == (8, 5)


def test_one_mistake_one_finding(content: ContentDir) -> None:
    content.markets("markets:\n  fr: {name: France, timezone: Europe Paris, locale: fr}\n")
    content.story("s", "id: ../x\n" + STORY + "media: [{file: /abs.jpg, alt: ''}]\n")
    findings = content.load().findings
    positions = [(f.file, f.line, f.column) for f in findings]
    assert len(positions) == len(set(positions)), [f.format() for f in findings]
    assert {f.code for f in findings} >= {"bad-timezone", "path-escape", "missing-alt"}
