"""``storyline serve``: live previews while writing."""

from __future__ import annotations

import click

from scheduler.app.settings import Settings
from scheduler.core.errors import StorylineError
from scheduler.interfaces.cli.common import clock_now, pass_settings


@click.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=8321, show_default=True)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on (0.0.0.0 in a container, behind its port mapping).",
)
@pass_settings
def serve_command(settings: Settings, port: int, host: str) -> None:
    """Live previews on http://127.0.0.1:PORT/, re-rendered when content or lines change."""
    from scheduler.interfaces import serve

    try:
        server = serve.make_server(settings, lambda: clock_now(settings), port, host)
    except OSError as exc:
        raise StorylineError(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    click.echo(f"serving previews on {serve.url_of(server)} (Ctrl-C stops)", err=True)
    serve.run(server)
    click.echo("stopped", err=True)
