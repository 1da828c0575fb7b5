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

import yaml

from scheduler.app.settings import SECRET_PREFIX, Settings
from scheduler.core.errors import ConfigError
from scheduler.publishers.base import Credentials

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


def _parse(path: Path) -> dict[str, dict[str, dict[str, str]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: secrets file not found (STORYLINE_SECRETS_FILE)") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the secrets file: {exc.strerror}") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        # The YAML error text could quote a value: say where, not what.
        raise ConfigError(f"{where}: the secrets file is not valid YAML") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the secrets file must map networks to accounts")
    out: dict[str, dict[str, dict[str, str]]] = {}
    for network, accounts in data.items():
        if not isinstance(accounts, dict):
            raise ConfigError(f"{path}: {network}: must map account ids or handles to fields")
        out[str(network)] = {}
        for account, fields in accounts.items():
            if not isinstance(fields, dict):
                raise ConfigError(f"{path}: {network}.{account}: must map field names to values")
            clean: dict[str, str] = {}
            for name, value in fields.items():
                if not isinstance(value, str | int | float) or isinstance(value, bool):
                    raise ConfigError(f"{path}: {network}.{account}.{name}: must be a string")
                clean[str(name)] = str(value)
            out[str(network)][str(account)] = clean
    return out


def load_secrets(settings: Settings) -> Secrets:
    """Read the secrets file named by the settings (if any) and the process environment."""
    path = settings.secrets_file
    fields = _parse(path) if path is not None else {}
    return Secrets(file_fields=fields, environ=settings.secret_variables, source=path)
