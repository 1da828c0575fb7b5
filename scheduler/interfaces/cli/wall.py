"""``storyline wall``: the live social wall on its own small server (docs/wall.md)."""

from __future__ import annotations

import click

from scheduler.app.settings import Settings
from scheduler.core.errors import StorylineError
from scheduler.interfaces.cli.common import pass_settings


@click.command("wall")
@click.option("--port", type=click.IntRange(0, 65535), default=8322, show_default=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0 for a screen on another machine of the stand's network).",
)
@click.option(
    "--campaign", metavar="NAME", help="Show only this campaign (the page's ?campaign= wins)."
)
@pass_settings
def wall_command(settings: Settings, port: int, host: str, campaign: str | None) -> None:
    """A live, full-screen page of what was published, newest first: open the printed URL."""
    from scheduler.interfaces import serve, wall

    try:
        server = wall.make_server(settings, wall.WallOptions(campaign=campaign), port, host)
    except OSError as exc:
        raise StorylineError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    click.echo(wall.wall_url(server, campaign))
    click.echo("the wall is live (Ctrl-C stops)", err=True)
    serve.run(server)
    click.echo("stopped", err=True)
