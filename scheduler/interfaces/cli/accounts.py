"""``storyline accounts``: the brand's network accounts, their credentials and their tokens."""

from __future__ import annotations

import sys

import click

from scheduler.app.settings import Settings
from scheduler.interfaces.cli.common import EXIT_FINDINGS, clock_now, echo_json, pass_settings


@click.group("accounts")
def accounts_group() -> None:
    """The brand's network accounts: credentials present, accepted, not about to expire."""


@accounts_group.command("check")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@click.option("--offline", is_flag=True, help="Only check that credentials are present.")
@click.option(
    "--refresh", is_flag=True, help="Renew every renewable token now (once, under its lock)."
)
@pass_settings
def accounts_check(settings: Settings, fmt: str, offline: bool, refresh: bool) -> None:
    """Per account in markets.yaml: credentials present, valid on the network, token expiry.

    Exits 1 when an account needs attention (missing, invalid, refused, expiring within 7
    days). Tokens renewed by the worker or by `accounts connect` are used and shown; secrets
    are never printed.
    """
    from scheduler.app import accounts
    from scheduler.app.secrets import check_accounts_known, load_secrets
    from scheduler.app.tokens import credential_source, refuse_unreadable_tokens
    from scheduler.publishers.http import HttpClient

    markets = accounts.load_markets(settings)
    secrets = load_secrets(settings)
    check_accounts_known(secrets, markets)
    refuse_unreadable_tokens(settings)
    http = HttpClient()
    try:
        reports = accounts.check_accounts(
            settings,
            markets,
            secrets=secrets,
            http=http,
            now=clock_now(settings),
            online=not offline,
            tokens=credential_source(settings, secrets, http),
            refresh=refresh,
        )
    finally:
        http.close()
    problems = sum(r.problem for r in reports)
    if fmt == "json":
        echo_json({"ok": problems == 0, "accounts": [r.to_json() for r in reports]})
    else:
        click.echo(accounts.format_text(reports))
    if problems:
        sys.exit(EXIT_FINDINGS)


@accounts_group.command("connect")
@click.argument("network")
@click.argument("account")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=0,
    show_default=True,
    help="Loopback port of the redirect (the one registered with the app; 0: any free port).",
)
@click.option(
    "--scope", "scopes", multiple=True, help="A scope to ask for (default: the network's)."
)
@click.option(
    "--timeout",
    type=float,
    default=300.0,
    show_default=True,
    help="Seconds to wait for the browser.",
)
@click.option("--no-browser", is_flag=True, help="Only print the URL (no browser is opened).")
@pass_settings
def accounts_connect(
    settings: Settings,
    network: str,
    account: str,
    port: int,
    scopes: tuple[str, ...],
    timeout: float,
    no_browser: bool,
) -> None:
    """Connect ACCOUNT of NETWORK with OAuth 2.0 (authorization code, PKCE, a redirect to
    127.0.0.1), as `gh auth login` does: open the printed URL, grant access, and the tokens
    are stored encrypted with STORYLINE_SECRET_KEY. The app's client_id and client_secret
    come from the secrets file."""
    import webbrowser

    from scheduler.app.secrets import load_secrets
    from scheduler.app.tokens import connect_account
    from scheduler.publishers.auth.loopback import LoopbackReceiver
    from scheduler.publishers.http import HttpClient

    def show(url: str) -> None:
        click.echo(f"Open this page to grant Storyline access to {network}:{account}:\n\n  {url}\n")
        click.echo("Waiting for the browser to come back to 127.0.0.1…", err=True)
        if not no_browser:
            webbrowser.open(url)

    secrets = load_secrets(settings)
    http = HttpClient()
    try:
        tokens = connect_account(
            settings,
            secrets,
            network,
            account,
            open_url=show,
            receiver=LoopbackReceiver(port=port, timeout=timeout),
            http=http,
            scopes=scopes or None,
        )
    finally:
        http.close()
    expiry = (
        f"; the token expires {tokens.expires_at:%Y-%m-%d %H:%M} UTC" if tokens.expires_at else ""
    )
    click.echo(f"connected {network}:{account}: tokens stored encrypted{expiry}")


@accounts_group.command("rotate-key")
@pass_settings
def accounts_rotate_key(settings: Settings) -> None:
    """Re-encrypt every stored token with the first key of STORYLINE_SECRET_KEY.

    Put the new key first and the old one after it (comma-separated), run this, then drop
    the old key (docs/security.md)."""
    from scheduler.app.tokens import rotate_key

    count = rotate_key(settings)
    click.echo(f"{count} stored token set(s) re-encrypted with the first key")


@accounts_group.command("new-key")
def accounts_new_key() -> None:
    """Print a fresh key for STORYLINE_SECRET_KEY (keep it in your secret manager)."""
    from scheduler.dispatch.sealing import new_key

    click.echo(new_key())
