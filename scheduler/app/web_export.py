"""Reading a web-analytics export (CSV or JSON, GA4's exploration shape) into rows to import.

The columns are ``date, utm_source, utm_medium, utm_campaign, utm_content, sessions,
conversions`` and an optional ``revenue``. The whole file is read and checked before anything
is written: one bad row refuses the file, with its name, line and field, so an import is all or
nothing.

Decisions:

* A column the export should not have is refused (a renamed column would otherwise be read as
  missing figures); so is a missing one.
* Dates are ISO ``2026-12-07`` or GA4's ``20261207``; any other spelling (``07/12/2026``) is
  refused rather than guessed: day and month would be ambiguous.
* ``sessions`` and ``conversions`` are whole numbers >= 0; ``revenue`` a decimal number, or empty.
* CSV lines starting with ``#`` (GA4 writes a commented header block) and blank lines are
  skipped; line numbers are the file's own.
* JSON is a list of objects (or ``{"rows": [...]}``); the line of an object is where it opens.
* ``utm_content`` still percent-encoded as in the link (``%2F`` for ``/``) is decoded.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from scheduler.core.errors import StorylineError

REQUIRED = (
    "date",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "sessions",
    "conversions",
)
OPTIONAL = ("revenue",)
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_GA4 = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_COUNT = re.compile(r"^\d+$")


class BadExport(StorylineError):
    """An export that cannot be imported: names the file, the line and the field."""


@dataclass(frozen=True, slots=True)
class ExportRow:
    line: int
    day: date
    utm_source: str
    utm_medium: str
    utm_campaign: str
    utm_content: str
    sessions: int
    conversions: int
    revenue: float | None

    @property
    def key(self) -> tuple[date, str, str, str, str]:
        """What makes a row unique in ``web_outcome``."""
        return (self.day, self.utm_source, self.utm_medium, self.utm_campaign, self.utm_content)


@dataclass(frozen=True, slots=True)
class Export:
    name: str
    sha256: str
    rows: tuple[ExportRow, ...]


def read_export(path: Path) -> Export:
    """The rows of the export at ``path``; :class:`BadExport` for the first problem found."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadExport(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadExport(f"{path}: not UTF-8 text (byte {exc.start})") from None
    stripped = text.lstrip()
    if path.suffix.lower() == ".json" or stripped.startswith(("[", "{")):
        rows = _json_rows(path, text)
    else:
        rows = _csv_rows(path, text)
    seen: dict[tuple[date, str, str, str, str], int] = {}
    for row in rows:
        if (first := seen.setdefault(row.key, row.line)) != row.line:
            raise BadExport(
                f"{path}:{row.line}: repeats line {first} (same date, utm_source, utm_medium, "
                "utm_campaign and utm_content); nothing was imported"
            )
    return Export(name=path.name, sha256=hashlib.sha256(data).hexdigest(), rows=tuple(rows))


def _check_columns(path: Path, line: int, names: list[str]) -> None:
    unknown = [n for n in names if n not in REQUIRED and n not in OPTIONAL]
    if unknown:
        allowed = ", ".join(REQUIRED + OPTIONAL)
        raise BadExport(
            f"{path}:{line}: unknown column(s) {', '.join(repr(u) for u in unknown)}; "
            f"the columns are {allowed} (revenue optional); nothing was imported"
        )
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        raise BadExport(
            f"{path}:{line}: missing column(s) {', '.join(missing)}; nothing was imported"
        )
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise BadExport(f"{path}:{line}: column(s) {', '.join(doubled)} appear twice")


def _csv_rows(path: Path, text: str) -> list[ExportRow]:
    header: list[str] | None = None
    header_line = 0
    rows: list[ExportRow] = []
    lines = text.splitlines()
    for number, record in enumerate(csv.reader(io.StringIO(text)), start=1):
        raw = lines[number - 1] if number <= len(lines) else ""
        if not record or raw.startswith("#") or not any(cell.strip() for cell in record):
            continue
        if header is None:
            header = [cell.strip().lower() for cell in record]
            header_line = number
            _check_columns(path, number, header)
            continue
        if len(record) != len(header):
            raise BadExport(
                f"{path}:{number}: {len(record)} field(s), the header (line {header_line}) "
                f"has {len(header)}; nothing was imported"
            )
        rows.append(_row(path, number, dict(zip(header, record, strict=True))))
    if header is None:
        raise BadExport(f"{path}: empty export: no header line; nothing was imported")
    return rows


