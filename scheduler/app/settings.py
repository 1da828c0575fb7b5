"""Settings: every ``STORYLINE_*`` variable, read once, in one place.

Flags beat variables, which beat the embedded defaults (a SQLite calendar and a SQLite-backed
broker in the data dir), so a fresh clone works with nothing configured. Every variable is
declared in :data:`VARIABLES` with its default and meaning: :meth:`Settings.from_env` parses
them, ``docs/operations.md`` lists them (generated from that table, and checked by a test), and
no other module reads the environment.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from scheduler.core.errors import ConfigError
from scheduler.core.pulls import DEFAULT_PULL_AFTER, Window, parse_windows

DEFAULT_DATA_DIR = ".storyline"
#: Per-account secret fields: ``STORYLINE_SECRET_<NETWORK>_<ACCOUNT>_<FIELD>``.
SECRET_PREFIX = "STORYLINE_SECRET_"  # noqa: S105 - a variable name, not a secret


@dataclass(frozen=True)
class Variable:
    """One documented variable. A ``<NETWORK>`` in the name stands for any network name."""

    name: str
    default: str
    doc: str

    @property
    def prefix(self) -> str | None:
        """For a per-network (or per-account) family, the part before ``<``; else None."""
        head, sep, _ = self.name.partition("<")
        return head if sep else None


VARIABLES: tuple[Variable, ...] = (
    Variable("STORYLINE_CONTENT_DIR", "content", "the content folder: markets.yaml, stories/"),
    Variable("STORYLINE_LINES_DIR", "editorial_lines", "the editorial lines folder"),
    Variable(
        "STORYLINE_DATA_DIR",
        DEFAULT_DATA_DIR,
        "where the embedded calendar, broker, outbox and caches live",
    ),
    Variable(
        "STORYLINE_DATABASE_URL",
        "SQLite in the data dir",
        "the calendar database (`postgresql+psycopg://...` in production)",
    ),
    Variable(
        "STORYLINE_BROKER_URL",
        "SQLite in the data dir",
        "the Celery broker (`redis://...` or `amqp://...` in production)",
    ),
    Variable("STORYLINE_QUEUE", "storyline", "the Celery queue, if several brands share a broker"),
    Variable("STORYLINE_TICK_SECONDS", "1", "how often the beat claims due posts"),
    Variable(
        "STORYLINE_PUBLISHER",
        "`outbox` until credentials are configured, then `live`",
        "`outbox` writes every post to the local outbox; `live` sends every post to its "
        "network and holds the posts of accounts without credentials",
    ),
    Variable(
        "STORYLINE_SECRETS_FILE",
        "(none)",
        "the YAML file of network credentials (docs/secrets.md); never in git",
    ),
    Variable(
        "STORYLINE_SECRET_<NETWORK>_<ACCOUNT>_<FIELD>",
        "(none)",
        "one credential field of one account; wins over the secrets file",
    ),
    Variable(
        "STORYLINE_MEDIA_BASE_URL",
        "(none)",
        "public URL of the content's media, for networks that fetch media by URL",
    ),
    Variable(
        "STORYLINE_API_BASE_<NETWORK>",
        "the network's documented base",
        "replaces a network's API base URL, paths unchanged (tests, sandboxes, proxies)",
    ),
    Variable(
        "STORYLINE_TOKEN_URL_<NETWORK>",
        "the network's documented token endpoint",
        "replaces a token endpoint that lives on another host than the API (Google's for YouTube)",
    ),
    Variable(
        "STORYLINE_LINKEDIN_VERSION",
        "the version Storyline was tested with",
        "LinkedIn's `LinkedIn-Version` header (YYYYMM)",
    ),
    Variable(
        "STORYLINE_SECRET_KEY",
        "(none)",
        "Fernet key(s) that encrypt refreshed tokens in the database; several, comma-separated, "
        "to rotate (the first encrypts)",
    ),
    Variable(
        "STORYLINE_NOTIFY",
        "(none)",
        "notification channels: apprise URLs (Slack, Teams, mailto, ...), space-separated",
    ),
    Variable(
        "STORYLINE_NOTIFY_<MARKET>",
        "(none)",
        "channels that hear about one market only (its community manager)",
    ),
    Variable(
        "STORYLINE_NOTIFY_EXPIRY_DAYS",
        "7",
        "warn this many days before an account's token expires",
    ),
    Variable(
        "STORYLINE_DIGEST_HOUR", "8", "local hour of each market's daily digest (empty: none)"
    ),
    Variable(
        "STORYLINE_TOKEN_CHECK_SECONDS",
        "300",
        "how often the beat refreshes tokens ahead of expiry",
    ),
    Variable(
        "STORYLINE_METRICS_PORT", "(none)", "the worker serves Prometheus metrics on this port"
    ),
    Variable("STORYLINE_METRICS_ADDRESS", "127.0.0.1", "the address the metrics are served on"),
    Variable(
        "STORYLINE_HEALTH_BEAT_SECONDS",
        "60",
        "`storyline health` fails when no beat ticked for this long",
    ),
    Variable(
        "STORYLINE_METRICS_PULL_AFTER",
        "1h,24h,7d,28d",
        "ages after publication at which each post's counts are pulled (m, h, d)",
    ),
    Variable(
        "STORYLINE_METRICS_PULL_SECONDS",
        "300",
        "how often the beat looks for posts due a metrics pull",
    ),
    Variable("STORYLINE_LEASE_SECONDS", "60", "how long a claim protects a post being published"),
    Variable("STORYLINE_MAX_ATTEMPTS", "8", "attempts before a post fails"),
    Variable("STORYLINE_BACKOFF_SECONDS", "30", "wait before the second attempt; doubles after"),
    Variable("STORYLINE_PUBLISH_BATCH", "8", "most claims one broker message carries in a burst"),
    Variable(
        "STORYLINE_MAX_LATENESS_<NETWORK>",
        "1 h to 12 h by network",
        "seconds past due after which a post fails instead of going out late",
    ),
    Variable(
        "STORYLINE_MIN_SPACING_<NETWORK>",
        "1 s to 10 s by network",
        "least seconds between two posts of one account",
    ),
    Variable("STORYLINE_NOW", "(the clock)", "pins the CLI's clock (ISO 8601): tests and demos"),
)


def _env(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


def _number(
    name: str, raw: str | None, default: float, *, unit: str = "", positive: bool = False
) -> float:
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number{unit}, not {raw!r}") from None
    if positive and not value > 0:
        raise ConfigError(f"{name} must be greater than 0")
    if math.isnan(value) or value < 0:
        raise ConfigError(f"{name} must not be negative")
    return value


def _seconds(name: str, raw: str | None, default: float, *, positive: bool = False) -> float:
    return _number(name, raw, default, unit=" of seconds", positive=positive)


def _count(name: str, raw: str | None, default: int) -> int:
    return int(_number(name, raw, default)) or 1


def _instant(name: str, raw: str | None) -> datetime | None:
    if raw is None:
        return None
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise ConfigError(f"{name} must be an ISO 8601 instant, not {raw!r}") from None
    if when.tzinfo is None:
        raise ConfigError(f"{name} needs a UTC offset or Z: {raw!r}")
    return when.astimezone(UTC)


def _per_network(
    environ: Mapping[str, str], prefix: str, parse: Callable[[str, str], Any]
) -> Mapping[str, Any]:
    """``<prefix><NETWORK>`` variables as network (lower case) -> parsed value."""
    return MappingProxyType(
        {
            name.removeprefix(prefix).lower(): parse(name, value.strip())
            for name, value in environ.items()
            if name.startswith(prefix) and value.strip()
        }
    )


@dataclass(frozen=True)
class Settings:
    content_dir: Path = Path("content")
    lines_dir: Path = Path("editorial_lines")
    data_dir: Path = Path(DEFAULT_DATA_DIR)
    database_url_override: str | None = None
    broker_url_override: str | None = None
    queue: str = "storyline"
    tick_seconds: float = 1.0
    publisher_override: str | None = None  # STORYLINE_PUBLISHER=outbox forces the outbox
    secrets_file: Path | None = None
    #: ``STORYLINE_SECRET_*`` variables as given (secrets read them, nobody else).
    secret_variables: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)
    media_base_url: str | None = None
    #: network -> base URL, from ``STORYLINE_API_BASE_<NETWORK>``.
    api_bases: Mapping[str, str] = field(default_factory=dict)
    #: network -> token endpoint URL, from ``STORYLINE_TOKEN_URL_<NETWORK>``.
    token_urls: Mapping[str, str] = field(default_factory=dict)
    linkedin_version: str | None = None
    lease_seconds: float = 60.0
    max_attempts: int = 8
    backoff_seconds: float = 30.0
    publish_batch: int = 8
    #: network -> seconds, from ``STORYLINE_MAX_LATENESS_<NETWORK>`` (defaults: the dispatcher's).
    max_lateness: Mapping[str, float] = field(default_factory=dict)
    #: network -> seconds, from ``STORYLINE_MIN_SPACING_<NETWORK>``.
    min_spacing: Mapping[str, float] = field(default_factory=dict)
    #: ``STORYLINE_NOW``: the CLI's clock, pinned (tests and demos).
    pinned_now: datetime | None = None
    #: ``NO_COLOR`` (https://no-color.org): set and not empty, the CLI prints no colours
    #: unless ``--color`` asks for them.
    no_color: bool = False
    #: Fernet keys, newest first (``STORYLINE_SECRET_KEY``); empty when none is set.
    secret_keys: tuple[str, ...] = field(default=(), repr=False, compare=False)
    notify: tuple[str, ...] = field(default=(), repr=False)
    #: market -> its own channels (``STORYLINE_NOTIFY_<MARKET>``).
    notify_by_market: Mapping[str, tuple[str, ...]] = field(default_factory=dict, repr=False)
    notify_expiry_days: int = 7
    digest_hour: int | None = 8
    token_check_seconds: float = 300.0
    metrics_port: int | None = None
    metrics_address: str = "127.0.0.1"
    health_beat_seconds: float = 60.0
    #: Pull ages (``STORYLINE_METRICS_PULL_AFTER``), shortest first.
    metrics_pull_after: tuple[Window, ...] = field(
        default_factory=lambda: parse_windows(DEFAULT_PULL_AFTER)
    )
    metrics_pull_seconds: float = 300.0

    @property
    def publisher_mode(self) -> str:
        """``outbox`` or ``live``: ``STORYLINE_PUBLISHER``, else ``live`` as soon as credentials
        are configured (a secrets file or ``STORYLINE_SECRET_*`` variables), else ``outbox``."""
        if self.publisher_override:
            return self.publisher_override
        return "live" if self.secrets_file or self.secret_variables else "outbox"

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
        return (self.api_base_override(network) or default).rstrip("/")

    def api_base_override(self, network: str) -> str | None:
        """The base URL given for ``network``, if any (its paths are then kept as written)."""
        value = self.api_bases.get(network.lower())
        return value.rstrip("/") if value else None

    def token_url(self, network: str, default: str) -> str:
        """A token endpoint on another host than the API: ``STORYLINE_TOKEN_URL_<NETWORK>``
        replaces the whole URL (same-host endpoints move with the API base instead)."""
        return self.token_urls.get(network.lower()) or default

    def now(self) -> datetime:
        """Now, aware UTC: the pinned clock if ``STORYLINE_NOW`` is set, else the wall clock."""
        return self.pinned_now or datetime.now(UTC)

    def with_overrides(self, **changes: object) -> Settings:
        """Apply CLI flags (None means "not given") on top of these settings."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Parse every ``STORYLINE_*`` variable of ``environ`` (default: the process's)."""
        env = os.environ if environ is None else environ
        secrets = _env(env, "STORYLINE_SECRETS_FILE")
        return cls(
            content_dir=Path(_env(env, "STORYLINE_CONTENT_DIR") or "content"),
            lines_dir=Path(_env(env, "STORYLINE_LINES_DIR") or "editorial_lines"),
            data_dir=Path(_env(env, "STORYLINE_DATA_DIR") or DEFAULT_DATA_DIR),
            database_url_override=_env(env, "STORYLINE_DATABASE_URL"),
            broker_url_override=_env(env, "STORYLINE_BROKER_URL"),
            queue=_env(env, "STORYLINE_QUEUE") or "storyline",
            tick_seconds=_seconds(
                "STORYLINE_TICK_SECONDS", _env(env, "STORYLINE_TICK_SECONDS"), 1.0, positive=True
            ),
            publisher_override=_choice(
                "STORYLINE_PUBLISHER", _env(env, "STORYLINE_PUBLISHER"), ("outbox", "live")
            ),
            secrets_file=Path(secrets) if secrets else None,
            secret_variables=MappingProxyType(
                {k: v for k, v in env.items() if k.startswith(SECRET_PREFIX)}
            ),
            media_base_url=_env(env, "STORYLINE_MEDIA_BASE_URL"),
            api_bases=_per_network(env, "STORYLINE_API_BASE_", lambda _, value: value),
            token_urls=_per_network(env, "STORYLINE_TOKEN_URL_", lambda _, value: value),
            linkedin_version=_env(env, "STORYLINE_LINKEDIN_VERSION"),
            lease_seconds=_lease(_env(env, "STORYLINE_LEASE_SECONDS")),
            max_attempts=_count("STORYLINE_MAX_ATTEMPTS", _env(env, "STORYLINE_MAX_ATTEMPTS"), 8),
            backoff_seconds=_seconds(
                "STORYLINE_BACKOFF_SECONDS", _env(env, "STORYLINE_BACKOFF_SECONDS"), 30.0
            ),
            publish_batch=_count(
                "STORYLINE_PUBLISH_BATCH", _env(env, "STORYLINE_PUBLISH_BATCH"), 8
            ),
            max_lateness=_per_network(
                env, "STORYLINE_MAX_LATENESS_", lambda name, raw: _seconds(name, raw, 0)
            ),
            min_spacing=_per_network(
                env, "STORYLINE_MIN_SPACING_", lambda name, raw: _seconds(name, raw, 0)
            ),
            pinned_now=_instant("STORYLINE_NOW", _env(env, "STORYLINE_NOW")),
            no_color=env.get("NO_COLOR", "") != "",
            secret_keys=tuple(
                k.strip() for k in (_env(env, "STORYLINE_SECRET_KEY") or "").split(",") if k.strip()
            ),
            notify=tuple((_env(env, "STORYLINE_NOTIFY") or "").split()),
            notify_by_market=_per_network(
                {k: v for k, v in env.items() if not k.startswith(_NOTIFY_SETTINGS)},
                "STORYLINE_NOTIFY_",
                lambda _, value: tuple(value.split()),
            ),
            notify_expiry_days=_count(
                "STORYLINE_NOTIFY_EXPIRY_DAYS", _env(env, "STORYLINE_NOTIFY_EXPIRY_DAYS"), 7
            ),
            digest_hour=_hour(_env(env, "STORYLINE_DIGEST_HOUR"), env),
            token_check_seconds=_seconds(
                "STORYLINE_TOKEN_CHECK_SECONDS",
                _env(env, "STORYLINE_TOKEN_CHECK_SECONDS"),
                300.0,
                positive=True,
            ),
            metrics_port=_port(_env(env, "STORYLINE_METRICS_PORT")),
            metrics_address=_env(env, "STORYLINE_METRICS_ADDRESS") or "127.0.0.1",
            health_beat_seconds=_seconds(
                "STORYLINE_HEALTH_BEAT_SECONDS",
                _env(env, "STORYLINE_HEALTH_BEAT_SECONDS"),
                60.0,
                positive=True,
            ),
            metrics_pull_after=parse_windows(
                _env(env, "STORYLINE_METRICS_PULL_AFTER") or DEFAULT_PULL_AFTER
            ),
            metrics_pull_seconds=_seconds(
                "STORYLINE_METRICS_PULL_SECONDS",
                _env(env, "STORYLINE_METRICS_PULL_SECONDS"),
                300.0,
                positive=True,
            ),
        )


