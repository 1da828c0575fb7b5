"""The every-network run, done once for the module: a worker publishing the sample brand.

The helpers live in ``e2e_fakenets.py`` and ``e2e_harness.py``; this folder is put on
``sys.path`` because pytest's importlib mode does not do it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_harness import Run, publish_the_sample


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """The sample brand's calendar, published by a real worker to the nine local networks."""
    with publish_the_sample(tmp_path_factory.mktemp("e2e-networks")) as done:
        yield done
