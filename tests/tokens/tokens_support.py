"""Shared constants of the token-store tests (a module: conftest files cannot be imported)."""

from __future__ import annotations

from datetime import UTC, datetime

from scheduler.dispatch.sealing import new_key

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
KEY = new_key()
