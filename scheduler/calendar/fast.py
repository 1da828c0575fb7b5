"""The shortcut sync keeps, beside the plain version it must equal (and the paused collector).

``tests/calendar/test_fast.py`` holds each to its plain version with Hypothesis. Measured on
``python -m bench sync``'s 50k posts on SQLite, median of 5 fresh processes each, the shortcut
switched off by putting the plain version in its place (after this split, on a machine shared
with other test runs):

* :func:`content_hash`: a first sync 1.54 s instead of 1.74 s, an unchanged re-sync 0.57 s
  instead of 0.63 s (before the split, quieter: 0.94 vs 1.11 s and 0.40 vs 0.52 s). Hashing is
  most of what an unchanged re-sync computes.
* :func:`scheduler.core.memory.paused_gc` (shared with planning): an unchanged re-sync 0.57 s
  instead of 0.73 s, a sync of 50k edits 2.02 s instead of 2.41 s (before: first sync 0.94 vs
  1.06 s, edits 1.42 vs 1.69 s).
"""

from __future__ import annotations

import hashlib
from json.encoder import encode_basestring

from scheduler.calendar.planned import Planned


def plain_content_hash(p: Planned) -> str:
    """The definition: the plan's own ``content_hash`` (a dict through ``json.dumps``)."""
    return p.content_hash


def _json_string(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


def content_hash(p: Planned) -> str:
    """:func:`plain_content_hash`, without building a dict and running ``json.dumps``.

    The same bytes as ``json.dumps(payload, sort_keys=True, ensure_ascii=False)``: keys in
    sorted order, the default separators, strings through the json module's own C escaper.
    """
    media = ", ".join(
        f"[{_json_string(m.file)}, {_json_string(m.alt)}, {_json_string(m.kind)}]" for m in p.media
    )
    raw = (
        f'{{"account": {_json_string(p.account)}, '
        f'"first_comment": {_json_string(p.first_comment)}, '
        f'"link": {_json_string(p.link)}, "media": [{media}], '
        f'"text": {_json_string(p.text)}, "title": {_json_string(p.title)}}}'
    )
    return hashlib.sha256(raw.encode()).hexdigest()[:32]
