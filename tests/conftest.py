"""Fixtures every area of the suite shares: real databases, a data dir, a fixed clock.

PostgreSQL tests get a database of their own, created here and dropped afterwards; nothing
is left behind on the server.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"
PG_ADMIN_URL = os.environ.get(
    "STORYLINE_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("STORYLINE_TEST_REDIS", "redis://127.0.0.1:6379")
AMQP_URL = os.environ.get("STORYLINE_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672//")

#: A fixed "now" for tests of the pure core: a Saturday, before the sample launches.
FIXED_NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.fixture
def now() -> datetime:
    return FIXED_NOW


@pytest.fixture
def brand(tmp_path: Path) -> Path:
    """A writable copy of the sample brand, ``content/`` and ``editorial_lines/``, in
    ``tmp_path`` (a folder may define its own ``brand`` instead)."""
    shutil.copytree(ROOT / "content", tmp_path / "content")
    shutil.copytree(ROOT / "editorial_lines", tmp_path / "editorial_lines")
    return tmp_path


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'calendar.db'}"


def _create_pg_database(prefix: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text

    name = f"sl_{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return name, PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _drop_pg_database(name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    name, url = _create_pg_database("t")
    try:
        yield url
    finally:
        from scheduler.calendar.database import dispose_all

        dispose_all()
        _drop_pg_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Runs a test once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'calendar.db'}"
        from scheduler.calendar.database import dispose_all

        dispose_all()
        return
    name, url = _create_pg_database("t")
    try:
        yield url
    finally:
        from scheduler.calendar.database import dispose_all

        dispose_all()
        _drop_pg_database(name)
