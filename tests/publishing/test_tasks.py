"""The Celery app's settings: the choices docs/operations.md explains, made in one place."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from scheduler.app.settings import Settings
from scheduler.interfaces.worker import VISIBILITY_TIMEOUT, celery_config, make_app


def config(tmp_path: Path, **env: str) -> dict:
    return celery_config(Settings.from_env({"STORYLINE_DATA_DIR": str(tmp_path), **env}))


def test_messages_are_acknowledged_after_the_task_and_one_at_a_time(tmp_path):
    conf = config(tmp_path)
    assert conf["task_acks_late"] is True
    assert conf["task_reject_on_worker_lost"] is True
    assert conf["worker_prefetch_multiplier"] == 1
    assert conf["worker_cancel_long_running_tasks_on_connection_loss"] is True


def test_the_visibility_timeout_is_far_above_the_lease(tmp_path):
    conf = config(tmp_path, STORYLINE_BROKER_URL="redis://127.0.0.1:6379/11")
    assert conf["broker_transport_options"]["visibility_timeout"] == VISIBILITY_TIMEOUT
    assert 10 * conf["storyline_lease_seconds"] <= VISIBILITY_TIMEOUT


def test_the_http_timeout_is_well_under_the_lease(tmp_path):
    from scheduler.publishers.http import DEFAULT_TIMEOUT

    assert DEFAULT_TIMEOUT.read is not None
    assert DEFAULT_TIMEOUT.read * 2 <= config(tmp_path)["storyline_lease_seconds"]


def test_beat_ticks_every_storyline_tick_seconds_and_drops_stale_ticks(tmp_path):
    entry = config(tmp_path, STORYLINE_TICK_SECONDS="0.5")["beat_schedule"]["storyline-tick"]
    assert entry["task"] == "storyline.tick"
    assert entry["schedule"].total_seconds() == 0.5
    assert entry["options"]["expires"] == 5.0


def test_the_embedded_broker_is_sqlite_in_the_data_dir(tmp_path):
    app = make_app(Settings.from_env({"STORYLINE_DATA_DIR": str(tmp_path)}))
    assert app.conf.broker_url == f"sqlite:///{(tmp_path / 'broker.db').resolve()}"
    assert app.conf.broker_transport == "scheduler.interfaces.broker:EmbeddedBroker"


def test_the_embedded_broker_polls_often_enough_for_one_worker_to_keep_up(tmp_path):
    app = make_app(Settings.from_env({"STORYLINE_DATA_DIR": str(tmp_path)}))
    with app.connection_for_write() as conn:
        assert conn.transport.polling_interval <= 0.1


def test_redis_and_amqp_urls_are_passed_through(tmp_path):
    app = make_app(
        Settings.from_env(
            {
                "STORYLINE_DATA_DIR": str(tmp_path),
                "STORYLINE_BROKER_URL": "redis://127.0.0.1:6379/11",
            }
        )
    )
    assert app.conf.broker_url == "redis://127.0.0.1:6379/11"
    assert app.conf.broker_transport is None


def test_the_queue_name_can_be_chosen(tmp_path):
    assert config(tmp_path, STORYLINE_QUEUE="brand-a")["task_default_queue"] == "brand-a"


def test_the_worker_module_exposes_the_one_app():
    import worker
    from scheduler.interfaces import worker as tasks

    assert worker.app is tasks.app
    assert {"storyline.tick", "storyline.publish"} <= set(worker.app.tasks)


# kombu's own SQLAlchemy models use `noload`, deprecated by SQLAlchemy 2.1 (not our code).
@pytest.mark.filterwarnings("ignore:The ``noload`` loader strategy is deprecated")
def test_the_embedded_broker_forgets_messages_delivered_long_ago(tmp_path):
    app = make_app(Settings.from_env({"STORYLINE_DATA_DIR": str(tmp_path)}))
    with app.connection_for_write() as conn:
        queue = conn.SimpleQueue("sweep-test")
        queue.put({"n": 1})
        queue.put({"n": 2})
        queue.get(timeout=5).ack()
        channel = conn.default_channel
        assert channel.sweep(older_than=timedelta(hours=1)) == 0  # delivered just now: kept
        assert channel.sweep(older_than=timedelta(seconds=-1)) == 1  # only the delivered one
        assert queue.qsize() == 1
        queue.close()


def test_the_worker_module_registers_the_batch_task():
    import worker

    assert "storyline.publish_batch" in worker.app.tasks
