"""A market's clock is a city's IANA name; abbreviations and offsets are refused with the city
to write instead (issue 16, item 3). Messages and positions are exact: they are the interface."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from scheduler.core.timezones import zone_error
from scheduler.interfaces.cli import cli

from .conftest import ROOT, SAMPLE

GOOD = "launch: 2027-01-12 09:00\nstatus: approved\nnetworks: [x]\nstory:\n  headline: Hi\n"


@pytest.fixture
def content(tmp_path: Path) -> Path:
    root = tmp_path / "content"
    (root / "stories").mkdir(parents=True)
    shutil.copy(SAMPLE / "markets.yaml", root / "markets.yaml")
    shutil.copytree(SAMPLE / "media", root / "media")
    (root / "stories" / "good.yaml").write_text(GOOD, encoding="utf-8")
    return root


def findings(content: Path) -> list[str]:
    result = CliRunner().invoke(
        cli, ["--content", str(content), "--lines", str(ROOT / "editorial_lines"), "validate"]
    )
    assert result.exit_code == 1, result.output
    return [line for line in result.output.splitlines() if "bad-timezone" in line]


def market_zone(content: Path, zone: str) -> None:
    path = content / "markets.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("timezone: Europe/Paris", f"timezone: {zone}", 1), "utf-8")


def test_est_as_a_market_zone_is_an_error_naming_new_york(content: Path) -> None:
    market_zone(content, "EST")
    assert findings(content) == [
        f"{content}/markets.yaml:7:15: error[bad-timezone]: 'EST' is an abbreviation, not a "
        "place: EST never observes summer time; use the IANA name of the market's city "
        "(did you mean 'America/New_York' or 'America/Toronto'?)"
    ]


def test_cet_as_a_market_zone_names_the_cities_on_central_european_time(content: Path) -> None:
    market_zone(content, "CET")
    assert findings(content) == [
        f"{content}/markets.yaml:7:15: error[bad-timezone]: 'CET' is an abbreviation, not a "
        "place; use the IANA name of the market's city "
        "(did you mean 'Europe/Paris', 'Europe/Berlin' or 'Europe/Madrid'?)"
    ]


def test_utc_minus_5_is_a_fixed_offset_and_never_suggests_utc(content: Path) -> None:
    market_zone(content, "UTC-5")
    [line] = findings(content)
    assert line == (
        f"{content}/markets.yaml:7:15: error[bad-timezone]: 'UTC-5' is a fixed offset: it never "
        "follows summer time; use the IANA name of the market's city "
        "(did you mean 'America/New_York', 'America/Toronto' or 'America/Bogota'?)"
    )
    assert "'UTC'" not in line


def test_a_city_written_with_a_space_suggests_its_iana_name(content: Path) -> None:
    market_zone(content, "New York")
    assert findings(content) == [
        f"{content}/markets.yaml:7:15: error[bad-timezone]: unknown time zone 'New York' "
        "(did you mean 'America/New_York'?); use an IANA name like Europe/Paris"
    ]


def test_a_launch_written_with_an_abbreviation_suggests_the_launch_to_write(
    content: Path,
) -> None:
    (content / "stories" / "good.yaml").write_text(
        GOOD.replace("2027-01-12 09:00", "2027-03-16 11:00 EST"), encoding="utf-8"
    )
    assert findings(content) == [
        f"{content}/stories/good.yaml:1:9: error[bad-timezone]: 'EST' is an abbreviation, not "
        "a place: EST never observes summer time; use the IANA name of a city "
        "(did you mean '2027-03-16 11:00 America/New_York' or "
        "'2027-03-16 11:00 America/Toronto'?)"
    ]


@pytest.mark.parametrize(
    ("written", "suggested"),
    [
        ("GMT", "Europe/London"),
        ("PST8PDT", "America/Los_Angeles"),
        ("+01:00", "Europe/Paris"),
        ("Etc/GMT+5", "America/New_York"),  # POSIX signs: Etc/GMT+5 is UTC-5
        ("GMT-3", "America/Sao_Paulo"),
        ("america/new_york", "America/New_York"),
        ("Sao Paulo", "America/Sao_Paulo"),
    ],
)
def test_each_way_of_not_writing_a_city_names_the_city(written: str, suggested: str) -> None:
    message = zone_error(written)
    assert message is not None and f"'{suggested}'" in message
    assert "'UTC'" not in message


@pytest.mark.parametrize("zone", ["America/New_York", "Europe/Paris", "UTC", "US/Eastern"])
def test_places_and_plain_utc_are_accepted(zone: str) -> None:
    assert zone_error(zone) is None


@pytest.mark.parametrize(
    ("launch", "message"),
    [
        (
            "2027-03-16 11:00 New York",
            "unknown time zone 'New York' (did you mean '2027-03-16 11:00 America/New_York'?); "
            "use an IANA name like Europe/Paris",
        ),
        (
            "2027-03-16T11:00-05:00",
            "'-05:00' is a fixed offset: it never follows summer time; use the IANA name of a "
            "city (did you mean '2027-03-16T11:00 America/New_York', '2027-03-16T11:00 "
            "America/Toronto' or '2027-03-16T11:00 America/Bogota'?)",
        ),
    ],
)
def test_a_launch_zone_gets_one_finding_with_the_launch_to_write(
    content: Path, launch: str, message: str
) -> None:
    (content / "stories" / "good.yaml").write_text(
        GOOD.replace("2027-01-12 09:00", launch), encoding="utf-8"
    )
    result = CliRunner().invoke(
        cli, ["--content", str(content), "--lines", str(ROOT / "editorial_lines"), "validate"]
    )
    ours = [ln for ln in result.output.splitlines() if "good.yaml" in ln]
    assert ours == [f"{content}/stories/good.yaml:1:9: error[bad-timezone]: {message}"]
