"""The Celery app, made in one place, and its thin tasks (the Celery habit).

``tick`` runs on the beat schedule every ``STORYLINE_TICK_SECONDS``; ``publish(post_id, token)``
runs once per claim, ``publish_batch`` once per message of several claims (a burst). They only
build the process's :class:`~scheduler.dispatch.dispatcher.Dispatcher` and call it: every
decision lives in :mod:`scheduler.dispatch`, where it is tested without a broker.
The settings chosen here are explained in docs/operations.md.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from celery import Celery
from celery.signals import worker_init, worker_process_init

from scheduler.app.notify import notifier_for, notify_every
from scheduler.app.publishing import dispatcher_for
from scheduler.app.settings import Settings
from scheduler.calendar.database import dispose_all
from scheduler.core.errors import StorylineError
from scheduler.dispatch.dispatcher import Dispatcher, Job, Policy, warm_up
from scheduler.interfaces.broker import broker_of

log = logging.getLogger(__name__)


#: The Redis/SQS visibility timeout: far above the lease (60 s) and any task run time, so an
#: unacknowledged message is never redelivered while its worker still runs it (celery#2599).
VISIBILITY_TIMEOUT = 3600


#: Default threads per worker: enough to overlap a publish's waits, few enough that the
#: consumer thread still gets the interpreter to fetch the next message (measured in
#: docs/operations.md); within the calendar engine's 10 pooled connections per process.
WORKER_THREADS = 8


def celery_config(settings: Settings) -> dict[str, Any]:
    """The app's configuration; a function so docs and tests can look at it."""
    policy = Policy.from_settings(settings)
    transport: dict[str, Any] = {"visibility_timeout": VISIBILITY_TIMEOUT}
    if settings.broker_url.startswith("sqla+"):
        # kombu's SQL transport hands its options to create_engine(): only engine arguments
        # here. It has no visibility timeout (it commits a message as taken at fetch); a
        # long SQLite busy timeout lets several worker processes share the file.
        transport = {"connect_args": {"timeout": 30}}
    queue = settings.queue
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
            },
            # Notifications: a calendar scan of its own, never on the publish path.
            "storyline-notify": {
                "task": "storyline.notify",
                "schedule": timedelta(seconds=notify_every(tick)),
                "options": {"expires": max(2 * notify_every(tick), 10.0)},
            },
        },
        "beat_max_loop_interval": max(tick, 0.1),
        "storyline_lease_seconds": policy.lease.total_seconds(),
    }


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
                made = dispatcher_for(settings)
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


@app.task(name="storyline.notify", ignore_result=True)  # type: ignore[untyped-decorator]
def notify() -> dict[str, int]:
    """Tell people what went held, failed or needs review (scheduler.app.notify)."""
    try:
        report = notifier_for(settings).run()
    except StorylineError as exc:  # a channel URL apprise cannot read: said, not a traceback
        log.error("notify: %s", exc)
        return {}
    return {"recorded": report.recorded, "sent": report.sent, "failed": report.failed}
