"""Properties of local time, checked for every day of a year in every zone that matters.

The oracle is independent of the code under test: the standard library's :mod:`zoneinfo`
(PEP 495 ``fold``) instead of pytz. For any wall time, ``fold=0`` names the instant the time
policy (docs/content.md) wants — the first occurrence of an ambiguous time, and for a time in a
gap the reading with the offset from before the jump, which is "moved forward by the gap". So
the oracle for every case is ``naive.replace(tzinfo=ZoneInfo(zone), fold=0)``; what differs
between cases is the note.

Zones: every zone of the sample brand (``content/markets.yaml``) plus the tricky ones —
Lord Howe (a 30-minute DST), São Paulo (DST until 2019: checked in 2018 too, where the clocks
jumped at midnight), Dublin (negative DST in the tz source), Kathmandu (+5:45).
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from scheduler.content.loader import load_content
from scheduler.core.model import Launch, Offset
from scheduler.core.timezones import apply_offset, in_zone, localize
from scheduler.lines.book import LineBook
from scheduler.lines.loader import load_lines
from scheduler.planning.plan import plan

ROOT = Path(__file__).resolve().parents[2]
TRICKY = ("Australia/Lord_Howe", "America/Sao_Paulo", "Europe/Dublin", "Asia/Kathmandu")


def _sample_zones() -> tuple[str, ...]:
    data = yaml.safe_load((ROOT / "content" / "markets.yaml").read_text(encoding="utf-8"))
    return tuple(sorted({m["timezone"] for m in data["markets"].values()}))


ZONES = tuple(sorted({*_sample_zones(), *TRICKY}))
#: (zone, year): 2027 everywhere, and São Paulo's last DST year.
ZONE_YEARS = [(z, 2027) for z in ZONES] + [("America/Sao_Paulo", 2018)]
#: Wall times around every transition hour seen in these zones, and ordinary ones.
WALL_TIMES = (
    time(0, 0),
    time(0, 30),
    time(1, 0),
    time(1, 30),
    time(1, 59),
    time(2, 0),
    time(2, 15),
    time(2, 30),
    time(2, 45),
    time(3, 0),
    time(9, 0),
    time(23, 30),
)

Kind = Literal["normal", "nonexistent", "ambiguous"]


def classify(naive: datetime, zone: str) -> tuple[Kind, datetime]:
    """What the wall time is in ``zone``, and the UTC instant the time policy maps it to."""
    tz = ZoneInfo(zone)
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    expected = first.astimezone(UTC)
    if first.utcoffset() == second.utcoffset():
        return "normal", expected
    if expected.astimezone(tz).replace(tzinfo=None) == naive:
        return "ambiguous", expected
    return "nonexistent", expected


def _offset(naive: datetime, tz: ZoneInfo, *, fold: int) -> timedelta:
    offset = naive.replace(tzinfo=tz, fold=fold).utcoffset()
    assert offset is not None
    return offset


def every_wall_time(year: int, walls: tuple[time, ...] = WALL_TIMES) -> Iterator[datetime]:
    day = date(year, 1, 1)
    while day.year == year:
        for wall in walls:
            yield datetime.combine(day, wall)
        day += timedelta(days=1)


@functools.cache
def cases(zone: str, year: int) -> tuple[tuple[datetime, Kind, datetime], ...]:
    """Every wall time of the year in ``zone`` with its kind and expected instant (cached: the
    tests below share one classification per zone)."""
    return tuple((n, *classify(n, zone)) for n in every_wall_time(year))


def test_the_zone_list_holds_the_sample_brand_and_the_tricky_zones() -> None:
    assert {"Europe/Paris", "America/Sao_Paulo", "Asia/Shanghai"} <= set(ZONES)
    assert set(TRICKY) <= set(ZONES)


@pytest.mark.parametrize(("zone", "year"), ZONE_YEARS)
def test_existing_wall_times_round_trip_local_utc_local(zone: str, year: int) -> None:
    checked = 0
    for naive, kind, expected in cases(zone, year):
        if kind != "normal":
            continue
        got = localize(naive, zone)
        assert got.note is None and got.message is None, naive
        assert got.utc == expected, naive
        assert got.local.replace(tzinfo=None) == naive, naive
        assert in_zone(got.utc, zone).local.replace(tzinfo=None) == naive, naive
        checked += 1
    assert checked >= 365 * len(WALL_TIMES) - 10


@pytest.mark.parametrize(("zone", "year"), ZONE_YEARS)
def test_nonexistent_wall_times_move_forward_by_the_gap_with_a_note(zone: str, year: int) -> None:
    tz = ZoneInfo(zone)
    for naive, kind, expected in cases(zone, year):
        if kind != "nonexistent":
            continue
        got = localize(naive, zone)
        gap = _offset(naive, tz, fold=1) - _offset(naive, tz, fold=0)
        assert gap > timedelta(0), naive
        assert got.note == "nonexistent", naive
        assert got.utc == expected, naive
        assert got.local.replace(tzinfo=None) == naive + gap, naive
        assert got.message and "does not exist" in got.message and zone in got.message


@pytest.mark.parametrize(("zone", "year"), ZONE_YEARS)
def test_ambiguous_wall_times_take_the_first_occurrence_with_a_note(zone: str, year: int) -> None:
    tz = ZoneInfo(zone)
    for naive, kind, expected in cases(zone, year):
        if kind != "ambiguous":
            continue
        got = localize(naive, zone)
        later = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
        assert got.note == "ambiguous", naive
        assert got.utc == expected < later, naive
        assert got.local.replace(tzinfo=None) == naive, naive
        assert got.message and "happens twice" in got.message


@pytest.mark.parametrize(
    ("zone", "transitions"),
    [
        ("Europe/Paris", 2),
        ("Australia/Lord_Howe", 2),
        ("Europe/Dublin", 2),
        ("Asia/Kathmandu", 0),
        ("Asia/Shanghai", 0),
    ],
)
def test_the_oracle_sees_the_transitions_each_zone_has_in_2027(zone: str, transitions: int) -> None:
    """Guards the property tests above against vacuity: the odd cases really occur."""
    days = {n.date() for n in every_wall_time(2027) if classify(n, zone)[0] != "normal"}
    assert len(days) == transitions


def test_sao_paulo_2018_jumped_at_midnight() -> None:
    got = localize(datetime(2018, 11, 4, 0, 30), "America/Sao_Paulo")
    assert got.note == "nonexistent"
    assert got.local.replace(tzinfo=None) == datetime(2018, 11, 4, 1, 30)


def test_lord_howe_gap_is_thirty_minutes() -> None:
    got = localize(datetime(2027, 10, 3, 2, 15), "Australia/Lord_Howe")
    assert got.note == "nonexistent"
    assert got.local.replace(tzinfo=None) == datetime(2027, 10, 3, 2, 45)


OFFSETS = (Offset(days=-7, text="-7d"), Offset(days=3, text="+3d"))
#: Reveal times for the offset property: inside the gaps and overlaps seen above, and 09:00.
REVEAL_TIMES = (time(0, 30), time(2, 15), time(2, 30), time(9, 0))


@pytest.mark.parametrize(("zone", "year"), ZONE_YEARS)
@pytest.mark.parametrize("offset", OFFSETS, ids=lambda o: o.text)
def test_day_offsets_are_calendar_days_at_the_same_wall_clock_time(
    zone: str, year: int, offset: Offset
) -> None:
    """A teaser -7d from a 09:00 reveal is at 09:00 local, unless 09:00 does not exist then."""
    for reveal in every_wall_time(year, REVEAL_TIMES):
        if classify(reveal, zone)[0] != "normal":
            continue
        beat = apply_offset(Launch(local=reveal), offset, zone)
        wall = reveal + timedelta(days=offset.days)
        kind, expected = classify(wall, zone)
        assert beat.utc == expected, (reveal, offset.text)
        if kind == "nonexistent":
            assert beat.note == "nonexistent"
            assert beat.local.replace(tzinfo=None) > wall
        else:
            assert beat.local.replace(tzinfo=None) == wall, (reveal, offset.text)
            assert beat.note == (None if kind == "normal" else "ambiguous")


@pytest.mark.parametrize("zone", ZONES)
def test_a_world_premiere_offset_by_days_keeps_the_wall_time_of_each_market(zone: str) -> None:
    """An instant worldwide, teased 7 days before: at the premiere's local wall time, 7 days
    earlier, in every market (not 7 x 24 hours before)."""
    tz = ZoneInfo(zone)
    for reveal_utc in (
        datetime(2027, m, d, 18, 0, tzinfo=UTC) for m in range(1, 13) for d in (1, 15)
    ):
        beat = apply_offset(Launch(instant=reveal_utc), Offset(days=-7, text="-7d"), zone)
        wall = reveal_utc.astimezone(tz).replace(tzinfo=None) - timedelta(days=7)
        assert beat.utc == classify(wall, zone)[1], reveal_utc


def test_hour_offsets_are_absolute_durations_across_a_jump() -> None:
    """-2h from 04:00 on Paris's spring-forward day is 2 real hours before: 01:00 CET."""
    beat = apply_offset(Launch(local=datetime(2027, 3, 28, 4, 0)), Offset(hours=-2), "Europe/Paris")
    reveal = localize(datetime(2027, 3, 28, 4, 0), "Europe/Paris")
    assert reveal.utc - beat.utc == timedelta(hours=2)
    assert beat.local.replace(tzinfo=None) == datetime(2027, 3, 28, 1, 0)


