"""The chaos runs of this folder: each scenario runs once per session (module-scoped), and the
tests then read the one result from different sides — one behaviour per test, one run's cost.

The harness lives in ``bench/chaoslib.py`` (shared with the long run, ``python -m bench.chaos``);
the repository root is put on ``sys.path`` so ``bench`` imports however pytest is started.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.chaoslib import ChaosResult, Scenario, run_chaos  # noqa: E402

#: PostgreSQL + a private Redis, 2 workers + 2 beats: every fault of the long run, shortened.
#: About 200 posts over 50 s; settles well inside 2.5 minutes of wall time.
POSTGRES = Scenario(
    posts=200,
    spread=50.0,
    lead=10.0,
    backend="postgres",
    kill_every=7.0,
    lease=6.0,
    outage=12.0,
    settle=60.0,
)

#: The embedded default (SQLite calendar + SQLite broker in the data dir) with worker kills.
SQLITE = Scenario(
    posts=100,
    spread=25.0,
    lead=10.0,
    backend="sqlite",
    kill_every=6.0,
    stop_worker=False,
    lease=6.0,
    settle=45.0,
)


def _run(scenario: Scenario, tmp: Path) -> Iterator[ChaosResult]:
    result = run_chaos(scenario, workdir=tmp)
    print("\n" + result.markdown(f"Chaos ({scenario.backend})"))  # shown with -s / on failure
    yield result


@pytest.fixture(scope="module")
def postgres_chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosResult]:
    yield from _run(POSTGRES, tmp_path_factory.mktemp("chaos-pg"))


@pytest.fixture(scope="module")
def sqlite_chaos(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ChaosResult]:
    yield from _run(SQLITE, tmp_path_factory.mktemp("chaos-sqlite"))
