"""Network credentials: a YAML secrets file, overridden field by field by the environment.

Why two sources: the file (``STORYLINE_SECRETS_FILE``, never in git) holds a brand's whole set of
tokens; an environment variable ``STORYLINE_SECRET_<NETWORK>_<ACCOUNT>_<FIELD>`` replaces one field
for one account, which is how container platforms inject rotated tokens. The file is keyed by
network, then by the account's ``id`` or ``handle`` from ``markets.yaml``::

    x:        {BrandFR: {access_token: ...}}
    webhook:  {agency: {url: https://..., secret: ...}}

Values never appear in messages, reprs or logs: :class:`Credentials` hides them, and errors name
only the file, the network, the account and the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scheduler.app.settings import SECRET_PREFIX, Settings
from scheduler.core.errors import ConfigError
from scheduler.core.suggest import closest, did_you_mean
from scheduler.publishers.base import Credentials
from scheduler.publishers.registry import GOOGLE_PLUS, check_network

if TYPE_CHECKING:
    from scheduler.core.model import Market

ENV_PREFIX = SECRET_PREFIX


def env_key(part: str) -> str:
    """The environment spelling of a network or account: upper-cased, non-alphanumerics as ``_``."""
    return re.sub(r"[^A-Z0-9]", "_", part.upper())


@dataclass(frozen=True)
class Secrets:
    """Every account's secret fields, from the file and the environment."""

    file_fields: Mapping[str, Mapping[str, Mapping[str, str]]] = field(
        default_factory=dict, repr=False
    )
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    source: Path | None = None
    #: Where each account was written, ``file:line:col`` (errors name it; no value).
    positions: Mapping[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def credentials(self, network: str, account: str) -> Credentials | None:
        """The account's credentials, or None when neither the file nor the environment has any."""
        fields = dict(self.file_fields.get(network, {}).get(account, {}))
        prefix = f"{ENV_PREFIX}{env_key(network)}_{env_key(account)}_"
        for name, value in self.environ.items():
            if name.startswith(prefix) and value.strip():
                fields[name[len(prefix) :].lower()] = value.strip()
        if not fields:
            return None
        return Credentials(network, account, fields)

    def accounts(self) -> list[tuple[str, str]]:
        """The (network, account) pairs of the secrets file (the beat checks their tokens)."""
        return [(n, a) for n, accounts in self.file_fields.items() for a in accounts]

    def has_network(self, network: str) -> bool:
        """True when at least one account of ``network`` has credentials somewhere."""
        if self.file_fields.get(network):
            return True
        prefix = f"{ENV_PREFIX}{env_key(network)}_"
        return any(name.startswith(prefix) for name in self.environ)


#: Fields a publisher reads besides its ``requires`` and its token lifecycle's ``fields``.
EXTRA_FIELDS: Mapping[str, tuple[str, ...]] = {
    "x": ("user_id",),
    "webhook": ("url", "secret", "lookup_url"),
}
#: What people call a network, for the "did you mean".
NETWORK_ALIASES: Mapping[str, str] = {
    "twitter": "x",
    "fb": "facebook",
    "ig": "instagram",
    "yt": "youtube",
    "bsky": "bluesky",
}


def known_networks() -> list[str]:
    """Every network a secrets file may name: the built-in ones and the installed publishers."""
    from scheduler.publishers.registry import publisher_classes
    from scheduler.text.networks import NETWORKS

    return sorted((set(NETWORKS) | set(publisher_classes()) | {"webhook"}) - {"outbox"})


def allowed_fields(network: str) -> tuple[str, ...]:
    """The fields of ``network``, in its own words (docs/operations.md, "Tokens")."""
    from scheduler.publishers.auth.registry import fields_of
    from scheduler.publishers.registry import load_class

    cls = load_class(network)
    requires = tuple(getattr(cls, "requires", ()) or ()) if cls is not None else ()
    names = dict.fromkeys((*requires, *fields_of(network), *EXTRA_FIELDS.get(network, ())))
    return tuple(names) or ("access_token",)


def _network_hint(name: str, known: list[str]) -> str:
    alias = NETWORK_ALIASES.get(name.lower())
    if alias is None:
        close = closest(name, [*known, *NETWORK_ALIASES], n=1)
        alias = NETWORK_ALIASES.get(close[0], close[0]) if close else None
    if alias is not None:
        return f"unknown network {name!r} (did you mean {alias!r}?)"
    return f"unknown network {name!r}; the networks are: {', '.join(known)}"


def _parse(path: Path) -> tuple[dict[str, dict[str, dict[str, str]]], dict[tuple[str, str], str]]:
    """The file's fields, and where each account was written (``file:line:col``). Every
    mistake is reported at once, by position and key; never by value."""
    from scheduler.content.yamlpos import parse_yaml

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: secrets file not found (STORYLINE_SECRETS_FILE)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the secrets file: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: the secrets file is not UTF-8 text") from None
    loaded = parse_yaml(text, str(path))
    errors = [f for f in loaded.findings if f.is_error]
    if errors:
        first = errors[0]
        # The parser's own words could quote a value: say where, not what.
        raise ConfigError(
            f"{first.file}:{first.line}:{first.column}: the secrets file is not valid YAML"
        )
    root = loaded.root
    if root is None:
        return {}, {}
    if not root.is_map:
        raise ConfigError(f"{path}:{root.pos.line}: the secrets file must map networks to accounts")
    known = known_networks()
    problems: list[str] = []
    out: dict[str, dict[str, dict[str, str]]] = {}
    where: dict[tuple[str, str], str] = {}
    for network, npos, accounts in root.entries():
        if network.lower() in GOOGLE_PLUS:
            try:
                check_network(network)
            except ConfigError as exc:
                problems.append(f"{npos}: {exc}")
            continue
        if network not in known:
            problems.append(f"{npos}: {_network_hint(network, known)}")
            continue
        if not accounts.is_map:
            problems.append(f"{npos}: {network}: must map account ids or handles to fields")
            continue
        allowed = allowed_fields(network)
        out[network] = {}
        for account, apos, fields in accounts.entries():
            if not fields.is_map:
                problems.append(f"{apos}: {network}.{account}: must map field names to values")
                continue
            clean: dict[str, str] = {}
            for name, fpos, value in fields.entries():
                if name not in allowed:
                    hint = did_you_mean(name, allowed)
                    problems.append(
                        f"{fpos}: {network}.{account}: unknown field {name!r}{hint}; "
                        f"{network} reads: {', '.join(allowed)}"
                    )
                elif not value.is_scalar or value.value is None or isinstance(value.value, bool):
                    problems.append(f"{fpos}: {network}.{account}.{name}: must be a string")
                else:
                    clean[name] = value.raw or str(value.value)
            out[network][account] = clean
            where[(network, account)] = str(apos)
    if problems:
        shown = problems[:20] + (
            [f"... and {len(problems) - 20} more"] if len(problems) > 20 else []
        )
        raise ConfigError(f"{len(problems)} problem(s) in the secrets file:\n" + "\n".join(shown))
    return out, where


def check_accounts_known(secrets: Secrets, markets: Mapping[str, Market]) -> None:
    """Refuse a secrets-file account that no market names (a typo would silently leave the
    real account without credentials): the file, line, key and the closest account."""
    keys: dict[str, set[str]] = {}
    for market in markets.values():
        for network, entry in market.accounts.items():
            keys.setdefault(network, set()).add(entry.key)
            via = str(entry.extra.get("via", "")) if entry.extra else ""
            if via.startswith("webhook:"):
                keys.setdefault("webhook", set()).add(via.split(":", 1)[1])
    problems = []
    for network, accounts in secrets.file_fields.items():
        choices = sorted(keys.get(network, set()))
        if network == "webhook" and not choices:
            continue  # a relay no market routes through yet (``via: webhook:<account>``)
        for account in accounts:
            if account in choices:
                continue
            at = secrets.positions.get((network, account), str(secrets.source))
            hint = did_you_mean(account, choices)
            listed = f"; markets.yaml names: {', '.join(choices)}" if choices and not hint else ""
            if not choices:
                listed = f"; markets.yaml has no {network} account"
            problems.append(
                f"{at}: {network}.{account}: no account {account!r} of {network} in "
                f"markets.yaml{hint}{listed}"
            )
    if problems:
        raise ConfigError(
            f"{len(problems)} problem(s) in the secrets file:\n" + "\n".join(problems)
        )


def load_secrets(settings: Settings) -> Secrets:
    """Read the secrets file named by the settings (if any) and the process environment."""
    path = settings.secrets_file
    fields, where = _parse(path) if path is not None else ({}, {})
    return Secrets(
        file_fields=fields, environ=settings.secret_variables, source=path, positions=where
    )
