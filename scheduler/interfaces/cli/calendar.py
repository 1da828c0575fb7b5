"""Commands on the calendar: ``plan``, ``sync``, ``calendar``, ``status``, ``db upgrade``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from scheduler.app.settings import Settings
from scheduler.interfaces.cli.common import (
    POST_STATES,
    TEXT_OR_JSON,
    calendar_engine,
    clock_now,
    echo_json,
    load_planned,
    pass_settings,
)
from scheduler.interfaces.formats import calendar_views, sync_report


@click.command("plan")
@click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)
@pass_settings
def plan_command(settings: Settings, fmt: str) -> None:
    """Show what `sync` would change in the calendar. Writes nothing."""
    from scheduler.calendar import diff

    now = clock_now(settings)
    planned = load_planned(settings, now, "planned")
    d = diff.compare(calendar_engine(settings), planned, now)
    if fmt == "json":
        echo_json(sync_report.diff_json(d))
    else:
        click.echo(sync_report.diff_text(d))


#: Below this many writes a progress bar would only flicker.
PROGRESS_MIN_ROWS = 2_000


@click.command("sync")
@click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)
@pass_settings
def sync_command(settings: Settings, fmt: str) -> None:
    """Make the calendar match the content in one transaction; refuses content with errors."""
    from contextlib import ExitStack

    from scheduler.calendar import apply, diff

    now = clock_now(settings)
    planned = load_planned(settings, now, "synced")
    with ExitStack() as stack:

        def on_diff(d: diff.Diff) -> Callable[[int], None] | None:
            if d.writes < PROGRESS_MIN_ROWS or not sys.stderr.isatty():
                return None
            bar = stack.enter_context(
                click.progressbar(length=d.writes, label="syncing", file=sys.stderr)
            )
            return bar.update

        result = apply.sync(calendar_engine(settings), planned, now, on_diff=on_diff)
    if result.created_schema and fmt == "text":
        click.echo("created the calendar database", err=True)
    if result.skipped:
        click.echo(
            f"{result.skipped} post(s) were claimed by a dispatcher during the sync "
            "and left as they are",
            err=True,
        )
    if fmt == "json":
        out = sync_report.diff_json(result.diff, done=True)
        out["skipped"] = result.skipped
        echo_json(out)
    else:
        click.echo(sync_report.diff_text(result.diff, done=True))


@click.command("calendar")
@click.option("--from", "from_date", type=click.DateTime(["%Y-%m-%d"]), help="First local day.")
@click.option("--to", "to_date", type=click.DateTime(["%Y-%m-%d"]), help="Last local day.")
@click.option("-n", "--network", "networks", multiple=True, help="Only this network (repeat).")
@click.option("-m", "--market", "markets", multiple=True, help="Only this market (repeat).")
@click.option("--status", "statuses", multiple=True, type=click.Choice(POST_STATES), help="Repeat.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["table", "json", "ics", "html"]),
    default="table",
    show_default=True,
)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write here.")
@pass_settings
def calendar_command(
    settings: Settings,
    from_date: Any,
    to_date: Any,
    networks: tuple[str, ...],
    markets: tuple[str, ...],
    statuses: tuple[str, ...],
    fmt: str,
    output: Path | None,
) -> None:
    """What goes out when. --from/--to are local dates, read in each post's market zone."""
    import json

    from sqlmodel import Session

    from scheduler.calendar import migrate, queries

    if from_date and to_date and to_date < from_date:
        raise click.BadParameter(
            f"--to {to_date:%Y-%m-%d} is before --from {from_date:%Y-%m-%d}", param_hint="--to"
        )
    engine = calendar_engine(settings)
    migrate.ensure_schema(engine)
    with Session(engine) as session:
        rows = queries.calendar_rows(
            session,
            from_date=from_date.date() if from_date else None,
            to_date=to_date.date() if to_date else None,
            networks=networks,
            markets=markets,
            statuses=statuses,
        )
    now = clock_now(settings)
    data: bytes
    if fmt == "json":
        rendered = json.dumps(calendar_views.calendar_json(rows), indent=2, ensure_ascii=False)
        data = rendered.encode()
    elif fmt == "ics":
        data = calendar_views.calendar_ics(rows, now)
    elif fmt == "html":
        from scheduler.app.titles import story_titles

        titles = story_titles(settings.content_dir)
        data = calendar_views.calendar_html(rows, now, titles).encode()
    else:
        data = calendar_views.calendar_table(rows).encode()
    if output is None:
        click.echo(data.decode().rstrip("\r\n") if fmt != "ics" else data.decode(), nl=fmt != "ics")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_bytes(data if data.endswith(b"\n") or fmt == "ics" else data + b"\n")
    click.echo(f"wrote {output} ({len(rows)} post(s))", err=True)


@click.command("status")
@click.argument("post_id", required=False)
@click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)
@pass_settings
def status_command(settings: Settings, post_id: str | None, fmt: str) -> None:
    """Posts per state; with POST_ID, that post in full with its attempts."""
    from sqlmodel import Session

    from scheduler.calendar import migrate, queries

    engine = calendar_engine(settings)
    migrate.ensure_schema(engine)
    from scheduler.interfaces.cli.operating import pauses_in_force, post_marker
    from scheduler.interfaces.formats import operator_views

    with Session(engine) as session:
        if post_id is None:
            counts = queries.state_counts(session)
            if fmt == "json":
                echo_json(counts)
            else:
                click.echo(calendar_views.status_text(counts))
                if in_force := pauses_in_force(engine):
                    click.echo("\n" + operator_views.pauses_text(in_force))
            return
        row, attempts = queries.post_detail(session, post_id)
    marker = post_marker(engine, post_id)
    if fmt == "json":
        echo_json(
            {
                **calendar_views.post_json(row, attempts),
                "marker": operator_views.marker_json(marker),
            }
        )
    else:
        head, _, rest = calendar_views.post_text(row, attempts).partition("\n\ntext:")
        click.echo("\n".join([head, *operator_views.marker_text(marker)]) + "\n\ntext:" + rest)


@click.group("db")
def db_group() -> None:
    """The calendar database's schema."""


@db_group.command("upgrade")
@pass_settings
def db_upgrade_command(settings: Settings) -> None:
    """Apply the migrations this version needs (safe to run any number of times)."""
    from scheduler.calendar import migrate

    engine = calendar_engine(settings)
    before, after = migrate.upgrade(engine)
    where = engine.url.render_as_string(hide_password=True)
    if before == after:
        click.echo(f"the calendar database is up to date ({after}): {where}")
    else:
        click.echo(f"upgraded the calendar database {before or 'empty'} → {after}: {where}")
