"""``python -m bench all|NAME [--quick]``: run benchmarks, write docs/benchmarks.md."""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import subprocess
import sys
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
    sections = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        print(f"== {name}", file=sys.stderr, flush=True)
        sections.append(module.run(quick=args.quick))
    if args.name != "all":
        print("\n\n".join(sections))
        return 0
    command = f"python -m bench all{' --quick' if args.quick else ''}"
    header = (
        "# Benchmarks\n\n"
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {machine()},\n"
        f"commit `{commit()}`, with `{command}`. Every target is a ratio or a bound\n"
        "measured side by side with its baseline in the same run.\n"
    )
    out = ROOT / "docs" / "benchmarks.md"
    out.write_text(header + "\n" + "\n\n".join(sections) + "\n", encoding="utf-8")
    print(f"wrote {out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
