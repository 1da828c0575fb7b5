"""``storyline explain``: where each value of a post came from (file:line), like git blame."""

from __future__ import annotations

import click

from scheduler.app.settings import Settings
from scheduler.interfaces.cli.common import TEXT_OR_JSON, content_now, echo_json, pass_settings


@click.command("explain")
@click.argument("post_id")
@click.argument("field", required=False)
@click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)
@pass_settings
def explain_command(settings: Settings, post_id: str, field: str | None, fmt: str) -> None:
    """Show where each FIELD of POST_ID (story/beat/network/market) was written."""
    from scheduler.app.explain import explain, explain_text

    origins = explain(settings, post_id, content_now(), field)
    if fmt == "json":
        echo_json([o.as_dict() for o in origins])
    else:
        click.echo(explain_text(origins))
