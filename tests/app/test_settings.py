"""Every ``STORYLINE_*`` variable is read once, by the settings, and documented from them."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from scheduler.app.settings import VARIABLES, Settings, documented, variables_table
from scheduler.core.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "scheduler"
BEGIN, END = "<!-- variables: begin -->", "<!-- variables: end -->"


def test_operations_doc_lists_every_variable_as_the_settings_declare_them() -> None:
    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    shown = doc.split(BEGIN, 1)[1].split(END, 1)[0].strip()
    assert shown == variables_table(), (
        "docs/operations.md is out of date; paste scheduler.app.settings.variables_table()"
    )


def test_every_variable_the_code_names_is_declared() -> None:
    named = {
        name
        for path in PACKAGE.rglob("*.py")
        for name in re.findall(r"STORYLINE_[A-Z0-9_]*[A-Z0-9]", path.read_text(encoding="utf-8"))
    }
    assert {n for n in named if not documented(n)} == set()


def test_only_the_settings_read_the_environment() -> None:
    readers = {
        str(path.relative_to(ROOT))
        for path in PACKAGE.rglob("*.py")
        if re.search(r"os\.environ\b(?!\))|os\.getenv|environ\.get\(", path.read_text("utf-8"))
    }
    assert readers <= {"scheduler/app/settings.py"}


def test_variable_names_are_unique() -> None:
    names = [v.name for v in VARIABLES]
    assert len(names) == len(set(names))


def test_nothing_configured_means_the_embedded_defaults(tmp_path: Path) -> None:
    settings = Settings.from_env({"STORYLINE_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{(tmp_path / 'storyline.db').resolve()}"
    assert settings.broker_url == f"sqla+sqlite:///{(tmp_path / 'broker.db').resolve()}"
    assert settings.queue == "storyline"
    assert settings.pinned_now is None


def test_per_network_variables_are_keyed_by_the_network_in_lower_case() -> None:
    settings = Settings.from_env(
        {
            "STORYLINE_API_BASE_FACEBOOK": "http://127.0.0.1:8801/",
            "STORYLINE_MAX_LATENESS_X": "600",
            "STORYLINE_MIN_SPACING_THREADS": "2.5",
        }
    )
    assert settings.api_base("facebook", "https://graph.facebook.com") == "http://127.0.0.1:8801"
    assert settings.api_base("x", "https://api.x.com/") == "https://api.x.com"
    assert settings.max_lateness == {"x": 600.0}
    assert settings.min_spacing == {"threads": 2.5}


def test_a_pinned_clock_is_parsed_once_into_an_aware_utc_instant() -> None:
    settings = Settings.from_env({"STORYLINE_NOW": "2026-12-01T09:00:00+01:00"})
    assert settings.now() == datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("STORYLINE_TICK_SECONDS", "soon", "must be a number of seconds"),
        ("STORYLINE_TICK_SECONDS", "0", "must be greater than 0"),
        ("STORYLINE_LEASE_SECONDS", "0.5", "must be at least 1"),
        ("STORYLINE_MAX_ATTEMPTS", "-1", "must not be negative"),
        ("STORYLINE_NOW", "tomorrow", "must be an ISO 8601 instant"),
        ("STORYLINE_NOW", "2026-12-01T09:00", "needs a UTC offset"),
    ],
)
def test_a_malformed_variable_is_refused_by_name(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as raised:
        Settings.from_env({variable: value})
    assert variable in str(raised.value)
