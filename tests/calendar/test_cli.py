"""The calendar commands end to end through click: plan, sync, calendar, status, db upgrade.

The content comes from a stand-in ``load_plan`` (posts built in code) so each test says exactly
what the content holds; ``test_sample.py`` runs the real pipeline on the repository's sample.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from icalendar import Calendar

from scheduler.calendar import migrate
from scheduler.core.diagnostics import Finding, Position
from scheduler.core.post import PlannedPost
from scheduler.interfaces.cli import cli
from scheduler.planning.plan import Plan

from .conftest import LAUNCH, NOW, brand, planned

NOW_ENV = {"STORYLINE_NOW": "2026-11-28T12:00:00Z"}


class Content:
    """What the stand-in pipeline returns; tests change ``posts`` and ``findings`` in place."""

    def __init__(self) -> None:
        self.posts: list[PlannedPost] = brand()
        self.findings: list[Finding] = []
        self.broken: tuple[str, ...] = ()  # stories with errors, as the pipeline names them
        self.seen_now: list[datetime] = []


@pytest.fixture
def content(monkeypatch: pytest.MonkeyPatch) -> Content:
    c = Content()

    def load_plan(_settings: object, now: datetime, **_options: object) -> Plan:
        c.seen_now.append(now)
        return Plan(
            posts=tuple(c.posts),
            findings=tuple(c.findings),
            stories=tuple(sorted({p.story for p in c.posts})),
            broken=c.broken,
            market_names={p.market: p.market.upper() for p in c.posts},
        )

    monkeypatch.setattr("scheduler.app.pipeline.load_plan", load_plan)
    return c


@pytest.fixture
def url(database_url: str) -> Iterator[str]:
    """A calendar database on SQLite and PostgreSQL, upgraded through the CLI."""
    result = CliRunner().invoke(cli, ["--database-url", database_url, "db", "upgrade"])
    assert result.exit_code == 0, result.output
    yield database_url


def run(url: str, *args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, ["--database-url", url, *args], env={**NOW_ENV, **(env or {})})


def test_db_upgrade_reports_the_revision_then_that_it_is_up_to_date(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    head = migrate.head_revision()
    first = CliRunner().invoke(cli, ["--database-url", url, "db", "upgrade"])
    assert f"upgraded the calendar database empty → {head}" in first.output
    again = CliRunner().invoke(cli, ["--database-url", url, "db", "upgrade"])
    assert f"is up to date ({head})" in again.output


def test_plan_lists_each_post_with_its_local_time_and_zone(content: Content, url: str) -> None:
    result = run(url, "plan", "--details")
    assert result.exit_code == 0, result.output
    assert "add (8):" in result.output
    assert "  suv/reveal/x/fr         2026-12-01 09:00 CET (Europe/Paris)" in result.output
    assert result.output.rstrip().endswith("8 to add, 0 unchanged")


def test_plan_writes_nothing(content: Content, url: str) -> None:
    run(url, "plan")
    assert "8 to add" in run(url, "plan").output


def test_plan_sync_plan_shows_no_change(content: Content, url: str) -> None:
    synced = run(url, "sync")
    assert synced.exit_code == 0, synced.output
    assert synced.output.rstrip().endswith("8 added, 0 unchanged")
    again = run(url, "plan")
    assert again.output.rstrip() == "no change (8 unchanged)"


def test_plan_shows_a_reschedule_from_the_old_to_the_new_local_time(
    content: Content, url: str
) -> None:
    content.posts = [planned()]
    run(url, "sync")
    content.posts = [planned(due=LAUNCH + timedelta(days=1, hours=1))]
    out = run(url, "plan", "--details").output
    assert (
        "  suv/reveal/x/fr  2026-12-01 09:00 CET (Europe/Paris) → "
        "2026-12-02 10:00 CET (Europe/Paris)"
    ) in out
    assert "1 to reschedule" in out


def test_plan_json_lists_changes_and_counts(content: Content, url: str) -> None:
    content.posts = [planned(), planned(due=NOW - timedelta(hours=1), market="de")]
    data = json.loads(run(url, "plan", "--format", "json").output)
    assert data["changed"] is True and data["applied"] is False
    assert data["counts"]["add"] == 1 and data["counts"]["past_due"] == 1
    past = next(c for c in data["changes"] if c["action"] == "past_due")
    assert past == {
        "action": "past_due",
        "post_id": "suv/reveal/x/de",
        "network": "x",
        "market": "de",
        "account": "BrandDE",
        "timezone": "Europe/Berlin",
        "status_before": None,
        "status_after": "held",
        "due_before_utc": None,
        "due_after_utc": "2026-11-28T11:00:00Z",
        "due_before_local": None,
        "due_after_local": "2026-11-28T12:00:00+01:00",
        "reason": "past due",
        "text_changed": False,
    }


def test_sync_applies_the_valid_stories_reports_the_broken_one_and_exits_1(
    content: Content, url: str
) -> None:
    content.posts = brand(stories=("suv", "van"))
    content.findings = [
        Finding.error(Position("content/stories/suv.yaml", 14, 5), "x-too-long", "too long")
    ]
    content.broken = ("suv",)
    result = run(url, "sync")
    assert result.exit_code == 1
    assert "content/stories/suv.yaml:14:5: error[x-too-long]: too long" in result.output
    assert "8 added, 0 unchanged" in result.output  # van's 8 posts
    assert (
        "error: 1 story(ies) with errors not synced: suv (the posts already in the calendar "
        "for them are left as they are); fix the errors above and sync again"
    ) in result.output
    content.findings, content.broken = [], ()
    assert "8 to add, 8 unchanged" in run(url, "plan").output  # suv's posts were not written


def test_sync_leaves_the_planned_posts_of_a_broken_story_as_they_are(
    content: Content, url: str
) -> None:
    content.posts = brand(stories=("suv", "van"))
    assert run(url, "sync").exit_code == 0
    # suv's file breaks: the pipeline plans none of its posts, and says it is broken
    content.posts = brand(stories=("van",))
    content.findings = [Finding.error(Position("content/stories/suv.yaml", 3, 9), "yaml", "bad")]
    content.broken = ("suv",)
    result = run(url, "sync", "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["counts"]["cancel"] == 0 and data["not_synced"] == ["suv"]
    rows = json.loads(run(url, "calendar", "--format", "json").output)
    suv = [r for r in rows if r["post_id"].startswith("suv/")]
    assert len(suv) == 8 and {r["status"] for r in suv} == {"planned"}


def test_sync_cancels_nothing_missing_when_an_error_belongs_to_no_story(
    content: Content, url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    content.posts = brand(stories=("suv", "van"))
    assert run(url, "sync").exit_code == 0
    content.posts = brand(stories=("van",))  # markets.yaml broke: suv planned nothing
    content.findings = [Finding.error(Position("content/markets.yaml", 2, 1), "yaml", "bad")]

    import scheduler.app.pipeline as pipeline

    plain = pipeline.load_plan
    monkeypatch.setattr(
        pipeline,
        "load_plan",
        lambda s, now, **kw: dataclasses.replace(plain(s, now, **kw), unplaced_errors=True),
    )
    result = run(url, "sync")
    assert result.exit_code == 1
    assert "no post of a story, market or network that did not load was cancelled" in result.output
    assert "0 cancelled" not in result.output and "cancelled" not in result.stdout


def test_sync_prints_warnings_and_goes_on(content: Content, url: str) -> None:
    content.findings = [Finding.warning(Position("content/stories/suv.yaml", 3, 1), "dst", "gap")]
    result = run(url, "sync")
    assert result.exit_code == 0
    assert "warning[dst]: gap" in result.output


def test_sync_json_reports_what_was_applied(content: Content, url: str) -> None:
    data = json.loads(run(url, "sync", "--format", "json").output)
    assert (data["applied"], data["counts"]["add"], data["skipped"]) == (True, 8, 0)


def test_the_clock_can_be_pinned_for_tests_and_demos(content: Content, url: str) -> None:
    run(url, "plan")
    assert content.seen_now == [NOW]


def test_a_malformed_pinned_clock_is_a_clear_error(content: Content, url: str) -> None:
    result = run(url, "plan", env={"STORYLINE_NOW": "tomorrow"})
    assert result.exit_code == 1
    assert "STORYLINE_NOW must be an ISO 8601 instant" in result.output


def test_calendar_table_shows_local_time_zone_network_market_account_state(
    content: Content, url: str
) -> None:
    content.posts = [planned(), planned(market="gb")]
    run(url, "sync")
    out = run(url, "calendar").output
    assert "WHEN (LOCAL)" in out
    assert "2026-12-01 08:00 GMT  x        gb      Brand GB  planned  suv/reveal" in out
    assert "2026-12-01 09:00 CET  x        fr      Brand FR  planned  suv/reveal" in out


def test_calendar_dates_are_local_dates_in_each_market(content: Content, url: str) -> None:
    # 00:30 on 1 December in Paris is still 30 November in UTC.
    content.posts = [planned(due=datetime(2026, 11, 30, 23, 30, tzinfo=UTC))]
    run(url, "sync")
    on_the_1st = json.loads(
        run(
            url, "calendar", "--from", "2026-12-01", "--to", "2026-12-01", "--format", "json"
        ).output
    )
    assert [p["post_id"] for p in on_the_1st] == ["suv/reveal/x/fr"]
    on_the_30th = run(url, "calendar", "--from", "2026-11-30", "--to", "2026-11-30").output
    assert "no posts" in on_the_30th


def test_calendar_filters_by_network_market_and_state(content: Content, url: str) -> None:
    run(url, "sync")
    data = json.loads(
        run(
            url, "calendar", "-n", "x", "-m", "de", "--status", "planned", "--format", "json"
        ).output
    )
    assert sorted(p["post_id"] for p in data) == ["suv/reveal/x/de", "suv/teaser/x/de"]
    assert json.loads(run(url, "calendar", "--status", "held", "--format", "json").output) == []


def test_calendar_ics_has_one_event_per_post_with_stable_uids(
    content: Content, url: str, tmp_path: Path
) -> None:
    run(url, "sync")
    first, second = tmp_path / "a.ics", tmp_path / "b.ics"
    assert run(url, "calendar", "--format", "ics", "-o", str(first)).exit_code == 0
    run(url, "calendar", "--format", "ics", "-o", str(second))
    events = Calendar.from_ical(first.read_bytes()).walk("VEVENT")
    assert len(events) == 8
    uids = sorted(str(e["UID"]) for e in events)
    assert uids == sorted(f"{p.post_id}@storyline" for p in content.posts)
    assert uids == sorted(
        str(e["UID"]) for e in Calendar.from_ical(second.read_bytes()).walk("VEVENT")
    )


def test_an_ics_event_changes_sequence_when_its_post_changes(content: Content, url: str) -> None:
    content.posts = [planned()]
    run(url, "sync")
    before = Calendar.from_ical(run(url, "calendar", "--format", "ics").output).walk("VEVENT")[0]
    content.posts = [planned(text="Edited")]
    run(url, "sync", env={"STORYLINE_NOW": "2026-11-28T13:00:00Z"})
    after = Calendar.from_ical(run(url, "calendar", "--format", "ics").output).walk("VEVENT")[0]
    assert after["UID"] == before["UID"]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert after.decoded("LAST-MODIFIED") == datetime(2026, 11, 28, 13, 0, tzinfo=UTC)


def test_status_counts_posts_per_state(content: Content, url: str) -> None:
    content.posts = [*brand(), planned("late", due=NOW - timedelta(hours=1))]
    run(url, "sync")
    out = run(url, "status").output
    assert "planned       8" in out
    assert "held          1" in out
    assert "total         9" in out


def test_status_of_one_post_shows_it_in_full_with_its_attempts(content: Content, url: str) -> None:
    from sqlalchemy import insert

    from scheduler.calendar.database import make_engine
    from scheduler.calendar.tables import Attempt

    run(url, "sync")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(
            insert(Attempt.__table__),  # type: ignore[attr-defined]
            [
                {
                    "post_id": "suv/reveal/x/fr",
                    "started_at": NOW,
                    "finished_at": NOW + timedelta(seconds=1),
                    "outcome": "transient",
                    "error": "HTTP 503 from api.x.com",
                    "http_status": 503,
                    "latency_ms": 812,
                    "worker": "w1",
                }
            ],
        )
    engine.dispose()
    out = run(url, "status", "suv/reveal/x/fr").output
    assert "post:      suv/reveal/x/fr" in out
    assert "due:       2026-12-01 09:00 CET (Europe/Paris) = 2026-12-01T08:00:00Z" in out
    assert "The comfort SUV arrives (x, fr)." in out
    assert "2026-11-28T12:00:00Z  transient  503   812 ms   w1      HTTP 503 from api.x.com" in out


def test_status_of_an_unknown_post_suggests_close_ids(content: Content, url: str) -> None:
    run(url, "sync")
    result = run(url, "status", "suv/reveal/x/fx")
    assert result.exit_code == 1
    assert "no post 'suv/reveal/x/fx' in the calendar" in result.output
    assert "did you mean suv/reveal/x/fr" in result.output


@pytest.mark.postgres
def test_commands_on_an_empty_database_ask_for_an_upgrade(pg_url: str) -> None:
    result = run(pg_url, "calendar")
    assert result.exit_code == 1
    assert "no calendar yet: run `storyline db upgrade`" in result.output


def test_an_unreachable_database_is_one_clear_line(content: Content) -> None:
    result = run("postgresql+psycopg://cal:hunter2@127.0.0.1:1/cal", "status")
    assert result.exit_code == 1
    assert "cannot connect to postgresql+psycopg://cal:***@127.0.0.1:1/cal" in result.output
    assert "hunter2" not in result.output
    assert "Traceback" not in result.output


def test_calendar_html_is_one_page_with_every_post(
    content: Content, url: str, tmp_path: Path
) -> None:
    run(url, "sync")
    page = tmp_path / "calendar.html"
    result = run(url, "calendar", "--format", "html", "-o", str(page))
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert all(p.post_id in html for p in content.posts)


def test_calendar_refuses_an_end_date_before_the_start(content: Content, url: str) -> None:
    result = run(url, "calendar", "--from", "2026-12-02", "--to", "2026-12-01")
    assert result.exit_code == 2
    assert "--to 2026-12-01 is before --from 2026-12-02" in result.output


def test_the_cli_lists_every_post_state() -> None:
    from scheduler.core.lifecycle import PostState
    from scheduler.interfaces.cli.common import POST_STATES

    assert tuple(str(s) for s in PostState) == POST_STATES


def test_importing_the_cli_does_not_import_the_database_layer() -> None:
    import subprocess
    import sys

    code = "import sys, scheduler.interfaces.cli; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_plan_on_a_fresh_clone_creates_no_database_file(content: Content, tmp_path: Path) -> None:
    database = tmp_path / "data" / "storyline.db"
    result = run(f"sqlite:///{database}", "plan")
    assert result.exit_code == 0, result.output
    assert "8 to add" in result.output
    assert not database.exists() and not database.parent.exists()


def test_db_upgrade_json_says_from_which_revision_to_which(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'c.db'}"
    head = migrate.head_revision()
    first = CliRunner().invoke(cli, ["--database-url", url, "db", "upgrade", "--format", "json"])
    assert first.exit_code == 0, first.output
    assert json.loads(first.output) == {
        "database": url,
        "before": None,
        "after": head,
        "upgraded": True,
    }
    again = CliRunner().invoke(cli, ["--database-url", url, "db", "upgrade", "--format", "json"])
    assert json.loads(again.output)["upgraded"] is False


def test_calendar_on_a_fresh_clone_points_at_sync_and_creates_nothing(tmp_path: Path) -> None:
    database = tmp_path / "data" / "storyline.db"
    for command in (["calendar"], ["status"]):
        result = run(f"sqlite:///{database}", *command)
        assert result.exit_code == 1
        assert (
            "error: no calendar yet: `storyline sync` creates it from the content "
            "(`storyline db upgrade`: an empty one)"
        ) in result.output
    assert not database.exists() and not database.parent.exists()
