"""What every command group shares: exit codes, the settings, the clock, loading the plan."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

import click

from scheduler.app.settings import Settings
from scheduler.core.diagnostics import format_text

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


def load_for_sync(settings: Settings, now: Any) -> Any:
    """The content's :class:`~scheduler.planning.plan.Plan` for ``plan``, ``sync`` and ``run``,
    its findings printed on stderr. A story with errors is not a reason to refuse the others:
    the caller syncs ``plan.syncable`` and leaves ``plan.leaves`` stories as they are."""
    from scheduler.app.pipeline import load_plan
    from scheduler.core.diagnostics import sort_findings
    from scheduler.core.grouping import group_posts
    from scheduler.interfaces.cli.progress import DelayedProgress

    with DelayedProgress() as progress:
        result = load_plan(settings, now, progress=progress)
    findings = group_posts(sort_findings(result.findings))
    if findings:
        click.echo(format_text(findings), err=True)
    return result


def not_synced(plan: Any, doing: str) -> str | None:
    """What a content with errors kept out of the calendar, or None when it has none (a
    market withheld for a required translation is not a reason to exit 1: ``Plan.blocking``)."""
    if not plan.blocking:
        return None
    parts = []
    if plan.broken:
        names = ", ".join(plan.broken)
        parts.append(
            f"{len(plan.broken)} story(ies) with errors not {doing}: {names} "
            "(the posts already in the calendar for them are left as they are)"
        )
    if plan.unplaced_errors:
        parts.append(
            "errors outside the stories: no post of a story, market or network that did not "
            "load was cancelled"
        )
    return "; ".join(parts) + "; fix the errors above and sync again"


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