@given(
    zone=st.sampled_from(ZONES),
    naive=st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31)),
)
def test_any_wall_time_maps_to_the_instant_the_policy_names(zone: str, naive: datetime) -> None:
    kind, expected = classify(naive, zone)
    got = localize(naive, zone)
    assert got.utc == expected
    assert got.note == (None if kind == "normal" else kind)


# --- the same policy through the whole pipeline: content -> lines -> planning -----------------


@pytest.fixture(scope="module")
def lines() -> LineBook:
    return load_lines(ROOT / "editorial_lines", eager=False)


def _markets_yaml() -> str:
    entries = [
        f"  m{i}: {{name: M{i}, timezone: {zone}, locale: en, accounts: {{x: {{handle: B{i}}}}}}}"
        for i, zone in enumerate(ZONES)
    ]
    return "markets:\n" + "\n".join(entries) + "\n"


def _odd_reveals() -> list[datetime]:
    """Reveals on a gap or overlap, and 7 days after one (so that the teaser is on it)."""
    odd = {
        naive + timedelta(days=days)
        for zone in ZONES
        for naive, kind, _ in cases(zone, 2027)
        if kind != "normal"
        for days in (0, 7)
    }
    return sorted(d for d in odd if d.year == 2027 and d >= datetime(2027, 1, 8))


