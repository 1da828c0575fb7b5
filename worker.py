"""The Celery app, for ``celery -A worker worker --beat`` (re-exports Storyline's one app)."""

from scheduler.interfaces.worker import app

__all__ = ["app"]
