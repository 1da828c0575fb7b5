"""The Celery app, made in one place, and its thin tasks (the Celery habit).

``tick`` runs on the beat schedule every ``STORYLINE_TICK_SECONDS``; ``publish(post_id, token)``
runs once per claim, ``publish_batch`` once per message of several claims (a burst). They only
build the process's :class:`~scheduler.dispatch.Dispatcher` and call it: every decision lives
in :mod:`scheduler.dispatch`, where it is tested without a broker.
The settings chosen here are explained in docs/operations.md.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from functools import cached_property
from queue import Empty
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init
from kombu.transport.sqlalchemy import Channel as SQLChannel
from kombu.transport.sqlalchemy import Transport as SQLTransport
from sqlalchemy import bindparam, event, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from scheduler.app.settings import Settings
from scheduler.calendar.database import dispose_all, engine_for
from scheduler.calendar.dialect import sqlite_pragmas
from scheduler.dispatch.dispatcher import Dispatcher, Job, Policy, warm_up

log = logging.getLogger(__name__)

#: The Redis/SQS visibility timeout: far above the lease (60 s) and any task run time, so an
#: unacknowledged message is never redelivered while its worker still runs it (celery#2599).
VISIBILITY_TIMEOUT = 3600
#: Default threads per worker: enough to overlap a publish's waits, few enough that the
#: consumer thread still gets the interpreter to fetch the next message (measured in
#: docs/operations.md); within the calendar engine's 10 pooled connections per process.
WORKER_THREADS = 8
#: How often a worker of the embedded broker deletes messages delivered over an hour ago.
SWEEP_EVERY_S = 300.0


def celery_config(settings: Settings) -> dict[str, Any]:
    """The app's configuration; a function so docs and tests can look at it."""
    policy = Policy.from_settings(settings)
    transport: dict[str, Any] = {"visibility_timeout": VISIBILITY_TIMEOUT}
    if settings.broker_url.startswith("sqla+"):
        # kombu's SQL transport hands its options to create_engine(): only engine arguments
        # here. It has no visibility timeout (it commits a message as taken at fetch); a
        # long SQLite busy timeout lets several worker processes share the file.
        transport = {"connect_args": {"timeout": 30}}
    queue = settings.environ.get("STORYLINE_QUEUE", "").strip() or "storyline"
    tick = settings.tick_seconds
    return {
        "task_default_queue": queue,
        "task_ignore_result": True,
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        # Publishing waits on the database, the disk and the network, not the CPU: threads
        # overlap those waits in one process, where prefork children would each hold a whole
        # interpreter (docs/operations.md, "Worker pool"; `--pool`/`--concurrency` override).
        "worker_pool": "threads",
        "worker_concurrency": WORKER_THREADS,
        "worker_cancel_long_running_tasks_on_connection_loss": True,
        "broker_connection_retry_on_startup": True,
        "broker_transport_options": transport,
        "worker_hijack_root_logger": False,
        "beat_scheduler": "celery.beat:Scheduler",  # in memory: one interval, nothing to persist
        "beat_schedule": {
            "storyline-tick": {
                "task": "storyline.tick",
                "schedule": timedelta(seconds=tick),
                # A tick stuck behind a backlog is useless once the next one is out.
                "options": {"expires": max(2 * tick, 5.0)},
            }
        },
        "beat_max_loop_interval": max(tick, 0.1),
        "storyline_lease_seconds": policy.lease.total_seconds(),
    }


class EmbeddedBrokerChannel(SQLChannel):
    """kombu's SQL channel, tuned for the embedded default.

    * The broker's SQLite file is opened the way :mod:`scheduler.db` opens the calendar: WAL
      and ``synchronous=NORMAL`` (a commit without an fsync: 30 ms -> 0.1 ms per message) and
      a busy timeout, so worker processes sharing the file wait for each other.
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


def make_app(settings: Settings | None = None) -> Celery:
    settings = settings or Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url, transport = broker_of(settings.broker_url)
    app = Celery("storyline", broker=url)
    app.conf.update(celery_config(settings))
    if transport:
        app.conf.broker_transport = transport
    return app


settings = Settings.from_env()
app = make_app(settings)
_dispatcher: Dispatcher | None = None
_dispatcher_lock = threading.Lock()


def dispatcher() -> Dispatcher:
    """This process's dispatcher: one engine pool, one HTTP client, secrets read once (the
    pool threads share it; the lock keeps the first posts from each building one)."""
    global _dispatcher
    if _dispatcher is None:
        with _dispatcher_lock:
            if _dispatcher is None:
                made = Dispatcher(engine_for(settings.database_url), settings)
                made.registry  # noqa: B018 - secrets read and HTTP client made once, here
                _dispatcher = made
    return _dispatcher


@worker_init.connect  # type: ignore[untyped-decorator]
def _before_pool(**_: Any) -> None:
    """Imports done once in the worker's main process, before the pool starts (see warm_up)."""
    warm_up()


@worker_process_init.connect  # type: ignore[untyped-decorator]
def _after_fork(**_: Any) -> None:
    """A forked pool child must not share its parent's database connections; it builds its
    own dispatcher now rather than during its first post."""
    global _dispatcher
    _dispatcher = None
    dispose_all()
    dispatcher()


@app.task(name="storyline.tick", ignore_result=True)  # type: ignore[untyped-decorator]
def tick() -> dict[str, int]:
    # One producer (one broker connection and channel) for every message of the tick.
    with app.producer_or_acquire() as producer:

        def enqueue(jobs: Sequence[Job]) -> None:
            if len(jobs) == 1:
                publish.apply_async(jobs[0], producer=producer)
            else:
                publish_batch.apply_async((list(jobs),), producer=producer)

        report = dispatcher().tick(enqueue)
    return {
        "reconciling": report.reconciling,
        "requeued": report.requeued,
        "claimed": report.claimed,
        "enqueue_failures": report.enqueue_failures,
    }


@app.task(name="storyline.publish", ignore_result=True, acks_late=True)  # type: ignore[untyped-decorator]
def publish(post_id: str, token: str | None = None) -> str:
    outcome = dispatcher().publish(post_id, token)
    log.info("%s: %s", post_id, outcome)
    return outcome


@app.task(name="storyline.publish_batch", ignore_result=True, acks_late=True)  # type: ignore[untyped-decorator]
def publish_batch(jobs: list[tuple[str, str]]) -> list[str]:
    """Several claims of one burst, sent in one message (``Policy.messages``)."""
    outcomes = dispatcher().publish_many([(post_id, token) for post_id, token in jobs])
    for (post_id, _), outcome in zip(jobs, outcomes, strict=True):
        log.info("%s: %s", post_id, outcome)
    return outcomes
