"""The ``storyline`` command line: parse, call the application, format. No logic of its own.

One module per command group; this one holds the group, its global options and the one place
where a :class:`~scheduler.core.errors.StorylineError` becomes a message and an exit code.
Heavy modules (SQLAlchemy, Celery, httpx) are imported inside the commands that need them, so
``validate`` and ``preview`` start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from scheduler.app.settings import Settings
from scheduler.core.diagnostics import format_text
from scheduler.core.errors import ContentError, StorylineError
from scheduler.interfaces.cli.common import fail


class StorylineGroup(click.Group):
    """Turns every StorylineError into a readable message and exit code, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ContentError as exc:
            click.echo(format_text(exc.findings), err=True)
            fail(str(exc))
        except StorylineError as exc:
            fail(str(exc))


@click.group(cls=StorylineGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="storyline")
@click.option(
    "--content",
    "content_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Content folder (markets.yaml, stories/). Env: STORYLINE_CONTENT_DIR.",
)
@click.option(
    "--lines",
    "lines_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Editorial lines folder. Env: STORYLINE_LINES_DIR.",
)
@click.option(
    "--database-url",
    "database_url_override",
    metavar="URL",
    help="Calendar database. Env: STORYLINE_DATABASE_URL (default: SQLite in the data dir).",
)
@click.option(
    "--color/--no-color",
    default=None,
    help="Colours on or off (default: on a terminal, unless NO_COLOR is set).",
)
@click.pass_context
def cli(
    ctx: click.Context,
    content_dir: Path | None,
    lines_dir: Path | None,
    database_url_override: str | None,
    color: bool | None,
) -> None:
    """Storyline: write a story once, publish it in each network's voice, at each market's hour."""
    try:
        settings = Settings.from_env()
    except StorylineError as exc:  # a variable is wrong: the configuration, not the command line
        fail(str(exc))
    # Subcommands inherit the context's colour; click.echo strips styles when it is False.
    ctx.color = color if color is not None else (False if settings.no_color else None)
    ctx.obj = settings.with_overrides(
        content_dir=content_dir, lines_dir=lines_dir, database_url_override=database_url_override
    )


from scheduler.interfaces.cli import (  # noqa: E402
    accounts,
    analytics,
    calendar,
    content,
    notify,
    publishing,
    serve,
    signoff,
)
from scheduler.interfaces.cli.explain import explain_command  # noqa: E402
from scheduler.interfaces.cli.health import health_command  # noqa: E402
from scheduler.interfaces.cli.operating import COMMANDS as OPERATING_COMMANDS  # noqa: E402
from scheduler.interfaces.cli.report import import_command, report_command  # noqa: E402
from scheduler.interfaces.cli.wall import wall_command  # noqa: E402

for _command in (
    content.validate_command,
    content.preview_command,
    calendar.plan_command,
    calendar.sync_command,
    calendar.calendar_command,
    publishing.run_command,
    calendar.status_command,
    publishing.retry_command,
    publishing.cancel_command,
    publishing.publish_command,
    publishing.release_command,
    *OPERATING_COMMANDS,
    accounts.accounts_group,
    content.schema_command,
    content.new_group,
    serve.serve_command,
    calendar.db_group,
    signoff.approve_command,
    signoff.approvals_command,
    health_command,
    explain_command,
    notify.notify_group,
    analytics.analytics_group,
    report_command,
    wall_command,
):
    cli.add_command(_command)
analytics.analytics_group.add_command(import_command)  # `analytics import`


def main() -> None:
    cli(prog_name="storyline")
