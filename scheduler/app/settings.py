"""Settings: where the content, the lines, the data, the database and the broker are.

Flags beat ``STORYLINE_*`` variables, which beat the embedded defaults (a SQLite calendar and a
SQLite-backed broker in the data dir), so a fresh clone works with nothing configured.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from scheduler.core.errors import ConfigError

DEFAULT_DATA_DIR = ".storyline"


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


@dataclass(frozen=True)
class Settings:
    content_dir: Path = Path("content")
    lines_dir: Path = Path("editorial_lines")
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    database_url_override: str | None = None
    broker_url_override: str | None = None
    tick_seconds: float = 1.0
    publisher_override: str | None = None  # STORYLINE_PUBLISHER=outbox forces the outbox
    secrets_file: Path | None = None
    media_base_url: str | None = None
    environ: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @property
    def database_url(self) -> str:
        if self.database_url_override:
            return self.database_url_override
        return f"sqlite:///{(self.data_dir / 'storyline.db').resolve()}"

    @property
    def broker_url(self) -> str:
        if self.broker_url_override:
            return self.broker_url_override
        return f"sqla+sqlite:///{(self.data_dir / 'broker.db').resolve()}"

    @property
    def outbox_dir(self) -> Path:
        return self.data_dir / "outbox"

    def api_base(self, network: str, default: str) -> str:
        """``STORYLINE_API_BASE_<NETWORK>`` replaces a network's documented base URL."""
        value = _env(self.environ, f"STORYLINE_API_BASE_{network.upper()}")
        return (value or default).rstrip("/")

    def with_overrides(self, **changes: object) -> Settings:
        """Apply CLI flags (None means "not given") on top of these settings."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        tick_raw = _env(env, "STORYLINE_TICK_SECONDS")
        try:
            tick = float(tick_raw) if tick_raw else 1.0
        except ValueError:
            raise ConfigError(
                f"STORYLINE_TICK_SECONDS must be a number of seconds, not {tick_raw!r}"
            ) from None
        if tick <= 0:
            raise ConfigError("STORYLINE_TICK_SECONDS must be greater than 0")
        secrets = _env(env, "STORYLINE_SECRETS_FILE")
        return cls(
            content_dir=Path(_env(env, "STORYLINE_CONTENT_DIR") or "content"),
            lines_dir=Path(_env(env, "STORYLINE_LINES_DIR") or "editorial_lines"),
            data_dir=Path(_env(env, "STORYLINE_DATA_DIR") or DEFAULT_DATA_DIR),
            database_url_override=_env(env, "STORYLINE_DATABASE_URL"),
            broker_url_override=_env(env, "STORYLINE_BROKER_URL"),
            tick_seconds=tick,
            publisher_override=_env(env, "STORYLINE_PUBLISHER"),
            secrets_file=Path(secrets) if secrets else None,
            media_base_url=_env(env, "STORYLINE_MEDIA_BASE_URL"),
            environ=env,
        )
