"""``storyline analytics import``: a web-analytics export joined to posts by utm_content;
all or nothing, once per file, with the unmatched rows reported."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from scheduler.calendar.tables import AnalyticsImport, WebOutcome

from .conftest import Calendar, post_row

OUTCOME = WebOutcome.__table__  # type: ignore[attr-defined]
IMPORTS = AnalyticsImport.__table__  # type: ignore[attr-defined]
HEADER = "date,utm_source,utm_medium,utm_campaign,utm_content,sessions,conversions,revenue\n"
GOOD = (
    HEADER
    + "2026-12-01,x,social,gt-launch,gt/reveal/x/fr,120,4,399.50\n"
    + "2026-12-02,x,social,gt-launch,gt/reveal/x/fr,30,1,\n"
    + "2026-12-01,instagram,social,gt-launch,gt/teaser/instagram/de,75,2,150\n"
    + "2026-12-01,x,social,gt-launch,gone/reveal/x/fr,9,0,\n"
)

WriteFile = Callable[[str, str], Path]


def outcomes(calendar: Calendar) -> int:
    with calendar.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(OUTCOME)) or 0)


@pytest.fixture
def posts(calendar: Calendar) -> Calendar:
    calendar.posts(post_row("gt", "reveal", "x", "fr"), post_row("gt", "teaser", "instagram", "de"))
    return calendar


def test_an_export_is_imported_and_its_unmatched_rows_are_reported(
    posts: Calendar, write: WriteFile
) -> None:
    result = posts.run("analytics", "import", str(write("ga4.csv", GOOD)))
    assert result.exit_code == 0, result.output
    assert "4 row(s): 4 new, 0 updated, 0 unchanged" in result.stdout
    assert "1 row(s) match no post" in result.stderr
    assert "gone/reveal/x/fr" in result.stderr
    assert outcomes(posts) == 4
    with posts.engine.connect() as conn:
        row = conn.execute(select(IMPORTS.c.rows, IMPORTS.c.unmatched)).one()
    assert (row.rows, row.unmatched) == (4, 1)


def test_importing_the_same_file_again_changes_nothing(posts: Calendar, write: WriteFile) -> None:
    path = write("ga4.csv", GOOD)
    assert posts.run("analytics", "import", str(path)).exit_code == 0
    again = posts.run("analytics", "import", str(path), "--format", "json")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["already_imported"] is True
    assert outcomes(posts) == 4
    with posts.engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(IMPORTS)) == 1


def test_a_later_export_of_the_same_day_updates_it_instead_of_counting_it_twice(
    posts: Calendar, write: WriteFile
) -> None:
    assert posts.run("analytics", "import", str(write("a.csv", GOOD))).exit_code == 0
    revised = GOOD.replace(",120,4,399.50", ",130,5,420")
    result = posts.run("analytics", "import", str(write("b.csv", revised)), "--format", "json")
    assert json.loads(result.stdout) | {"file": ""} == {
        "file": "",
        "already_imported": False,
        "rows": 4,
        "inserted": 0,
        "updated": 1,
        "unchanged": 3,
        "unmatched_rows": 1,
        "unmatched": ["gone/reveal/x/fr"],
    }
    with posts.engine.connect() as conn:
        assert conn.scalar(select(func.sum(OUTCOME.c.sessions))) == 130 + 30 + 75 + 9


def test_a_ga4_csv_with_its_comment_block_and_compact_dates_is_read(
    posts: Calendar, write: WriteFile
) -> None:
    ga4 = (
        "# ----------------------------------------\n# Exploration\n# Start date: 20261201\n"
        "# ----------------------------------------\n\n"
        "date,utm_source,utm_medium,utm_campaign,utm_content,sessions,conversions\n"
        "20261201,x,social,gt-launch,gt/reveal/x/fr,12,1\n"
    )
    result = posts.run("analytics", "import", str(write("ga4.csv", ga4)))
    assert result.exit_code == 0, result.output
    assert outcomes(posts) == 1


def test_a_json_export_is_read(posts: Calendar, write: WriteFile) -> None:
    rows = [
        {
            "date": "2026-12-01",
            "utm_source": "x",
            "utm_medium": "social",
            "utm_campaign": "gt-launch",
            "utm_content": "gt/reveal/x/fr",
            "sessions": 12,
            "conversions": 1,
            "revenue": 99.9,
        }
    ]
    result = posts.run("analytics", "import", str(write("ga4.json", json.dumps(rows))))
    assert result.exit_code == 0, result.output
    assert outcomes(posts) == 1


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "unknown-column.csv",
            HEADER.replace("revenue", "revenu") + "2026-12-01,x,social,c,gt/reveal/x/fr,1,0,2\n",
            "unknown-column.csv:1: unknown column(s) 'revenu'",
        ),
        (
            "date.csv",
            GOOD + "07/12/2026,x,social,c,gt/reveal/x/fr,1,0,\n",
            "date.csv:6: date '07/12/2026' is not YYYY-MM-DD",
        ),
        (
            "count.csv",
            GOOD.replace(",30,1,", ",thirty,1,"),
            "count.csv:3: sessions 'thirty' is not a whole number",
        ),
        (
            "conversions.csv",
            GOOD.replace(",75,2,", ",75,2.5,"),
            "conversions.csv:4: conversions '2.5' is not a whole number",
        ),
        (
            "revenue.csv",
            GOOD.replace("399.50", "lots"),
            "revenue.csv:2: revenue 'lots' is not a number",
        ),
        (
            "twice.csv",
            GOOD + "2026-12-01,x,social,gt-launch,gt/reveal/x/fr,1,0,\n",
            "twice.csv:6: repeats line 2",
        ),
    ],
)
def test_a_bad_export_names_file_and_line_and_imports_nothing(
    posts: Calendar, write: WriteFile, name: str, text: str, message: str
) -> None:
    result = posts.run("analytics", "import", str(write(name, text)))
    assert result.exit_code == 1
    assert message in result.stderr
    assert "nothing was imported" in result.stderr
    assert "Traceback" not in result.output
    assert outcomes(posts) == 0


def test_a_bad_json_row_is_named_by_the_line_it_opens_on(posts: Calendar, write: WriteFile) -> None:
    good = (
        '{"date": "2026-12-01", "utm_source": "x", "utm_medium": "social", '
        '"utm_campaign": "c", "utm_content": "gt/reveal/x/fr", "sessions": 1, "conversions": 0}'
    )
    text = "[\n  " + good + ",\n  " + good.replace('"sessions": 1', '"sessions": "many"') + "\n]\n"
    result = posts.run("analytics", "import", str(write("rows.json", text)))
    assert result.exit_code == 1
    assert "rows.json:3: sessions 'many' is not a whole number" in result.stderr
    assert outcomes(posts) == 0


def test_a_utm_content_left_encoded_as_in_the_link_names_its_post(
    posts: Calendar, write: WriteFile
) -> None:
    encoded = HEADER + "2026-12-01,x,social,gt-launch,gt%2Freveal%2Fx%2Ffr,5,1,\n"
    result = posts.run("analytics", "import", str(write("raw.csv", encoded)), "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["unmatched_rows"] == 0
