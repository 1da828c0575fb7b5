"""Output that scales to 70 markets (issue 16, item 4): `plan` and `sync` say one line per story
first and each post with `--details` (an "update text" as a diff); `--story`, `--market` and
`--network` narrow `plan`, `sync --dry-run`, `calendar` and `status`, every name checked the
same way, with the same "did you mean", as `preview` and the operator commands."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from scheduler.interfaces.cli import cli

NOW = "2026-11-20T09:00:00Z"  # before the sample's launch week
Run = Callable[..., Result]


@pytest.fixture
def run(brand: Path) -> Run:
    def invoke(*args: str) -> Result:
        flags = ["--content", str(brand / "content"), "--lines", str(brand / "editorial_lines")]
        env = {"STORYLINE_DATA_DIR": str(brand / "data"), "STORYLINE_NOW": NOW}
        return CliRunner().invoke(cli, [*flags, *args], env=env)

    return invoke


def quieter_headline(brand: Path) -> None:
    story = brand / "content" / "stories" / "aurora-launch.yaml"
    text = story.read_text(encoding="utf-8")
    old = "  headline: Meet Aurora, the comfort SUV"
    assert old in text
    story.write_text(text.replace(old, "  headline: Meet Aurora, the quiet comfort SUV"), "utf-8")


def test_plan_says_one_line_per_story_then_the_totals(run: Run) -> None:
    result = run("plan")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "6 story(ies) change (--details lists each post):",
        "  aurora-launch         84 to add",
        "  ev-charging-dst       63 to add",
        "  fleet-economics       23 to add",
        "  nova-world-premiere   61 to add",
        "  recall-airbag-notice  8 to add",
        "  roadster-heritage     18 to add",
        "1 story(ies) without change",
        "9 post(s) of draft stories are not planned",
        "257 to add, 0 unchanged",
    ]


def test_an_update_text_shows_the_text_before_and_after_as_a_diff(run: Run, brand: Path) -> None:
    assert run("sync").exit_code == 0
    quieter_headline(brand)
    summary = run("plan").stdout.splitlines()
    assert summary[:2] == [
        "1 story(ies) change (--details lists each post):",
        "  aurora-launch  15 to update, 69 unchanged",
    ]
    details = run("plan", "--details", "-s", "aurora-launch", "-m", "gb", "-n", "x").stdout
    assert (
        "update text (1):\n"
        "  aurora-launch/reveal/x/gb  2026-12-15 09:00 GMT (Europe/London)\n"
        "      -Meet Aurora, the comfort SUV\n"
        "      +Meet Aurora, the quiet comfort SUV\n"
        "\n"
    ) in details, "only the lines that change"
    assert details.rstrip().endswith(
        "1 to update, 1 unchanged\n"
        "shown: --story aurora-launch --market gb --network x only; a sync is always whole"
    )


def test_sync_details_show_the_diff_of_what_it_just_changed(run: Run, brand: Path) -> None:
    assert run("sync").exit_code == 0
    quieter_headline(brand)
    out = run("sync", "--details").stdout
    assert "      -Meet Aurora, the comfort SUV\n      +Meet Aurora, the quiet comfort SUV" in out
    assert out.rstrip().endswith("15 updated, 242 unchanged")
    assert run("plan").stdout.splitlines()[-1] == "no change (257 unchanged)"


def test_sync_dry_run_is_plan_and_writes_nothing(run: Run, brand: Path) -> None:
    assert run("sync").exit_code == 0
    quieter_headline(brand)
    dry = run("sync", "--dry-run", "--story", "aurora-launch", "--network", "x")
    assert dry.exit_code == 0, dry.output
    assert dry.stdout == run("plan", "--story", "aurora-launch", "--network", "x").stdout
    assert "  aurora-launch  2 to update, 10 unchanged" in dry.stdout
    assert "15 to update" in run("plan").stdout  # nothing was written


def test_a_sync_itself_is_never_narrowed(run: Run) -> None:
    result = run("sync", "--market", "fr")
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "error: --story, --market and --network narrow what `sync --dry-run` and `plan` show; "
        "a sync itself is always whole"
    )


def test_plan_json_keeps_its_keys_and_adds_the_stories_and_the_filters(run: Run) -> None:
    data = json.loads(run("plan", "--format", "json", "-m", "fr", "-n", "x").stdout)
    assert data["filters"] == {"market": ["fr"], "network": ["x"]}
    assert {c["market"] for c in data["changes"]} == {"fr"}
    assert {c["network"] for c in data["changes"]} == {"x"}
    stories = {s["story"]: s["counts"] for s in data["stories"]}
    assert stories["aurora-launch"] == {"add": 2}
    assert data["counts"]["add"] == sum(s.get("add", 0) for s in stories.values())


WHERE = {
    "plan": ["plan"],
    "sync --dry-run": ["sync", "--dry-run"],
    "calendar": ["calendar"],
    "status": ["status"],
    "preview": ["preview", "aurora-launch"],
}


@pytest.mark.parametrize("command", sorted(WHERE))
def test_a_former_network_name_gets_its_new_name_everywhere(run: Run, command: str) -> None:
    assert run("sync").exit_code == 0
    result = run(*WHERE[command], "-n", "twitter")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no network 'twitter'; did you mean: x?")


@pytest.mark.parametrize("command", sorted(WHERE))
def test_an_unknown_market_is_an_error_everywhere(run: Run, command: str) -> None:
    assert run("sync").exit_code == 0
    result = run(*WHERE[command], "-m", "xx")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "error: no market 'xx'; the markets are: br, cn, de, fr, gb, hu, it, us"
    )


@pytest.mark.parametrize("command", ["plan", "sync --dry-run", "calendar", "status"])
def test_a_story_typo_gets_a_did_you_mean(run: Run, command: str) -> None:
    assert run("sync").exit_code == 0
    result = run(*WHERE[command], "-s", "aurora-lanch")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: no story 'aurora-lanch'; did you mean: aurora-launch?")


def test_calendar_and_status_narrow_to_the_same_posts(run: Run) -> None:
    assert run("sync").exit_code == 0
    rows = json.loads(run("calendar", "--format", "json", "-s", "aurora-launch", "-m", "fr").stdout)
    assert rows and {(r["story"], r["market"]) for r in rows} == {("aurora-launch", "fr")}
    counts = json.loads(run("status", "--format", "json", "-s", "aurora-launch", "-m", "fr").stdout)
    assert sum(counts.values()) == len(rows)


def test_a_filter_on_an_empty_calendar_says_what_fills_it(run: Run) -> None:
    assert run("db", "upgrade").exit_code == 0
    result = run("calendar", "-m", "fr")
    assert result.exit_code == 1
    assert result.stderr == (
        "error: no market 'fr': there are none in the calendar, which holds no post yet "
        "(`storyline sync` fills it)\n"
    )


def test_filters_and_the_update_diff_on_sqlite_and_postgresql(
    brand: Path, database_url: str
) -> None:
    def run_on(*args: str) -> Result:
        flags = ["--content", str(brand / "content"), "--lines", str(brand / "editorial_lines")]
        env = {"STORYLINE_DATA_DIR": str(brand / "data"), "STORYLINE_NOW": NOW}
        return CliRunner().invoke(cli, [*flags, "--database-url", database_url, *args], env=env)

    assert run_on("db", "upgrade").exit_code == 0
    assert run_on("sync").exit_code == 0
    quieter_headline(brand)
    out = run_on("sync", "--dry-run", "--details", "-m", "gb", "-n", "x", "-s", "aurora-launch")
    assert out.exit_code == 0, out.output
    assert "      +Meet Aurora, the quiet comfort SUV" in out.stdout
    status = run_on("status", "-n", "twitter")
    assert status.stderr.startswith("error: no network 'twitter'; did you mean: x?")
