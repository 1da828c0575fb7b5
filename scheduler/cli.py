"""The ``storyline`` command line (DESIGN §4): parse, call the core, format. No logic of its own.

Heavy modules (SQLAlchemy, Celery, httpx) are imported inside the commands that need them, so
``validate`` and ``preview`` start fast.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from scheduler.config import Settings
from scheduler.diagnostics import format_text
from scheduler.errors import ContentError, StorylineError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def fail(message: str, code: int = EXIT_FINDINGS) -> NoReturn:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


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


def settings_of(ctx: click.Context) -> Settings:
    obj = ctx.find_object(Settings)
    assert obj is not None
    return obj


pass_settings = click.make_pass_decorator(Settings)


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
@click.pass_context
def cli(
    ctx: click.Context,
    content_dir: Path | None,
    lines_dir: Path | None,
    database_url_override: str | None,
) -> None:
    """Storyline: write a story once, publish it in each network's voice, at each market's hour."""
    try:
        settings = Settings.from_env()
    except StorylineError as exc:
        fail(str(exc), EXIT_USAGE)
    ctx.obj = settings.with_overrides(
        content_dir=content_dir, lines_dir=lines_dir, database_url_override=database_url_override
    )


# --- commands are registered below, one section per feature --------------------------------

# [content commands: validate, preview, schema, new]

# [calendar commands: plan, sync, calendar, status, db]

# [publishing commands: run, retry, cancel, publish, release]

# [accounts commands]

# [serve]


def main() -> None:
    cli(prog_name="storyline")


if __name__ == "__main__":
    main()
