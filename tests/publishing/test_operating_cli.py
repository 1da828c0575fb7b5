"""Operators in one command: `pause`, `resume`, bulk `hold / cancel / release`, `resolve`,
`restore`, `status POST_ID`'s marker, `--format json` and the audit trail of every command."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from scheduler.calendar.database import make_engine
from scheduler.calendar.tables import Post
from scheduler.interfaces.cli import cli
from scheduler.publishers.base import marker_of

from .conftest import T0, add_posts, create_schema

POST = Post.__table__  # type: ignore[attr-defined]
NOW = "2026-12-01T08:00:00Z"
LATER = T0 + timedelta(days=2)


@pytest.fixture
def calendar(tmp_path):
    url = f"sqlite:///{tmp_path / 'calendar.db'}"
    engine = make_engine(url)
    create_schema(engine)
    yield url, engine
    engine.dispose()


def invoke(url: str, *args: str, now: str = NOW):
    env = {"STORYLINE_DATABASE_URL": url, "STORYLINE_NOW": now}
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def ok(url: str, *args: str, now: str = NOW):
    result = invoke(url, *args, now=now)
    assert result.exit_code == 0, result.output
    return result


def as_json(url: str, *args: str) -> dict:
    return json.loads(ok(url, *args, "--format", "json", "--as", "ana").output)


def row(engine, post_id: str):
    with engine.connect() as conn:
        return conn.execute(select(POST).where(POST.c.post_id == post_id)).mappings().one()


def audit(url: str) -> list[dict]:
    return json.loads(ok(url, "audit", "--format", "json").output)


# --- pause / resume ----------------------------------------------------------------------------


def test_pause_all_is_shown_by_status_and_resume_lifts_it(calendar):
    url, engine = calendar
    add_posts(engine, 2, due=LATER)
    out = ok(url, "pause", "--all", "--reason", "brand crisis", "--as", "ana").output
    assert "paused: all" in out
    assert "new claims stop at the next tick; posts in flight finish" in out
    assert "2 planned or retry_wait post(s) wait for a resume" in out
    status = ok(url, "status").output
    assert "paused: all since 2026-12-01T08:00:00Z by ana (brand crisis)" in status
    assert "resumed: all" in ok(url, "resume", "--all").output
    assert "paused" not in ok(url, "status").output


def test_pause_json_lists_the_pauses_in_force(calendar):
    url, engine = calendar
    add_posts(engine, market="fr")
    out = as_json(url, "pause", "--market", "fr", "--network", "x")
    assert out["command"] == "pause" and out["by"] == "ana" and out["changed"] == 2
    assert out["selector"] == {"market": ["fr"], "network": ["x"]}
    assert [(p["scope"], p["value"]) for p in out["paused"]] == [
        ("market", "fr"),
        ("network", "x"),
    ]
    listed = json.loads(ok(url, "pause", "--list", "--format", "json").output)
    assert [p["scope"] for p in listed] == ["market", "network"]


def test_resuming_what_is_not_paused_says_so_and_changes_nothing(calendar):
    url, engine = calendar
    add_posts(engine, market="fr")
    out = ok(url, "resume", "--market", "fr").output
    assert "was not paused: market fr" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("pause", "--market", "frr"), "no market 'frr'; did you mean: fr?"),
        (("pause", "--story", "svu"), "no story 'svu'; did you mean: suv?"),
        (("pause", "--network", "twiter"), "no network 'twiter'; did you mean: x?"),
        (("pause", "--account", "facebook:10"), "no account 'facebook:10'; did you mean"),
        (("hold", "--market", "FR"), "no market 'FR'; did you mean: fr?"),
        (("cancel", "--story", "svu"), "no story 'svu'; did you mean: suv?"),
        (("release", "--account", "facebok:100"), "did you mean: facebook:100?"),
        (("resume", "--market", "frr"), "no market 'frr'; did you mean: fr?"),
    ],
)
def test_an_unknown_selector_fails_with_did_you_mean(calendar, args, message):
    url, engine = calendar
    add_posts(engine, market="fr", story="suv")
    result = invoke(url, *args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert audit(url) == []


def test_a_selector_is_required_and_account_needs_network_and_key(calendar):
    url, engine = calendar
    [post_id] = add_posts(engine)
    for command in ("pause", "resume", "hold", "cancel", "release"):
        result = invoke(url, command)
        assert result.exit_code == 2
        assert f"say which posts to {command}:" in result.output and "--all" in result.output
    result = invoke(url, "hold", "--account", "facebook")
    assert result.exit_code == 2
    assert "NETWORK:ACCOUNT" in result.output
    both = invoke(url, "cancel", post_id, "--all")
    assert both.exit_code == 2
    assert "either POST_ID or selectors" in both.output


# --- bulk hold / cancel / release --------------------------------------------------------------


def test_bulk_hold_prints_the_ids_it_changed_and_leaves_the_rest(calendar):
    url, engine = calendar
    fr = add_posts(engine, 2, market="fr", due=LATER)
    [de] = add_posts(engine, 1, market="de", due=LATER)
    [sent] = add_posts(engine, 1, market="fr", story="old", status="published")
    out = ok(url, "hold", "--market", "fr", "--reason", "recall").output
    assert "held 2 post(s) (--market fr):" in out
    assert all(f"  {p}" in out for p in fr)
    assert {row(engine, p)["status"] for p in fr} == {"held"}
    assert row(engine, fr[0])["hold_reason"] == "operator"
    assert row(engine, fr[0])["status_reason"] == "held by an operator: recall"
    assert row(engine, de)["status"] == "planned"
    assert row(engine, sent)["status"] == "published"


def test_bulk_cancel_then_bulk_release_json(calendar):
    url, engine = calendar
    ids = add_posts(engine, 2, network="x", account="BrandFR", due=LATER)
    out = as_json(url, "cancel", "--account", "x:BrandFR")
    assert out["changed"] == 2 and [p["post_id"] for p in out["posts"]] == ids
    assert {row(engine, p)["status"] for p in ids} == {"cancelled"}
    add_posts(engine, 1, story="held", network="x", account="BrandFR", due=LATER)
    ok(url, "hold", "--story", "held")
    released = as_json(url, "release", "--network", "x")
    assert released["changed"] == 1 and released["left"] == {}


def test_bulk_release_sends_late_posts_now_and_leaves_past_due_holds(calendar):
    url, engine = calendar
    [late] = add_posts(engine, status="held", hold_reason="operator", due=T0 - timedelta(hours=1))
    [past_due] = add_posts(
        engine, story="other", status="held", hold_reason="past_due", due=T0 - timedelta(days=1)
    )
    result = invoke(url, "release", "--all")
    assert result.exit_code == 0, result.output
    assert "released 1 post(s) (--all):" in result.output
    assert "left held: 1 post(s), past due: release each with `storyline release" in result.output
    assert row(engine, late)["status"] == "planned"
    assert row(engine, late)["due_utc"].replace(tzinfo=UTC) == T0
    assert row(engine, past_due)["status"] == "held"


def test_release_of_an_account_held_for_reauth_still_works(calendar):
    url, engine = calendar
    ids = add_posts(engine, 2, status="held", hold_reason="needs_reauth")
    assert "released 2 post(s)" in ok(url, "release", "--account", "facebook:100").output
    assert {row(engine, p)["status"] for p in ids} == {"planned"}


# --- resolve / restore -------------------------------------------------------------------------


def test_resolve_published_records_the_url(calendar):
    url, engine = calendar
    [post_id] = add_posts(engine, status="needs_review")
    out = as_json(url, "resolve", post_id, "--published", "https://x.com/brand/status/1")
    assert out["posts"][0]["status"] == "published"
    r = row(engine, post_id)
    assert (r["status"], r["url"], r["set_by"]) == (
        "published",
        "https://x.com/brand/status/1",
        "operator",
    )


def test_resolve_not_published_sends_it_again_now(calendar):
    url, engine = calendar
    [post_id] = add_posts(engine, status="needs_review", due=T0 - timedelta(hours=2), attempts=3)
    ok(url, "resolve", post_id, "--not-published")
    r = row(engine, post_id)
    assert (r["status"], r["attempts"]) == ("planned", 0)
    assert r["due_utc"].replace(tzinfo=UTC) == T0


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        ((), 2, "--published URL or --not-published"),
        (("--published", "x.com/1"), 2, "the post's URL (https://...)"),
    ],
)
def test_resolve_wants_what_the_operator_saw(calendar, args, code, message):
    url, engine = calendar
    [post_id] = add_posts(engine, status="needs_review")
    result = invoke(url, "resolve", post_id, *args)
    assert result.exit_code == code
    assert message in result.output


def test_resolve_applies_only_to_needs_review(calendar):
    url, engine = calendar
    [post_id] = add_posts(engine)
    result = invoke(url, "resolve", post_id, "--not-published")
    assert result.exit_code == 1
    assert "resolve applies to needs_review posts" in result.output


def test_restore_undoes_a_cancel_before_the_posts_time(calendar):
    url, engine = calendar
    [post_id] = add_posts(engine, due=LATER)
    ok(url, "cancel", post_id)
    assert "planned" in ok(url, "restore", post_id).output
    assert row(engine, post_id)["due_utc"].replace(tzinfo=UTC) == LATER


def test_restore_past_its_time_is_refused_clearly(calendar):
    url, engine = calendar
    [post_id] = add_posts(engine, status="cancelled", due=T0 - timedelta(minutes=5))
    result = invoke(url, "restore", post_id)
    assert result.exit_code == 1
    assert "cannot restore" in result.output and "was due 2026-12-01 07:55Z" in result.output
    assert "Traceback" not in result.output
    assert row(engine, post_id)["status"] == "cancelled"


def test_an_unknown_post_id_gets_a_suggestion(calendar):
    url, engine = calendar
    add_posts(engine)
    result = invoke(url, "restore", "suv/b00000/facebook/fx")
    assert result.exit_code == 1
    assert "did you mean suv/b00000/facebook/fr?" in result.output


# --- status POST_ID: the marker ----------------------------------------------------------------


def test_status_of_a_post_shows_its_marker_with_the_absolute_next_try(calendar):
    url, engine = calendar
    [post_id] = add_posts(
        engine,
        status="retry_wait",
        set_by="dispatcher",
        attempts=2,
        next_attempt_at=T0 + timedelta(seconds=31),
        status_reason="retrying at 2026-12-01 08:00:31Z: HTTP 503",
    )
    ok(url, "pause", "--market", "fr", "--as", "ana")
    out = ok(url, "status", post_id).output
    assert "state:     retry_wait (retrying at 2026-12-01 08:00:31Z: HTTP 503)" in out
    assert f"marker:      {marker_of(post_id)} (search the network for it)" in out
    assert "set by:      dispatcher" in out
    assert "next try:    2026-12-01T08:00:31Z" in out
    assert "attempts:  2" in out
    assert "paused:      market fr since 2026-12-01T08:00:00Z by ana" in out
    assert "retrying in" not in out
    marker = json.loads(ok(url, "status", post_id, "--format", "json").output)["marker"]
    assert marker["id"] == marker_of(post_id) and marker["state"] == "retry_wait"
    assert marker["next_try"] == "2026-12-01T08:00:31Z" and marker["attempts"] == 2
    assert marker["paused_by"][0]["scope"] == "market"


def test_status_of_a_held_post_shows_the_hold_reason(calendar):
    url, engine = calendar
    [post_id] = add_posts(engine, due=LATER)
    ok(url, "hold", post_id, "--reason", "legal check")
    out = ok(url, "status", post_id).output
    assert "state:     held (held by an operator: legal check)" in out
    assert "hold:        operator" in out
    assert "set by:      operator" in out


# --- --format json and the audit trail of every command ----------------------------------------


@pytest.mark.parametrize(
    ("command", "status", "extra"),
    [
        ("retry", "failed", ()),
        ("cancel", "planned", ()),
        ("publish", "held", ("--now",)),
        ("release", "held", ()),
        ("hold", "planned", ()),
        ("restore", "cancelled", ()),
    ],
)
def test_every_one_post_command_speaks_json_and_is_audited(calendar, command, status, extra):
    url, engine = calendar
    [post_id] = add_posts(engine, status=status, due=LATER, hold_reason="operator")
    out = as_json(url, command, post_id, *extra)
    assert out["command"] == command and out["by"] == "ana" and out["changed"] == 1
    assert out["selector"] == {"post": post_id}
    assert out["posts"][0]["post_id"] == post_id
    assert out["posts"][0]["status"] == row(engine, post_id)["status"]
    [entry] = audit(url)
    assert (entry["command"], entry["by"], entry["changed"]) == (command, "ana", 1)
    assert entry["selector"] == {"post": post_id}


def test_audit_lists_who_did_what_and_filters_by_time(calendar):
    url, engine = calendar
    add_posts(engine, 3, due=LATER)
    ok(url, "pause", "--all", "--as", "ana", now="2026-12-01T08:00:00Z")
    ok(url, "hold", "--market", "fr", "--as", "bo", now="2026-12-01T09:00:00Z")
    text = ok(url, "audit").output
    assert "2026-12-01T08:00:00Z  ana" in text and "pause" in text and "--all" in text
    assert "hold     --market fr" in text and "3 changed" in text
    since = json.loads(ok(url, "audit", "--since", "2026-12-01T08:30", "--format", "json").output)
    assert [e["command"] for e in since] == ["hold"]
    recent = json.loads(ok(url, "audit", "--since", "30m", "--format", "json").output)
    assert [e["by"] for e in recent] == ["ana", "bo"]  # now is 08:00: both are after 07:30


def test_audit_names_someone_without_as(calendar):
    url, engine = calendar
    [post_id] = add_posts(engine, due=LATER)
    ok(url, "cancel", post_id)
    [entry] = audit(url)
    assert entry["by"] and entry["by"] != "unknown"


def test_a_bad_since_is_a_usage_error(calendar):
    url, _ = calendar
    result = invoke(url, "audit", "--since", "yesterday")
    assert result.exit_code == 2
    assert "not a date" in result.output


def test_a_refused_command_writes_no_audit_record(calendar):
    url, engine = calendar
    [post_id] = add_posts(engine, status="published")
    assert invoke(url, "cancel", post_id).exit_code == 1
    assert audit(url) == []


def test_run_feed_lines_for_pauses(calendar):
    from scheduler.interfaces.cli.operating import pause_news

    url, engine = calendar
    add_posts(engine)
    ok(url, "pause", "--all", "--as", "ana", "--reason", "recall")
    lines, shown = pause_news(engine, set())
    assert lines == ["‖ paused: all since 2026-12-01T08:00:00Z by ana (recall)"]
    assert pause_news(engine, shown)[0] == []
    ok(url, "resume", "--all")
    assert pause_news(engine, shown)[0] == ["▶ resumed: all"]


@pytest.mark.parametrize(
    ("reason", "how"),
    [
        ("draft", "their story is a draft: approve it and sync"),
        ("awaiting_signoff", "they wait for a sign-off: `storyline approve STORY`"),
    ],
)
def test_bulk_release_leaves_the_holds_the_content_decides(calendar, reason, how):
    url, engine = calendar
    [post_id] = add_posts(engine, status="held", hold_reason=reason, due=LATER)
    result = invoke(url, "release", "--story", "suv")
    assert result.exit_code == 0, result.output
    assert "released 0 post(s) (--story suv)" in result.output
    assert f"left held: 1 post(s), {how}" in result.output
    assert row(engine, post_id)["status"] == "held"


def test_publish_now_under_a_pause_says_it_waits_for_the_resume(calendar):
    url, engine = calendar
    [post_id] = add_posts(engine, due=LATER)
    ok(url, "pause", "--market", "fr")
    result = ok(url, "publish", post_id, "--now")
    assert (
        f"note: market fr is paused: {post_id} goes out after `storyline resume --market fr`"
        in result.output
    )
