"""HTML mock-ups of posts and of the calendar: one self-contained file each
(docs/architecture.md).

``render_preview_html`` draws planned posts as their networks' feeds would (``storyline preview
--format html``); ``render_calendar_html`` draws calendar rows on a month grid per market
(``storyline calendar --format html``), from the calendar's :class:`CalendarRow` values
(:mod:`scheduler.calendar.rows`: read from the database, or made from the content).
"""

from __future__ import annotations

from scheduler.calendar.rows import CalendarRow
from scheduler.interfaces.preview.calendar import render_calendar_html, story_color
from scheduler.interfaces.preview.posts import Measure, network_measure, render_preview_html
from scheduler.interfaces.preview.render import OFFLINE_CSP, SERVED_CSP

__all__ = [
    "OFFLINE_CSP",
    "SERVED_CSP",
    "CalendarRow",
    "Measure",
    "network_measure",
    "render_calendar_html",
    "render_preview_html",
    "story_color",
]
