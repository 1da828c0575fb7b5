"""The notifier: people hear that posts are held, failed or need review, that an account needs
re-auth or its token dies soon, and each market's daily digest (docs/operations.md,
"Notifications").

One run (:meth:`Notifier.run`, the worker's ``storyline.notify`` beat task) is a scan then a
delivery. The scan reads the calendar, asks :mod:`notify_plan` what changed, and records each
event once. The delivery claims what is due, batches it (:mod:`notify_message`: one message
per account and channel) and sends through apprise (:mod:`notify_channels`). A channel that is
down is retried with backoff, its error kept redacted; nothing here is on the publish path, so
a notification never delays or blocks a post.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.engine import Engine

from scheduler.app import notify_store as store
from scheduler.app.notify_channels import Channel, channels_of, routes_of, send, unknown_markets
from scheduler.app.notify_message import batch
from scheduler.app.notify_plan import digest_due, digest_event, digest_key, plan_events
from scheduler.app.settings import Settings
from scheduler.calendar.database import engine_for, utcnow

log = logging.getLogger(__name__)

#: A delivery is given up after this many attempts (about 8 hours of backoff).
MAX_ATTEMPTS = 10
#: Wait before the second attempt; doubles after each, up to :data:`MAX_BACKOFF`.
BACKOFF = timedelta(seconds=30)
MAX_BACKOFF = timedelta(hours=1)
#: A run starts no new message after this many seconds (a channel that hangs until its
#: timeouts costs them); what is left goes in the next run.
RUN_BUDGET_S = 20.0
#: How long a run owns the deliveries it claimed (a run that dies frees them then).
LEASE = timedelta(minutes=2)


def notify_every(tick_seconds: float) -> float:
    """Seconds between two notifier runs: a few ticks, so people hear within seconds, and
    never a scan per tick."""
    return min(15.0, max(2.0, 5 * tick_seconds))


def backoff(attempts: int, base: timedelta = BACKOFF) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: base, 2x, 4x... capped."""
    wait: timedelta = base * 2 ** max(attempts - 1, 0)
    return min(wait, MAX_BACKOFF)


@dataclass
class RunReport:
    recorded: int = 0
    messages: int = 0
    sent: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def market_zones(settings: Settings) -> dict[str, str]:
    """Each market's zone from markets.yaml (empty when it cannot be read)."""
    from scheduler.content.files import MARKETS_FILE_NAME
    from scheduler.content.markets import load_markets
    from scheduler.text.networks import NETWORKS

    path = Path(settings.content_dir) / MARKETS_FILE_NAME
    if not path.is_file():
        return {}
    markets, _ = load_markets(path, tuple(NETWORKS), [])
    return {code: m.timezone for code, m in markets.items()}


def token_kinds() -> dict[str, str]:
    from scheduler.publishers.auth.registry import LIFECYCLES

    return {network: cls.kind for network, cls in LIFECYCLES.items()}


