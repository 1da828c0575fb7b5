"""The embedded broker: kombu's SQLAlchemy transport, tuned so one machine needs no Redis.

``sqla+sqlite:///`` in the data dir is the default broker of a fresh clone. kombu's transport
works as it is, but polls once a second and keeps every message forever; the subclasses here
poll often, send and fetch with prebuilt statements, and sweep delivered messages
(docs/operations.md, "Bursts"; docs/decisions.md).
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from functools import cached_property
from queue import Empty
from typing import Any

from kombu.transport.sqlalchemy import Channel as SQLChannel
from kombu.transport.sqlalchemy import Transport as SQLTransport
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from scheduler.calendar.dialect import sqlite_pragmas

#: How often a worker of the embedded broker deletes messages delivered over an hour ago.
SWEEP_EVERY_S = 300.0


class EmbeddedBrokerChannel(SQLChannel):
    """kombu's SQL channel, tuned for the embedded default.

    * The broker's SQLite file is opened the way :mod:`scheduler.calendar.dialect` opens the
      calendar: WAL and ``synchronous=NORMAL`` (a commit without an fsync: 30 ms -> 0.1 ms per
      message) and a busy timeout, so worker processes sharing the file wait for each other.
    * On SQLite, sending and fetching a message are two prebuilt Core statements on a queue id
      looked up once, where kombu goes through its ORM session and looks the queue up again
      for every message (1.9 ms to put and 3.5 ms to get a message -> a fraction of that; the
      embedded burst is bound by this). Same rows, same meaning: a message is taken
      (``visible`` false, ``timestamp`` the local time of delivery, ``version`` + 1) under
      ``BEGIN IMMEDIATE``, exactly as kombu does, so it is still never delivered twice; an
      empty queue is seen with a plain read, without taking the write lock every poll.
    """

    _last_sweep = 0.0

    def _engine_from_config(self) -> Engine:
        engine: Engine = super()._engine_from_config()  # type: ignore[no-untyped-call]
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", sqlite_pragmas)
        return engine

    def _get_or_create(self, queue: str) -> Any:
        """kombu's, made safe between processes: its lock is per process, so the worker and
        its beat (another process) declaring a new queue at the same instant made one of them
        fail on the unique name and the worker stop consuming. The loser reads the winner's."""
        try:
            return super()._get_or_create(queue)  # type: ignore[no-untyped-call]
        except IntegrityError:
            self.session.rollback()
            cls = self.queue_cls
            return self.session.query(cls).filter(cls.name == queue).one()

    def _sqlite(self) -> Engine | None:
        engine = self.session.get_bind()
        return engine if isinstance(engine, Engine) and engine.dialect.name == "sqlite" else None

    def _queue_id(self, queue: str) -> int:
        """Queue rows are never deleted (kombu's purge deletes messages only): look up once."""
        ids: dict[str, int] = self.__dict__.setdefault("_queue_ids", {})
        found = ids.get(queue)
        if found is None:
            found = ids[queue] = int(self._get_or_create(queue).id)
            self.session.commit()
        return found

    @cached_property
    def _statements(self) -> tuple[Any, Any, Any, Any]:
        """Send, peek, take-first and mark-taken, built once for this channel's table."""
        t = self.message_cls.__table__
        waiting = (t.c.queue_id == bindparam("queue")) & t.c.visible.is_(True)
        return (
            insert(t).values(queue_id=bindparam("queue"), payload=bindparam("payload"), version=1),
            select(t.c.id).where(waiting).limit(1),
            select(t.c.id, t.c.payload).where(waiting).order_by(t.c.timestamp, t.c.id).limit(1),
            update(t)
            .where(t.c.id == bindparam("taken"))
            .values(visible=False, timestamp=bindparam("now"), version=t.c.version + 1),
        )

    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        engine = self._sqlite()
        if engine is None:
            super()._put(queue, payload, **kwargs)  # type: ignore[no-untyped-call]
            return
        send = self._statements[0]
        with engine.begin() as conn:
            conn.execute(send, {"queue": self._queue_id(queue), "payload": json.dumps(payload)})

    def _get(self, queue: str, timeout: Any = None) -> Any:
        if time.monotonic() - self._last_sweep > SWEEP_EVERY_S:
            self._last_sweep = time.monotonic()
            self.sweep()
        engine = self._sqlite()
        if engine is None:
            return super()._get(queue)  # type: ignore[no-untyped-call]
        _, peek, first, take = self._statements
        params = {"queue": self._queue_id(queue)}
        with engine.connect() as conn:
            if conn.execute(peek, params).first() is None:
                raise Empty()
            conn.exec_driver_sql("BEGIN IMMEDIATE")
            row = conn.execute(first, params).first()
            if row is None:  # another worker took it between the read and the lock
                conn.rollback()
                raise Empty()
            conn.execute(take, {"taken": row.id, "now": datetime.now()})
            conn.commit()
        return json.loads(row.payload)

    def sweep(self, older_than: timedelta = timedelta(hours=1)) -> int:
        """Delete delivered messages. kombu keeps every message it hands out (``visible`` set
        to false, ``timestamp`` to the local time of delivery) and never deletes it: at one
        tick a second the embedded broker would grow by 86,400 rows a day."""
        cls = self.message_cls
        cutoff = datetime.now() - older_than  # kombu stores naive local time
        deleted: int = (
            self.session.query(cls)
            .filter(cls.visible.is_(False), cls.sent_at < cutoff)
            .delete(synchronize_session=False)
        )
        self.session.commit()
        return deleted


