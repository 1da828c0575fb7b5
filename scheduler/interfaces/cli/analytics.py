"""``storyline analytics``: what each post earned.

``pull`` asks each network for its posts' counts now (docs/operations.md, "Metrics"); the
worker's beat does the same on its own queue at +1 h, +24 h, +7 d and +28 d after publication.
Other subcommands (``import``) join this group from their own modules.
"""

from __future__ import annotations

import sys

import click

from scheduler.app.settings import Settings
from scheduler.interfaces.cli.common import (
    EXIT_FINDINGS,
    TEXT_OR_JSON,
    calendar_engine,
    echo_json,
    pass_settings,
)


@click.group("analytics")
def analytics_group() -> None:
    """Metrics from the networks and web outcomes: pull them, import them."""


@analytics_group.command("pull")
@click.option(
    "--all",
    "everything",
    is_flag=True,
    help="Pull every published post now (a first import, or a check), not only those due.",
)
@click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)
@pass_settings
def pull_command(settings: Settings, everything: bool, fmt: str) -> None:
    """Pull the networks' counts for the posts due a pull (+1 h, +24 h, +7 d, +28 d after
    publication; STORYLINE_METRICS_PULL_AFTER). Exits 1 when a network could not be read."""
    from scheduler.app.metrics_pull import puller_for
    from scheduler.calendar import migrate

    engine = calendar_engine(settings)
    migrate.ensure_schema(engine)
    puller = puller_for(settings, engine=engine)
    try:
        report = puller.pull(everything=everything)
    finally:
        puller.registry.close()
    if fmt == "json":
        echo_json(report.to_json())
    else:
        click.echo(
            f"{report.due} post(s) due: {report.written} snapshot(s) written, "
            f"{report.unchanged} already there, {report.deleted} deleted on the network, "
            f"{report.missing} missing; {report.requests} request(s)"
        )
        for key in report.no_permission:
            click.echo(f"{key}: the token lacks the insights permission (reported once)")
        for key, why in report.deferred.items():
            click.echo(f"{key}: deferred: {why}")
        for error in report.errors:
            click.secho(f"error: {error}", fg="red", err=True)
    if report.errors:
        sys.exit(EXIT_FINDINGS)
