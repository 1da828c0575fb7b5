"""Loads ``markets.yaml`` into :class:`~scheduler.core.model.Market` values, with findings."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path
from types import MappingProxyType

from scheduler.content.files import (
    MARKET_SHAPE,
    MARKETS_SHAPE,
    NAME_PATTERN,
    TIMEZONE_PATTERN,
    fields_of,
)
from scheduler.content.references import network_problem, zone_problem
from scheduler.content.shapes import Field, Obj, check_shape
from scheduler.content.yamlpos import Node, load_yaml, scalar_text
from scheduler.core.diagnostics import Finding, Position
from scheduler.core.model import Account, Market, SignoffRule, TranslationPolicy
from scheduler.core.signoff import approver_problem
from scheduler.core.suggest import did_you_mean
from scheduler.text.networks import NETWORKS


def load_markets(
    path: Path, networks: Collection[str], findings: list[Finding]
) -> tuple[dict[str, Market], list[str]]:
    """Markets by code (valid ones only) and every code written (valid or not)."""
    if not path.resolve().is_relative_to(path.parent.resolve()):  # a symlink out
        why = f"{path.name} links to a file outside the content folder; refused"
        findings.append(Finding.error(Position(str(path), 1, 1), "path-escape", why))
        return {}, []
    loaded = load_yaml(path)
    if loaded.root is None:
        if any(f.code == "missing-file" for f in loaded.findings):
            findings.append(
                Finding.error(
                    Position(str(path), 0, 0),
                    "missing-file",
                    f"{path} not found: it lists the markets every story is published in",
                )
            )
        else:
            findings.extend(loaded.findings)
            if not loaded.findings:
                findings.append(
                    Finding.error(Position(str(path), 1, 1), "empty-file", "no markets defined")
                )
        return {}, []
    findings.extend(loaded.findings)
    root = loaded.root
    top = Obj(fields_of(markets=Field(Obj(values=Obj()), required=True)))
    if not root.is_map:
        findings.extend(check_shape(root, top))
        return {}, []
    for key, kpos, _ in root.entries():
        if key != "markets":
            findings.append(
                Finding.error(
                    kpos,
                    "unknown-field",
                    f"unknown field {key!r}{did_you_mean(key, ['markets'])}; "
                    "markets.yaml holds one field: markets",
                )
            )
    node = root.get("markets")
    if node is None:
        findings.append(Finding.error(root.pos, "missing-field", "missing field 'markets'"))
        return {}, []
    markets_shape = MARKETS_SHAPE.fields["markets"].shape
    assert isinstance(markets_shape, Obj)
    if not node.is_map:
        findings.extend(check_shape(node, markets_shape, "markets"))
        return {}, []
    if len(node.fields) < markets_shape.min_fields:  # `markets: {}` is no markets at all
        findings.append(
            Finding.error(
                node.pos, "bad-value", "markets needs at least 1 entry: no market, no post"
            )
        )
    markets: dict[str, Market] = {}
    codes: list[str] = []
    for code, kpos, mnode in node.entries():
        codes.append(code)
        problems: list[Finding] = []
        if not re.fullmatch(NAME_PATTERN, code):
            problems.append(
                Finding.error(
                    kpos, "bad-key", f"market code {code!r} must be lower case letters and digits"
                )
            )
        problems.extend(check_shape(mnode, MARKET_SHAPE, f"markets.{code}"))
        market = _market(code, kpos, mnode, networks, problems)
        findings.extend(problems)
        if market is not None and not any(p.is_error for p in problems):
            markets[code] = market
    return markets, codes


def _market(
    code: str, kpos: Position, node: Node, networks: Collection[str], problems: list[Finding]
) -> Market | None:
    if not node.is_map:
        return None
    name = scalar_text(node.get("name"))
    zone = scalar_text(node.get("timezone"))
    locale = scalar_text(node.get("locale"))
    zone_node = node.get("timezone")
    if (
        zone_node is not None
        and isinstance(zone_node.value, str)
        and re.fullmatch(TIMEZONE_PATTERN, zone_node.value)  # else the shape check said so
    ):
        problem = zone_problem(zone_node.value, zone_node.pos)
        if problem is not None:
            problems.append(problem)
    accounts: dict[str, Account] = {}
    acc_node = node.get("accounts")
    if acc_node is not None and acc_node.is_map:
        for network, npos, anode in acc_node.entries():
            problem = network_problem(network, npos, networks)
            if problem is not None and network in NETWORKS:
                # A real network the brand has no editorial line for (yet): nothing will be
                # posted there, which is worth saying but not wrong.
                problem = Finding.warning(
                    npos,
                    "unused-account",
                    f"market {code} has a {network} account but there is no {network} "
                    "editorial line: nothing is posted there",
                )
            if problem is not None:
                problems.append(problem)
                continue
            if not anode.is_map:
                continue
            ident = scalar_text(anode.get("id"))
            handle = scalar_text(anode.get("handle"))
            if not ident and not handle:
                continue  # the shape check reported it
            extra: dict[str, str] = {}
            max_chars = anode.get("max_characters")
            if max_chars is not None and max_chars.is_scalar:
                extra["max_characters"] = max_chars.raw
            accounts[network] = Account(
                network=network,
                id=ident or None,
                handle=handle or None,
                name=scalar_text(anode.get("name")),
                extra=MappingProxyType(extra),
                pos=npos,
            )
    signoff = _signoff(code, node.get("signoff"), problems)
    if name is None or zone is None or locale is None:
        return None
    policy = scalar_text(node.get("translation"))
    positions = {
        key: (child.pos if child.is_scalar else kpos) for key, kpos, child in node.entries()
    }
    return Market(
        code=code,
        name=name,
        timezone=zone,
        locale=locale,
        claim=scalar_text(node.get("claim")),
        claim_pro=scalar_text(node.get("claim_pro")),
        accounts=MappingProxyType(accounts),
        pos=kpos,
        signoff=signoff,
        translation=TranslationPolicy(policy)
        if policy in tuple(TranslationPolicy)
        else TranslationPolicy.WARN,
        positions=MappingProxyType(positions),
    )


def _signoff(code: str, node: Node | None, problems: list[Finding]) -> SignoffRule | None:
    """``signoff: {required, approvers}``; the shape check already reported wrong types."""
    if node is None or not node.is_map:
        return None
    required_node = node.get("required")
    required = required_node is not None and required_node.value is True
    approvers: list[str] = []
    listed = node.get("approvers")
    if listed is not None and listed.is_seq:
        for item in listed.items:
            name = scalar_text(item)
            if name is None:
                continue
            if approver_problem(name) is not None:
                continue  # the shape check said so (bad-approver)
            if name in approvers:
                problems.append(
                    Finding.warning(item.pos, "duplicate-approver", f"{name} is listed twice")
                )
            else:
                approvers.append(name)
    if required and not approvers and listed is None:
        problems.append(
            Finding.error(
                node.pos,
                "missing-field",
                f"markets.{code}.signoff requires sign-off but lists no approvers: "
                "nobody could ever approve its posts",
            )
        )
    if not required:
        return None
    return SignoffRule(required=True, approvers=tuple(approvers), pos=node.pos)
