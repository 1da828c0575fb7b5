"""The layers of docs/architecture.md, checked on the source, folder by folder.

Each folder of ``scheduler/`` may import only the folders listed for it below (and itself);
the arrows point one way, so the pure core never reaches the database, the broker or HTTP.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "scheduler"
ROOT = PACKAGE.parent

#: folder -> the folders of the package it may import (besides itself).
LAYERS: dict[str, set[str]] = {
    "core": set(),
    "text": {"core"},
    "content": {"core", "text"},
    "lines": {"core", "text", "content"},
    "planning": {"core", "text", "content", "lines"},
    "calendar": {"core"},
    "publishers": {"core", "text"},
    "dispatch": {"core", "text", "calendar", "publishers"},
    "app": {"core", "text", "content", "lines", "planning", "calendar", "publishers", "dispatch"},
    "interfaces": {
        "core",
        "text",
        "content",
        "lines",
        "planning",
        "calendar",
        "publishers",
        "dispatch",
        "app",
    },
}
PURE = ("core", "text", "content", "lines", "planning")
INFRASTRUCTURE = {
    "celery",
    "kombu",
    "sqlmodel",
    "sqlalchemy",
    "alembic",
    "httpx",
    "click",
    "psycopg",
    "prometheus_client",
    "apprise",
    "authlib",
}


def imports_of(path: Path) -> set[str]:
    """Every module name imported anywhere in the file, function bodies included."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            if node.module == "scheduler":
                names.update(f"scheduler.{alias.name}" for alias in node.names)
    return names


def modules_in(folder: str) -> list[Path]:
    return sorted(p for p in (PACKAGE / folder).rglob("*.py") if "migrations" not in p.parts)


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(ROOT).with_suffix("").parts)


def folder_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "scheduler" else None


def test_every_folder_of_the_package_has_a_layer() -> None:
    folders = {p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders == set(LAYERS)


def test_the_top_of_the_package_holds_no_module_but_its_init() -> None:
    assert sorted(p.name for p in PACKAGE.glob("*.py")) == ["__init__.py"]


@pytest.mark.parametrize("folder", sorted(LAYERS))
def test_a_folder_imports_only_the_layers_beneath_it(folder: str) -> None:
    allowed = LAYERS[folder] | {folder}
    offenders = {
        f"{module_name(path)} -> {name}"
        for path in modules_in(folder)
        for name in imports_of(path)
        if (target := folder_of(name)) is not None and target not in allowed
    }
    assert not offenders, sorted(offenders)


@pytest.mark.parametrize("folder", PURE)
def test_the_pure_core_imports_no_infrastructure(folder: str) -> None:
    offenders = {
        f"{module_name(path)} -> {name}"
        for path in modules_in(folder)
        for name in imports_of(path)
        if name.split(".")[0] in INFRASTRUCTURE
    }
    assert not offenders, sorted(offenders)


def _importers_of(packages: set[str]) -> set[str]:
    return {
        module_name(path)
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts
        and any(n.split(".")[0] in packages for n in imports_of(path))
    }


def test_only_the_cli_imports_click() -> None:
    assert {
        m for m in _importers_of({"click"}) if not m.startswith("scheduler.interfaces.cli")
    } == set()


def test_only_the_worker_interface_imports_celery() -> None:
    assert _importers_of({"celery", "kombu"}) <= {
        "scheduler.interfaces.worker",
        "scheduler.interfaces.broker",
        "scheduler.interfaces.metrics",
    }


def test_only_the_metrics_interface_imports_prometheus_client() -> None:
    """The dispatcher reports through scheduler.dispatch.observe; one module turns that into
    Prometheus instruments (docs/decisions.md, "Metrics under a prefork pool")."""
    assert _importers_of({"prometheus_client"}) <= {"scheduler.interfaces.metrics"}


def test_pytz_stays_inside_the_time_module() -> None:
    assert _importers_of({"pytz"}) <= {"scheduler.core.timezones"}


def test_publishers_never_touch_the_database() -> None:
    offenders = [
        module_name(p)
        for p in modules_in("publishers")
        if any(n.split(".")[0] in {"sqlmodel", "sqlalchemy", "psycopg"} for n in imports_of(p))
    ]
    assert offenders == []


def test_worker_module_is_a_few_lines() -> None:
    lines = [ln for ln in (ROOT / "worker.py").read_text().splitlines() if ln.strip()]
    assert len(lines) <= 10


def test_no_module_is_longer_than_600_lines() -> None:
    long = {
        module_name(p): n
        for p in PACKAGE.rglob("*.py")
        if "migrations" not in p.parts
        and (n := len(p.read_text(encoding="utf-8").splitlines())) > 600
    }
    assert long == {}


def test_only_the_notification_channels_import_apprise() -> None:
    # Every sender goes through one module, where channel URLs are redacted.
    assert _importers_of({"apprise"}) <= {"scheduler.app.notify_channels"}
