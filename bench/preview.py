"""`storyline preview STORY` wall time, CLI start-up included, vs a bare interpreter (DESIGN §8).

The sample brand's launch story over every network and market, run as a community manager
runs it: a fresh process of the installed ``storyline`` script. The baseline is
``python -c pass`` in the same run, so the machine's speed shows. Also reported: which heavy
modules the preview process imported (none of SQLAlchemy, Celery, httpx should be there) and
where the rest of the time goes (imports vs loading and planning), measured in-process.

Target: < 0.5 s wall.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STORY = "aurora-launch"
HEAVY = ("sqlalchemy", "sqlmodel", "celery", "kombu", "httpx", "alembic", "psycopg")

_PROBE = """
import json, sys, time
t0 = time.perf_counter()
from click.testing import CliRunner
from scheduler.cli import cli
t1 = time.perf_counter()
result = CliRunner().invoke(cli, ["preview", STORY, "--format", "json"])
t2 = time.perf_counter()
posts = len(json.loads(result.output))
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
print(json.dumps({"import": t1 - t0, "run": t2 - t1, "posts": posts, "heavy": heavy}))
"""


def _wall(argv: list[str], repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(argv, cwd=ROOT, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def run(quick: bool = False) -> str:
    repeat = 3 if quick else 7
    script = str(Path(sys.executable).parent / "storyline")
    baseline = _wall([sys.executable, "-c", "pass"], repeat)
    text = _wall([script, "preview", STORY], repeat)
    as_json = _wall([script, "preview", STORY, "--format", "json"], repeat)
    probe = _PROBE.replace("STORY", repr(STORY)).replace("HEAVY", repr(HEAVY))
    detail = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe], cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.strip()
    )
    median = statistics.median(text)

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
            f"| `storyline preview {STORY}` | {median:.3f} s (min {min(text):.3f} s) | < 0.5 s"
            f" | {mark(median < 0.5)} |",
            f"| `... --format json` | {statistics.median(as_json):.3f} s | | |",
            f"| in-process: importing the CLI | {detail['import']:.3f} s | | |",
            f"| in-process: load, render, check, print | {detail['run']:.3f} s | | |",
            f"| heavy modules imported by preview | {heavy} | none | {mark(heavy == 'none')} |",
        ]
    )


if __name__ == "__main__":
    print(run(quick="--quick" in sys.argv))
