"""``python -m tests.golden``: regenerate the golden files (see ``_build.py``)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _build import update

if __name__ == "__main__":
    changed = update()
    for rel in changed:
        print(f"updated tests/golden/{rel}")
    print(f"{len(changed)} golden file(s) changed")
