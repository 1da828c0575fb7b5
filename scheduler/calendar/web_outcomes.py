"""Storing an analytics export's rows in ``web_outcome``, once per file, all or nothing.

A file is known by the hash of its bytes (``analytics_import.sha256``): importing it again
writes nothing. A row is known by (day, source, medium, campaign, content): a later export that
covers the same day again (GA4 revises recent days) updates the figures in place, so a day is
never counted twice. Rows whose ``utm_content`` names no post are stored too (a post synced
later will match them) and counted as unmatched, so the operator hears about them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, select
from sqlalchemy.engine import Engine

from scheduler.calendar.database import from_db
from scheduler.calendar.tables import AnalyticsImport, Post, WebOutcome

POST = Post.__table__  # type: ignore[attr-defined]
OUTCOME = WebOutcome.__table__  # type: ignore[attr-defined]
IMPORT = AnalyticsImport.__table__  # type: ignore[attr-defined]

#: Bound parameters per ``IN (...)``: well under SQLite's limit.
_IN_CHUNK = 500
_FIGURES = ("sessions", "conversions", "revenue")
_KEY = ("day", "utm_source", "utm_medium", "utm_campaign", "utm_content")


@dataclass(frozen=True, slots=True)
class Stored:
    """What an import did. ``imported_before`` is set when the same file was already in."""

    name: str
    rows: int
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    unmatched_rows: int = 0
    unmatched: tuple[str, ...] = ()
    imported_before: datetime | None = None


def store(
    engine: Engine, *, name: str, sha256: str, rows: Sequence[dict[str, Any]], now: datetime
) -> Stored:
    """Write ``rows`` (dicts with the ``web_outcome`` columns but ``id``/``import_id``)."""
    with engine.begin() as conn:
        before = conn.execute(
            select(IMPORT.c.imported_at, IMPORT.c.rows).where(IMPORT.c.sha256 == sha256)
        ).first()
        if before is not None:
            return Stored(name=name, rows=before.rows, imported_before=from_db(before.imported_at))
        contents = sorted({r["utm_content"] for r in rows})
        known: set[str] = set()
        for start in range(0, len(contents), _IN_CHUNK):
            part = contents[start : start + _IN_CHUNK]
            known.update(conn.scalars(select(POST.c.post_id).where(POST.c.post_id.in_(part))))
        unmatched = tuple(c for c in contents if c not in known)
        unmatched_rows = sum(1 for r in rows if r["utm_content"] not in known)
        import_id = conn.execute(
            IMPORT.insert().returning(IMPORT.c.id),
            {
                "sha256": sha256,
                "name": name[:400],
                "rows": len(rows),
                "unmatched": unmatched_rows,
                "imported_at": now,
            },
        ).scalar_one()
        existing = _existing(conn, rows)
        fresh: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        for row in rows:
            key = tuple(row[k] for k in _KEY)
            found = existing.get(key)
            if found is None:
                fresh.append({**row, "import_id": import_id})
            elif tuple(found[1:]) != tuple(row[f] for f in _FIGURES):
                changed.append(
                    {"row_id": found[0], **{f: row[f] for f in _FIGURES}, "import_id": import_id}
                )
        if fresh:
            conn.execute(OUTCOME.insert(), fresh)
        if changed:
            conn.execute(
                OUTCOME.update()
                .where(OUTCOME.c.id == bindparam("row_id"))
                .values(
                    sessions=bindparam("sessions"),
                    conversions=bindparam("conversions"),
                    revenue=bindparam("revenue"),
                    import_id=bindparam("import_id"),
                ),
                changed,
            )
    return Stored(
        name=name,
        rows=len(rows),
        inserted=len(fresh),
        updated=len(changed),
        unchanged=len(rows) - len(fresh) - len(changed),
        unmatched_rows=unmatched_rows,
        unmatched=unmatched,
    )


def _existing(conn: Any, rows: Sequence[dict[str, Any]]) -> dict[tuple[Any, ...], tuple[Any, ...]]:
    """The stored rows on the days the file covers: key -> (id, sessions, conversions, revenue)."""
    if not rows:
        return {}
    days: list[date] = [r["day"] for r in rows]
    found = conn.execute(
        select(
            OUTCOME.c.id, *(OUTCOME.c[k] for k in _KEY), *(OUTCOME.c[f] for f in _FIGURES)
        ).where(and_(OUTCOME.c.day >= min(days), OUTCOME.c.day <= max(days)))
    )
    return {tuple(r[1:6]): (r[0], *r[6:]) for r in found}