class Notifier:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        *,
        clock: Callable[[], datetime] = utcnow,
        channels: list[Channel] | None = None,
        backoff_base: timedelta = BACKOFF,
        zones: Mapping[str, str] | None = None,
        budget_s: float = RUN_BUDGET_S,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.clock = clock
        self.channels = channels_of(settings) if channels is None else channels
        self.routes = routes_of(self.channels)
        self.backoff_base = backoff_base
        self._zones = dict(zones) if zones is not None else None
        self._warned = False
        self._running = threading.Lock()
        self.budget_s = budget_s

    def zones(self) -> dict[str, str]:
        """Market zones: markets.yaml's, else as the calendar's posts carry them."""
        if self._zones is None:
            try:
                self._zones = market_zones(self.settings)
            except Exception:  # a broken markets.yaml: validate says why; digests go on
                log.warning("notify: markets.yaml unreadable; market zones from the calendar")
                self._zones = {}
        if self._zones:
            return self._zones
        with self.engine.connect() as conn:
            return store.post_zones(conn)

    def scan(self, now: datetime | None = None) -> int:
        """Record every event due now; answers how many this run recorded."""
        now = now or self.clock()
        if not self.routes.any:
            return 0
        # Read, then write in a transaction of its own: a SQLite read snapshot is never
        # upgraded to a write (another writer meanwhile would make it fail), and two scans
        # that plan the same event meet at its unique key.
        zones = self.zones()
        with self.engine.connect() as conn:
            posts = store.notable_posts(conn)
            latest = store.latest_events(conn)
            tokens = store.tokens(conn, token_kinds())
            no_insights = store.missing_insights(conn)
            accounts = {(t.network, t.account) for t in tokens}
            accounts |= {(p.network, p.account) for p in posts}
            accounts |= {(f.network, f.account) for f in no_insights}
            events = plan_events(
                now,
                posts=posts,
                tokens=tokens,
                latest=latest,
                routes=self.routes,
                markets_of=store.markets_of(conn, accounts),
                expiry_days=self.settings.notify_expiry_days,
                no_insights=no_insights,
            )
            digests = digest_due(now, zones, self.settings.digest_hour)
            done = store.existing_keys(conn, [digest_key(m, d) for m, d in digests.items()])
            for market, day in digests.items():
                if digest_key(market, day) in done:
                    continue  # told already this local day: no need to read its posts again
                events.append(
                    digest_event(
                        now,
                        market,
                        day,
                        zones[market],
                        store.market_posts(conn, market, now),
                        self.routes,
                    )
                )
        if not events:
            return 0
        with self.engine.begin() as conn:
            return len(store.record(conn, events, now))

    def deliver(self, now: datetime | None = None) -> RunReport:
        """Send what is due: one message per account (or digest) and channel."""
        now = now or self.clock()
        report = RunReport()
        by_id = {c.id: c for c in self.channels}
        with self.engine.begin() as conn:
            pending = store.claim(conn, now, list(by_id), LEASE, MAX_ATTEMPTS)
        attempts = {(p.event_id, p.channel): p.attempts for p in pending}
        down: dict[str, str] = {}
        started = time.monotonic()
        messages = batch(pending)
        for n, message in enumerate(messages):
            if time.monotonic() - started > self.budget_s:
                # Slow channels used this run's time: the rest is due again at once, for the
                # next run (and not counted as an attempt).
                with self.engine.begin() as conn:
                    for rest in messages[n:]:
                        store.release(conn, rest.event_ids, rest.channel)
                break
            channel = by_id[message.channel]
            report.messages += 1
            error = down.get(channel.id)
            fresh = error is None
            if error is None:
                error = send(channel, message.title, message.body)
            with self.engine.begin() as conn:
                if error is None:
                    store.mark_sent(conn, message.event_ids, channel.id, self.clock())
                    report.sent += 1
                    continue
                down[channel.id] = error  # the rest of this run waits for the next try
                tries = max(attempts.get((i, channel.id), 1) for i in message.event_ids)
                again = now + backoff(tries, self.backoff_base) if tries < MAX_ATTEMPTS else None
                store.mark_failed(conn, message.event_ids, channel.id, error, again)
                report.failed += 1
                if not fresh:
                    continue  # said once per channel and run
                report.errors.append(f"{channel.label}: {error}")
                log.warning(
                    "notify: %s not delivered (attempt %d%s): %s",
                    channel.label,
                    tries,
                    f", next at {again:%H:%M:%S} UTC" if again else ", given up",
                    error,
                )
        return report

    def warnings(self) -> list[str]:
        """What is wrong with the channels' setup, for people (a market variable's typo)."""
        return unknown_markets(self.channels, self.zones())

    def run(self, now: datetime | None = None) -> RunReport:
        """A scan, then a delivery. One run at a time in a process: a run held up by a slow
        channel makes the next beat's run return at once rather than take a second thread
        of the worker's pool from publishing."""
        if not self.channels or not self._running.acquire(blocking=False):
            return RunReport()
        try:
            return self._run(now)
        finally:
            self._running.release()

    def _run(self, now: datetime | None) -> RunReport:
        if not self._warned:
            self._warned = True
            for warning in self.warnings():
                log.warning("notify: %s", warning)
        now = now or self.clock()
        recorded = self.scan(now)
        report = self.deliver(now)
        report.recorded = recorded
        return report

    def test(self) -> list[tuple[Channel, str | None]]:
        """Send a test message to every channel now; (channel, error or None) for each."""
        title = "Storyline · test notification"
        body = "If you read this, Storyline can notify this channel."
        return [(c, send(c, title, body)) for c in self.channels]


_NOTIFIERS: dict[int, Notifier] = {}
_LOCK = threading.Lock()


def notifier_for(settings: Settings) -> Notifier:
    """This process's notifier for these settings (channels parsed once, one engine pool)."""
    with _LOCK:
        made = _NOTIFIERS.get(id(settings))
        if made is None or made.settings is not settings:
            made = _NOTIFIERS[id(settings)] = Notifier(engine_for(settings.database_url), settings)
        return made
