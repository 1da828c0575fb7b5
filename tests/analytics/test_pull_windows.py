"""When a published post is due a pull: the windows rule of scheduler.core.pulls."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from scheduler.app.settings import Settings
from scheduler.core.errors import ConfigError
from scheduler.core.pulls import (
    DEFAULT_PULL_AFTER,
    MANUAL,
    due_window,
    forced_window,
    parse_windows,
)

PUBLISHED = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
WINDOWS = parse_windows(DEFAULT_PULL_AFTER)


def at(**delta: float) -> datetime:
    return PUBLISHED + timedelta(**delta)


def test_the_default_windows_are_one_hour_a_day_a_week_and_four_weeks() -> None:
    assert [(w.name, w.after) for w in WINDOWS] == [
        ("1h", timedelta(hours=1)),
        ("24h", timedelta(days=1)),
        ("7d", timedelta(days=7)),
        ("28d", timedelta(days=28)),
    ]


def test_a_post_younger_than_the_first_window_is_not_due() -> None:
    assert due_window(PUBLISHED, at(minutes=59), WINDOWS, set()) is None


def test_a_post_is_due_the_latest_window_it_reached() -> None:
    assert due_window(PUBLISHED, at(hours=1), WINDOWS, set()) == "1h"
    assert due_window(PUBLISHED, at(hours=30), WINDOWS, {"1h"}) == "24h"


def test_a_window_already_answered_is_not_due_again() -> None:
    assert due_window(PUBLISHED, at(hours=3), WINDOWS, {"1h"}) is None


def test_missed_windows_are_made_up_by_the_latest_not_by_a_burst() -> None:
    assert due_window(PUBLISHED, at(days=10), WINDOWS, set()) == "7d"
    assert due_window(PUBLISHED, at(days=10), WINDOWS, {"7d"}) is None


def test_a_pull_by_hand_takes_the_due_window_else_manual() -> None:
    assert forced_window(PUBLISHED, at(hours=2), WINDOWS, set()) == "1h"
    assert forced_window(PUBLISHED, at(hours=2), WINDOWS, {"1h"}) == MANUAL
    assert forced_window(PUBLISHED, at(minutes=5), WINDOWS, set()) == MANUAL


def test_windows_are_configurable_and_sorted() -> None:
    settings = Settings.from_env({"STORYLINE_METRICS_PULL_AFTER": "3d, 30m,2h"})
    assert [w.name for w in settings.metrics_pull_after] == ["30m", "2h", "3d"]


@pytest.mark.parametrize("raw", ["1h,soon", "0h", "1w", "24"])
def test_a_malformed_window_list_is_refused_by_name(raw: str) -> None:
    with pytest.raises(ConfigError, match="STORYLINE_METRICS_PULL_AFTER must list ages"):
        Settings.from_env({"STORYLINE_METRICS_PULL_AFTER": raw})
