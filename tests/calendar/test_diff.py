"""Every outcome of plan/sync, on SQLite and PostgreSQL: what the diff says and what sync writes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine

from scheduler.calendar import apply, diff
from scheduler.calendar.diff import Action

from .conftest import LAUNCH, NOW, brand, planned, rows, set_state


def sync(engine: Engine, posts: list, now=NOW) -> diff.Diff:  # type: ignore[no-untyped-def]
    return apply.sync(engine, posts, now).diff


def only(d: diff.Diff, action: Action) -> diff.Change:
    found = d.of(action)
    assert len(found) == 1, d.changes
    return found[0]


def test_a_new_post_in_the_future_is_added_as_planned(engine: Engine) -> None:
    d = sync(engine, [planned()])
    assert only(d, Action.ADD).post_id == "suv/reveal/x/fr"
    row = rows(engine)["suv/reveal/x/fr"]
    assert row["status"] == "planned"
    assert row["text"] == "The comfort SUV arrives (x, fr)."
    assert row["attempts"] == 0


def test_a_second_sync_changes_nothing(engine: Engine) -> None:
    posts = brand()
    sync(engine, posts)
    before = rows(engine)
    d = sync(engine, posts)
    assert not d.has_changes
    assert d.counts[Action.UNCHANGED] == len(posts)
    assert rows(engine) == before


def test_plan_writes_nothing(engine: Engine) -> None:
    d = diff.compare(engine, brand(), NOW)
    assert d.counts[Action.ADD] == 8
    assert rows(engine) == {}


def test_plan_then_sync_apply_the_same_changes(engine: Engine) -> None:
    posts = brand()
    sync(engine, posts)
    edited = [*posts[1:], planned("suv", "reveal", "x", "gb")]
    assert diff.compare(engine, edited, NOW).changes == sync(engine, edited).changes


def test_new_text_is_an_update_in_place(engine: Engine) -> None:
    sync(engine, [planned()])
    d = sync(engine, [planned(text="Now with heated seats.")])
    change = only(d, Action.UPDATE)
    assert change.text_changed
    row = rows(engine)["suv/reveal/x/fr"]
    assert (row["text"], row["status"]) == ("Now with heated seats.", "planned")


def test_a_moved_launch_is_a_reschedule_from_the_old_to_the_new_time(engine: Engine) -> None:
    sync(engine, [planned()])
    later = LAUNCH + timedelta(days=1)
    change = only(sync(engine, [planned(due=later)]), Action.RESCHEDULE)
    assert (change.due_before, change.due_after) == (LAUNCH, later)
    assert not change.text_changed
    assert rows(engine)["suv/reveal/x/fr"]["due_utc"] == later


def test_a_reschedule_with_new_text_says_so(engine: Engine) -> None:
    sync(engine, [planned()])
    d = sync(engine, [planned(due=LAUNCH + timedelta(hours=2), text="New")])
    assert only(d, Action.RESCHEDULE).text_changed
    assert rows(engine)["suv/reveal/x/fr"]["text"] == "New"


def test_a_removed_story_cancels_its_planned_posts(engine: Engine) -> None:
    sync(engine, [planned(), planned("van")])
    change = only(sync(engine, [planned()]), Action.CANCEL)
    assert change.post_id == "van/reveal/x/fr"
    assert change.reason == "removed from the content: story removed"
    row = rows(engine)["van/reveal/x/fr"]
    assert (row["status"], row["status_reason"]) == ("cancelled", change.reason)


@pytest.mark.parametrize(
    ("removed", "reason"),
    [
        (planned(beat="teaser"), "beat 'teaser' removed"),
        (planned(network="facebook"), "network 'facebook' removed from the story"),
        (planned(market="de"), "market 'de' removed from the story"),
    ],
    ids=["beat", "network", "market"],
)
def test_a_removed_beat_network_or_market_cancels_with_that_reason(
    engine: Engine, removed: object, reason: str
) -> None:
    sync(engine, [planned(), removed])  # type: ignore[list-item]
    change = only(sync(engine, [planned()]), Action.CANCEL)
    assert change.reason == f"removed from the content: {reason}"


def test_a_story_back_to_draft_holds_its_posts(engine: Engine) -> None:
    sync(engine, [planned()])
    change = only(sync(engine, [planned(draft=True)]), Action.HOLD)
    assert change.reason == "story is draft"
    row = rows(engine)["suv/reveal/x/fr"]
    assert (row["status"], row["status_reason"]) == ("held", "story is draft")


def test_a_draft_story_approved_again_resumes_its_posts(engine: Engine) -> None:
    sync(engine, [planned()])
    sync(engine, [planned(draft=True)])
    only(sync(engine, [planned()]), Action.RESUME)
    row = rows(engine)["suv/reveal/x/fr"]
    assert (row["status"], row["status_reason"]) == ("planned", None)


def test_a_draft_approved_after_its_slot_is_held_past_due(engine: Engine) -> None:
    sync(engine, [planned()])
    sync(engine, [planned(draft=True)])
    after_launch = LAUNCH + timedelta(hours=1)
    only(sync(engine, [planned()], now=after_launch), Action.PAST_DUE)
    row = rows(engine)["suv/reveal/x/fr"]
    assert (row["status"], row["status_reason"]) == ("held", "past due")


def test_a_draft_story_never_reaches_the_calendar(engine: Engine) -> None:
    d = sync(engine, [planned(draft=True)])
    assert d.changes == ()
    assert d.drafts_skipped == 1
    assert rows(engine) == {}


def test_a_new_post_whose_slot_has_passed_is_held_past_due_not_sent_late(engine: Engine) -> None:
    change = only(sync(engine, [planned(due=NOW - timedelta(minutes=5))]), Action.PAST_DUE)
    assert change.status_after == "held"
    row = rows(engine)["suv/reveal/x/fr"]
    assert (row["status"], row["status_reason"]) == ("held", "past due")


def test_a_past_due_post_stays_held_and_unchanged_on_the_next_sync(engine: Engine) -> None:
    post = planned(due=NOW - timedelta(minutes=5))
    sync(engine, [post])
    d = sync(engine, [post])
    assert not d.has_changes
    assert rows(engine)["suv/reveal/x/fr"]["status"] == "held"


def test_a_post_moved_into_the_past_is_held_past_due(engine: Engine) -> None:
    sync(engine, [planned()])
    only(sync(engine, [planned(due=NOW - timedelta(hours=1))]), Action.PAST_DUE)
    assert rows(engine)["suv/reveal/x/fr"]["status_reason"] == "past due"


def test_a_past_due_post_moved_into_the_future_is_planned_again(engine: Engine) -> None:
    sync(engine, [planned(due=NOW - timedelta(hours=1))])
    change = only(sync(engine, [planned()]), Action.RESCHEDULE)
    assert change.status_after == "planned"
    row = rows(engine)["suv/reveal/x/fr"]
    assert (row["status"], row["status_reason"]) == ("planned", None)


def test_an_edit_after_publishing_is_locked_and_not_applied(engine: Engine) -> None:
    sync(engine, [planned()])
    set_state(engine, "suv/reveal/x/fr", "published")
    change = only(sync(engine, [planned(text="Too late")]), Action.LOCKED)
    assert change.reason.startswith("published: the content changed")
    row = rows(engine)["suv/reveal/x/fr"]
    assert (row["text"], row["status"]) == ("The comfort SUV arrives (x, fr).", "published")


def test_a_locked_post_alone_is_no_change(engine: Engine) -> None:
    sync(engine, [planned()])
    set_state(engine, "suv/reveal/x/fr", "published")
    assert not sync(engine, [planned(text="Too late")]).has_changes


def test_a_published_post_whose_slot_moved_is_not_reported(engine: Engine) -> None:
    """Its time is history; `storyline release` or `publish --now` may have moved it anyway."""
    sync(engine, [planned()])
    set_state(engine, "suv/reveal/x/fr", "published")
    assert not sync(engine, [planned(due=LAUNCH + timedelta(days=1))]).changes


@pytest.mark.parametrize(
    "reason",
    ["released past due (was due 2026-12-01 08:00Z)", "published now by an operator"],
)
def test_a_slot_moved_by_an_operator_is_kept_until_the_post_goes_out(
    engine: Engine, reason: str
) -> None:
    from sqlalchemy import update

    from scheduler.calendar.tables import Post

    sync(engine, [planned(due=NOW - timedelta(hours=1))])  # held, past due
    with engine.begin() as conn:  # what `storyline release` does
        conn.execute(
            update(Post.__table__)  # type: ignore[attr-defined]
            .where(Post.__table__.c.post_id == "suv/reveal/x/fr")  # type: ignore[attr-defined]
            .values(status="planned", status_reason=reason, due_utc=NOW, set_by="operator")
        )
    d = sync(engine, [planned(due=NOW - timedelta(hours=1))], now=NOW + timedelta(seconds=1))
    assert (d.changes, d.unchanged) == ((), 1)
    row = rows(engine)["suv/reveal/x/fr"]
    assert (row["status"], row["due_utc"]) == ("planned", NOW)


def test_new_text_still_reaches_a_post_an_operator_released(engine: Engine) -> None:
    sync(engine, [planned()])
    set_state(engine, "suv/reveal/x/fr", "planned", "released", set_by="operator")
    only(sync(engine, [planned(text="Edited", due=LAUNCH + timedelta(1))]), Action.UPDATE)
    row = rows(engine)["suv/reveal/x/fr"]
    assert (row["text"], row["due_utc"], row["status_reason"]) == ("Edited", LAUNCH, "released")


@pytest.mark.parametrize("state", ["queued", "publishing", "retry_wait", "reconciling"])
def test_an_edit_to_a_post_in_flight_is_locked_and_not_applied(engine: Engine, state: str) -> None:
    sync(engine, [planned()])
    set_state(engine, "suv/reveal/x/fr", state)
    change = only(sync(engine, [planned(text="Changed", due=LAUNCH + timedelta(1))]), Action.LOCKED)
    assert change.reason.startswith(f"in flight ({state})")
    row = rows(engine)["suv/reveal/x/fr"]
    assert (row["text"], row["due_utc"], row["status"]) == (
        "The comfort SUV arrives (x, fr).",
        LAUNCH,
        state,
    )


def test_a_post_in_flight_removed_from_the_content_is_locked_not_cancelled(
    engine: Engine,
) -> None:
    sync(engine, [planned(), planned("van")])
    set_state(engine, "van/reveal/x/fr", "queued")
    change = only(sync(engine, [planned()]), Action.LOCKED)
    assert "storyline cancel van/reveal/x/fr" in change.reason
    assert rows(engine)["van/reveal/x/fr"]["status"] == "queued"


def test_a_published_post_of_a_removed_story_is_left_as_history(engine: Engine) -> None:
    sync(engine, [planned(), planned("van")])
    set_state(engine, "van/reveal/x/fr", "published")
    d = sync(engine, [planned()])
    assert (d.changes, d.unchanged) == ((), 1)  # the published van post is not even listed
    assert rows(engine)["van/reveal/x/fr"]["status"] == "published"


def test_a_story_back_to_draft_after_publishing_is_left_alone(engine: Engine) -> None:
    sync(engine, [planned()])
    set_state(engine, "suv/reveal/x/fr", "published")
    assert sync(engine, [planned(draft=True)]).counts[Action.UNCHANGED] == 1
    assert rows(engine)["suv/reveal/x/fr"]["status"] == "published"


def test_a_post_cancelled_by_sync_comes_back_with_its_content(engine: Engine) -> None:
    sync(engine, [planned()])
    sync(engine, [])
    change = only(sync(engine, [planned()]), Action.ADD)
    assert change.reason == "back in the content"
    row = rows(engine)["suv/reveal/x/fr"]
    assert (row["status"], row["status_reason"]) == ("planned", None)


def test_a_post_cancelled_by_an_operator_stays_cancelled(engine: Engine) -> None:
    sync(engine, [planned()])
    set_state(engine, "suv/reveal/x/fr", "cancelled", "cancelled by alice", set_by="operator")
    assert not sync(engine, [planned()]).has_changes
    change = only(sync(engine, [planned(text="Edited")]), Action.LOCKED)
    assert change.reason.startswith("cancelled by an operator")
    assert rows(engine)["suv/reveal/x/fr"]["status"] == "cancelled"


def test_a_post_held_for_re_authorisation_gets_new_text_but_stays_held(engine: Engine) -> None:
    sync(engine, [planned()])
    set_state(engine, "suv/reveal/x/fr", "held", "account needs re-auth")
    only(sync(engine, [planned(text="Edited")]), Action.UPDATE)
    row = rows(engine)["suv/reveal/x/fr"]
    assert (row["text"], row["status"], row["status_reason"]) == (
        "Edited",
        "held",
        "account needs re-auth",
    )


def test_a_post_claimed_after_the_diff_is_skipped_not_rewritten(engine: Engine) -> None:
    """The guard on the status seen: a dispatcher may claim a post between diff and write."""
    sync(engine, [planned()])
    with engine.connect() as conn:
        d = diff.diff(conn, [planned(text="Edited")], NOW)
    set_state(engine, "suv/reveal/x/fr", "queued")
    with engine.begin() as conn:
        skipped = apply.apply(conn, d, NOW)
    row = rows(engine)["suv/reveal/x/fr"]
    assert (row["text"], row["status"]) == ("The comfort SUV arrives (x, fr).", "queued")
    assert skipped == 1


def test_the_counts_cover_every_action(engine: Engine) -> None:
    sync(engine, brand())
    d = diff.compare(engine, [*brand()[1:], planned("van")], NOW)
    assert d.counts == {
        Action.ADD: 1,
        Action.UPDATE: 0,
        Action.RESCHEDULE: 0,
        Action.CANCEL: 1,
        Action.HOLD: 0,
        Action.RESUME: 0,
        Action.PAST_DUE: 0,
        Action.LOCKED: 0,
        Action.UNCHANGED: 7,
    }


def test_a_plan_listing_a_post_twice_is_refused(engine: Engine) -> None:
    from scheduler.core.errors import DatabaseError

    with pytest.raises(DatabaseError, match="twice"):
        diff.compare(engine, [planned(), planned()], NOW)


def test_rows_sync_is_told_to_leave_are_neither_cancelled_nor_rewritten(engine: Engine) -> None:
    sync(engine, brand(stories=("suv", "van")))
    before = rows(engine)

    def leave(story: str, market: str, network: str) -> bool:
        return story == "suv" or market == "de"

    edited = [planned("van", market="fr", text="New text"), planned("van", market="de", text="x")]
    d = apply.sync(engine, edited, NOW, leave=leave).diff
    after = rows(engine)
    assert d.left == 12  # suv's 8 posts, van's 4 in de
    assert {k: v for k, v in after.items() if k.startswith("suv/") or k.endswith("/de")} == {
        k: v for k, v in before.items() if k.startswith("suv/") or k.endswith("/de")
    }
    assert after["van/reveal/x/fr"]["text"] == "New text"
    assert d.counts[Action.ADD] == 0
