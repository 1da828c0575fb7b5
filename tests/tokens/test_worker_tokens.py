"""The worker's side of tokens: the beat schedules ``storyline.tokens`` every
``STORYLINE_TOKEN_CHECK_SECONDS``, and the task is the dispatcher's token pass."""

from __future__ import annotations

from datetime import timedelta

from scheduler.app.settings import Settings
from scheduler.interfaces import worker


def test_the_beat_checks_tokens_every_token_check_seconds() -> None:
    settings = Settings.from_env({"STORYLINE_TOKEN_CHECK_SECONDS": "42"})

    entry = worker.celery_config(settings)["beat_schedule"]["storyline-tokens"]

    assert entry["task"] == "storyline.tokens"
    assert entry["schedule"] == timedelta(seconds=42)


def test_the_token_task_is_registered_with_the_app() -> None:
    assert "storyline.tokens" in worker.app.tasks
