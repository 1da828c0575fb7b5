"""``storyline health``: is this deployment able to publish, and who must act?

Four checks a container probe can rely on (each names what failed and what to do), and a
list of accounts that need a person. The accounts do not fail the probe: one expired token
among 70 pages is a notification, not a reason to restart the workers (docs/operations.md,
"Health"). The broker check is handed in by the interface layer, the only one that may
import kombu.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine

from scheduler.app.settings import Settings
from scheduler.calendar.database import check_reachable, engine_for
from scheduler.calendar.health import BEAT, Attention, last_heartbeat, needing_attention
from scheduler.calendar.migrate import ensure_schema
from scheduler.core.errors import StorylineError

#: A broker URL -> None when it answers, else what is wrong and what to do.
BrokerCheck = Callable[[str], str | None]

CHECKS = ("database", "schema", "beat", "broker")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str

    def as_json(self) -> dict[str, object]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail}


@dataclass(frozen=True)
class Health:
    checks: tuple[Check, ...]
    attention: tuple[Attention, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.ok]

    def as_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "failed": self.failed,
            "checks": [c.as_json() for c in self.checks],
            "attention": [a.as_json() for a in self.attention],
        }


def check_health(settings: Settings, now: datetime, broker: BrokerCheck) -> Health:
    """Run every check; one failing does not stop the others from being reported."""
    checks: list[Check] = []
    attention: list[Attention] = []
    engine: Engine | None = None
    try:
        engine = engine_for(settings.database_url)
        check_reachable(engine)
        checks.append(Check("database", True, engine.url.render_as_string(hide_password=True)))
    except StorylineError as exc:
        checks.append(Check("database", False, str(exc)))
        engine = None

    if engine is None:
        checks.append(Check("schema", False, "not checked: the database is unreachable"))
        checks.append(Check("beat", False, "not checked: the database is unreachable"))
    else:
        try:
            ensure_schema(engine)
            checks.append(Check("schema", True, "at the code's revision"))
            checks.append(_beat(engine, settings, now))
            attention = needing_attention(engine)
        except StorylineError as exc:
            checks.append(Check("schema", False, str(exc)))
            checks.append(Check("beat", False, "not checked: the schema is not current"))

    problem = broker(settings.broker_url)
    checks.append(Check("broker", problem is None, problem or "reachable"))
    return Health(tuple(checks), tuple(attention))


def _beat(engine: Engine, settings: Settings, now: datetime) -> Check:
    limit = settings.health_beat_seconds
    at = last_heartbeat(engine, BEAT)
    if at is None:
        return Check("beat", False, "no beat has ticked yet: start `celery -A worker beat`")
    age = (now - at).total_seconds()
    if age > limit:
        return Check(
            "beat",
            False,
            f"the last tick was {age:.0f} s ago (STORYLINE_HEALTH_BEAT_SECONDS={limit:g}): "
            "is a beat running, and a worker consuming its queue?",
        )
    return Check("beat", True, f"ticked {max(age, 0):.1f} s ago")
