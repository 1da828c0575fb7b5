"""A post written to the outbox says so everywhere — `status`, `calendar` (table, JSON,
iCalendar, HTML), the `run` feed — and is never shown the way a live publication is."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import update

from scheduler.calendar.database import make_engine
from scheduler.calendar.tables import Post
from scheduler.dispatch.events import Event
from scheduler.interfaces.cli import cli
from scheduler.interfaces.cli.publishing import _event_line

from .conftest import add_posts, create_schema

POST = Post.__table__  # type: ignore[attr-defined]
NOW = "2026-12-01T09:00:00Z"
OUTBOX_ID = "suv/b00000/x/us"
LIVE_ID = "van/b00000/x/fr"
RELAYED_ID = "bus/b00000/x/gb"


@pytest.fixture
def calendar(tmp_path):
    url = f"sqlite:///{tmp_path / 'calendar.db'}"
    engine = make_engine(url)
    create_schema(engine)
    add_posts(engine, story="suv", network="x", market="us", account="HoldoutUS")
    add_posts(engine, story="van", network="x", market="fr", account="HoldoutFR")
    add_posts(engine, story="bus", network="x", market="gb", account="HoldoutUK")
    add_posts(engine, story="car", network="x", market="it", account="HoldoutIT")
    published = datetime(2026, 12, 1, 8, 0, 1, tzinfo=UTC)
    with engine.begin() as conn:
        for post_id, destination, remote, url_ in (
            (OUTBOX_ID, "outbox", "outbox/x/us/suv__b00000.json", None),
            (LIVE_ID, "x", "1790", "https://x.com/HoldoutFR/status/1790"),
            (RELAYED_ID, "webhook", "agency-7", "https://agency.example/7"),
        ):
            conn.execute(
                update(POST)
                .where(POST.c.post_id == post_id)
                .values(
                    status="published",
                    destination=destination,
                    remote_id=remote,
                    url=url_,
                    published_at=published,
                )
            )
    yield url
    engine.dispose()


def invoke(url: str, *args: str):
    env = {"STORYLINE_DATABASE_URL": url, "STORYLINE_NOW": NOW}
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_status_counts_outbox_posts_apart_from_published(calendar) -> None:
    text = invoke(calendar, "status")
    assert "published (outbox)  1" in text
    assert any(line.split() == ["published", "2"] for line in text.splitlines())
    counts = json.loads(invoke(calendar, "status", "--format", "json"))
    assert (counts["published"], counts["published_outbox"], counts["planned"]) == (2, 1, 1)


def test_status_of_one_post_says_it_went_to_the_outbox(calendar) -> None:
    text = invoke(calendar, "status", OUTBOX_ID)
    assert "state:     published (outbox)" in text
    assert "the outbox only: never sent to x" in text
    assert json.loads(invoke(calendar, "status", OUTBOX_ID, "--format", "json"))["destination"] == (
        "outbox"
    )


def test_status_of_a_live_post_does_not_mention_the_outbox(calendar) -> None:
    text = invoke(calendar, "status", LIVE_ID)
    assert "state:     published\n" in text and "outbox" not in text
    assert json.loads(invoke(calendar, "status", LIVE_ID, "--format", "json"))["destination"] == "x"


def test_status_of_a_relayed_post_names_its_relay(calendar) -> None:
    text = invoke(calendar, "status", RELAYED_ID)
    assert "published (webhook)" in text and "x, relayed through webhook" in text


def test_the_calendar_table_and_json_label_outbox_posts(calendar) -> None:
    table = invoke(calendar, "calendar")
    [outbox_line] = [line for line in table.splitlines() if "suv/b00000" in line]
    [live_line] = [line for line in table.splitlines() if "van/b00000" in line]
    assert "published (outbox)" in outbox_line
    assert "published" in live_line and "outbox" not in live_line
    rows = {r["post_id"]: r for r in json.loads(invoke(calendar, "calendar", "--format", "json"))}
    assert rows[OUTBOX_ID]["destination"] == "outbox"
    assert rows[LIVE_ID]["destination"] == "x"
    assert rows["car/b00000/x/it"]["destination"] is None


def test_the_icalendar_export_labels_outbox_posts(calendar) -> None:
    from icalendar import Calendar

    ics = Calendar.from_ical(invoke(calendar, "calendar", "--format", "ics"))
    events = {str(e["uid"]): e for e in ics.walk("VEVENT")}
    outbox, live = events[f"{OUTBOX_ID}@storyline"], events[f"{LIVE_ID}@storyline"]
    assert str(outbox["summary"]).startswith("[outbox: x/us]")
    assert "published (outbox)" in str(outbox["description"])
    assert "never sent to x" in str(outbox["description"])
    assert "outbox" not in str(live["summary"]) + str(live["description"])


def test_the_html_calendar_gives_outbox_posts_a_state_of_their_own(calendar) -> None:
    html = invoke(calendar, "calendar", "--format", "html")
    assert f'data-post-id="{OUTBOX_ID}"' in html
    outbox_entry = html.split(f'data-post-id="{OUTBOX_ID}"')[1].split(">")[0]
    live_entry = html.split(f'data-post-id="{LIVE_ID}"')[1].split(">")[0]
    assert 'data-status="outbox"' in outbox_entry
    assert 'data-status="published"' in live_entry
    assert "outbox (not sent)" in html


def event(destination: str | None, remote_id: str, url: str | None, network: str = "x") -> Event:
    return Event(
        post_id="vela-launch/teaser/x/us",
        status="published",
        network=network,
        market="us",
        due_utc=datetime(2026, 12, 1, 14, 0, tzinfo=UTC),
        timezone="America/New_York",
        remote_id=remote_id,
        url=url,
        reason=None,
        at=datetime(2026, 12, 1, 14, 0, tzinfo=UTC),
        destination=destination,
    )


def test_the_run_feed_never_shows_an_outbox_post_like_a_publication() -> None:
    outbox = _event_line(event("outbox", "outbox/x/us/vela-launch__teaser.json", None))
    live = _event_line(event("x", "1790", "https://x.com/HoldoutUS/status/1790"))
    assert "✓" not in outbox and "⇥" in outbox
    assert "→ outbox, not sent to x: outbox/x/us/vela-launch__teaser.json" in outbox
    assert "✓" in live and "→ https://x.com/HoldoutUS/status/1790" in live
    assert "outbox" not in live


def test_the_run_feed_names_the_relay_of_a_relayed_post() -> None:
    line = _event_line(event("webhook", "agency-7", "https://agency.example/7"))
    assert "→ https://agency.example/7 (via webhook)" in line
