"""Planning and sync pause the cyclic garbage collector, and leave it as they found it."""

from __future__ import annotations

import gc

from scheduler.core.memory import paused_gc


def _in_generation(obj: object, generation: int) -> bool:
    return any(o is obj for o in gc.get_objects(generation=generation))


def test_the_collector_is_off_while_paused_and_on_again_after() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_what_was_made_meanwhile_is_handed_to_the_oldest_generation_unwalked() -> None:
    with paused_gc():
        made = [[] for _ in range(1000)]
    assert not _in_generation(made, 0)
    assert _in_generation(made, 2)  # still collectable by a full collection
