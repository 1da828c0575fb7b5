"""Which posts an operator command acts on: ``--all``, ``--story``, ``--market``, ``--network``,
``--account NETWORK:ACCOUNT``, the same selectors for ``pause``, ``resume``, ``hold``,
``cancel`` and ``release``.

A post matches a :class:`Selector` when it matches every kind given, and any value of a kind
(``--market fr --market de --network x``: the X posts of France and Germany). A pause is kept
per value (:meth:`Selector.scopes`): ``pause --market fr --network x`` stops both, each lifted by
its own ``resume``.

Pure: parsing and naming only; the calendar turns a selector into SQL.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from scheduler.core.errors import ConfigError

#: The scopes of a pause, in the order they are shown.
SCOPES: Final = ("all", "story", "market", "network", "account")


class BadSelector(ConfigError):
    """A selector the user typed that names nothing (exit 1, with a "did you mean")."""


@dataclass(frozen=True)
class Selector:
    everything: bool = False
    stories: tuple[str, ...] = ()
    markets: tuple[str, ...] = ()
    networks: tuple[str, ...] = ()
    #: ``(network, account)`` pairs.
    accounts: tuple[tuple[str, str], ...] = ()

    @classmethod
    def parse(
        cls,
        *,
        everything: bool = False,
        stories: tuple[str, ...] = (),
        markets: tuple[str, ...] = (),
        networks: tuple[str, ...] = (),
        accounts: tuple[str, ...] = (),
    ) -> Selector:
        """From the command line's values; ``--account`` must be ``NETWORK:ACCOUNT``."""
        pairs = tuple(parse_account(a) for a in accounts)
        return cls(everything, tuple(stories), tuple(markets), tuple(networks), pairs)

    @classmethod
    def from_scopes(cls, scopes: list[tuple[str, str]]) -> Selector:
        """The selector of some ``(scope, value)`` pauses (the inverse of :meth:`scopes`)."""
        values: dict[str, tuple[str, ...]] = {}
        for scope, value in scopes:
            values[scope] = (*values.get(scope, ()), value)
        return cls.parse(
            everything="all" in values,
            stories=values.get("story", ()),
            markets=values.get("market", ()),
            networks=values.get("network", ()),
            accounts=values.get("account", ()),
        )

    @property
    def empty(self) -> bool:
        return not (
            self.everything or self.stories or self.markets or self.networks or self.accounts
        )

    def scopes(self) -> list[tuple[str, str]]:
        """One ``(scope, value)`` per pause this selector names (``("all", "")`` for ``--all``)."""
        out: list[tuple[str, str]] = [("all", "")] if self.everything else []
        out += [("story", s) for s in self.stories]
        out += [("market", m) for m in self.markets]
        out += [("network", n) for n in self.networks]
        out += [("account", f"{n}:{a}") for n, a in self.accounts]
        return out

    def as_dict(self) -> dict[str, object]:
        """The selector as the audit trail and ``--format json`` write it."""
        out: dict[str, object] = {}
        if self.everything:
            out["all"] = True
        for key, values in (
            ("story", self.stories),
            ("market", self.markets),
            ("network", self.networks),
            ("account", tuple(f"{n}:{a}" for n, a in self.accounts)),
        ):
            if values:
                out[key] = list(values)
        return out

    def describe(self) -> str:
        """``--market fr --network x``, as the user would type it."""
        if self.everything:
            return "--all"
        return " ".join(f"--{scope} {value}" for scope, value in self.scopes())


def parse_account(text: str) -> tuple[str, str]:
    network, sep, account = text.partition(":")
    if not sep or not network or not account:
        raise BadSelector(f"--account takes NETWORK:ACCOUNT (like x:BrandFR), not {text!r}")
    return network, account


def scope_label(scope: str, value: str) -> str:
    """``all``, ``market fr``, ``account x:BrandFR``: a pause as people read it."""
    return scope if scope == "all" else f"{scope} {value}"