@given(
    reveal=st.one_of(
        st.datetimes(min_value=datetime(2027, 1, 8), max_value=datetime(2027, 12, 31)).map(
            lambda d: d.replace(second=0, microsecond=0)
        ),
        st.deferred(lambda: st.sampled_from(_odd_reveals())),
    )
)
def test_a_planned_teaser_is_seven_calendar_days_before_the_reveal_in_every_market(
    reveal: datetime, lines: LineBook
) -> None:
    with tempfile.TemporaryDirectory(prefix="sl-dst-") as name:
        root = Path(name)
        (root / "stories").mkdir()
        (root / "markets.yaml").write_text(_markets_yaml(), encoding="utf-8")
        (root / "stories" / "arc.yaml").write_text(
            f"status: approved\nlaunch: {reveal:%Y-%m-%d %H:%M}\nnetworks: [x]\n"
            "beats: {teaser: -7d, reveal: 0}\nstory: {headline: Soon}\n",
            encoding="utf-8",
        )
        content = load_content(root, networks=lines.networks)
        assert not [f for f in content.findings if f.is_error], content.findings
        planned = plan(content, lines, datetime(2026, 1, 1, tzinfo=UTC))
    due = {(p.beat, p.timezone): p for p in planned.posts}
    assert len(due) == 2 * len(ZONES)
    for zone in ZONES:
        for beat, wall in (("reveal", reveal), ("teaser", reveal - timedelta(days=7))):
            post = due[(beat, zone)]
            kind, expected = classify(wall, zone)
            assert post.due_utc == expected, (beat, zone)
            if kind != "nonexistent":
                assert post.due_local.replace(tzinfo=None) == wall, (beat, zone)
            codes = {f.code for f in post.findings}
            assert (f"time-{kind}" in codes) is (kind != "normal"), (beat, zone, codes)
