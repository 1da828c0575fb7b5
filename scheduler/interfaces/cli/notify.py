"""``storyline notify``: try the notification channels, see what is waiting, send what is due.

The worker's beat notifies on its own (docs/operations.md, "Notifications"); these commands
are for the operator who sets the channels up or wonders why a message did not arrive.
Channel URLs hold secrets: they are shown in apprise's privacy form only.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from scheduler.app.settings import Settings
from scheduler.interfaces.cli.common import (
    EXIT_FINDINGS,
    TEXT_OR_JSON,
    calendar_engine,
    clock_now,
    echo_json,
    fail,
    pass_settings,
)

NO_CHANNEL = (
    "no notification channel: set STORYLINE_NOTIFY (apprise URLs, space-separated) "
    "or STORYLINE_NOTIFY_<MARKET>"
)


def _calendar(settings: Settings) -> Any:
    """The calendar's engine, once its schema is known to be current (else a clear error)."""
    from scheduler.calendar import migrate

    engine = calendar_engine(settings)
    migrate.ensure_schema(engine)
    return engine


def _warn(settings: Settings) -> None:
    """Market variables that name no market, on stderr (they would route nothing)."""
    from scheduler.app.notify import market_zones
    from scheduler.app.notify_channels import channels_of, unknown_markets

    try:
        markets = market_zones(settings)
    except Exception:  # markets.yaml's own errors are `validate`'s to tell
        return
    for warning in unknown_markets(channels_of(settings), markets):
        click.secho(f"warning: {warning}", fg="yellow", err=True)


def _iso(value: Any) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


@click.group("notify")
def notify_group() -> None:
    """Notification channels: test them, see pending and failed deliveries, send now."""


@notify_group.command("test")
@click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)
@pass_settings
def notify_test(settings: Settings, fmt: str) -> None:
    """Send a test message to every channel now. Exits 1 if one could not be reached."""
    from scheduler.app.notify_channels import channels_of, send

    channels = channels_of(settings)
    if not channels:
        fail(NO_CHANNEL)
    _warn(settings)
    title = "Storyline · test notification"
    body = "If you read this, Storyline can notify this channel."
    results = [(c, send(c, title, body)) for c in channels]
    if fmt == "json":
        echo_json(
            {
                "ok": all(e is None for _, e in results),
                "channels": [
                    {
                        "channel": c.id,
                        "label": c.label,
                        "variable": c.variable,
                        "markets": list(c.markets),
                        "delivered": e is None,
                        "error": e,
                    }
                    for c, e in results
                ],
            }
        )
    else:
        for c, error in results:
            where = f" ({c.variable})"
            if error is None:
                click.echo(f"✓ {c.label}{where}: delivered")
            else:
                click.echo(f"✗ {c.label}{where}: {error}")
    if any(e is not None for _, e in results):
        sys.exit(EXIT_FINDINGS)


@notify_group.command("status")
@click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)
@pass_settings
def notify_status(settings: Settings, fmt: str) -> None:
    """Channels, and every delivery not sent yet: pending (with its next try) or failed
    (given up). Exits 1 when a delivery failed for good."""
    from scheduler.app.notify import MAX_ATTEMPTS
    from scheduler.app.notify_channels import channels_of
    from scheduler.app.notify_store import sent_count, unsent

    channels = {c.id: c for c in channels_of(settings)}
    _warn(settings)
    with _calendar(settings).connect() as conn:
        rows = unsent(conn)
        sent = sent_count(conn)

    def state(r: Any) -> str:
        if r.channel not in channels:
            return "unconfigured"
        return "failed" if r.attempts >= MAX_ATTEMPTS and r.next_attempt_at is None else "pending"

    deliveries = [
        {
            "event": r.key,
            "kind": r.kind,
            "channel": r.channel,
            "label": channels[r.channel].label if r.channel in channels else None,
            "state": state(r),
            "attempts": r.attempts,
            "next_attempt_at": _iso(r.next_attempt_at),
            "last_error": r.last_error,
            "created_at": _iso(r.created_at),
        }
        for r in rows
    ]
    summary: list[dict[str, Any]] = [
        {
            "channel": c.id,
            "label": c.label,
            "variable": c.variable,
            "markets": list(c.markets),
            "pending": sum(d["channel"] == c.id and d["state"] == "pending" for d in deliveries),
            "failed": sum(d["channel"] == c.id and d["state"] == "failed" for d in deliveries),
        }
        for c in channels.values()
    ]
    failed = sum(d["state"] == "failed" for d in deliveries)
    if fmt == "json":
        echo_json({"sent": sent, "channels": summary, "deliveries": deliveries})
    else:
        if not channels:
            click.echo(NO_CHANNEL)
        for c in summary:
            markets = f" [{', '.join(c['markets'])}]" if c["markets"] else ""
            click.echo(
                f"{c['label']}{markets} ({c['variable']}): "
                f"{c['pending']} pending, {c['failed']} failed"
            )
        click.echo(f"{sent} deliveries sent, {len(deliveries)} not sent")
        for d in deliveries:
            detail = f" — {d['last_error']}" if d["last_error"] else ""
            again = f", next try {d['next_attempt_at']}" if d["state"] == "pending" else ""
            click.echo(
                f"  {d['state']:<12} {d['event']} → {d['label'] or d['channel']} "
                f"(attempts {d['attempts']}{again}){detail}"
            )
    if failed:
        sys.exit(EXIT_FINDINGS)


@notify_group.command("run")
@click.option("--format", "fmt", type=TEXT_OR_JSON, default="text", show_default=True)
@pass_settings
def notify_run(settings: Settings, fmt: str) -> None:
    """Scan the calendar and send what is due now, once (what the worker's beat does)."""
    from scheduler.app.notify import Notifier

    notifier = Notifier(_calendar(settings), settings)
    if not notifier.channels:
        fail(NO_CHANNEL)
    report = notifier.run(clock_now(settings))
    if fmt == "json":
        echo_json(
            {
                "recorded": report.recorded,
                "messages": report.messages,
                "sent": report.sent,
                "failed": report.failed,
                "errors": report.errors,
            }
        )
    else:
        click.echo(
            f"{report.recorded} new events, {report.sent} of {report.messages} messages sent"
        )
        for error in report.errors:
            click.echo(f"✗ {error}")
    if report.failed:
        sys.exit(EXIT_FINDINGS)
