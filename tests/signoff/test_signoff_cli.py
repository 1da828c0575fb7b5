"""``approve``, ``approvals``, ``validate --require-signoff`` and the bad input around them.

Every problem is a finding at file:line (never a traceback); a broken approvals file holds its
own story's posts and blocks no other story.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

ROOT = Path(__file__).resolve().parents[2]
CLAIRE = "claire@brand.example"
APPROVALS = Path("content") / "approvals" / "aurora-launch.yaml"
Run = Callable[..., Result]


def ok(result: Result) -> Result:
    assert result.exit_code == 0, result.output
    return result


def test_approve_records_who_when_and_what_each_post_sends(run: Run, brand: Path) -> None:
    out = ok(run("approve", "aurora-launch", "--as", CLAIRE)).output
    assert f"{CLAIRE} signed off 5 post(s) of aurora-launch in fr" in out  # 2 x 2 beats + followup
    text = (brand / APPROVALS).read_text(encoding="utf-8")
    assert "aurora-launch/reveal/x/fr:" in text and "/de:" not in text
    assert f"by: {CLAIRE}" in text and "at: '2026-11-20T09:00:00Z'" in text
    assert "due: '2026-12-15T08:00:00Z'" in text  # 09:00 in Paris
    assert re.search(
        r"file: media/suv-front\.jpg\n\s+alt: .+\n\s+kind: image\n\s+sha256: sha256:[0-9a-f]{64}",
        text,
    )


def test_approve_defaults_to_git_user_email(run: Run, brand: Path) -> None:
    import subprocess

    subprocess.run(["git", "init", "-q", str(brand / "content")], check=True)
    subprocess.run(
        ["git", "-C", str(brand / "content"), "config", "user.email", "fr-social@brand.example"],
        check=True,
    )
    refused = run("approve", "aurora-launch")
    assert (
        refused.exit_code == 1
        and "fr-social@brand.example is not among fr's approvers" in refused.output
    )


def test_approve_one_network_keeps_the_others(run: Run, brand: Path) -> None:
    ok(run("approve", "aurora-launch", "-n", "x", "--as", CLAIRE))
    ok(run("approve", "aurora-launch", "-n", "linkedin", "--as", "fr-social"))
    text = (brand / APPROVALS).read_text(encoding="utf-8")
    assert text.count(f"by: {CLAIRE}") == 2 and text.count("by: fr-social") == 3


def test_approve_refuses_a_story_with_errors_naming_them(
    run: Run, brand: Path, edit: Callable[..., None]
) -> None:
    edit(brand / "editorial_lines" / "x" / "reveal.j2", ("{{", "{{ no_such_variable ~ "))
    refused = run("approve", "aurora-launch", "--as", CLAIRE)
    assert refused.exit_code == 1
    assert (
        "aurora-launch has" in refused.output
        and "error(s): fix them, then approve" in refused.output
    )
    assert "reveal.j2:" in refused.output  # each error named at its file:line
    assert not (brand / APPROVALS).exists()


def test_an_approver_name_must_be_an_email_or_a_team(
    run: Run, brand: Path, edit: Callable[..., None]
) -> None:
    refused = run("approve", "aurora-launch", "--as", "Claire Dupont")
    assert refused.exit_code == 1
    assert "--as: approver 'Claire Dupont' is not an e-mail address" in refused.output
    edit(
        brand / "content" / "markets.yaml",
        (
            "approvers: [claire@brand.example, fr-social]",
            "approvers: [claire@brand.example, FR social]",
        ),
    )
    found = run("validate")
    assert found.exit_code == 1
    assert re.search(
        r"markets\.yaml:13:65: error\[bad-approver\]: "
        r"markets\.fr\.signoff\.approvers\[1\] 'FR social' is not valid",
        found.output,
    )


def test_approve_refuses_a_market_without_signoff(run: Run) -> None:
    refused = run("approve", "aurora-launch", "-m", "de", "--as", CLAIRE)
    assert refused.exit_code == 1 and "market de requires no sign-off" in refused.output


def test_a_hand_edited_hash_is_a_finding_that_blocks_no_other_story(
    run: Run, brand: Path, edit: Callable[..., None]
) -> None:
    ok(run("approve", "aurora-launch", "--as", CLAIRE))
    shutil.copy(
        ROOT / "content" / "stories" / "roadster-heritage.yaml", brand / "content" / "stories"
    )
    path = brand / APPROVALS
    text = path.read_text(encoding="utf-8")
    first = re.search(r"hash: sha256:([0-9a-f]{64})", text)
    assert first is not None
    path.write_text(text.replace(first.group(1), "0" * 64, 1), encoding="utf-8")
    line = text[: first.start()].count("\n") + 1
    found = ok(run("validate"))  # a warning: the rest of the content is fine
    assert (
        f"aurora-launch.yaml:{line}:" in found.output
        and "warning[signoff-tampered]" in found.output
    )
    report = json.loads(ok(run("approvals", "aurora-launch", "--format", "json")).output)
    states = {p["post_id"]: p["state"] for g in report["markets"] for p in g["posts"]}
    assert states["aurora-launch/followup/linkedin/fr"] == "awaiting"  # first in the file
    assert states["aurora-launch/reveal/x/fr"] == "approved"
    # sync still runs for everything else: the broken record holds only its own post
    synced = ok(run("sync"))
    assert "held" in synced.output


def test_an_approvals_record_of_an_unknown_post_is_a_finding(
    run: Run, brand: Path, edit: Callable[..., None]
) -> None:
    ok(run("approve", "aurora-launch", "--as", CLAIRE))
    edit(
        brand / "content" / "stories" / "aurora-launch.yaml",
        ("  followup: {offset: +3d, networks: [linkedin]}\n", ""),
    )
    found = ok(run("validate"))
    assert re.search(
        r"aurora-launch\.yaml:\d+:\d+: warning\[signoff-unknown-post\]: "
        r"aurora-launch/followup/linkedin/fr: no such post",
        found.output,
    )


def test_a_broken_approvals_file_is_a_warning_at_its_line(run: Run, brand: Path) -> None:
    path = brand / APPROVALS
    path.parent.mkdir(parents=True)
    path.write_text(
        "story: aurora-launch\nposts:\n  aurora-launch/reveal/x/fr: {by: claire@brand.example}\n",
        "utf-8",
    )
    found = ok(run("validate"))
    assert (
        "aurora-launch.yaml:3:3: warning[bad-approvals]: aurora-launch/reveal/x/fr: "
        "missing or invalid at, hash, sent" in found.output
    )


def test_validate_require_signoff_fails_while_signoffs_are_missing(run: Run) -> None:
    assert run("validate").exit_code == 0
    missing = run("validate", "--require-signoff")
    assert missing.exit_code == 1
    assert "error[signoff-missing]: aurora-launch: 5 post(s) await fr sign-off" in missing.output
    assert "storyline approve aurora-launch --market fr" in missing.output
    ok(run("approve", "aurora-launch", "--as", CLAIRE))
    ok(run("validate", "--require-signoff"))


def test_approvals_shows_who_approved_what_and_what_is_pending(run: Run) -> None:
    ok(run("approve", "aurora-launch", "-n", "x", "--as", CLAIRE))
    out = ok(run("approvals")).output
    assert (
        "aurora-launch · fr: 2/5 signed off, 3 pending (approvers: claire@brand.example, fr-social)"
        in out
    )
    assert f"aurora-launch/reveal/x/fr  approved by {CLAIRE} on 2026-11-20" in out
    assert "aurora-launch/reveal/linkedin/fr  awaiting fr sign-off" in out
    report = json.loads(ok(run("approvals", "aurora-launch", "--format", "json")).output)
    (group,) = report["markets"]
    assert (group["story"], group["market"], group["approved"], group["pending"]) == (
        "aurora-launch",
        "fr",
        2,
        3,
    )
    assert group["approvers"] == [CLAIRE, "fr-social"]
    post = next(p for p in group["posts"] if p["post_id"] == "aurora-launch/reveal/x/fr")
    assert (
        post["by"] == CLAIRE
        and post["at"] == "2026-11-20T09:00:00Z"
        and post["state"] == "approved"
    )


def test_the_html_preview_shows_each_cards_signoff(run: Run, tmp_path: Path) -> None:
    ok(run("approve", "aurora-launch", "-n", "x", "--as", CLAIRE))
    page = tmp_path / "preview.html"
    ok(run("preview", "aurora-launch", "--format", "html", "-o", str(page)))
    html = page.read_text(encoding="utf-8")
    assert re.search(r'data-post-id="aurora-launch/reveal/x/fr"[^>]*data-signoff="approved"', html)
    assert re.search(
        r'data-post-id="aurora-launch/reveal/linkedin/fr"[^>]*data-signoff="awaiting"', html
    )
    assert "✓ signed off by claire@brand.example" in html and "awaiting fr sign-off" in html
    assert not re.search(r'data-post-id="aurora-launch/reveal/x/de"[^>]*data-signoff', html)


def test_the_sample_brand_is_signed_off_as_it_is(tmp_path: Path) -> None:
    """The committed approvals match the sample content: re-run `storyline approve` after an
    edit to the sample (docs/signoff.md), or the French demo posts stay held."""
    from click.testing import CliRunner

    from scheduler.interfaces.cli import cli

    flags = ["--content", str(ROOT / "content"), "--lines", str(ROOT / "editorial_lines")]
    env = {"STORYLINE_DATA_DIR": str(tmp_path / "data")}
    result = CliRunner().invoke(cli, [*flags, "validate", "--require-signoff"], env=env)
    assert result.exit_code == 0, result.output


def test_an_approver_name_written_by_hand_in_the_file_is_a_finding(
    run: Run, brand: Path, edit: Callable[..., None]
) -> None:
    ok(run("approve", "aurora-launch", "-n", "x", "--as", CLAIRE))
    edit(brand / APPROVALS, (f"by: {CLAIRE}", "by: Claire Dupont"))
    found = ok(run("validate"))
    assert "warning[bad-approver]" in found.output
    assert "approver 'Claire Dupont' is not an e-mail address" in found.output
    report = json.loads(ok(run("approvals", "--format", "json")).output)
    assert {p["state"] for g in report["markets"] for p in g["posts"]} == {"awaiting"}


def test_an_approvals_file_of_a_story_the_content_lacks_is_a_finding(run: Run, brand: Path) -> None:
    ok(run("approve", "aurora-launch", "--as", CLAIRE))
    ghost = brand / "content" / "approvals" / "ghost.yaml"
    ghost.write_text("story: ghost\nposts: {}\n", encoding="utf-8")
    found = ok(run("validate"))
    assert (
        "ghost.yaml:1:1: warning[signoff-unknown-story]: sign-offs of story 'ghost'" in found.output
    )


def test_approving_the_whole_story_again_forgets_the_posts_it_lost(
    run: Run, brand: Path, edit: Callable[..., None]
) -> None:
    ok(run("approve", "aurora-launch", "--as", CLAIRE))
    edit(
        brand / "content" / "stories" / "aurora-launch.yaml",
        ("  followup: {offset: +3d, networks: [linkedin]}\n", ""),
    )
    assert "signoff-unknown-post" in ok(run("validate")).output
    ok(run("approve", "aurora-launch", "--as", CLAIRE))
    assert "aurora-launch/followup" not in (brand / APPROVALS).read_text(encoding="utf-8")
    assert "signoff-unknown-post" not in ok(run("validate")).output


def test_approve_refuses_to_overwrite_an_approvals_file_it_cannot_read(
    run: Run, brand: Path
) -> None:
    path = brand / APPROVALS
    path.parent.mkdir(parents=True)
    path.write_text("story: aurora-launch\nposts: [unclosed\n", encoding="utf-8")
    refused = run("approve", "aurora-launch", "--as", CLAIRE)
    assert refused.exit_code == 1
    assert "aurora-launch.yaml cannot be read" in refused.output
    assert path.read_text(encoding="utf-8") == "story: aurora-launch\nposts: [unclosed\n"
