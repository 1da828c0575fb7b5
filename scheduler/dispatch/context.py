"""What every step of the dispatcher shares: the calendar (through one unit of work), the
injected clock, the policy, the publishers, and a few helpers.

Nothing here reads the wall clock directly: a ``clock`` is injected, so tests drive time.
"""

from __future__ import annotations

import json
import os
import random
import socket
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.engine import Engine, RowMapping

from scheduler.calendar.database import from_db, utcnow
from scheduler.calendar.tables import Attempt, Post
from scheduler.calendar.unit import UnitOfWork
from scheduler.core.errors import ConfigError
from scheduler.core.model import Media
from scheduler.dispatch.policy import Policy, PolicySettings
from scheduler.publishers.base import OutgoingPost
from scheduler.publishers.registry import Registry, Route

POST = Post.__table__  # type: ignore[attr-defined]
ATTEMPT = Attempt.__table__  # type: ignore[attr-defined]

Clock = Callable[[], datetime]


class DispatchSettings(PolicySettings, Protocol):
    """What the dispatcher reads of the settings: its policy, and where media files live."""

    @property
    def content_dir(self) -> Path: ...


class Context:
    """One calendar's dispatcher state (the
    :class:`~scheduler.dispatch.dispatcher.Dispatcher` is one)."""

    def __init__(
        self,
        engine: Engine,
        settings: DispatchSettings,
        *,
        clock: Clock = utcnow,
        policy: Policy | None = None,
        registry: Registry | None = None,
        make_registry: Callable[[], Registry] | None = None,
        rng: random.Random | None = None,
        worker: str | None = None,
    ) -> None:
        self.engine = engine
        self.uow = UnitOfWork(engine)
        self.settings = settings
        self.clock = clock
        self.policy = policy or Policy.from_settings(settings)
        self._registry = registry
        self._make_registry = make_registry
        self.rng = rng or random.Random()  # jitter, not security
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}"

    @property
    def registry(self) -> Registry:
        """The publishers, built on first use from the factory given (the application's):
        operator commands never open an HTTP client or read secrets."""
        if self._registry is None:
            if self._make_registry is None:
                raise ConfigError("this dispatcher was made without publishers")
            self._registry = self._make_registry()
        return self._registry

    def close(self) -> None:
        if self._registry is not None:
            self._registry.close()

    def route(self, network: str, account: str) -> Route:
        """The publisher and credentials for an account (raises NeedsAuth or ConfigError)."""
        return self.registry.route(network, account)

    def now(self) -> datetime:
        now = self.clock()
        if now.tzinfo is None:
            raise ValueError("the dispatcher's clock must return aware datetimes")
        return now

    def read(self, post_id: str) -> RowMapping | None:
        with self.uow.reading() as conn:
            return conn.execute(select(POST).where(POST.c.post_id == post_id)).mappings().first()

    def outgoing(self, row: RowMapping) -> OutgoingPost:
        """The frozen copy of a row a publisher gets (publishers never see the database)."""
        return outgoing(row, self.settings)


def utc(dt: datetime) -> datetime:
    """Bind form of an instant: aware UTC (the columns are ``DateTime(timezone=True)``)."""
    return dt.astimezone(UTC)


def new_token() -> str:
    return uuid.uuid4().hex


def outgoing(row: RowMapping, settings: DispatchSettings) -> OutgoingPost:
    """The frozen copy of a row a publisher gets (publishers never see the database)."""
    media = tuple(
        Media(file=str(m.get("file", "")), alt=str(m.get("alt", "")), kind=str(m.get("kind", "")))
        for m in json.loads(row["media_json"] or "[]")
    )
    checkpoint = json.loads(row["checkpoint_json"]) if row["checkpoint_json"] else {}
    due = from_db(row["due_utc"])
    assert due is not None
    return OutgoingPost(
        post_id=row["post_id"],
        story=row["story"],
        beat=row["beat"],
        network=row["network"],
        market=row["market"],
        account=row["account"],
        account_name=row["account_name"],
        due_utc=due,
        text=row["text"],
        title=row["title"],
        link=row["link"],
        media=media,
        first_comment=row["first_comment"],
        campaign=row["campaign"],
        content_dir=settings.content_dir,
        checkpoint=MappingProxyType(checkpoint),
    )
