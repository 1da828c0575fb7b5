"""The dependency arrows of DESIGN §2 and §9, checked on the source so layering cannot rot."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "scheduler"
ROOT = PACKAGE.parent

PURE_CORE = [
    "diagnostics",
    "content",
    "yamlpos",
    "lines",
    "networks",
    "voice",
    "links",
    "planning",
    "timezones",
    "config",
    "errors",
]
INFRASTRUCTURE = {
    "celery",
    "kombu",
    "sqlmodel",
    "sqlalchemy",
    "alembic",
    "httpx",
    "click",
    "psycopg",
}
DATABASE_MODULES = {"scheduler.store", "scheduler.models"}
EDGE_MODULES = {"models", "store", "dispatch", "tasks", "cli", "publishers", "preview", "serve"}


def imports_of(path: Path) -> set[str]:
    """Every module name imported anywhere in the file, function bodies included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def all_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "migrations" not in p.parts)


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


@pytest.mark.parametrize("name", [m for m in PURE_CORE if (PACKAGE / f"{m}.py").exists()])
def test_pure_core_imports_no_infrastructure(name: str) -> None:
    imported = {n.split(".")[0] for n in imports_of(PACKAGE / f"{name}.py")}
    assert not imported & INFRASTRUCTURE, f"scheduler/{name}.py imports {imported & INFRASTRUCTURE}"


@pytest.mark.parametrize("name", [m for m in PURE_CORE if (PACKAGE / f"{m}.py").exists()])
def test_pure_core_imports_no_edge_module(name: str) -> None:
    imported = imports_of(PACKAGE / f"{name}.py")
    edges = {n for n in imported if n.startswith("scheduler.") and n.split(".")[1] in EDGE_MODULES}
    assert not edges, f"scheduler/{name}.py reaches up into {edges}"


def test_only_the_cli_imports_click() -> None:
    offenders = [
        module_name(p)
        for p in all_modules()
        if p.name != "cli.py" and any(n.split(".")[0] == "click" for n in imports_of(p))
    ]
    assert offenders == []


def test_only_tasks_and_worker_import_celery() -> None:
    allowed = {"scheduler.tasks"}
    offenders = [
        module_name(p)
        for p in all_modules()
        if module_name(p) not in allowed
        and any(n.split(".")[0] in {"celery", "kombu"} for n in imports_of(p))
    ]
    assert offenders == []


def test_publishers_never_touch_the_database() -> None:
    offenders = [
        module_name(p)
        for p in (PACKAGE / "publishers").glob("*.py")
        if any(
            n.split(".")[0] in {"sqlmodel", "sqlalchemy"} or n in DATABASE_MODULES
            for n in imports_of(p)
        )
    ]
    assert offenders == []


def test_worker_module_is_a_few_lines() -> None:
    lines = [ln for ln in (ROOT / "worker.py").read_text().splitlines() if ln.strip()]
    assert len(lines) <= 10
