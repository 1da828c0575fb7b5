"""Rendering of calendar rows and diffs: local times with zones, iCalendar events, summaries."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from icalendar import Calendar

from scheduler.calendar.diff import Action, Change, Diff
from scheduler.calendar.rows import CalendarRow
from scheduler.interfaces.formats import calendar_views, sync_report, times

from .conftest import LAUNCH, NOW


def row(**changes: object) -> CalendarRow:
    base = CalendarRow(
        post_id="suv/reveal/x/fr",
        story="suv",
        beat="reveal",
        network="x",
        market="fr",
        account="BrandFR",
        account_name="Brand France",
        campaign="suv-launch",
        timezone="Europe/Paris",
        due_utc=LAUNCH,
        status="planned",
        status_reason=None,
        text="The comfort SUV arrives.\nTest drives from Monday. https://brand.example/suv",
        title=None,
        link="https://brand.example/suv",
        media=(),
        first_comment=None,
        attempts=0,
        remote_id=None,
        url=None,
        last_error=None,
        created_at=NOW,
        updated_at=NOW,
        published_at=None,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_local_time_names_the_abbreviation_and_the_zone() -> None:
    assert times.format_local(LAUNCH, "Europe/Paris") == "2026-12-01 09:00 CET (Europe/Paris)"


def test_local_time_follows_daylight_saving() -> None:
    summer = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert times.format_local(summer, "Europe/Paris") == "2026-07-01 09:00 CEST (Europe/Paris)"


def test_the_summary_says_no_change_when_nothing_is_written() -> None:
    locked = Change(
        Action.LOCKED,
        "a/b/x/fr",
        "x",
        "fr",
        "A",
        "Europe/Paris",
        "published",
        "published",
        LAUNCH,
        LAUNCH,
        "published: ...",
    )
    d = Diff(now=NOW, changes=(locked,), unchanged=2)
    assert sync_report.summary(d) == "no change (1 locked, 2 unchanged)"


def test_the_summary_counts_in_plan_and_in_sync_wording() -> None:
    add = Change(
        Action.ADD, "a/b/x/fr", "x", "fr", "A", "Europe/Paris", None, "planned", None, LAUNCH
    )
    late = replace(add, action=Action.PAST_DUE, post_id="a/b/x/de", status_after="held")
    d = Diff(now=NOW, changes=(add, add, late))
    assert sync_report.summary(d) == "2 to add, 1 past due (to hold), 0 unchanged"
    assert sync_report.summary(d, done=True) == "2 added, 1 past due (held), 0 unchanged"


def test_an_ics_event_starts_in_utc_and_is_titled_by_network_market_and_headline() -> None:
    cal = Calendar.from_ical(calendar_views.calendar_ics([row()], NOW))
    (event,) = cal.walk("VEVENT")
    assert event.decoded("DTSTART") == LAUNCH
    assert "DTSTART:20261201T080000Z" in calendar_views.calendar_ics([row()], NOW).decode()
    assert str(event["SUMMARY"]) == "[x/fr] The comfort SUV arrives."
    assert str(event["UID"]) == "suv/reveal/x/fr@storyline"
    assert "Test drives from Monday." in str(event["DESCRIPTION"])


def test_a_cancelled_post_is_a_cancelled_event() -> None:
    (event,) = Calendar.from_ical(calendar_views.calendar_ics([row(status="cancelled")], NOW)).walk(
        "VEVENT"
    )
    assert str(event["STATUS"]) == "CANCELLED"


def test_the_ics_sequence_grows_with_each_change() -> None:
    old = row(updated_at=NOW + timedelta(minutes=1))
    new = row(updated_at=NOW + timedelta(hours=1))
    seqs = [
        int(Calendar.from_ical(calendar_views.calendar_ics([r], NOW)).walk("VEVENT")[0]["SEQUENCE"])
        for r in (old, new)
    ]
    assert seqs[0] < seqs[1]


def test_the_table_shortens_text_to_one_line() -> None:
    table = calendar_views.calendar_table([row(text="word " * 40)])
    line = table.splitlines()[1]
    assert line.endswith("…")
    assert "\n" not in times.short("a\nb")


def test_json_rows_carry_utc_and_local_times() -> None:
    (data,) = calendar_views.calendar_json([row()])
    assert (data["due_utc"], data["due_local"]) == (
        "2026-12-01T08:00:00Z",
        "2026-12-01T09:00:00+01:00",
    )


def test_the_ics_tells_subscribers_to_refresh_every_quarter_hour() -> None:
    cal = Calendar.from_ical(calendar_views.calendar_ics([row()], NOW))
    assert cal.decoded("REFRESH-INTERVAL") == timedelta(minutes=15)


def test_a_chinese_account_name_keeps_the_table_columns_aligned() -> None:
    """Issue 16: 好德汽车 is 4 characters but 8 columns; padding by len slid every column."""
    from scheduler.interfaces.formats.width import display_width

    table = calendar_views.calendar_table(
        [
            row(),
            row(
                post_id="suv/reveal/weibo/cn",
                network="weibo",
                market="cn",
                account_name="好德汽车",
                timezone="Asia/Shanghai",
                text="舒适型SUV来了。" * 9,
            ),
        ]
    )
    lines = table.splitlines()[:3]

    def column(word: str, header: str) -> set[int]:
        return {display_width(ln[: ln.index(word if i else header)]) for i, ln in enumerate(lines)}

    assert len(column("planned", "STATE")) == 1, table
    assert len(column("suv/reveal", "POST")) == 1, table
    text_column = lines[2][lines[2].index("舒适") :]
    assert display_width(text_column) <= times.SHORT_TEXT and text_column.endswith("…")


def test_display_width_counts_wide_characters_twice_and_combining_marks_not_at_all() -> None:
    from scheduler.interfaces.formats.width import display_width, pad

    assert display_width("好德汽车") == 8
    assert display_width("Cafe\u0301") == 4  # e + combining acute
    assert display_width("🚗") == 2
    assert pad("好德", 6) == "好德  "