#: ``STORYLINE_NOTIFY_*`` variables that are settings, not a market's channels.
_NOTIFY_SETTINGS = ("STORYLINE_NOTIFY_EXPIRY_DAYS",)


def _choice(name: str, raw: str | None, choices: tuple[str, ...]) -> str | None:
    if raw is None:
        return None
    if raw.lower() not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {raw!r}")
    return raw.lower()


def _hour(raw: str | None, env: Mapping[str, str]) -> int | None:
    if raw is None:
        # Set but empty switches the digest off; unset keeps the default hour.
        return None if "STORYLINE_DIGEST_HOUR" in env else 8
    if not raw.isdigit() or not 0 <= int(raw) <= 23:
        raise ConfigError(f"STORYLINE_DIGEST_HOUR must be an hour from 0 to 23, not {raw!r}")
    return int(raw)


def _port(raw: str | None) -> int | None:
    if raw is None:
        return None
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise ConfigError(f"STORYLINE_METRICS_PORT must be a port number, not {raw!r}")
    return int(raw)


def _lease(raw: str | None) -> float:
    lease = _seconds("STORYLINE_LEASE_SECONDS", raw, 60.0)
    if lease < 1:
        raise ConfigError("STORYLINE_LEASE_SECONDS must be at least 1")
    return lease


def pass_to_children(name: str, value: str) -> None:
    """Set a variable that a library reads in the processes this one forks (prometheus_client's
    ``PROMETHEUS_MULTIPROC_DIR``): written here, beside the one place that reads variables."""
    os.environ[name] = value


def documented(name: str) -> bool:
    """Whether ``name`` (a variable, or a family's prefix) is one :data:`VARIABLES` declares."""
    return any(
        v.name == name or (v.prefix is not None and name.startswith(v.prefix.rstrip("_")))
        for v in VARIABLES
    )


def variables_table() -> str:
    """The Markdown table of every variable, as docs/operations.md shows it."""
    rows = ["| variable | default | what it sets |", "|---|---|---|"]
    rows += [f"| `{v.name}` | {v.default} | {v.doc} |" for v in VARIABLES]
    return "\n".join(rows)
