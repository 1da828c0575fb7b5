"""``storyline report`` (what the published posts earned) and ``storyline analytics import``
(a web-analytics export, joined to posts by ``utm_content``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from scheduler.app.settings import Settings
from scheduler.interfaces.cli import focus
from scheduler.interfaces.cli.common import calendar_engine, clock_now, echo_json, pass_settings


@click.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@pass_settings
def import_command(settings: Settings, file: Path, fmt: str) -> None:
    """Import a web-analytics export (CSV or JSON: date, utm_source, utm_medium, utm_campaign,
    utm_content, sessions, conversions[, revenue]). A file imported before changes nothing."""
    from scheduler.app.web_export import import_export

    stored = import_export(calendar_engine(settings), file, clock_now(settings))
    if fmt == "json":
        echo_json(
            {
                "file": str(file),
                "already_imported": stored.imported_before is not None,
                "rows": stored.rows,
                "inserted": stored.inserted,
                "updated": stored.updated,
                "unchanged": stored.unchanged,
                "unmatched_rows": stored.unmatched_rows,
                "unmatched": list(stored.unmatched),
            }
        )
        return
    if stored.imported_before is not None:
        click.echo(
            f"{file}: already imported on {stored.imported_before:%Y-%m-%d %H:%M} UTC "
            f"({stored.rows} row(s)): nothing changed"
        )
        return
    click.echo(
        f"{file}: {stored.rows} row(s): {stored.inserted} new, {stored.updated} updated, "
        f"{stored.unchanged} unchanged"
    )
    if stored.unmatched_rows:
        shown = ", ".join(stored.unmatched[:10]) + (", ..." if len(stored.unmatched) > 10 else "")
        click.echo(
            f"{stored.unmatched_rows} row(s) match no post (utm_content not a post id of the "
            f"calendar): {shown}",
            err=True,
        )


@click.command("report")
@focus.filter_options
@click.option("--campaign", "campaigns", multiple=True, help="Only this campaign (repeat).")
@click.option("--from", "from_date", type=click.DateTime(["%Y-%m-%d"]), help="First UTC day.")
@click.option("--to", "to_date", type=click.DateTime(["%Y-%m-%d"]), help="Last UTC day.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "csv", "html"]),
    default="text",
    show_default=True,
)
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write here.")
@pass_settings
def report_command(
    settings: Settings,
    stories: tuple[str, ...],
    campaigns: tuple[str, ...],
    markets: tuple[str, ...],
    networks: tuple[str, ...],
    from_date: Any,
    to_date: Any,
    fmt: str,
    output: Path | None,
) -> None:
    """What the published posts earned: per post, per beat of the story's arc, network x market.

    Reach, engagement and its rate, clicks (the latest metric snapshot of each post), sessions,
    conversions and revenue (the imported web-analytics exports). --from/--to: publication days.
    """
    from scheduler.calendar import migrate, report
    from scheduler.interfaces.formats import report_views

    if from_date and to_date and to_date < from_date:
        raise click.BadParameter(
            f"--to {to_date:%Y-%m-%d} is before --from {from_date:%Y-%m-%d}", param_hint="--to"
        )
    engine = calendar_engine(settings)
    migrate.ensure_schema(engine)
    filters = report.Filters(
        stories=stories,
        campaigns=campaigns,
        markets=markets,
        networks=networks,
        from_day=from_date.date() if from_date else None,
        to_day=to_date.date() if to_date else None,
    )
    built = report.build(engine, filters)
    if fmt == "json":
        data = report_views.report_json_text(built)
    elif fmt == "csv":
        data = report_views.report_csv(built)
    elif fmt == "html":
        data = report_views.report_html(built, clock_now(settings))
    else:
        data = report_views.report_text(built)
    if output is None:
        click.echo(data.rstrip("\n"))
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(data if data.endswith("\n") else data + "\n", encoding="utf-8")
    click.echo(f"wrote {output} ({len(built.posts)} post(s))", err=True)
