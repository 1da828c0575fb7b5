"""timezones: localize with is_dst=None, gaps move forward, overlaps take the first."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduler.core.model import Launch, Offset
from scheduler.core.timezones import (
    add_calendar_days,
    apply_offset,
    localize,
    suggest_zone,
    zone_exists,
)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_an_ordinary_wall_time_has_no_note() -> None:
    result = localize(datetime(2027, 1, 12, 9, 0), "Europe/Paris")
    assert result.utc == utc(2027, 1, 12, 8, 0)
    assert result.local.utcoffset() == timedelta(hours=1)
    assert result.note is None and result.message is None


def test_paris_spring_forward_gap_moves_forward_by_the_gap() -> None:
    # 28 March 2027: Paris jumps from 02:00 CET to 03:00 CEST; 02:30 never happens.
    result = localize(datetime(2027, 3, 28, 2, 30), "Europe/Paris")
    assert result.note == "nonexistent"
    assert result.local.replace(tzinfo=None) == datetime(2027, 3, 28, 3, 30)
    assert result.local.tzname() == "CEST"
    assert result.utc == utc(2027, 3, 28, 1, 30)
    assert "does not exist" in (result.message or "")


def test_new_york_spring_forward_gap_moves_forward_by_the_gap() -> None:
    result = localize(datetime(2027, 3, 14, 2, 30), "America/New_York")
    assert result.note == "nonexistent"
    assert result.local.replace(tzinfo=None) == datetime(2027, 3, 14, 3, 30)
    assert result.local.tzname() == "EDT"
    assert result.utc == utc(2027, 3, 14, 7, 30)


def test_paris_fall_back_ambiguity_takes_the_first_occurrence() -> None:
    # 31 October 2027: 02:30 happens at 00:30 UTC (CEST) and again at 01:30 UTC (CET).
    result = localize(datetime(2027, 10, 31, 2, 30), "Europe/Paris")
    assert result.note == "ambiguous"
    assert result.utc == utc(2027, 10, 31, 0, 30)
    assert result.local.tzname() == "CEST"
    assert "first occurrence" in (result.message or "")


def test_new_york_fall_back_ambiguity_takes_the_first_occurrence() -> None:
    result = localize(datetime(2027, 11, 7, 1, 30), "America/New_York")
    assert result.note == "ambiguous"
    assert result.utc == utc(2027, 11, 7, 5, 30)
    assert result.local.tzname() == "EDT"


def test_localize_refuses_an_aware_datetime() -> None:
    with pytest.raises(ValueError, match="naive"):
        localize(utc(2027, 1, 1), "Europe/Paris")


def test_zone_names_are_checked_against_pytz() -> None:
    assert zone_exists("Europe/Budapest")
    assert not zone_exists("Europe/Pairs")
    assert suggest_zone("Europe/Pairs") == "Europe/Paris"
    assert suggest_zone("europe/paris") == "Europe/Paris"


def test_calendar_days_keep_the_wall_clock() -> None:
    assert add_calendar_days(datetime(2027, 4, 1, 9, 0), -7) == datetime(2027, 3, 25, 9, 0)


def test_teaser_seven_days_before_stays_at_nine_across_the_eu_change() -> None:
    reveal = apply_offset(datetime(2027, 4, 1, 9, 0), Offset(), "Europe/Paris")
    teaser = apply_offset(datetime(2027, 4, 1, 9, 0), Offset(days=-7, text="-7d"), "Europe/Paris")
    assert reveal.local.replace(tzinfo=None) == datetime(2027, 4, 1, 9, 0)
    assert teaser.local.replace(tzinfo=None) == datetime(2027, 3, 25, 9, 0)
    assert reveal.utc == utc(2027, 4, 1, 7, 0)  # CEST
    assert teaser.utc == utc(2027, 3, 25, 8, 0)  # CET: 7 days minus 1 hour in real time
    assert reveal.utc - teaser.utc == timedelta(days=7, hours=-1)


def test_early_teaser_stays_at_nine_across_the_us_change() -> None:
    teaser = apply_offset(datetime(2027, 4, 1, 9), Offset(days=-21), "America/New_York")
    assert teaser.local.replace(tzinfo=None) == datetime(2027, 3, 11, 9, 0)
    assert teaser.local.tzname() == "EST"
    assert teaser.utc == utc(2027, 3, 11, 14, 0)


def test_hour_offsets_are_absolute_durations() -> None:
    # 12:00 CEST on the change day is 10:00 UTC; twelve real hours earlier is 23:00 CET.
    result = apply_offset(datetime(2027, 3, 28, 12, 0), Offset(hours=-12), "Europe/Paris")
    assert result.utc == utc(2027, 3, 27, 22, 0)
    assert result.local.replace(tzinfo=None) == datetime(2027, 3, 27, 23, 0)


def test_a_beat_landing_in_a_gap_carries_the_note() -> None:
    result = apply_offset(datetime(2027, 3, 29, 2, 30), Offset(days=-1), "Europe/Paris")
    assert result.note == "nonexistent"
    assert result.local.replace(tzinfo=None) == datetime(2027, 3, 28, 3, 30)


def test_world_premiere_is_one_instant_in_every_zone() -> None:
    premiere = Launch(instant=utc(2027, 2, 10, 17, 0), zone="Europe/Paris")
    shanghai = apply_offset(premiere, Offset(), "Asia/Shanghai")
    sao_paulo = apply_offset(premiere, Offset(), "America/Sao_Paulo")
    assert shanghai.utc == sao_paulo.utc == utc(2027, 2, 10, 17, 0)
    assert shanghai.local.replace(tzinfo=None) == datetime(2027, 2, 11, 1, 0)
    assert sao_paulo.local.replace(tzinfo=None) == datetime(2027, 2, 10, 14, 0)


def test_world_premiere_day_offsets_are_calendar_days_in_the_markets_zone() -> None:
    # 09:00 CEST on 1 April; a week earlier Paris is on CET, so the teaser is 08:00 UTC.
    premiere = utc(2027, 4, 1, 7, 0)
    teaser = apply_offset(premiere, Offset(days=-7), "Europe/Paris")
    assert teaser.local.replace(tzinfo=None) == datetime(2027, 3, 25, 9, 0)
    assert teaser.utc == utc(2027, 3, 25, 8, 0)


def test_world_premiere_hour_offsets_are_exact() -> None:
    countdown = apply_offset(utc(2027, 2, 10, 17, 0), Offset(hours=-2), "Asia/Shanghai")
    assert countdown.utc == utc(2027, 2, 10, 15, 0)
    assert countdown.local.replace(tzinfo=None) == datetime(2027, 2, 10, 23, 0)


def test_local_launch_object_is_accepted() -> None:
    launch = Launch(local=datetime(2027, 1, 12, 8, 30))
    assert apply_offset(launch, Offset(), "America/Sao_Paulo").utc == utc(2027, 1, 12, 11, 30)
