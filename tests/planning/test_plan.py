"""plan(): stories x beats x networks x markets -> planned posts, due in UTC, checked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

from scheduler.core.diagnostics import Position
from scheduler.core.model import Beat, Content, Launch, Offset, Story, StoryStatus
from scheduler.lines.book import LineBook
from scheduler.planning.plan import Selection, plan

NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
MakeStory = Callable[..., Story]
MakeContent = Callable[..., Content]


def test_post_ids_are_story_beat_network_market(content: MakeContent, lines: LineBook) -> None:
    posts = plan(content(), lines, NOW).posts
    ids = [p.post_id for p in posts]
    assert "suv/teaser/x/fr" in ids
    assert "suv/followup/linkedin/cn" in ids
    assert len(ids) == len(set(ids))
    for p in posts:
        assert p.post_id == f"{p.story}/{p.beat}/{p.network}/{p.market}"


def test_a_beat_restricted_to_a_network_is_planned_only_there(
    content: MakeContent, lines: LineBook
) -> None:
    posts = plan(content(), lines, NOW).posts
    assert {p.network for p in posts if p.beat == "followup"} == {"linkedin"}
    assert {p.network for p in posts if p.beat == "teaser"} == {"x", "linkedin"}


def test_a_beat_restricted_to_markets_is_planned_only_there(
    story: MakeStory, content: MakeContent, lines: LineBook
) -> None:
    s = story(beats=(Beat("reveal", Offset(), markets=("fr",)),))
    posts = plan(content(s), lines, NOW).posts
    assert {p.market for p in posts} == {"fr"}


def test_only_markets_with_an_account_on_the_network_take_part(
    content: MakeContent, lines: LineBook
) -> None:
    posts = plan(content(), lines, NOW).posts
    assert "suv/reveal/x/cn" not in {p.post_id for p in posts}
    assert "suv/reveal/linkedin/cn" in {p.post_id for p in posts}


def test_posts_are_sorted_by_due_instant_then_post_id(
    content: MakeContent, lines: LineBook
) -> None:
    posts = plan(content(), lines, NOW).posts
    keys = [(p.due_utc, p.post_id) for p in posts]
    assert keys == sorted(keys)


def test_a_local_launch_is_at_the_same_wall_time_in_every_market(
    content: MakeContent, lines: LineBook
) -> None:
    reveal = {p.market: p for p in plan(content(), lines, NOW).posts if p.beat == "reveal"}
    assert {p.due_local.hour for p in reveal.values()} == {9}
    assert reveal["fr"].due_utc == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    assert reveal["us"].due_utc == datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
    assert reveal["cn"].due_utc == datetime(2026, 12, 1, 1, 0, tzinfo=UTC)


def test_a_world_premiere_is_the_same_instant_everywhere(
    story: MakeStory, content: MakeContent, lines: LineBook
) -> None:
    instant = datetime(2027, 2, 10, 17, 0, tzinfo=UTC)
    s = story(launch=Launch(instant=instant, zone="Europe/Paris"))
    reveal = [p for p in plan(content(s), lines, NOW).posts if p.beat == "reveal"]
    assert len(reveal) == 5
    assert {p.due_utc for p in reveal} == {instant}
    assert {p.market: p.due_local.hour for p in reveal} == {"fr": 18, "us": 12, "cn": 1}


def test_a_teaser_seven_days_before_keeps_the_local_hour_across_dst(
    story: MakeStory, content: MakeContent, lines: LineBook
) -> None:
    # New York leaves DST on 1 Nov 2026: the reveal is in EST, its teaser a week before in EDT.
    s = story(launch=Launch(local=datetime(2026, 11, 5, 9, 0)))
    by_id = {p.post_id: p for p in plan(content(s), lines, NOW).posts}
    teaser, reveal = by_id["suv/teaser/x/us"], by_id["suv/reveal/x/us"]
    assert (teaser.due_local.hour, reveal.due_local.hour) == (9, 9)
    assert teaser.due_utc == datetime(2026, 10, 29, 13, 0, tzinfo=UTC)
    assert reveal.due_utc == datetime(2026, 11, 5, 14, 0, tzinfo=UTC)
    assert reveal.due_utc - teaser.due_utc == timedelta(days=7, hours=1)


def test_a_wall_time_that_does_not_exist_moves_forward_with_a_warning_at_the_launch(
    story: MakeStory, content: MakeContent, lines: LineBook
) -> None:
    where = Position("content/stories/suv.yaml", 7, 9)
    s = story(launch=Launch(local=datetime(2027, 3, 28, 2, 30), pos=where), networks=("x",))
    result = plan(content(s, accounts={"fr": ("x",)}), lines, NOW)
    reveal = next(p for p in result.posts if p.post_id == "suv/reveal/x/fr")
    assert (reveal.due_local.hour, reveal.due_local.minute) == (3, 30)
    (warning,) = [f for f in result.findings if f.code == "time-nonexistent"]
    assert (warning.file, warning.line, warning.column) == (where.file, 7, 9)
    assert warning.severity == "warning"


def test_an_ambiguous_wall_time_takes_the_first_occurrence_with_a_warning(
    story: MakeStory, content: MakeContent, lines: LineBook
) -> None:
    s = story(launch=Launch(local=datetime(2026, 10, 25, 2, 30)), networks=("x",))
    result = plan(content(s, accounts={"fr": ("x",)}), lines, NOW)
    reveal = next(p for p in result.posts if p.post_id == "suv/reveal/x/fr")
    assert reveal.due_utc == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # still CEST
    assert "time-ambiguous" in {f.code for f in result.findings}


def test_links_carry_utm_tracking_with_the_post_id(content: MakeContent, lines: LineBook) -> None:
    post = next(p for p in plan(content(), lines, NOW).posts if p.post_id == "suv/reveal/x/fr")
    assert post.link is not None and post.link in post.text
    query = parse_qs(urlsplit(post.link).query)
    assert query == {
        "ref": ["home"],
        "utm_source": ["x"],
        "utm_medium": ["social"],
        "utm_campaign": ["suv-launch"],
        "utm_content": ["suv/reveal/x/fr"],
    }


def test_a_line_that_opts_out_of_utm_keeps_the_link_as_written(
    content: MakeContent, make_lines: Callable[..., LineBook]
) -> None:
    lines = make_lines({"x/line.yaml": "voice: v\nrules: {utm: false}\n"})
    post = next(p for p in plan(content(), lines, NOW).posts if p.post_id == "suv/reveal/x/fr")
    assert post.link == "https://brand.example/suv?ref=home"


def test_an_over_length_post_is_an_error_on_the_post_and_in_the_plan(
    story: MakeStory, content: MakeContent, lines: LineBook
) -> None:
    s = story(text={"headline": "word " * 80})
    result = plan(content(s), lines, NOW)
    post = next(p for p in result.posts if p.post_id == "suv/reveal/x/fr")
    codes = [f.code for f in post.findings]
    assert "x-too-long" in codes
    assert any(f.code == "x-too-long" and "suv/reveal/x/fr" in f.message for f in result.findings)
    assert not result.ok


def test_thirty_one_hashtags_on_instagram_is_an_error(
    story: MakeStory, content: MakeContent, make_lines: Callable[..., LineBook]
) -> None:
    lines = make_lines(
        {
            "instagram/line.yaml": "voice: v\nrules: {link: none}\n",
            "instagram/default.j2": "{{ headline }} {% for t in hashtags %}#{{ t }} {% endfor %}",
        }
    )
    tags = tuple(f"Tag{i}" for i in range(31))
    s = story(networks=("instagram",), hashtags=tags)
    result = plan(content(s, accounts={"fr": ("instagram",)}), lines, NOW)
    post = next(p for p in result.posts if p.beat == "reveal")
    assert "instagram-too-many-hashtags" in [f.code for f in post.findings]


def test_a_banned_word_in_the_market_language_is_an_error(
    story: MakeStory, content: MakeContent, make_lines: Callable[..., LineBook]
) -> None:
    lines = make_lines({"x/line.yaml": "voice: v\nrules:\n  banned: {fr: [promo], en: [deal]}\n"})
    s = story(locales={"fr": {"headline": "Grosse PROMO sur le SUV"}}, language="en")
    result = plan(content(s), lines, NOW)
    by_id = {p.post_id: p for p in result.posts}
    assert "banned-word" in [f.code for f in by_id["suv/reveal/x/fr"].findings]
    assert "banned-word" not in [f.code for f in by_id["suv/reveal/x/us"].findings]


def test_a_missing_signature_is_an_error_when_the_line_requires_it(
    content: MakeContent, make_lines: Callable[..., LineBook]
) -> None:
    lines = make_lines({"x/line.yaml": "voice: v\nrules: {require_signature: true}\n"})
    post = next(p for p in plan(content(), lines, NOW).posts if p.network == "x")
    assert "missing-signature" in [f.code for f in post.findings]


def test_drafts_are_planned_with_their_status_and_their_errors_are_warnings(
    story: MakeStory, content: MakeContent, lines: LineBook
) -> None:
    s = story(status=StoryStatus.DRAFT, text={"headline": "word " * 80})
    result = plan(content(s), lines, NOW)
    assert result.posts and {p.story_status for p in result.posts} == {StoryStatus.DRAFT}
    too_long = [f for f in result.findings if f.code == "x-too-long"]
    assert too_long and {f.severity for f in too_long} == {"warning"}
    assert result.ok


def test_a_broken_template_is_reported_once_in_the_plan_with_a_count(
    content: MakeContent, make_lines: Callable[..., LineBook]
) -> None:
    lines = make_lines({"x/default.j2": "{{ subtitle }}"})
    result = plan(content(), lines, NOW)
    grouped = [f for f in result.findings if f.code == "template-undefined"]
    assert len(grouped) == 1
    assert "and 3 other post(s)" in grouped[0].message
    assert all(p.text == "" for p in result.posts if p.network == "x")


def test_now_only_marks_posts_already_due_and_never_changes_them(
    content: MakeContent, lines: LineBook
) -> None:
    early = plan(content(), lines, NOW)
    late = plan(content(), lines, datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    assert [(p.post_id, p.due_utc, p.text) for p in early.posts] == [
        (p.post_id, p.due_utc, p.text) for p in late.posts
    ]
    past = [p.post_id for p in late.posts if any(f.code == "past-due" for f in p.findings)]
    assert "suv/teaser/x/fr" in past and "suv/followup/linkedin/fr" not in past
    assert "past-due" not in {f.code for f in late.findings}


def test_a_selection_plans_only_what_it_names(content: MakeContent, lines: LineBook) -> None:
    chosen = Selection(networks=frozenset({"x"}), beats=frozenset({"reveal"}))
    posts = plan(content(), lines, NOW, chosen).posts
    assert [p.post_id for p in posts] == ["suv/reveal/x/fr", "suv/reveal/x/us"]


def test_a_network_without_an_editorial_line_is_an_error(
    story: MakeStory, content: MakeContent, lines: LineBook
) -> None:
    s = story(networks=("x", "bluesky"))
    result = plan(content(s), lines, NOW)
    assert "no-line" in {f.code for f in result.findings}


def test_a_template_no_story_uses_yet_is_tried_and_its_mistakes_are_warnings(
    content: MakeContent, make_lines: Callable[..., LineBook]
) -> None:
    lines = make_lines({"x/countdown.j2": "{{ headline }}\n{{ countdown_text }}"})
    result = plan(content(), lines, NOW)
    (finding,) = [f for f in result.findings if f.code == "template-undefined"]
    assert finding.severity == "warning"
    assert finding.file.endswith("x/countdown.j2") and finding.line == 2
    assert "no story uses this template yet" in finding.message
    assert result.ok
