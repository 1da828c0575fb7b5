"""`storyline preview STORY` wall time, CLI start-up included, vs a bare interpreter.

The sample brand's launch story over every network and market, run as a community manager
runs it: a fresh process of the installed ``storyline`` script. The baseline is
``python -c pass`` in the same run, so the machine's speed shows. Also reported: which heavy
modules the preview process imported (none of SQLAlchemy, Celery, httpx should be there) and
where the rest of the time goes (imports vs loading and planning), measured in-process.

Two cases, reported separately:

* **warm** — a repeat preview: the data dir already holds the compiled templates and the
  posts' X lengths (``<data dir>/cache/``), as it does from the second preview on;
* **cold** — an empty data dir each run: templates compile and X posts are counted by
  twitter-text, whose import alone costs about a third of a second.

Both run with Python bytecode already compiled, as an installed package has it (``pip``
compiles it at install time): the processes get their own ``PYTHONPYCACHEPREFIX``, even when
the caller sets ``PYTHONDONTWRITEBYTECODE`` (which would otherwise make every run recompile
every module from source).

Target: < 0.5 s wall.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORY = "aurora-launch"
HEAVY = ("sqlalchemy", "sqlmodel", "celery", "kombu", "httpx", "alembic", "psycopg")

_PROBE = """
import json, sys, time
t0 = time.perf_counter()
from click.testing import CliRunner
from scheduler.interfaces.cli import cli
t1 = time.perf_counter()
result = CliRunner().invoke(cli, ["preview", STORY, "--format", "json"])
t2 = time.perf_counter()
posts = len(json.loads(result.output))
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
print(json.dumps({"import": t1 - t0, "run": t2 - t1, "posts": posts, "heavy": heavy}))
"""


def _wall(
    argv: list[str], repeat: int, env: dict[str, str], fresh_data: Path | None = None
) -> list[float]:
    """Wall seconds of ``repeat`` runs; with ``fresh_data``, each in its own empty data dir."""
    times = []
    for run in range(repeat):
        if fresh_data is not None:
            env = {**env, "STORYLINE_DATA_DIR": str(fresh_data / f"run-{run}")}
        started = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, check=True, capture_output=True, env=env)
        times.append(time.perf_counter() - started)
    return times


def run(quick: bool = False) -> str:
    repeat = 3 if quick else 7
    script = str(Path(sys.executable).parent / "storyline")
    with tempfile.TemporaryDirectory(prefix="storyline-bench-preview-") as tmp:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        env["STORYLINE_DATA_DIR"] = str(Path(tmp) / "data")
        # Warm-up: compiles the bytecode, fills the data dir's caches.
        _wall([script, "preview", STORY, "--format", "json"], 2, env)
        # Interleaved, one of each per round: a machine whose speed drifts (other jobs on
        # shared cores) then slows every case alike instead of whichever ran last.
        baseline: list[float] = []
        text: list[float] = []
        as_json: list[float] = []
        cold: list[float] = []
        for run in range(repeat):
            baseline += _wall([sys.executable, "-c", "pass"], 1, env)
            text += _wall([script, "preview", STORY], 1, env)
            as_json += _wall([script, "preview", STORY, "--format", "json"], 1, env)
            fresh = Path(tmp) / "cold" / f"round-{run}"
            cold += _wall([script, "preview", STORY], 1, env, fresh_data=fresh)
        probe = _PROBE.replace("STORY", repr(STORY)).replace("HEAVY", repr(HEAVY))
        detail = json.loads(
            subprocess.run(
                [sys.executable, "-c", probe],
                cwd=ROOT,
                check=True,
                capture_output=True,
                text=True,
                env=env,
            ).stdout.strip()
        )
    median = statistics.median(text)
    cold_median = statistics.median(cold)

    def mark(ok: bool) -> str:
        return "pass" if ok else "**FAIL**"

    heavy = ", ".join(detail["heavy"]) or "none"
    return "\n".join(
        [
            "## `storyline preview` of one story",
            "",
            f"`python -m bench preview{' --quick' if quick else ''}`: `storyline preview {STORY}`"
            f" ({detail['posts']} posts: every network, every market of the sample brand), a "
            f"fresh process each time, median of {repeat}.",
            "",
            "| measure | value | target | |",
            "|---|---|---|---|",
            f"| `python -c pass` (baseline) | {statistics.median(baseline):.3f} s | | |",
            f"| `storyline preview {STORY}`, warm | {median:.3f} s (min {min(text):.3f} s)"
            f" | < 0.5 s | {mark(median < 0.5)} |",
            f"| `storyline preview {STORY}`, cold (empty data dir) | {cold_median:.3f} s"
            f" (min {min(cold):.3f} s) | < 0.5 s | {mark(cold_median < 0.5)} |",
            f"| `... --format json`, warm | {statistics.median(as_json):.3f} s | | |",
            f"| in-process, warm: importing the CLI | {detail['import']:.3f} s | | |",
            f"| in-process, warm: load, render, check, print | {detail['run']:.3f} s | | |",
            f"| heavy modules imported by preview | {heavy} | none | {mark(heavy == 'none')} |",
        ]
    )


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
