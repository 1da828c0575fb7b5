"""What a name written in the content must refer to: a network with an editorial line, a
time zone that exists. Markets and stories share these checks and their messages.
"""

from __future__ import annotations

from collections.abc import Collection

from scheduler.core import timezones
from scheduler.core.diagnostics import Finding, Position
from scheduler.core.suggest import did_you_mean
from scheduler.text.networks import RETIRED


def retired_message(network: str) -> str | None:
    """The explanation for a network that no longer exists (Google+), else None."""
    return RETIRED.get(network.lower())


def network_problem(name: str, pos: Position, networks: Collection[str]) -> Finding | None:
    if name in networks:
        return None
    retired = retired_message(name)
    if retired is not None:
        return Finding.error(pos, "retired-network", retired)
    known = ", ".join(sorted(networks)) or "none"
    return Finding.error(
        pos,
        "unknown-network",
        f"unknown network {name!r}{did_you_mean(name, sorted(networks))}; known: {known}",
    )


def zone_problem(zone: str, pos: Position, *, written: str | None = None) -> Finding | None:
    """A zone that is not a city's IANA name (an abbreviation, an offset, a typo), with the
    name to write instead (``written``: the whole value it was part of, like a launch)."""
    message = timezones.zone_error(zone, written)
    return None if message is None else Finding.error(pos, "bad-timezone", message)
