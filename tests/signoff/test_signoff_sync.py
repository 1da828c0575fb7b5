"""Sync holds a sign-off market's posts until someone who counts approved exactly them.

Runs on SQLite and PostgreSQL: the hold is a calendar state (``held``, hold reason
``awaiting_signoff``) with its reason for people, written by the real ``storyline sync``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from click.testing import Result
from sqlalchemy import create_engine, select

from scheduler.calendar.tables import Post

CLAIRE = "claire@brand.example"
FR_X = "aurora-launch/reveal/x/fr"
DE_X = "aurora-launch/reveal/x/de"
Run = Callable[..., Result]


def states(db: str) -> dict[str, tuple[str, str | None, str | None]]:
    table = Post.__table__  # type: ignore[attr-defined]
    engine = create_engine(db)
    try:
        with engine.connect() as conn:
            found = conn.execute(
                select(table.c.post_id, table.c.status, table.c.hold_reason, table.c.status_reason)
            )
            return {r.post_id: (r.status, r.hold_reason, r.status_reason) for r in found}
    finally:
        engine.dispose()


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def test_a_signoff_market_is_held_until_approved_and_others_are_planned(
    run: Run, database_url: str
) -> None:
    ok(run("db", "upgrade", db=database_url))
    ok(run("sync", db=database_url))
    rows = states(database_url)
    assert rows[FR_X] == ("held", "awaiting_signoff", "awaiting fr sign-off")
    assert rows[DE_X][0] == "planned"
    ok(run("approve", "aurora-launch", "--as", CLAIRE))
    out = ok(run("sync", db=database_url)).output
    assert "resumed" in out
    assert all(state == "planned" for state, _, _ in states(database_url).values())


def test_approve_then_edit_a_template_holds_the_post_with_its_diff_then_approve_again(
    run: Run, database_url: str, brand: Path, edit: Callable[..., None]
) -> None:
    ok(run("db", "upgrade", db=database_url))
    ok(run("approve", "aurora-launch", "--as", CLAIRE))
    ok(run("sync", db=database_url))
    assert states(database_url)[FR_X][0] == "planned"
    template = brand / "editorial_lines" / "x" / "reveal.j2"
    template.write_text(template.read_text(encoding="utf-8") + "\nNew line for X.\n", "utf-8")
    planned = ok(run("plan", "--details", db=database_url)).output
    assert f"{FR_X}" in planned and f"changed since {CLAIRE} approved it on 2026-11-20" in planned
    assert "+text: New line for X." in planned  # the diff, line by line
    preview = ok(run("preview", "aurora-launch", "-m", "fr", "-n", "x", "-b", "reveal")).output
    assert f"sign-off: changed since {CLAIRE} approved it on 2026-11-20" in preview
    assert "+text: New line for X." in preview
    ok(run("sync", db=database_url))
    rows = states(database_url)
    assert rows[FR_X] == (
        "held",
        "awaiting_signoff",
        f"changed since {CLAIRE} approved it on 2026-11-20",
    )
    assert rows[DE_X][0] == "planned"  # no sign-off in Germany: the edit just goes out
    ok(run("approve", "aurora-launch", "--market", "fr", "--as", "fr-social"))
    ok(run("sync", db=database_url))
    assert states(database_url)[FR_X][0] == "planned"


def test_a_moved_launch_voids_the_signoff(
    run: Run, database_url: str, brand: Path, edit: Callable[..., None]
) -> None:
    ok(run("db", "upgrade", db=database_url))
    ok(run("approve", "aurora-launch", "--as", CLAIRE))
    ok(run("sync", db=database_url))
    edit(
        brand / "content" / "stories" / "aurora-launch.yaml",
        ("2026-12-15 09:00", "2026-12-16 09:00"),
    )
    preview = ok(run("preview", "aurora-launch", "-m", "fr", "-n", "x", "-b", "reveal")).output
    assert "-due: 2026-12-15T08:00:00Z" in preview and "+due: 2026-12-16T08:00:00Z" in preview
    ok(run("sync", db=database_url))
    rows = states(database_url)
    assert rows[FR_X][:2] == ("held", "awaiting_signoff")
    assert rows[DE_X][0] == "planned"


def test_an_approver_who_is_not_listed_does_not_count(
    run: Run, database_url: str, brand: Path, edit: Callable[..., None]
) -> None:
    ok(run("db", "upgrade", db=database_url))
    refused = run("approve", "aurora-launch", "--as", "bob@brand.example")
    assert refused.exit_code == 1
    assert "bob@brand.example is not among fr's approvers" in refused.output
    ok(run("approve", "aurora-launch", "--as", CLAIRE))
    # Someone rewrites the file by hand: the hashes still match, the approver does not count.
    edit(
        brand / "content" / "approvals" / "aurora-launch.yaml",
        (f"by: {CLAIRE}", "by: bob@brand.example"),
    )
    validated = ok(run("validate"))
    assert "warning[signoff-not-approver]" in validated.output
    assert "aurora-launch.yaml:" in validated.output
    ok(run("sync", db=database_url))
    assert states(database_url)[FR_X] == ("held", "awaiting_signoff", "awaiting fr sign-off")


def test_a_post_signed_off_after_its_slot_is_held_as_past_due(run: Run, database_url: str) -> None:
    """Signing off late never sends late: the post moves to the past-due hold."""
    ok(run("db", "upgrade", db=database_url))
    ok(run("sync", db=database_url))
    late = "2026-12-15T12:00:00Z"  # after the 09:00 reveal in Paris, before the follow-up
    ok(run("approve", "aurora-launch", "--as", CLAIRE, now=late))
    ok(run("sync", db=database_url, now=late))
    rows = states(database_url)
    assert rows[FR_X][:2] == ("held", "past_due")
    assert rows["aurora-launch/followup/linkedin/fr"][0] == "planned"


def test_the_report_words_a_draft_hold_as_the_calendar_does() -> None:
    from scheduler.calendar.diff import REASON_DRAFT
    from scheduler.interfaces.formats import sync_report

    assert sync_report.REASON_DRAFT == REASON_DRAFT


def test_plan_json_carries_the_diff_of_a_post_changed_since_its_signoff(
    run: Run, database_url: str, brand: Path
) -> None:
    import json

    ok(run("db", "upgrade", db=database_url))
    ok(run("approve", "aurora-launch", "--as", CLAIRE))
    ok(run("sync", db=database_url))
    template = brand / "editorial_lines" / "x" / "reveal.j2"
    template.write_text(template.read_text(encoding="utf-8") + "\nNew line for X.\n", "utf-8")
    planned = json.loads(ok(run("plan", "--format", "json", db=database_url)).stdout)
    (change,) = [c for c in planned["changes"] if c["post_id"] == FR_X]
    assert change["action"] == "hold" and change["status_after"] == "held"
    assert change["reason"] == f"changed since {CLAIRE} approved it on 2026-11-20"
    assert "+text: New line for X." in change["signoff_diff"]
    (german,) = [c for c in planned["changes"] if c["post_id"] == DE_X]
    assert german["action"] == "update" and "signoff_diff" not in german
