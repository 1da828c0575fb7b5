"""What every command group shares: exit codes, the settings, the clock, loading the plan."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from scheduler.app.settings import Settings
from scheduler.core.diagnostics import format_text
from scheduler.core.errors import ContentError

F = TypeVar("F", bound=Callable[..., Any])


EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def fail(message: str, code: int = EXIT_FINDINGS) -> NoReturn:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(code)


def settings_of(ctx: click.Context) -> Settings:
    obj = ctx.find_object(Settings)
    assert obj is not None
    return obj


pass_settings = click.make_pass_decorator(Settings)


def content_now() -> Any:
    """Now, for the content commands (only marks posts already due; never changes text)."""
    from datetime import UTC, datetime

    return datetime.now(UTC)


def clock_now(settings: Settings) -> Any:
    """Now, aware UTC. ``STORYLINE_NOW`` (ISO 8601) pins the clock — for tests and demos only."""
    return settings.now()


def load_planned(settings: Settings, now: Any, doing: str) -> Any:
    """The content's posts; refuses (ContentError, exit 1) when the content has errors."""
    from scheduler.app.pipeline import load_plan
    from scheduler.core.diagnostics import sort_findings
    from scheduler.planning.plan import blocking

    result = load_plan(settings, now)
    findings = sort_findings(result.findings)
    if blocking(findings):  # a market lacking a required translation only loses its own posts
        raise ContentError(findings, f"the content has errors: nothing was {doing}")
    if findings:
        click.echo(format_text(findings), err=True)
    return result.posts


def calendar_engine(settings: Settings) -> Any:
    from scheduler.calendar.database import engine_for

    return engine_for(settings.database_url)


def echo_json(value: Any) -> None:
    import json

    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


TEXT_OR_JSON = click.Choice(["text", "json"])


#: The post states (docs/architecture.md, lifecycle), spelled out so that importing the CLI
#: does not import SQLAlchemy: `validate` and `preview` must start fast.
POST_STATES = (
    "planned",
    "queued",
    "publishing",
    "published",
    "retry_wait",
    "failed",
    "reconciling",
    "needs_review",
    "cancelled",
    "held",
)
