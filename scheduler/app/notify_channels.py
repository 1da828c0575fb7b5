"""Notification channels: the apprise URLs of ``STORYLINE_NOTIFY`` and
``STORYLINE_NOTIFY_<MARKET>``, and the one place that sends through them.

Why apprise: Slack, Microsoft Teams, e-mail and a hundred other services, each with its own
payload, auth and quirks, maintained by people who use them; Storyline writes no sender.

A channel URL holds its secret (a webhook token, a password). It is never stored, logged or
printed: the database names a channel by a hash of its URL (:func:`channel_id`), people see
apprise's privacy form of it (``slack://T...2/A...D/...``), and every error apprise reports is
scrubbed of the URL's parts before it is kept (:func:`redact`).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

import apprise

from scheduler.app.notify_plan import Routes, market_key
from scheduler.app.settings import Settings
from scheduler.core.errors import ConfigError
from scheduler.core.suggest import did_you_mean

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Channel:
    """One channel: where it came from and who it hears about (no ``markets``: everything)."""

    id: str
    label: str
    variable: str
    markets: tuple[str, ...] = ()
    url: str = field(default="", repr=False)


def channel_id(url: str) -> str:
    """A stable name for a channel that reveals nothing of its URL: scheme and a hash."""
    scheme = url.split("://", 1)[0].lower()[:20]
    return f"{scheme}-{hashlib.sha256(url.encode()).hexdigest()[:16]}"


def _secret_parts(url: str) -> list[str]:
    try:
        parts = urlsplit(url)
    except ValueError:
        return [url]
    host = parts.netloc.rsplit("@", 1)[-1].rsplit(":", 1)[0]
    found = [url, parts.password or "", parts.username or ""]
    found += [unquote(s) for s in parts.path.split("/")]
    found += parts.path.split("/")
    found += [v for _, v in parse_qsl(parts.query)]
    # A "host" without a dot is a token in apprise's URLs (slack://TOKEN_A/...); a domain or
    # an address is not a secret.
    found.append("" if "." in host else host)
    # Longest first, so a part is never left half-replaced by a shorter one inside it.
    return sorted({s for s in found if len(s) >= 4}, key=len, reverse=True)


def redact(text: str, urls: Iterable[str]) -> str:
    """``text`` with every part of every channel URL that may be a secret replaced."""
    for url in urls:
        for part in _secret_parts(url):
            text = text.replace(part, "***")
    return text


class _Redacting(logging.Filter):
    """Scrubs the channel URLs' secrets from apprise's own log lines (its DEBUG lines carry
    whole request URLs) and from urllib3's request lines."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.urls:
            text = record.getMessage()
            clean = redact(text, self.urls)
            if clean != text:
                record.msg, record.args = clean, None
        return True


_REDACTING = _Redacting()
for _name in ("apprise", "urllib3.connectionpool"):
    logging.getLogger(_name).addFilter(_REDACTING)


def _label(url: str, variable: str) -> str:
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        scheme = url.split("://", 1)[0] if "://" in url else "?"
        raise ConfigError(
            f"{variable}: {scheme}://… is not a notification URL apprise understands "
            "(see https://github.com/caronc/apprise/wiki for the URL of each service)"
        )
    private = str(plugin.url(privacy=True)).split("?", 1)[0]  # type: ignore[no-untyped-call]
    for part in _secret_parts(url):
        if part != url:
            private = private.replace(part, "***")
    return private


def channels_of(settings: Settings) -> list[Channel]:
    """Every configured channel, each once; a URL apprise cannot read is a ConfigError that
    names its variable (never the URL: it holds a secret)."""
    found: dict[str, Channel] = {}
    _REDACTING.urls.update(settings.notify)
    _REDACTING.urls.update(u for urls in settings.notify_by_market.values() for u in urls)
    for url in settings.notify:
        cid = channel_id(url)
        found[cid] = Channel(cid, _label(url, "STORYLINE_NOTIFY"), "STORYLINE_NOTIFY", url=url)
    for market, urls in sorted(settings.notify_by_market.items()):
        variable = f"STORYLINE_NOTIFY_{market.upper()}"
        for url in urls:
            cid = channel_id(url)
            if cid in found and not found[cid].markets:
                continue  # already hears everything
            before = found.get(cid)
            markets = (*(before.markets if before else ()), market_key(market))
            found[cid] = Channel(cid, _label(url, variable), variable, markets, url=url)
    return list(found.values())


def unknown_markets(channels: Iterable[Channel], markets: Iterable[str]) -> list[str]:
    """Warnings for ``STORYLINE_NOTIFY_<MARKET>`` variables that name no market: a typo there
    would route a community manager's messages nowhere, silently."""
    known = {market_key(m): m for m in markets}
    out = []
    for c in channels:
        for m in c.markets:
            if known and m not in known:
                hint = did_you_mean(m, list(known))
                out.append(f"{c.variable}: no market {m!r} in markets.yaml{hint}; it hears nothing")
    return sorted(set(out))


def routes_of(channels: Iterable[Channel]) -> Routes:
    everywhere: list[str] = []
    by_market: dict[str, list[str]] = {}
    for c in channels:
        if not c.markets:
            everywhere.append(c.id)
        for m in c.markets:
            by_market.setdefault(m, []).append(c.id)
    return Routes(tuple(everywhere), {m: tuple(ids) for m, ids in by_market.items()})


def send(channel: Channel, title: str, body: str) -> str | None:
    """Send one message; None when delivered, else why not (redacted, one line)."""
    with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
        try:
            plugin = apprise.Apprise.instantiate(channel.url, suppress_exceptions=True)
            ok = bool(plugin is not None and plugin.notify(body=body, title=title))
        except Exception as exc:  # a plugin bug must not stop the other channels
            ok = False
            captured.write(f"{type(exc).__name__}: {exc}\n")
        said = captured.getvalue()
    if ok:
        return None
    lines = [ln.split(" - ", 2)[-1].strip() for ln in said.splitlines() if ln.strip()]
    why = "; ".join(dict.fromkeys(lines)) or "apprise reported a failure"
    return redact(why, [channel.url])[:500]
