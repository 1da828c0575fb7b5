"""The publisher mode, said out loud: which one a process runs in, and who it cannot send for.

Why: a post parked in a local file by accident is a silently lost post. So ``storyline run``
and every worker and beat say at start whether they write to the outbox or send to the
networks, and, in ``live`` mode, which accounts of ``markets.yaml`` have no credentials (their
posts will be held, docs/operations.md "Publisher mode"). The accounts, and the relays some of
them post through (``via: webhook:<account>``), are read from ``markets.yaml`` here, the one
place the publishing side reads the content.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from scheduler.app.settings import Settings
from scheduler.content.files import MARKETS_FILE_NAME
from scheduler.content.markets import load_markets
from scheduler.core.diagnostics import Finding
from scheduler.lines.model import LINE_FILE
from scheduler.publishers.registry import AccountKey, Registry
from scheduler.text.networks import LINE_DEFINED, NETWORKS

log = logging.getLogger("storyline.mode")

#: How many accounts without credentials the start-up line names before "…".
SHOWN = 5


@dataclass(frozen=True)
class Accounts:
    """The accounts posts are planned for, and the relays that deliver some of them."""

    keys: tuple[AccountKey, ...] = ()
    relays: Mapping[AccountKey, AccountKey] = field(default_factory=lambda: MappingProxyType({}))


def read_accounts(settings: Settings) -> Accounts:
    """Every ``(network, account key)`` of ``markets.yaml`` on a network that has an editorial
    line (no line, no post), in file order, and every relay. A missing or broken file gives
    what could be read: the worker still starts, ``storyline validate`` says what is wrong."""
    path = settings.content_dir / MARKETS_FILE_NAME
    if not path.is_file():
        return Accounts()
    findings: list[Finding] = []
    markets, _ = load_markets(path, (*NETWORKS, *LINE_DEFINED), findings)
    lines = settings.lines_dir
    with_line = (
        {p.name for p in lines.iterdir() if (p / LINE_FILE).is_file()} if lines.is_dir() else None
    )
    keys: list[AccountKey] = []
    relays: dict[AccountKey, AccountKey] = {}
    for market in markets.values():
        for network, account in market.accounts.items():
            key = (network, account.key)
            if account.relay is not None:
                relays[key] = account.relay
            if (with_line is None or network in with_line) and key not in keys:
                keys.append(key)
    return Accounts(tuple(keys), MappingProxyType(relays))


def without_credentials(accounts: Accounts, registry: Registry) -> list[str]:
    """``network:account`` of every account whose posts would be held (live mode)."""
    return [f"{n}:{a}" for n, a in accounts.keys if not registry.has_credentials(n, a)]


def banner(settings: Settings, registry: Registry, accounts: Accounts) -> str:
    """One line: the mode, and in ``live`` mode the accounts without credentials."""
    if not registry.live:
        why = (
            "STORYLINE_PUBLISHER=outbox"
            if settings.publisher_override == "outbox"
            else "no secrets file configured"
        )
        return (
            f"outbox mode ({why}): every post is written to {settings.outbox_dir}, "
            "none is sent to a network"
        )
    missing = without_credentials(accounts, registry)
    if not missing:
        return f"live mode: all {len(accounts.keys)} account(s) have credentials"
    shown = ", ".join(missing[:SHOWN]) + (", …" if len(missing) > SHOWN else "")
    return (
        f"live mode: {len(missing)} account(s) have no credentials: {shown} "
        "(posts for them are held)"
    )


def announce(settings: Settings, registry: Registry) -> str:
    """Log the banner (a warning when some account lacks credentials) and return it."""
    line = banner(settings, registry, read_accounts(settings))
    if registry.live and "no credentials" in line:
        log.warning("%s", line)
    else:
        log.info("%s", line)
    return line
