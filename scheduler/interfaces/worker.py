"""The Celery app, made in one place, and its thin tasks (the Celery habit).

``tick`` runs on the beat schedule every ``STORYLINE_TICK_SECONDS``; ``publish(post_id, token)``
runs once per claim, ``publish_batch`` once per message of several claims (a burst). They only
build the process's :class:`~scheduler.dispatch.dispatcher.Dispatcher` and call it: every
decision lives in :mod:`scheduler.dispatch`, where it is tested without a broker.
The settings chosen here are explained in docs/operations.md.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from celery import Celery
from celery.signals import (
    beat_init,
    worker_init,
    worker_process_init,
    worker_ready,
    worker_shutdown,
)

from scheduler.app.notify import notifier_for, notify_every
from scheduler.app.publishing import dispatcher_for
from scheduler.app.settings import Settings
from scheduler.calendar.database import dispose_all, make_engine
from scheduler.calendar.health import BEAT, record_heartbeat
from scheduler.calendar.migrate import ensure_schema
from scheduler.core.errors import DatabaseError, DatabaseUnreachable, StorylineError
from scheduler.dispatch.dispatcher import Dispatcher, Job, Policy, warm_up
from scheduler.interfaces.broker import broker_of, broker_problem

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

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
    # Metrics pulls have a queue of their own, so they never sit in front of a publish
    # (docs/operations.md, "Metrics"); a worker consumes both unless told `-Q`.
    pulls = f"{queue}.metrics"
    return {
        "task_default_queue": queue,
        "task_queues": {q: {"exchange": q, "routing_key": q} for q in (queue, pulls)},
        "task_routes": {"storyline.metrics": {"queue": pulls, "routing_key": pulls}},
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
            # Tokens renewed ahead of expiry, once across workers (docs/operations.md, "Tokens").
            "storyline-tokens": {
                "task": "storyline.tokens",
                "schedule": timedelta(seconds=settings.token_check_seconds),
                "options": {"expires": max(settings.token_check_seconds, 5.0)},
            },
            # Notifications: a calendar scan of its own, never on the publish path.
            "storyline-notify": {
                "task": "storyline.notify",
                "schedule": timedelta(seconds=notify_every(tick)),
                "options": {"expires": max(2 * notify_every(tick), 10.0)},
            },
            "storyline-metrics": {
                "task": "storyline.metrics",
                "schedule": timedelta(seconds=settings.metrics_pull_seconds),
                "options": {"expires": max(settings.metrics_pull_seconds, 5.0)},
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


#: sysexits.h's EX_CONFIG: the process cannot work with this configuration; restarting it
#: changes nothing until someone acts (here: runs `storyline db upgrade`).
EX_CONFIG = 78


def check_at_start(role: str) -> None:
    """Refuse to start on a calendar whose schema is not the code's: one clear message and
    exit 78, where the tasks would log a traceback every tick. An unreachable database or
    broker is said once, with what to do; the process then keeps trying (they come back)."""
    # An engine of its own, closed before the pool (and an embedded beat) fork: a child must
    # never inherit a connection of its parent.
    engine = make_engine(settings.database_url)
    try:
        ensure_schema(engine)
    except DatabaseUnreachable as exc:
        _say(f"storyline {role}: {exc}; the {role} keeps trying")
    except DatabaseError as exc:
        _say(f"storyline {role}: cannot start: {exc}")
        raise SystemExit(EX_CONFIG) from None
    else:
        _refuse_bad_secrets(role, engine)
    finally:
        engine.dispose()
    problem = broker_problem(settings.broker_url)
    if problem is not None:
        _say(f"storyline {role}: {problem}; the {role} keeps trying")


def _refuse_bad_secrets(role: str, engine: Engine) -> None:
    """A secrets file with mistakes, or stored tokens the key cannot open: stop now, before
    anything could be claimed or overwritten (docs/security.md)."""
    from scheduler.app.tokens import startup_checks
    from scheduler.core.errors import StorylineError

    try:
        startup_checks(settings, engine=engine)
    except StorylineError as exc:
        _say(f"storyline {role}: refusing to start: {exc}")
        raise SystemExit(EX_CONFIG) from None


def _say(message: str) -> None:
    """Straight to stderr: the root logger may not be set up this early."""
    print(message, file=sys.stderr, flush=True)


@worker_init.connect  # type: ignore[untyped-decorator]
def _check_worker(**_: Any) -> None:
    check_at_start("worker")


@beat_init.connect  # type: ignore[untyped-decorator]
def _check_beat(**_: Any) -> None:
    check_at_start("beat")


@worker_init.connect  # type: ignore[untyped-decorator]
def _before_pool(**_: Any) -> None:
    """Imports done once in the worker's main process, before the pool starts (see warm_up)."""
    warm_up()


@worker_ready.connect  # type: ignore[untyped-decorator]
@beat_init.connect  # type: ignore[untyped-decorator]
def _say_mode(**_: Any) -> None:
    """Every worker and beat says its publisher mode, and who it cannot send for."""
    from scheduler.app.mode import announce

    announce(settings, dispatcher().registry)


_metrics: Any = None


@worker_init.connect  # type: ignore[untyped-decorator]
def _start_metrics(**_: Any) -> None:
    """In the main process, before the pool forks (docs/decisions.md: multiprocess mode)."""
    global _metrics
    if settings.metrics_port is None:
        return
    from scheduler.interfaces.metrics import WorkerMetrics

    metrics = WorkerMetrics(settings.data_dir, make_engine(settings.database_url), settings.now)
    try:
        metrics.start(settings.metrics_address, settings.metrics_port)
    except OSError as exc:
        where = f"{settings.metrics_address}:{settings.metrics_port}"
        _say(
            f"storyline worker: cannot serve metrics on {where} ({exc.strerror or exc}): "
            "give each worker its own STORYLINE_METRICS_PORT"
        )
        raise SystemExit(EX_CONFIG) from None
    _metrics = metrics


@worker_shutdown.connect  # type: ignore[untyped-decorator]
def _stop_metrics(**_: Any) -> None:
    if _metrics is not None:
        _metrics.stop()


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
    record_heartbeat(
        dispatcher().engine,
        BEAT,
        dispatcher().now(),
        json.dumps({"claimed": report.claimed, "requeued": report.requeued}),
    )
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


@app.task(name="storyline.tokens", ignore_result=True)  # type: ignore[untyped-decorator]
def tokens() -> dict[str, int]:
    """Renew the tokens due (``STORYLINE_TOKEN_CHECK_SECONDS``); hold refused accounts."""
    from scheduler.dispatch.credentials import check_tokens

    return check_tokens(dispatcher()).to_json()


@app.task(name="storyline.notify", ignore_result=True)  # type: ignore[untyped-decorator]
def notify() -> dict[str, int]:
    """Tell people what went held, failed or needs review (scheduler.app.notify)."""
    try:
        report = notifier_for(settings).run()
    except StorylineError as exc:  # a channel URL apprise cannot read: said, not a traceback
        log.error("notify: %s", exc)
        return {}
    return {"recorded": report.recorded, "sent": report.sent, "failed": report.failed}


@app.task(name="storyline.metrics", ignore_result=True)  # type: ignore[untyped-decorator]
def metrics() -> dict[str, Any]:
    """Pull the counts of the posts due a pull (scheduler.dispatch.metrics_pull)."""
    from scheduler.app.metrics_pull import pull_in_process

    try:
        return pull_in_process(settings, dispatcher().engine)
    except StorylineError as exc:
        log.error("metrics: %s", exc)
        return {}
