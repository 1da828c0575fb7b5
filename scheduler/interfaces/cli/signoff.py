"""Commands for reviewers: ``approve`` (sign off posts) and ``approvals`` (who signed what)."""

from __future__ import annotations

import click

from scheduler.app.settings import Settings
from scheduler.interfaces.cli.common import TEXT_OR_JSON, clock_now, echo_json, pass_settings


@click.command("approve")
@click.argument("story")
@click.option("-m", "--market", "markets", multiple=True, help="Only this market (repeatable).")
@click.option("-n", "--network", "networks", multiple=True, help="Only this network (repeatable).")
@click.option(
    "--as",
    "by",
    metavar="NAME",
    help="Who signs off: an e-mail or a team name (default: git config user.email).",
)
@pass_settings
def approve_command(
    settings: Settings,
    story: str,
    markets: tuple[str, ...],
    networks: tuple[str, ...],
    by: str | None,
) -> None:
    """Sign off STORY's posts in its sign-off markets, bound to exactly what each will send.

    Writes content/approvals/STORY.yaml (commit it: CODEOWNERS reviews it). Any later change
    to a post (text, media, link, account, due time) voids its sign-off: sync holds it again.
    """
    from scheduler.app.signoff import approve

    done = approve(
        settings, story, markets=markets, networks=networks, by=by, now=clock_now(settings)
    )
    click.echo(
        f"{done.by} signed off {len(done.posts)} post(s) of {story} in "
        f"{', '.join(done.markets)}: wrote {done.path}"
    )
    if done.draft:
        click.echo(f"note: {story} is a draft: its posts are planned once it is approved")
    click.echo("commit it; the next `storyline sync` plans these posts")


@click.command("approvals")
@click.argument("story", required=False)
@click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)
@pass_settings
def approvals_command(settings: Settings, story: str | None, fmt: str) -> None:
    """Who signed off what, and what is still pending, per story and market."""
    from scheduler.app.signoff import report, report_json
    from scheduler.core.signoff import SignoffState

    r = report(settings, story, clock_now(settings))
    if fmt == "json":
        echo_json(report_json(r))
        return
    if not r.groups:
        click.echo("no post needs a sign-off" + (f" in {story}" if story else ""))
    marks = {
        SignoffState.APPROVED: ("✓", "green"),
        SignoffState.AWAITING: ("…", "yellow"),
        SignoffState.CHANGED: ("!", "red"),
    }
    for g in r.groups:
        approved = g.count(SignoffState.APPROVED)
        tint = "green" if not g.pending else "yellow"
        click.secho(
            f"{g.story} · {g.market}: {approved}/{len(g.posts)} signed off, {g.pending} pending"
            f" (approvers: {', '.join(g.approvers)})",
            fg=tint,
            bold=True,
        )
        for p in sorted(g.posts, key=lambda p: p.post_id):
            s = p.signoff
            assert s is not None
            mark, colour = marks.get(s.state, ("?", "white"))
            click.echo(f"  {click.style(mark, fg=colour)} {p.post_id}  {s.reason}")
            for row in s.diff.splitlines():
                click.echo(f"      {row}")
    for f in r.findings:
        click.secho(f.format(), fg="yellow")
