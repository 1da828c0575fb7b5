"""The report's read looks each post's latest snapshot up through ``ix_metric_snapshot_latest``
on both databases: its cost follows the posts reported, never the snapshots kept
(``bench/report.py`` measures it at 100,000 posts and 1,000,000 snapshots)."""

from __future__ import annotations

from datetime import timedelta

from scheduler.calendar import report

from .conftest import LAUNCH, Calendar, post_row


def plan(calendar: Calendar) -> str:
    engine = calendar.engine
    postgres = engine.dialect.name == "postgresql"
    sql = str(
        report.statement(report.Filters(), lateral=postgres).compile(
            engine, compile_kwargs={"literal_binds": True}
        )
    )
    with engine.connect() as conn:
        if postgres:
            # As the tables are tiny here, the planner is told what a big table makes it do.
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
            rows = conn.exec_driver_sql(f"EXPLAIN {sql}").all()
            return "\n".join(str(r[0]) for r in rows)
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}").all()
        return "\n".join(str(r[-1]) for r in rows)


def test_the_latest_snapshot_is_found_through_its_index(calendar: Calendar) -> None:
    calendar.posts(*(post_row("s", "reveal", "x", f"m{i}") for i in range(20)))
    for i in range(20):
        for hours in (1, 24):
            calendar.snapshot(f"s/reveal/x/m{i}", f"{hours}h", LAUNCH + timedelta(hours=hours))
    shown = plan(calendar)
    assert "ix_metric_snapshot_latest" in shown, shown
    assert "SCAN metric_snapshot" not in shown, shown  # SQLite: no full scan
    assert "Seq Scan on metric_snapshot" not in shown, shown  # PostgreSQL: no full scan
