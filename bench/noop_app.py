"""The baseline for bench/dispatch.py: bare Celery no-op tasks with Storyline's worker settings.

Each task only increments a Redis counter (so the bench knows when all are done): the cost of
the broker round trip with ``acks_late`` and prefetch 1, and nothing of Storyline's. The app
takes ``celery_config`` whole, so it runs with the same pool and concurrency as the workers.
"""

from __future__ import annotations

import os

import redis
from celery import Celery
from celery.signals import worker_init

from scheduler.app.settings import Settings
from scheduler.interfaces import worker as storyline_worker
from scheduler.interfaces.worker import celery_config

# Importing the worker module connects Storyline's start-up checks (the calendar's schema, the
# secrets, the publisher mode): the baseline has no calendar, and is bare Celery.
worker_init.disconnect(storyline_worker._check_worker)
worker_init.disconnect(storyline_worker._say_mode)


def make(broker_url: str, queue: str, counter: str) -> Celery:
    settings = Settings.from_env({"STORYLINE_BROKER_URL": broker_url, "STORYLINE_QUEUE": queue})
    conf = celery_config(settings)
    conf.pop("beat_schedule")
    app = Celery("bench-noop", broker=broker_url)
    app.conf.update(conf)
    client = redis.Redis.from_url(broker_url)

    @app.task(name="bench.noop", ignore_result=True)  # type: ignore[untyped-decorator]
    def noop() -> None:
        client.incr(counter)

    return app


app = make(
    os.environ.get("STORYLINE_BROKER_URL", "redis://127.0.0.1:6379/12"),
    os.environ.get("STORYLINE_QUEUE", "bench-noop"),
    os.environ.get("BENCH_COUNTER", "bench-noop-done"),
)