class EmbeddedBroker(SQLTransport):
    """kombu's SQLAlchemy transport, tuned for the embedded default.

    With ``worker_prefetch_multiplier=1`` a worker fetches its next message only after the
    previous one is done, and an idle virtual transport sleeps ``polling_interval`` before
    looking again: at kombu's default of 1 s, a worker would publish one post per second. The
    interval cannot be set through ``broker_transport_options``, which this transport hands
    to ``create_engine()``, hence the subclass (selected by :func:`broker_of`).
    """

    Channel = EmbeddedBrokerChannel
    polling_interval = 0.01


def broker_of(url: str) -> tuple[str, str | None]:
    """The URL and transport Celery should use: ``sqla+<url>`` goes to :class:`EmbeddedBroker`."""
    if url.startswith("sqla+"):
        return url.removeprefix("sqla+"), f"{__name__}:EmbeddedBroker"
    return url, None


#: What to do when the broker does not answer, by URL scheme.
_START = {"redis": "start Redis", "rediss": "start Redis", "amqp": "start RabbitMQ"}


def redacted(url: str) -> str:
    """The broker URL with its password (if any) hidden, as every message shows it."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if not parts.password:
        return url
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"{parts.username or ''}:***@{host}"))


def broker_problem(url: str, timeout: float = 3.0) -> str | None:
    """None when the broker accepts a connection within ``timeout`` seconds; else a message
    naming it (password hidden) and what to do. Tried once: a probe must answer quickly."""
    from kombu.connection import Connection

    target, transport = broker_of(url)
    conn = Connection(  # type: ignore[no-untyped-call]
        target,
        transport=transport,
        connect_timeout=timeout,
        transport_options={"socket_connect_timeout": timeout, "socket_timeout": timeout},
    )
    try:
        conn.ensure_connection(max_retries=0, interval_start=0, timeout=timeout)  # type: ignore[no-untyped-call]
        return None
    except Exception as exc:  # any transport's own error type: the message is what matters
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        scheme = url.split("://", 1)[0].split("+", 1)[0]
        what = _START.get(scheme, "start the broker")
        return (
            f"cannot reach the broker {redacted(url)}: {reason}; {what} or fix STORYLINE_BROKER_URL"
        )
    finally:
        conn.release()  # type: ignore[no-untyped-call]
