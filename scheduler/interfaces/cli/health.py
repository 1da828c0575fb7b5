"""``storyline health``: the container probe. Exit 0 when the deployment can publish, 1 with
the failed checks named; ``--format json`` for machines."""

from __future__ import annotations

import click

from scheduler.app.settings import Settings
from scheduler.interfaces.cli.common import (
    EXIT_FINDINGS,
    EXIT_OK,
    TEXT_OR_JSON,
    clock_now,
    echo_json,
    pass_settings,
)


@click.command("health")
@click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)
@click.option(
    "--broker-timeout",
    type=click.FloatRange(0.1, 60),
    default=3.0,
    show_default=True,
    help="Seconds to wait for the broker.",
)
@click.pass_context
@pass_settings
def health_command(settings: Settings, ctx: click.Context, fmt: str, broker_timeout: float) -> None:
    """Database reachable, schema current, a beat ticked within STORYLINE_HEALTH_BEAT_SECONDS,
    broker reachable; lists the accounts that need a person (they do not fail the probe).
    Exits 1 when a check fails."""
    from scheduler.app.health import check_health
    from scheduler.interfaces.broker import broker_problem

    health = check_health(
        settings, clock_now(settings), lambda url: broker_problem(url, broker_timeout)
    )
    if fmt == "json":
        echo_json(health.as_json())
    else:
        for check in health.checks:
            mark = click.style("✓", fg="green") if check.ok else click.style("✗", fg="red")
            click.echo(f"{mark} {check.name:<9} {check.detail}")
        for account in health.attention:
            click.echo(
                f"{click.style('!', fg='yellow')} {account.network}:{account.account} needs "
                f"attention: {account.reason} ({account.held_posts} post(s) held)"
            )
        click.echo("healthy" if health.ok else f"unhealthy: {', '.join(health.failed)}")
    ctx.exit(EXIT_OK if health.ok else EXIT_FINDINGS)
