"""Hypothesis profiles for the fuzz tests, and the helpers next to this file on ``sys.path``.

Two profiles, chosen with ``HYPOTHESIS_PROFILE`` (default: ``default``):

* ``default`` — a few hundred generated cases across the fuzz tests, derandomized so CI runs
  are reproducible, no example database (nothing written to ``.hypothesis/``), no deadline
  (a loaded CI machine must not turn slowness into a failure: the time bounds that matter are
  asserted by the security tests);
* ``nightly`` — at least 10,000 generated cases per run across the fuzz tests, random seeds
  (a new corner each night), still no database and no deadline.

Hypothesis settings are process-wide: loading a profile here also applies to other areas'
property tests that do not set their own ``max_examples`` (today none rely on the default).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # fuzz_strategies.py lives next to this file

#: Examples per Hypothesis test in the default profile: 4 x 50 + 5 -> a few hundred in total.
DEFAULT_EXAMPLES = 50
#: Examples per Hypothesis test at night: 4 x 3,500 + 350 (the CLI test runs a tenth) >= 10,000.
NIGHTLY_EXAMPLES = 3_500

_BASE = settings(
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=(HealthCheck.too_slow, HealthCheck.data_too_large),
)
settings.register_profile("default", _BASE, max_examples=DEFAULT_EXAMPLES, derandomize=True)
settings.register_profile("nightly", _BASE, max_examples=NIGHTLY_EXAMPLES, derandomize=False)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "default")
settings.load_profile(PROFILE)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """At night a fuzz test runs for minutes: lift pytest-timeout's per-test limit for them
    (a timeout would be replayed by Hypothesis as a flaky failure, hiding real ones)."""
    if PROFILE != "nightly":
        return
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.timeout(0))
