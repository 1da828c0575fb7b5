"""X threads, opt-in: what ``validate`` and ``preview`` say of a long X post."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

Run = Callable[..., Result]

LONG = (
    "Aurora is the SUV we built around the people inside it. Its seats were shaped with "
    "physiotherapists who sat in them for weeks. Its cabin is as quiet as a library, at 32 dB "
    "at 100 km/h. Its suspension reads the road ahead and smooths it before you feel it. "
    "Seven seats in three rows, and every one of them is a good one. It drives 600 km on one "
    "charge, and charges back to 80% in 20 minutes."
)
GIANT = " ".join(["Aurora keeps its cabin calm"] * 12) + "."


def story(brand: Path, *, headline: str = LONG, thread: str | None = "true") -> Path:
    """One approved story told on X in one market, its X headline long."""
    for old in (brand / "content/stories").glob("*.yaml"):
        old.unlink()
    for old in (brand / "content/approvals").glob("*.yaml"):
        old.unlink()
    switch = f"      thread: {thread}\n" if thread is not None else ""
    path = brand / "content/stories/long-read.yaml"
    path.write_text(
        "title: The long read\n"
        "status: approved\n"
        "launch: 2026-12-15 09:00\n"
        "networks: [x, facebook]\n"
        "markets: [gb]\n"
        "story:\n"
        "  headline: Aurora is here.\n"
        "link: https://holdout.example/aurora\n"
        "overrides:\n"
        "  network:\n"
        "    x:\n"
        f"{switch}"
        f"      headline: {json.dumps(headline)}\n",
        encoding="utf-8",
    )
    return path


def test_without_the_switch_a_long_x_post_is_too_long(run: Run, brand: Path) -> None:
    story(brand, thread=None)
    result = run("validate", root=brand)
    assert result.exit_code == 1
    assert "error[x-too-long]" in result.output


def test_a_thread_post_is_not_too_long(run: Run, brand: Path) -> None:
    story(brand)
    result = run("validate", root=brand)
    assert result.exit_code == 0, result.output
    assert "x-too-long" not in result.output


def test_the_x_line_can_switch_threads_on_for_every_story(run: Run, brand: Path) -> None:
    story(brand, thread=None)
    line = brand / "editorial_lines/x/line.yaml"
    line.write_text(line.read_text(encoding="utf-8") + "thread: true\n", encoding="utf-8")
    result = run("validate", root=brand)
    assert result.exit_code == 0, result.output


def test_the_story_can_switch_off_what_the_line_switched_on(run: Run, brand: Path) -> None:
    story(brand, thread="false")
    line = brand / "editorial_lines/x/line.yaml"
    line.write_text(line.read_text(encoding="utf-8") + "thread: true\n", encoding="utf-8")
    result = run("validate", root=brand)
    assert "error[x-too-long]" in result.output


def test_a_sentence_that_cannot_fit_one_post_is_an_error_at_the_field_that_wrote_it(
    run: Run, brand: Path
) -> None:
    path = story(brand, headline=f"Meet Aurora. {GIANT} Ask us.")
    result = run("validate", root=brand)
    assert result.exit_code == 1
    (line,) = [ln for ln in result.output.splitlines() if "x-thread-sentence-too-long" in ln]
    at = f"{path}:13:17"  # overrides.network.x.headline, the field that wrote the sentence
    assert line.startswith(f"{at}: error[x-thread-sentence-too-long]: long-read/reveal/x/gb:")
    assert (
        "X thread: a sentence is 336 long, over what one post of the thread holds with its "
        "number (280): split it into shorter sentences ('Aurora keeps its cabin calm Aurora "
        "keeps its cabin calm Aur…')"
    ) in line


def test_a_thread_switch_on_another_network_is_an_error_at_its_line(run: Run, brand: Path) -> None:
    path = story(brand)
    path.write_text(
        path.read_text(encoding="utf-8") + "    facebook:\n      thread: true\n", encoding="utf-8"
    )
    result = run("validate", root=brand)
    assert result.exit_code == 1
    assert (
        f"{path}:15:15: error[thread-not-x]: overrides.network.facebook.thread: only X posts "
        "can be threads; remove it, or move it under overrides.network.x"
    ) in result.output


def test_a_thread_switch_in_another_line_is_an_error(run: Run, brand: Path) -> None:
    story(brand)
    line = brand / "editorial_lines/facebook/line.yaml"
    line.write_text(line.read_text(encoding="utf-8") + "thread: true\n", encoding="utf-8")
    result = run("validate", root=brand)
    assert result.exit_code == 1
    assert "error[thread-not-x]: thread: only X posts can be threads, not facebook's" in (
        result.output
    )


def test_preview_text_shows_each_post_of_the_thread(run: Run, brand: Path) -> None:
    story(brand)
    result = run("preview", "long-read", "--network", "x", root=brand)
    assert result.exit_code == 0, result.output
    assert "thread 1/3 · 184/280" in result.output  # parts as even as sentences allow
    assert "thread 3/3" in result.output
    assert "utm_content=long-read%2Freveal%2Fx%2Fgb 1/3" in result.output  # the link first
    assert "length 534 in a thread of 3 posts" in result.output


def test_preview_json_lists_the_thread(run: Run, brand: Path) -> None:
    story(brand)
    result = run("preview", "long-read", "--network", "x", "--format", "json", root=brand)
    (post,) = json.loads(result.output)
    assert [p.rsplit(" ", 1)[1] for p in post["thread"]] == ["1/3", "2/3", "3/3"]
    assert post["findings"] == []


def test_preview_html_draws_the_thread_as_replies(run: Run, brand: Path, tmp_path: Path) -> None:
    story(brand)
    page = tmp_path / "p.html"
    result = run(
        "preview", "long-read", "--network", "x", "--format", "html", "-o", str(page), root=brand
    )
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert html.count('class="thread-part"') == 3
    assert "thread of 3 · 534 in all" in html
    assert "badge-length over" not in html


def test_status_shows_the_posts_a_synced_thread_goes_out_as(run: Run, brand: Path) -> None:
    story(brand)
    assert run("sync", root=brand).exit_code == 0
    result = run("status", "long-read/reveal/x/gb", root=brand)
    assert result.exit_code == 0, result.output
    shown = result.output.split("sent as a thread of 3 posts:\n", 1)[1]
    parts = [p.strip() for p in shown.split("\n\n") if p.strip()][:3]
    assert [p.rsplit(" ", 1)[1] for p in parts] == ["1/3", "2/3", "3/3"]
    assert "utm_content=long-read%2Freveal%2Fx%2Fgb 1/3" in parts[0]  # the link first


def test_status_json_lists_the_parts_of_a_thread(run: Run, brand: Path) -> None:
    story(brand)
    run("sync", root=brand)
    result = run("status", "long-read/reveal/x/gb", "--format", "json", root=brand)
    post = json.loads(result.output)
    assert [p.rsplit(" ", 1)[1] for p in post["thread"]] == ["1/3", "2/3", "3/3"]


def test_status_of_a_post_that_fits_shows_no_thread(run: Run, brand: Path) -> None:
    story(brand, headline="Aurora is here.")
    run("sync", root=brand)
    text = run("status", "long-read/reveal/x/gb", root=brand).output
    as_json = json.loads(
        run("status", "long-read/reveal/x/gb", "--format", "json", root=brand).output
    )
    assert "sent as a thread" not in text
    assert as_json["thread"] == []
