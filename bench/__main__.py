"""``python -m bench all|NAME [--quick]``: run benchmarks, write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCHMARKS = [
    "render",
    "preview",
    "sync",
    "due_query",
    "dispatch",
    "pause",
    "token_refresh",
    "notify",
    "metrics_pull",
    "report",
    "wall",
]


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    system = f"{platform.system()} {platform.machine()}"
    python = platform.python_version()
    return f"{system}, {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, Python {python}"


def commit() -> str:
    try:
        return subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("name", choices=["all", *BENCHMARKS])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    args = parser.parse_args()
    names = BENCHMARKS if args.name == "all" else [args.name]
    command = f"python -m bench all{' --quick' if args.quick else ''}"
    started = datetime.now(UTC)
    out = ROOT / "docs" / "benchmarks.md"
    sections: list[str] = []
    for name in names:
        print(f"== {name}", file=sys.stderr, flush=True)
        section = _run_one(name, args.quick)
        print(section, file=sys.stderr if args.name == "all" else sys.stdout, flush=True)
        sections.append(section)
        if args.name == "all":  # page by page: a benchmark that breaks loses no other's result
            out.write_text(_page(started, command, sections), encoding="utf-8")
    failing = [n for n, section in zip(names, sections, strict=True) if _misses_a_target(section)]
    if args.name == "all":
        print(f"wrote {out}", file=sys.stderr)
    if failing:
        print(f"targets missed: {', '.join(failing)}", file=sys.stderr)
        return 1
    return 0


#: How a section marks a missed target (and a benchmark that stopped with an error).
FAIL = "**FAIL**"


def _misses_a_target(section: str) -> bool:
    """Whether a section's table marks a target missed: ``FAIL`` (bold or not) or ❌."""
    return "FAIL" in section or "\u274c" in section


def _run_one(name: str, quick: bool) -> str:
    """One benchmark's section; a benchmark that raises gets a section saying so, with the
    end of its traceback, so that the run goes on and the page shows what broke."""
    try:
        module = importlib.import_module(f"bench.{name}")
        section: str = module.run(quick=quick)
    except Exception:
        trace = traceback.format_exc(limit=-3).rstrip()
        said = f"{FAIL}: `python -m bench {name}` stopped with an error:"
        return f"## {name}\n\n{said}\n\n```\n{trace}\n```"
    return section


def _page(started: datetime, command: str, sections: list[str]) -> str:
    header = (
        "# Benchmarks\n\n"
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {machine()},\n"
        f"commit `{commit()}`, with `{command}`. Every target is a ratio or a bound\n"
        "measured side by side with its baseline in the same run.\n"
    )
    return header + "\n" + "\n\n".join(sections) + "\n"


if __name__ == "__main__":
    sys.exit(main())
