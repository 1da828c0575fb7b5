"""``storyline accounts``: the brand's network accounts and their credentials."""

from __future__ import annotations

import sys

import click

from scheduler.app.settings import Settings
from scheduler.interfaces.cli.common import EXIT_FINDINGS, clock_now, pass_settings


@click.group("accounts")
def accounts_group() -> None:
    """The brand's network accounts: credentials present, accepted, not about to expire."""


@accounts_group.command("check")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--offline", is_flag=True, help="Only check that credentials are present.")
@pass_settings
def accounts_check(settings: Settings, fmt: str, offline: bool) -> None:
    """Per account in markets.yaml: credentials present, valid on the network, expiry.

    Exits 1 when an account needs attention (missing, invalid, expiring within 7 days).
    Secrets are never printed.
    """
    import json

    from scheduler.app import accounts
    from scheduler.app.secrets import load_secrets
    from scheduler.publishers.http import HttpClient

    markets = accounts.load_markets(settings)
    secrets = load_secrets(settings)
    http = HttpClient()
    try:
        reports = accounts.check_accounts(
            settings,
            markets,
            secrets=secrets,
            http=http,
            now=clock_now(settings),
            online=not offline,
        )
    finally:
        http.close()
    problems = sum(r.problem for r in reports)
    if fmt == "json":
        body = {"ok": problems == 0, "accounts": [r.to_json() for r in reports]}
        click.echo(json.dumps(body, indent=2, ensure_ascii=False))
    else:
        click.echo(accounts.format_text(reports))
    if problems:
        sys.exit(EXIT_FINDINGS)
