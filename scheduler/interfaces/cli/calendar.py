"""Commands on the calendar: ``plan``, ``sync``, ``calendar``, ``status``, ``db upgrade``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from scheduler.app.settings import Settings
from scheduler.interfaces.cli import focus
from scheduler.interfaces.cli.common import (
    EXIT_USAGE,
    POST_STATES,
    TEXT_OR_JSON,
    calendar_engine,
    clock_now,
    echo_json,
    fail,
    load_for_sync,
    not_synced,
    pass_settings,
)
from scheduler.interfaces.formats import calendar_views


@click.command("plan")
@click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)
@focus.details_option
@focus.filter_options
@pass_settings
def plan_command(settings: Settings, /, fmt: str, details: bool, **filters: Any) -> None:
    """Show what `sync` would change in the calendar, per story (--details: each post; the
    filters narrow what is shown). Writes nothing to it, and does not create a database that
    does not exist yet. Exits 1 when a story has errors, after showing what sync would do
    with the others."""
    _plan(settings, fmt, details, filters)


def _plan(settings: Settings, fmt: str, details: bool, filters: dict[str, Any]) -> None:
    from scheduler.calendar import diff

    now = clock_now(settings)
    plan = load_for_sync(settings, now)
    engine = calendar_engine(settings)
    d = diff.compare(engine, plan.syncable, now, leave=plan.leaves)
    focus.show_sync(
        engine,
        d,
        plan.syncable,
        fmt=fmt,
        details=details,
        done=False,
        filters=filters,
        extra={"not_synced": list(plan.broken)},
    )
    problem = not_synced(plan, "planned")
    if problem:
        fail(problem)


#: Below this many writes a progress bar would only flicker.
PROGRESS_MIN_ROWS = 2_000


@click.command("sync")
@click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)
@click.option("--dry-run", is_flag=True, help="Show what sync would do (as `plan`); write nothing.")
@focus.details_option
@focus.filters_noted(", with --dry-run")
@pass_settings
def sync_command(
    settings: Settings, /, fmt: str, dry_run: bool, details: bool, **filters: Any
) -> None:
    """Make the calendar match the content in one transaction. Prints a line per story
    (--details: each post). A story with errors is left as the calendar holds it while every
    other story is synced; then it exits 1."""
    from contextlib import ExitStack

    from scheduler.calendar import apply, diff
    from scheduler.calendar import focus as shown

    if dry_run:
        _plan(settings, fmt, details, filters)
        return
    if any(filters.values()):
        fail(
            "--story, --market and --network narrow what `sync --dry-run` and `plan` show; "
            "a sync itself is always whole (a story left out would look removed)",
            EXIT_USAGE,
        )
    now = clock_now(settings)
    plan = load_for_sync(settings, now)
    engine = calendar_engine(settings)
    before = shown.texts(engine) if details and fmt == "text" else None
    with ExitStack() as stack:

        def on_diff(d: diff.Diff) -> Callable[[int], None] | None:
            if d.writes < PROGRESS_MIN_ROWS or not sys.stderr.isatty():
                return None
            bar = stack.enter_context(
                click.progressbar(length=d.writes, label="syncing", file=sys.stderr)
            )
            return bar.update

        result = apply.sync(engine, plan.syncable, now, on_diff=on_diff, leave=plan.leaves)
    if result.created_schema and fmt == "text":
        click.echo("created the calendar database", err=True)
    if result.skipped:
        click.echo(
            f"{result.skipped} post(s) were claimed by a dispatcher during the sync "
            "and left as they are",
            err=True,
        )
    focus.show_sync(
        engine,
        result.diff,
        plan.syncable,
        fmt=fmt,
        details=details,
        done=True,
        before=before,
        extra={"skipped": result.skipped, "not_synced": list(plan.broken)},
    )
    problem = not_synced(plan, "synced")
    if problem:
        fail(problem)


@click.command("calendar")
@click.option("--from", "from_date", type=click.DateTime(["%Y-%m-%d"]), help="First local day.")
@click.option("--to", "to_date", type=click.DateTime(["%Y-%m-%d"]), help="Last local day.")
@focus.filter_options
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
    stories: tuple[str, ...],
    markets: tuple[str, ...],
    networks: tuple[str, ...],
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
    focus.check_in_calendar(engine, stories=stories, markets=markets, networks=networks)
    with Session(engine) as session:
        rows = queries.calendar_rows(
            session,
            from_date=from_date.date() if from_date else None,
            to_date=to_date.date() if to_date else None,
            networks=networks,
            markets=markets,
            statuses=statuses,
            stories=stories,
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
@focus.filter_options
@pass_settings
def status_command(settings: Settings, /, post_id: str | None, fmt: str, **filters: Any) -> None:
    """Posts per state (of these stories, markets, networks); with POST_ID, that post in full
    with its attempts."""
    from sqlmodel import Session

    from scheduler.calendar import migrate, queries

    engine = calendar_engine(settings)
    if post_id is not None and any(filters.values()):
        fail("give either POST_ID or --story/--market/--network to `status`, not both", EXIT_USAGE)
    migrate.ensure_schema(engine)
    focus.check_in_calendar(engine, **filters)
    from scheduler.interfaces.cli.operating import pauses_in_force, post_marker
    from scheduler.interfaces.formats import operator_views

    with Session(engine) as session:
        if post_id is None:
            counts = queries.state_counts(session, **filters)
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
@click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)
@pass_settings
def db_upgrade_command(settings: Settings, fmt: str) -> None:
    """Apply the migrations this version needs (safe to run any number of times)."""
    from scheduler.calendar import migrate

    engine = calendar_engine(settings)
    before, after = migrate.upgrade(engine)
    where = engine.url.render_as_string(hide_password=True)
    if fmt == "json":
        echo_json(
            {"database": where, "before": before, "after": after, "upgraded": before != after}
        )
    elif before == after:
        click.echo(f"the calendar database is up to date ({after}): {where}")
    else:
        click.echo(f"upgraded the calendar database {before or 'empty'} → {after}: {where}")
