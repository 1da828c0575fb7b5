"""The Celery app, made in one place. Tasks stay thin: take an id, call the dispatcher."""

from __future__ import annotations

from celery import Celery

from scheduler.config import Settings


def make_app(settings: Settings | None = None) -> Celery:
    settings = settings or Settings.from_env()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    app = Celery("storyline", broker=settings.broker_url)
    app.conf.update(task_ignore_result=True, broker_connection_retry_on_startup=True)
    return app


app = make_app()
