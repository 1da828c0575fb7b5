"""The worker's beat runs the notifier on its own schedule, a few ticks apart."""

from __future__ import annotations

from pathlib import Path

import pytest

from scheduler.app.notify import notify_every
from scheduler.app.settings import Settings
from scheduler.interfaces.worker import app, celery_config


@pytest.mark.parametrize(("tick", "every"), [("0.5", 2.5), ("1", 5.0), ("10", 15.0), ("0.1", 2.0)])
def test_the_beat_notifies_every_few_ticks_and_drops_stale_runs(
    tmp_path: Path, tick: str, every: float
) -> None:
    settings = Settings.from_env(
        {"STORYLINE_DATA_DIR": str(tmp_path), "STORYLINE_TICK_SECONDS": tick}
    )
    entry = celery_config(settings)["beat_schedule"]["storyline-notify"]
    assert entry["task"] == "storyline.notify"
    assert entry["schedule"].total_seconds() == every == notify_every(float(tick))
    assert entry["options"]["expires"] == max(2 * every, 10.0)


def test_the_notify_task_is_registered_apart_from_publishing() -> None:
    assert "storyline.notify" in app.tasks
    assert app.tasks["storyline.notify"].ignore_result is True
