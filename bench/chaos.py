"""The long chaos run: ``python -m bench.chaos [--posts 2000] [--minutes 5] [--backend postgres]``.

Not part of ``python -m bench all`` (it takes about ten minutes and proves correctness rather
than measuring speed): it publishes a calendar through real Celery workers and beats while
workers are SIGKILLed and SIGSTOPped, the broker restarts, the database connections are cut and
the database disappears for a minute, and the receivers fail, stall, rate-limit and drop answers.
It prints a Markdown report and exits 1 unless every post was received exactly once or ended
terminal with its reason. See docs/reliability.md; the harness is :mod:`bench.chaoslib`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path

from bench.chaoslib import Faults, Scenario, run_chaos

#: The long run of docs/reliability.md (issue: 2,000 posts, a minute-long database outage).
LONG = Scenario(
    posts=2000,
    spread=300.0,
    lead=15.0,
    concurrency=4,
    tick=1.0,
    lease=12.0,
    backoff=2.0,
    kill_every=8.0,
    outage=60.0,
    settle=240.0,
    faults=Faults(timeout_sleep=5.0),
)

#: A few minutes' smoke version, for ``run(quick=True)``.
QUICK = Scenario(posts=200, spread=50.0, kill_every=7.0, outage=12.0, settle=60.0)


def scenario_for(
    posts: int,
    minutes: float,
    backend: str,
    outage: float | None,
    seed: int,
    slow_accept: float = 0.0,
) -> Scenario:
    """The long scenario resized: faults keep their place relative to the due times."""
    spread = minutes * 60
    return replace(
        LONG,
        posts=posts,
        spread=spread,
        backend=backend,
        outage=LONG.outage if outage is None else outage,
        seed=seed,
        faults=replace(LONG.faults, p_slow_accept=slow_accept),
    )


def run(quick: bool = False) -> str:
    """One chaos run as a Markdown section (the ``bench`` module convention)."""
    result = run_chaos(QUICK if quick else LONG)
    return result.markdown("Chaos run (quick)" if quick else "Chaos run")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chaos", description=__doc__)
    parser.add_argument("--posts", type=int, default=LONG.posts)
    parser.add_argument("--minutes", type=float, default=LONG.spread / 60, help="due-time spread")
    parser.add_argument("--backend", choices=["postgres", "sqlite"], default="postgres")
    parser.add_argument(
        "--outage", type=float, default=None, help="seconds PostgreSQL is unreachable (60)"
    )
    parser.add_argument("--seed", type=int, default=LONG.seed)
    parser.add_argument(
        "--slow-accept",
        type=float,
        default=0.0,
        help="share of POSTs recorded only after the client timed out (open finding 1; 0)",
    )
    parser.add_argument("--keep", type=Path, default=None, help="keep logs in this folder")
    parser.add_argument("-o", "--output", type=Path, default=None, help="also write the report")
    args = parser.parse_args(argv)
    if args.posts < 1 or args.minutes <= 0:
        parser.error("--posts and --minutes must be positive")
    scenario = scenario_for(
        args.posts, args.minutes, args.backend, args.outage, args.seed, args.slow_accept
    )
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
    result = run_chaos(scenario, workdir=args.keep)
    command = "python -m bench.chaos " + " ".join(argv if argv is not None else sys.argv[1:])
    report = result.markdown() + f"\nCommand: `{command.strip()}`\n"
    print(report)
    if args.output is not None:
        args.output.write_text(report, encoding="utf-8")
    if result.problems():
        print(result.logs, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