def _json_rows(path: Path, text: str) -> list[ExportRow]:
    """Objects of a JSON list, each with the line where it opens (json gives no positions,
    so the list is walked one value at a time with ``raw_decode``)."""
    decoder = json.JSONDecoder()
    try:
        whole = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadExport(f"{path}:{exc.lineno}: not valid JSON: {exc.msg}") from None
    if isinstance(whole, dict):
        if not isinstance(whole.get("rows"), list):
            raise BadExport(f"{path}:1: expected a list of rows, or an object with 'rows'")
        start = text.index("[", _key_offset(text, "rows"))
    elif isinstance(whole, list):
        start = text.index("[")
    else:
        raise BadExport(f"{path}:1: expected a list of rows")
    rows: list[ExportRow] = []
    pos = start + 1
    while True:
        pos = _skip(text, pos)
        if text[pos] == "]":
            break
        line = text.count("\n", 0, pos) + 1
        value, pos = decoder.raw_decode(text, pos)
        if not isinstance(value, dict):
            raise BadExport(f"{path}:{line}: a row must be an object with the export's columns")
        _check_columns(path, line, [str(k).lower() for k in value])
        fields = {str(k).lower(): _json_text(v) for k, v in value.items()}
        rows.append(_row(path, line, fields))
        pos = _skip(text, pos)
        if text[pos] == ",":
            pos += 1
    return rows


def _key_offset(text: str, key: str) -> int:
    match = re.search(r'"' + re.escape(key) + r'"\s*:', text)
    assert match is not None  # json.loads found the key
    return match.end()


def _skip(text: str, pos: int) -> int:
    while text[pos] in " \t\r\n":
        pos += 1
    return pos


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()  # refused as a count below
    if isinstance(value, float) and value.is_integer():
        return str(value)  # "3.0": refused as a count, accepted as revenue
    return str(value)


def _row(path: Path, line: int, fields: dict[str, str]) -> ExportRow:
    def text(name: str) -> str:
        value = fields[name].strip()
        if not value:
            raise BadExport(f"{path}:{line}: {name} is empty; nothing was imported")
        return value

    def count(name: str) -> int:
        value = fields[name].strip()
        if not _COUNT.match(value):
            raise BadExport(
                f"{path}:{line}: {name} {value!r} is not a whole number >= 0; nothing was imported"
            )
        return int(value)

    revenue: float | None = None
    raw_revenue = fields.get("revenue", "").strip()
    if raw_revenue:
        try:
            revenue = float(raw_revenue)
        except ValueError:
            revenue = None
        if revenue is None or revenue != revenue or revenue in (float("inf"), float("-inf")):
            raise BadExport(
                f"{path}:{line}: revenue {raw_revenue!r} is not a number; nothing was imported"
            )
    return ExportRow(
        line=line,
        day=_day(path, line, fields["date"].strip()),
        utm_source=text("utm_source"),
        utm_medium=text("utm_medium"),
        utm_campaign=fields["utm_campaign"].strip(),
        # The link carries the post id percent-encoded (``gt%2Freveal%2Fx%2Ffr``): GA4 shows
        # it decoded, some tools as it was in the URL. Both name the same post.
        utm_content=unquote(text("utm_content")),
        sessions=count("sessions"),
        conversions=count("conversions"),
        revenue=revenue,
    )


def _day(path: Path, line: int, value: str) -> date:
    match = _ISO.match(value) or _GA4.match(value)
    if match is not None:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            pass
    raise BadExport(
        f"{path}:{line}: date {value!r} is not YYYY-MM-DD (or GA4's YYYYMMDD); nothing was imported"
    )


def import_export(engine: Any, path: Path, now: Any) -> Any:
    """Read ``path`` whole, then store it in one transaction (:mod:`calendar.web_outcomes`)."""
    from scheduler.calendar import migrate, web_outcomes

    export = read_export(path)
    migrate.ensure_schema(engine)
    return web_outcomes.store(
        engine,
        name=export.name,
        sha256=export.sha256,
        rows=[
            {
                "day": r.day,
                "utm_source": r.utm_source,
                "utm_medium": r.utm_medium,
                "utm_campaign": r.utm_campaign,
                "utm_content": r.utm_content,
                "sessions": r.sessions,
                "conversions": r.conversions,
                "revenue": r.revenue,
            }
            for r in export.rows
        ],
        now=now,
    )
